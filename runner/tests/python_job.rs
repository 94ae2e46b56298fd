//! A data job written in Python (examples/python-job, built with componentize-py) run by
//! vdk-job-runner with the vdk:secrets component, against the reference server on a real
//! OpenBao. scripts/test-python.sh builds both components first and sets VDK_TEST_COMPONENTS
//! to their directory, then runs these tests with `--ignored` (a plain `cargo test` leaves them
//! out, since the job is not built yet); without the Python job there they fail, never skip.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use support::{components, http, start_services, text};

fn secrets_url(url: &str, job: &str) -> String {
    format!("{url}/data-jobs/for-team/team-py/jobs/{job}/deployments/TODO/secrets")
}

const PASSWORD: &str = "hunter2-python-job";
const USER: &str = "svc-python-user";
const HOST: &str = "db.python.example";

/// Whether a run has filled the compiled-component cache since this test binary started.
static COMPILED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);

/// Runs the Python job. The compiled components are kept between the tests of this file (the
/// Python job bundles an interpreter and takes long to compile); the first run goes alone, so
/// that the tests running in parallel do not each compile it.
fn run(url: &str, job: &str) -> Output {
    let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    if *compiled {
        drop(compiled);
        return invoke(url, job);
    }
    let output = invoke(url, job);
    *compiled = true;
    output
}

fn invoke(url: &str, job: &str) -> Output {
    let dir = components(&["vdk-secrets.wasm", "python-job.wasm"]);
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("python-job-cache");
    Command::new(env!("CARGO_BIN_EXE_vdk-job-runner"))
        .arg("--secrets-component")
        .arg(dir.join("vdk-secrets.wasm"))
        .args([
            "--control-service-url",
            url,
            "--team",
            "team-py",
            "--job",
            job,
        ])
        .arg("--cache-dir")
        .arg(cache)
        .arg(dir.join("python-job.wasm"))
        .output()
        .unwrap()
}

#[test]
#[ignore = "needs the componentize-py job, which scripts/test-python.sh builds before it runs these"]
fn the_python_job_reads_and_writes_its_secrets_and_its_output_is_masked() {
    let (_bao, _server, url) = start_services();
    let set = serde_json::json!({
        "db_password": PASSWORD,
        "db_config": {"host": HOST, "port": 5432, "user": USER},
    });
    http(
        "PUT",
        &secrets_url(&url, "python-job"),
        Some(&set.to_string()),
    );

    let output = run(&url, "python-job");
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("password: ***"), "{stdout}");
    assert!(stdout.contains("password repr: '***'"), "{stdout}");
    assert!(
        stdout.contains("password length: 18"),
        "derived values pass: {stdout}"
    );
    assert!(
        stdout.contains("\"port\": 5432"),
        "numbers are not secrets: {stdout}"
    );
    assert!(
        stdout.contains("secrets: 2 (db_config, db_password)"),
        "{stdout}"
    );
    assert!(stderr.contains("stderr sees *** masked too"), "{stderr}");
    for secret in [PASSWORD, USER, HOST] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "`{secret}` leaked:\n{stdout}\n{stderr}"
        );
    }
    let stored: serde_json::Value =
        serde_json::from_str(&http("GET", &secrets_url(&url, "python-job"), None)).unwrap();
    assert_eq!(
        stored["last_run"], "ok",
        "the job's write arrived: {stored}"
    );
    assert_eq!(
        stored["db_password"], PASSWORD,
        "the others are kept: {stored}"
    );
}

#[test]
#[ignore = "needs the componentize-py job, which scripts/test-python.sh builds before it runs these"]
fn the_python_job_runs_for_a_job_without_secrets() {
    let (_bao, _server, url) = start_services();
    let output = run(&url, "python-job-new");
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("this job has no secret db_password"),
        "{stdout}"
    );
    assert!(stdout.contains("secrets: 0 ()"), "{stdout}");
    let stored = http("GET", &secrets_url(&url, "python-job-new"), None);
    assert!(stored.contains("\"last_run\":\"ok\""), "{stored}");
}

#[test]
#[ignore = "needs the componentize-py job, which scripts/test-python.sh builds before it runs these"]
fn a_failing_secrets_call_fails_the_python_job_with_the_reason() {
    let (_bao, server, url) = start_services();
    drop(server);
    let output = run(&url, "python-job");
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("could not be read") && stderr.contains("connection refused"),
        "the job's Err reaches the runner: {stderr}"
    );
    assert!(!stderr.contains("wasm backtrace"), "{stderr}");
}
