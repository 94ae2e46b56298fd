//! Warm `get-all-secrets` through the vdk:secrets component (in wasmtime, over wasi:http)
//! against the native Rust client, on the same server, alternating rounds in one run.
//!
//! `cargo run --release -p vdk-job-runner --example bench_get_all -- COMPONENT URL TEAM JOB [calls]`
//! (scripts/bench-runner.sh starts a server and runs this.)

#[path = "../src/cache.rs"]
#[allow(dead_code)]
mod cache;
#[path = "../src/egress.rs"]
#[allow(dead_code)]
mod egress;
#[path = "../src/host.rs"]
#[allow(dead_code)]
mod host;
#[path = "../src/limits.rs"]
#[allow(dead_code)]
mod limits;
#[path = "../src/mask.rs"]
#[allow(dead_code)]
mod mask;

use std::time::Instant;

use vdk_secrets::native::NativeTransport;
use vdk_secrets::{Endpoint, JobRef, SecretsClient};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [component, url, team, job, rest @ ..] = args.as_slice() else {
        eprintln!("usage: bench_get_all COMPONENT URL TEAM JOB [calls]");
        std::process::exit(2);
    };
    let calls: usize = rest.first().map_or(500, |n| n.parse().expect("a number"));
    let engine = host::engine().expect("wasmtime starts");
    let compiled = cache::load(&engine, component.as_ref(), None).expect("the component loads");
    let config = host::SecretsConfig {
        base_url: url.clone(),
        team: team.clone(),
        job: job.clone(),
        deployment_id: None,
        token: None,
    };
    let mut side = host::SecretsSide::start(&engine, &compiled, config, 128 << 20)
        .await
        .expect("starts");
    let endpoint =
        Endpoint::new(url, JobRef::new(team.as_str(), job.as_str()).unwrap(), None).unwrap();
    let native = SecretsClient::new(NativeTransport::new().unwrap(), endpoint);

    // Warm both: connections, caches, lazily compiled code.
    for _ in 0..50 {
        side.get_all().await.unwrap();
        native.read_all().await.unwrap();
    }
    let (mut component_us, mut native_us) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..calls {
            side.get_all().await.unwrap();
        }
        component_us.push(start.elapsed().as_secs_f64() * 1e6 / calls as f64);
        let start = Instant::now();
        for _ in 0..calls {
            native.read_all().await.unwrap();
        }
        native_us.push(start.elapsed().as_secs_f64() * 1e6 / calls as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (c, n) = (median(&mut component_us), median(&mut native_us));
    println!(
        "warm get-all-secrets, median of 5 rounds of {calls}: component {c:.0} µs, native {n:.0} µs, ratio {:.2}",
        c / n
    );
}
