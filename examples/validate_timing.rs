//! Times validating a 1 MiB secrets document natively, for scripts/bench-wasm.sh, which times
//! the same document in WebAssembly under Node in the same run.
//!
//! `cargo run --release --example validate_timing -- DOCUMENT.json [iterations]`
//! writes the document if it does not exist, then prints the median milliseconds per
//! `Secrets::from_json_document` + `validate::secrets`.

use std::time::Instant;

use serde_json::json;
use vdk_secrets::validate::{self, DEFAULT_MAX_SET_BYTES, Limits};
use vdk_secrets::{SecretValue, Secrets};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: validate_timing DOCUMENT.json [iterations]");
    let iterations: usize = args.next().map_or(200, |n| n.parse().expect("a number"));
    if !std::path::Path::new(&path).exists() {
        std::fs::write(&path, one_mib_set().to_json()).expect("writable path");
    }
    let text = std::fs::read_to_string(&path).expect("readable document");
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        let set = Secrets::from_json_document(&text).expect("a valid document");
        validate::secrets(&set, &Limits::default()).expect("a valid set");
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!("{:.3}", times[times.len() / 2]);
}

/// The same mix as `benches/validate.rs`: just under the 1 MiB limit.
fn one_mib_set() -> Secrets {
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
