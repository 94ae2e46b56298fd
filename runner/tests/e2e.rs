//! The runner end to end: the example job and the vdk:secrets component, the reference server
//! on its Vault backend, and a real OpenBao. scripts/test.sh builds the components first and
//! sets VDK_TEST_COMPONENTS to their directory.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use support::{components, http, start_services, text};

const PASSWORD: &str = "hunter2-e2e-password";
const USER: &str = "svc-e2e-user";
const KEY_LINE: &str = "MIIEvQIBADANBgkqhkiG9w0";

fn seed(url: &str) {
    let set = serde_json::json!({
        "db_password": PASSWORD,
        "db_config": {"host": "db.internal.example", "port": 5432, "user": USER},
        "tls_key": format!("-----BEGIN KEY-----\n{KEY_LINE}\n-----END KEY-----"),
    });
    http("PUT", &secrets_url(url), Some(&set.to_string()));
}

fn secrets_url(url: &str) -> String {
    format!("{url}/data-jobs/for-team/team/jobs/job/deployments/TODO/secrets")
}

fn run(url: &str, cache: &std::path::Path, extra: &[&str], job_args: &[&str]) -> Output {
    let dir = components(&["vdk-secrets.wasm"]);
    Command::new(env!("CARGO_BIN_EXE_vdk-job-runner"))
        .arg("--secrets-component")
        .arg(dir.join("vdk-secrets.wasm"))
        .args([
            "--control-service-url",
            url,
            "--team",
            "team",
            "--job",
            "job",
        ])
        .arg("--cache-dir")
        .arg(cache)
        .args(extra)
        .arg(dir.join("example-job.wasm"))
        .arg("--")
        .args(job_args)
        .output()
        .unwrap()
}

#[test]
fn the_job_reads_and_sets_secrets_and_every_printed_value_is_masked() {
    let (_bao, _server, url) = start_services();
    seed(&url);
    let cache = tempfile::tempdir().unwrap();
    let output = run(&url, cache.path(), &[], &[]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("password length: 20"),
        "derived values pass: {stdout}"
    );
    assert!(stdout.contains("password: ***"), "{stdout}");
    assert!(
        stdout.contains("\"port\":5432"),
        "numbers are not secrets: {stdout}"
    );
    assert!(stdout.contains("secrets: 3"), "{stdout}");
    assert!(stderr.contains("stderr sees *** masked too"), "{stderr}");
    for secret in [PASSWORD, USER, KEY_LINE, "db.internal.example"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "`{secret}` leaked:\n{stdout}\n{stderr}"
        );
    }
    let stored = http("GET", &secrets_url(&url), None);
    assert!(
        stored.contains("\"last_run\":\"ok\""),
        "the job's write arrived: {stored}"
    );
}

#[test]
fn compiled_components_are_cached_for_the_next_start() {
    let (_bao, _server, url) = start_services();
    seed(&url);
    let cache = tempfile::tempdir().unwrap();
    assert!(run(&url, cache.path(), &[], &[]).status.success());
    // The compiled files and when each was written.
    let compiled = || -> Vec<(PathBuf, std::time::SystemTime)> {
        let mut files: Vec<_> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
            .map(|e| (e.path(), e.metadata().unwrap().modified().unwrap()))
            .collect();
        files.sort();
        files
    };
    let first = compiled();
    assert_eq!(first.len(), 2, "the secrets component and the job");
    assert!(run(&url, cache.path(), &[], &[]).status.success());
    assert_eq!(compiled(), first, "the second start compiled nothing");

    // A cache others could write to is not trusted: the run compiles afresh and says why.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let output = run(&url, cache.path(), &[], &[]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not using the cache") && stderr.contains("others can write to it"),
        "{stderr}"
    );
}

#[test]
fn the_job_gets_no_network_of_its_own() {
    let (_bao, _server, url) = start_services();
    let cache = tempfile::tempdir().unwrap();
    let address = url.trim_start_matches("http://").to_string();
    let output = run(&url, cache.path(), &[], &["--connect", &address]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("connection to {address} refused")),
        "{stdout}"
    );
}

#[test]
fn with_the_service_down_the_run_fails_with_a_clear_message() {
    let (_bao, server, url) = start_services();
    drop(server);
    let cache = tempfile::tempdir().unwrap();
    let output = run(&url, cache.path(), &[], &[]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("the job failed") && stderr.contains("could not be read"),
        "{stderr}"
    );

    let output = run(&url, cache.path(), &["--prefetch"], &[]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout.is_empty(), "the job never started: {stdout}");
    assert!(
        stderr.contains("cannot read the secrets of job team/job before starting it"),
        "{stderr}"
    );
}

#[test]
fn a_job_written_for_wasi_config_reads_its_secrets_unchanged_and_masked() {
    let (_bao, _server, url) = start_services();
    seed(&url);
    let cache = tempfile::tempdir().unwrap();
    let output = run(&url, cache.path(), &[], &["--wasi-config"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("wasi:config values: 3"), "{stdout}");
    // A string as it is (no JSON quotes), then masked.
    assert!(stdout.contains("  db_password = ***\n"), "{stdout}");
    assert!(
        stdout.contains("db_password via wasi:config: ***"),
        "{stdout}"
    );
    // Any other value as its JSON text, its string leaves masked.
    assert!(
        stdout.contains(r#"  db_config = {"host":"***","port":5432,"user":"***"}"#),
        "{stdout}"
    );
    for secret in [PASSWORD, USER, KEY_LINE, "db.internal.example"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "`{secret}` leaked:\n{stdout}\n{stderr}"
        );
    }
}

#[test]
fn encoded_forms_of_a_secret_are_masked_in_the_job_output() {
    let (_bao, _server, url) = start_services();
    seed(&url);
    let cache = tempfile::tempdir().unwrap();
    let output = run(&url, cache.path(), &[], &["--read-only", "--encoded"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let line = |form: &str| -> String {
        let prefix = format!("{form}: ");
        stdout
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {form} line: {stdout}"))
            .to_string()
    };
    for form in ["base64", "hex", "HEX", "unicode", "url"] {
        assert_eq!(line(form), format!("{form}: ***"), "{stdout}");
    }
    // base64 of `svc:` + the password, as in a Basic auth header: only the characters that
    // carry bits of `svc:` show.
    let basic = line("basic");
    assert!(
        basic.ends_with("***") && basic.len() <= "basic: ".len() + 6 + 3,
        "{basic}"
    );
}
