//! A data job written in Python (examples/python-job, built with componentize-py) run by
//! vdk-job-runner with the vdk:secrets component, against the reference server on a real
//! OpenBao. scripts/test-python.sh builds both components first and sets VDK_TEST_COMPONENTS
//! to their directory, then runs these tests with `--ignored` (a plain `cargo test` leaves them
//! out, since the job is not built yet); without the Python job there they fail, never skip.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (by PID) when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn components() -> PathBuf {
    let dir = std::env::var_os("VDK_TEST_COMPONENTS")
        .map(PathBuf::from)
        .expect("VDK_TEST_COMPONENTS is not set: run scripts/test-python.sh");
    for file in ["vdk-secrets.wasm", "python-job.wasm"] {
        assert!(
            dir.join(file).is_file(),
            "{file} is not in {}: run scripts/test-python.sh (it builds it)",
            dir.display()
        );
    }
    dir
}

/// A port P on 127.0.0.1 with P + 1 free as well (OpenBao's dev cluster listener).
fn free_port_pair() -> u16 {
    loop {
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

fn openbao_healthy(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = [0u8; 12];
    stream
        .write_all(b"GET /v1/sys/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_ok()
        && stream.read_exact(&mut head).is_ok()
        && head.ends_with(b" 200")
}

/// OpenBao in dev mode and the reference server on it; returns the server's URL.
fn start_services() -> (Process, Process, String) {
    let bao_bin =
        std::env::var_os("BAO_BIN").expect("BAO_BIN is not set: run scripts/test-python.sh");
    let mut started = None;
    'attempts: for _ in 0..5 {
        let port = free_port_pair();
        let mut bao = Process(
            Command::new(&bao_bin)
                .args(["server", "-dev", "-dev-root-token-id=py-root"])
                .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while !openbao_healthy(port) {
            if matches!(bao.0.try_wait(), Ok(Some(_))) {
                continue 'attempts;
            }
            assert!(Instant::now() < deadline, "OpenBao did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        started = Some((bao, port));
        break;
    }
    let (bao, port) = started.expect("OpenBao exited on start five times");
    let server_bin =
        PathBuf::from(env!("CARGO_BIN_EXE_vdk-job-runner")).with_file_name("vdk-secrets-server");
    let mut server = Command::new(server_bin)
        .args([
            "serve",
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--backend",
            "vault",
        ])
        .args(["--vault-addr", &format!("http://127.0.0.1:{port}")])
        .env("VAULT_TOKEN", "py-root")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary is built next to the runner");
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("vdk-secrets-server listening on ")
        .unwrap_or_else(|| panic!("the server did not start: {line}"))
        .to_string();
    (bao, Process(server), url)
}

fn http(method: &str, url: &str, body: Option<&str>) -> String {
    let (method, url, body) = (
        method.to_string(),
        url.to_string(),
        body.map(str::to_string),
    );
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let mut request = reqwest::Client::new().request(method.parse().unwrap(), &url);
                if let Some(body) = body {
                    request = request.body(body);
                }
                request.send().await.unwrap().text().await.unwrap()
            })
    })
    .join()
    .unwrap()
}

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
    let dir = components();
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

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
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
