//! Times validating a 1 MiB secrets document natively, for scripts/bench-wasm.sh, which times
//! the same document in WebAssembly under Node in the same run.
//!
//! `cargo run --release --example validate_timing -- DOCUMENT.json [iterations]`
//! writes the document if it does not exist, then prints the median milliseconds per
//! `Secrets::from_json_document` + `validate::secrets` (reading the set, then checking it),
//! and per `validate::document_problems` (the check the npm module's
//! `validateSecretsDocument` runs, which keeps no value when it can), timed in turn.

use std::time::Instant;

use vdk_secrets::Secrets;
use vdk_secrets::validate::{self, Limits};

#[path = "../benches/support/one_mib_set.rs"]
mod one_mib_set;
use one_mib_set::one_mib_set;

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
    let mut read_then_check = Vec::with_capacity(iterations);
    let mut same_check = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        let set = Secrets::from_json_document(&text).expect("a valid document");
        validate::secrets(&set, &Limits::default()).expect("a valid set");
        read_then_check.push(start.elapsed().as_secs_f64() * 1000.0);
        drop(set);
        let start = Instant::now();
        let problems = validate::document_problems(&text, &Limits::default());
        same_check.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(problems.is_empty(), "a valid set");
    }
    println!("{:.3} {:.3}", median(read_then_check), median(same_check));
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
