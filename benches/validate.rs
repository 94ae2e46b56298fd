//! Validating a 1 MiB secret set, next to plain serialization of the same set as a baseline
//! measured in the same run.
//!
//! `cargo bench --bench validate`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use vdk_secrets::validate::{self, DEFAULT_MAX_SET_BYTES, Limits};
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

fn bench(c: &mut Criterion) {
    let set = one_mib_set();
    let bytes = validate::json_size(&set) as u64;
    let mut group = c.benchmark_group("1 MiB set");
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("validate::secrets", |b| {
        b.iter(|| validate::secrets(black_box(&set), &Limits::default()).unwrap())
    });
    group.bench_function("baseline: serde_json::to_vec", |b| {
        b.iter(|| serde_json::to_vec(black_box(&set)).unwrap())
    });
    let text = set.to_json();
    group.bench_function("Secrets::from_json_document + validate", |b| {
        b.iter(|| {
            let parsed = Secrets::from_json_document(black_box(&text)).unwrap();
            validate::secrets(&parsed, &Limits::default()).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
