//! The 1 MiB secret set that `benches/validate.rs` and `examples/validate_timing.rs` measure.

use serde_json::json;
use vdk_secrets::validate::{self, DEFAULT_MAX_SET_BYTES};
use vdk_secrets::{SecretValue, Secrets};

/// A set just under the default 1 MiB limit: strings, numbers and small nested objects, the
/// mix a real job holds, with many more secrets than a real job has.
pub fn one_mib_set() -> Secrets {
    let mut set = Secrets::new();
    let mut i = 0;
    while validate::json_size(&set) < DEFAULT_MAX_SET_BYTES - 2_000 {
        let value = match i % 4 {
            0 => json!({"user": format!("svc-{i}"), "password": "p".repeat(200), "port": 5432}),
            1 => json!(i),
            2 => json!(["a", "b", {"nested": "c".repeat(64)}]),
            _ => json!("s".repeat(700)),
        };
        set.insert(format!("secret_{i:05}"), SecretValue::new(value));
        i += 1;
    }
    set
}
