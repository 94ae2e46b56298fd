//! What holds a runaway job: the memory limit, the time limit and the signals, each ending the
//! run promptly with its own message and exit status, and the runner's own memory bounded.
//! The example job misbehaves on request (`--allocate`, `--spin`, `--sleep`); it reads no
//! secrets, so no service is needed. scripts/test.sh builds the components first and sets
//! VDK_TEST_COMPONENTS to their directory.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod support;

use support::components;

/// How a run ended.
struct Ended {
    /// When the job's first line appeared, and when the runner exited, from the spawn.
    started: Duration,
    exited: Duration,
    status: i32,
    stdout: String,
    stderr: String,
    /// The runner's peak resident memory.
    max_rss_bytes: u64,
}

/// Runs the example job with `runner_args` and `job_args`; once the job printed its first
/// line, `when_started` is called with the runner's PID.
// The runner is waited for with wait4, which also gives its peak memory.
#[allow(clippy::zombie_processes)]
fn run(runner_args: &[&str], job_args: &[&str], when_started: impl FnOnce(i32)) -> Ended {
    let dir = components(&["example-job.wasm"]);
    // One cache for every run of these tests, so that each compiles nothing.
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("runner-limits-cache");
    let spawned = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vdk-job-runner"))
        .arg("--secrets-component")
        .arg(dir.join("vdk-secrets.wasm"))
        // Nothing listens there; the job reads no secrets.
        .args(["--control-service-url", "http://127.0.0.1:9"])
        .args(["--team", "team", "--job", "job"])
        .arg("--cache-dir")
        .arg(&cache)
        .args(runner_args)
        .arg(dir.join("example-job.wasm"))
        .arg("--")
        .args(job_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let (lines, first_line) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let _ = lines.send(spawned.elapsed());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut all = String::new();
        stderr.read_to_string(&mut all).unwrap();
        all
    });
    let started = first_line
        .recv_timeout(Duration::from_secs(60))
        .expect("the job printed nothing within a minute");
    when_started(pid);
    // wait4 rather than Child::wait, for the runner's peak memory.
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; both pointers are valid.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let exited = spawned.elapsed();
    assert_eq!(waited, pid, "{}", std::io::Error::last_os_error());
    assert!(libc::WIFEXITED(status), "the runner died of a signal");
    Ended {
        started,
        exited,
        status: libc::WEXITSTATUS(status),
        stdout: reader.join().unwrap(),
        stderr: errors.join().unwrap(),
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
    }
}

fn signal(pid: i32, signal: i32) {
    // SAFETY: kill has no memory preconditions; `pid` is a child not yet waited for.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

const MIB: u64 = 1 << 20;

#[test]
fn a_job_over_its_memory_limit_is_stopped_at_once_and_the_runner_stays_small() {
    // The same runner with a job that allocates little: its own size.
    let small = run(&[], &["--allocate", "1"], |_| {});
    assert_eq!(small.status, 0, "{}", small.stderr);
    assert!(small.stdout.contains("allocated 1 MiB"), "{}", small.stdout);

    // A job that would fill 3 GiB, the most a wasm32 memory can hold after its own data.
    let ended = run(&["--memory-limit", "64M"], &["--allocate", "3000"], |_| {});
    assert_eq!(ended.status, 3, "{}", ended.stderr);
    assert!(
        ended.stderr.contains(
            "the job needed more than its memory limit of 64 MiB and was stopped (raise it \
             with --memory-limit)"
        ),
        "{}",
        ended.stderr
    );
    assert!(!ended.stdout.contains("allocated"), "{}", ended.stdout);
    assert!(
        ended.exited - ended.started < Duration::from_secs(1),
        "stopped {:?} after the job started",
        ended.exited - ended.started
    );
    // The runner held no more than the job's limit beyond its own size (and some slack for
    // the allocator and the masked output buffers).
    assert!(
        ended.max_rss_bytes < small.max_rss_bytes + 64 * MIB + 32 * MIB,
        "peak RSS {} MiB against {} MiB for a small job",
        ended.max_rss_bytes / MIB,
        small.max_rss_bytes / MIB
    );
}

#[test]
fn a_job_past_its_time_limit_is_stopped_within_a_second() {
    // In its own code, and waiting in the host.
    for job in [&["--spin"][..], &["--sleep", "60"]] {
        let ended = run(&["--time-limit", "2s"], job, |_| {});
        assert_eq!(ended.status, 124, "{job:?}: {}", ended.stderr);
        assert!(
            ended.stderr.contains(
                "the job ran past its time limit of 2s and was stopped (raise it with \
                 --time-limit)"
            ),
            "{job:?}: {}",
            ended.stderr
        );
        // The limit counts from the job's start, which is just before its first line.
        let ran = ended.exited - ended.started;
        assert!(
            ran < Duration::from_secs(3),
            "{job:?}: stopped {ran:?} after the job's first line"
        );
    }
}

#[test]
fn a_job_sent_sigterm_or_sigint_is_stopped_within_a_second() {
    for (job, sig, status, name) in [
        (&["--spin"][..], libc::SIGTERM, 143, "SIGTERM"),
        (&["--sleep", "60"][..], libc::SIGTERM, 143, "SIGTERM"),
        (&["--spin"][..], libc::SIGINT, 130, "SIGINT"),
    ] {
        let mut sent = None;
        let ended = run(&[], job, |pid| {
            signal(pid, sig);
            sent = Some(Instant::now());
        });
        let after_signal = sent.unwrap().elapsed();
        assert_eq!(ended.status, status, "{job:?} {name}: {}", ended.stderr);
        assert!(
            ended
                .stderr
                .contains(&format!("vdk-job-runner: the job was stopped on {name}")),
            "{job:?}: {}",
            ended.stderr
        );
        assert!(
            after_signal < Duration::from_secs(1),
            "{job:?}: the runner exited {after_signal:?} after {name}"
        );
    }
}
