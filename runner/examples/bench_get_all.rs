//! Warm `get-all-secrets` through the vdk:secrets component (in wasmtime, over wasi:http)
//! against the native Rust client, on the same server, in alternating rounds in one run.
//!
//! The component answers reads from the last set read until the job writes, so its warm
//! `get-all-secrets` is the crossing into the guest and the copy of the set out of it. Given a
//! second build of the component without that cache (`--cfg vdk_bench_no_read_cache`), each
//! of its calls also goes over wasi:http and is parsed in wasm: the path the native client
//! takes on every call.
//!
//! Each round times a block of calls of every client, in an order that reverses from one
//! round to the next, so that no client is always first or last. A round's ratio divides a
//! component's time by the native client's time in that same round, a few hundred
//! milliseconds apart; the figure reported is the median of those ratios, with their range,
//! so that a burst of load elsewhere on the machine moves one round, not the result.
//! Context switches (getrusage, the whole process) are counted per call for each client.
//!
//! `cargo run --release -p vdk-job-runner --example bench_get_all -- COMPONENT URL TEAM JOB [calls [UNCACHED]]`
//! (scripts/bench-runner.sh starts a server, builds both components and runs this.)
//!
//! Environment: `VDK_BENCH_ROUNDS` (default 15); `VDK_BENCH_RUNTIME` = `current-thread` or
//! `multi-thread` (default: the runner's own, [`host::runtime`]); `VDK_BENCH_ONLY` = `native`,
//! `component` or `uncached` times that client alone, for a profiler; `VDK_BENCH_PERFMAP=1`
//! names the compiled wasm code for `perf` (/tmp/perf-PID.map).

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

/// The clients timed, in the order of the report.
const NAMES: [&str; 3] = ["native", "component", "uncached"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [component, url, team, job, rest @ ..] = args.as_slice() else {
        eprintln!("usage: bench_get_all COMPONENT URL TEAM JOB [calls [UNCACHED_COMPONENT]]");
        std::process::exit(2);
    };
    let calls: usize = rest.first().map_or(300, |n| n.parse().expect("a number"));
    let rounds: usize =
        std::env::var("VDK_BENCH_ROUNDS").map_or(15, |n| n.parse().expect("a number"));
    let runtime = match std::env::var("VDK_BENCH_RUNTIME").as_deref() {
        Ok("current-thread") => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Ok("multi-thread") => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
        Ok(other) => panic!("VDK_BENCH_RUNTIME is current-thread or multi-thread, not {other}"),
        Err(_) => host::runtime(),
    }
    .expect("tokio starts");
    let only = std::env::var("VDK_BENCH_ONLY").ok();
    runtime.block_on(bench(
        component,
        url,
        team,
        job,
        rest.get(1),
        calls,
        rounds,
        only.as_deref(),
    ));
}

#[allow(clippy::too_many_arguments)]
async fn bench(
    component: &str,
    url: &str,
    team: &str,
    job: &str,
    uncached: Option<&String>,
    calls: usize,
    rounds: usize,
    only: Option<&str>,
) {
    let mut config = host::engine_config();
    if std::env::var_os("VDK_BENCH_PERFMAP").is_some() {
        // /tmp/perf-PID.map names the compiled code for `perf report`.
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let engine = wasmtime::Engine::new(&config).expect("wasmtime starts");
    let config = host::SecretsConfig {
        base_url: url.to_string(),
        team: team.to_string(),
        job: job.to_string(),
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
    let mut uncached = match uncached {
        Some(path) => Some(start(path).await),
        None => None,
    };
    let endpoint = Endpoint::new(url, JobRef::new(team, job).unwrap(), None).unwrap();
    let native = SecretsClient::new(NativeTransport::new().unwrap(), endpoint);

    // One call of client `which` (an index into NAMES).
    macro_rules! call {
        ($which:expr) => {
            match $which {
                0 => drop(native.read_all().await.unwrap()),
                1 => drop(cached.get_all().await.unwrap()),
                _ => drop(uncached.as_mut().unwrap().get_all().await.unwrap()),
            }
        };
    }
    let present: Vec<usize> = (0..NAMES.len())
        .filter(|&i| i != 2 || uncached.is_some())
        .collect();

    // Warm all: connections, caches, lazily compiled code.
    for _ in 0..50 {
        for &i in &present {
            call!(i);
        }
    }

    if let Some(name) = only {
        let which = NAMES
            .iter()
            .position(|n| *n == name)
            .filter(|i| present.contains(i))
            .unwrap_or_else(|| panic!("VDK_BENCH_ONLY names one of {present:?} of {NAMES:?}"));
        let switches = context_switches();
        let start = Instant::now();
        for _ in 0..calls * rounds {
            call!(which);
        }
        let n = (calls * rounds) as f64;
        println!(
            "{name} alone: {:.0} µs a call over {} calls, {:.2} context switches a call",
            start.elapsed().as_secs_f64() * 1e6 / n,
            calls * rounds,
            (context_switches() - switches) as f64 / n
        );
        return;
    }

    // Per client: µs a call in each round, and context switches in all.
    let mut times = vec![Vec::new(); NAMES.len()];
    let mut switches = vec![0u64; NAMES.len()];
    for round in 0..rounds {
        let mut order = present.clone();
        if round % 2 == 1 {
            order.reverse();
        }
        for &i in &order {
            let before = context_switches();
            let start = Instant::now();
            for _ in 0..calls {
                call!(i);
            }
            times[i].push(start.elapsed().as_secs_f64() * 1e6 / calls as f64);
            switches[i] += context_switches() - before;
        }
    }
    let per_call = |i: usize| switches[i] as f64 / (calls * rounds) as f64;
    println!(
        "warm get-all-secrets, {rounds} rounds of {calls} calls each ({} runtime):",
        std::env::var("VDK_BENCH_RUNTIME").unwrap_or_else(|_| "the runner's".into())
    );
    println!(
        "  native client: median {:.0} µs a call (rounds {:.0}–{:.0}), {:.2} context switches a call",
        median(&times[0]),
        min(&times[0]),
        max(&times[0]),
        per_call(0)
    );
    for &i in &present[1..] {
        let ratios: Vec<f64> = times[i].iter().zip(&times[0]).map(|(c, n)| c / n).collect();
        let what = if i == 1 {
            "component (its read cache)"
        } else {
            "component without its read cache (every call over wasi:http)"
        };
        println!(
            "  {what}: median {:.0} µs a call (rounds {:.0}–{:.0}), {:.2} context switches a call; \
             ratio to native, median of rounds {:.2} (rounds {:.2}–{:.2}, quartiles {:.2}–{:.2})",
            median(&times[i]),
            min(&times[i]),
            max(&times[i]),
            per_call(i),
            median(&ratios),
            min(&ratios),
            max(&ratios),
            quantile(&ratios, 0.25),
            quantile(&ratios, 0.75),
        );
    }
}

/// The process's context switches so far, voluntary and involuntary, over all its threads.
fn context_switches() -> u64 {
    // SAFETY: getrusage writes the struct it is given, which is zeroed and ours.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    (usage.ru_nvcsw + usage.ru_nivcsw) as u64
}

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// The `q` quantile, interpolated between the nearest ranks.
fn quantile(v: &[f64], q: f64) -> f64 {
    let v = sorted(v);
    let at = q * (v.len() - 1) as f64;
    let (low, high) = (at.floor() as usize, at.ceil() as usize);
    v[low] + (v[high] - v[low]) * (at - low as f64)
}

fn median(v: &[f64]) -> f64 {
    quantile(v, 0.5)
}

fn min(v: &[f64]) -> f64 {
    sorted(v)[0]
}

fn max(v: &[f64]) -> f64 {
    sorted(v)[v.len() - 1]
}
