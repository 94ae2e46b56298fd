//! Warm `get-all-secrets` through the vdk:secrets component (in wasmtime, over wasi:http)
//! against the native Rust client, on the same server, alternating rounds in one run.
//!
//! The component answers reads from the last set read until the job writes, so its warm
//! `get-all-secrets` is the crossing into the guest and the copy of the set out of it. Given a
//! second build of the component without that cache (`--cfg vdk_bench_no_read_cache`), each
//! of its calls also goes over wasi:http and is parsed in wasm: the path the native client
//! takes on every call.
//!
//! `cargo run --release -p vdk-job-runner --example bench_get_all -- COMPONENT URL TEAM JOB [calls [UNCACHED]]`
//! (scripts/bench-runner.sh starts a server, builds both components and runs this.)

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
        eprintln!("usage: bench_get_all COMPONENT URL TEAM JOB [calls [UNCACHED_COMPONENT]]");
        std::process::exit(2);
    };
    let calls: usize = rest.first().map_or(500, |n| n.parse().expect("a number"));
    let engine = host::engine().expect("wasmtime starts");
    let config = host::SecretsConfig {
        base_url: url.clone(),
        team: team.clone(),
        job: job.clone(),
        deployment_id: None,
        token: None,
    };
    let start = async |path: &str| {
        let compiled = cache::load(&engine, path.as_ref(), None).expect("the component loads");
        host::SecretsSide::start(&engine, &compiled, config.clone(), 128 << 20)
            .await
            .expect("starts")
    };
    let mut cached = start(component).await;
    let mut uncached = match rest.get(1) {
        Some(path) => Some(start(path).await),
        None => None,
    };
    let endpoint =
        Endpoint::new(url, JobRef::new(team.as_str(), job.as_str()).unwrap(), None).unwrap();
    let native = SecretsClient::new(NativeTransport::new().unwrap(), endpoint);

    // Warm all: connections, caches, lazily compiled code.
    for _ in 0..50 {
        cached.get_all().await.unwrap();
        if let Some(side) = &mut uncached {
            side.get_all().await.unwrap();
        }
        native.read_all().await.unwrap();
    }
    let per_call = |start: Instant| start.elapsed().as_secs_f64() * 1e6 / calls as f64;
    let (mut cached_us, mut uncached_us, mut native_us) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..calls {
            cached.get_all().await.unwrap();
        }
        cached_us.push(per_call(start));
        if let Some(side) = &mut uncached {
            let start = Instant::now();
            for _ in 0..calls {
                side.get_all().await.unwrap();
            }
            uncached_us.push(per_call(start));
        }
        let start = Instant::now();
        for _ in 0..calls {
            native.read_all().await.unwrap();
        }
        native_us.push(per_call(start));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (c, n) = (median(&mut cached_us), median(&mut native_us));
    println!(
        "warm get-all-secrets, median of 5 rounds of {calls}: native client {n:.0} µs; \
         component {c:.0} µs (its read cache), ratio {:.2}",
        c / n
    );
    if !uncached_us.is_empty() {
        let u = median(&mut uncached_us);
        println!(
            "  component without its read cache (every call over wasi:http): {u:.0} µs, ratio {:.2}",
            u / n
        );
    }
}
