//! Validating a 1 MiB secret set, next to plain serialization of the same set as a baseline
//! measured in the same run.
//!
//! `cargo bench --bench validate`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vdk_secrets::Secrets;
use vdk_secrets::validate::{self, Limits};

#[path = "support/one_mib_set.rs"]
mod one_mib_set;
use one_mib_set::one_mib_set;

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
