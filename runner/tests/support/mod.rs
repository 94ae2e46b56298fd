//! What the runner's integration tests share: the built components, OpenBao in dev mode and
//! the reference server on it, a child process ended by PID, a plain HTTP call.
// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The root token of the OpenBao dev servers the tests start.
const ROOT_TOKEN: &str = "runner-tests-root";

/// A child process killed (by PID) when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The directory of the built components (VDK_TEST_COMPONENTS), holding each of `files`.
/// scripts/test.sh builds the vdk:secrets component and the example job; scripts/test-python.sh
/// builds the Python job as well.
pub fn components(files: &[&str]) -> PathBuf {
    let dir = std::env::var_os("VDK_TEST_COMPONENTS")
        .map(PathBuf::from)
        .expect("VDK_TEST_COMPONENTS is not set: run scripts/test.sh (it builds the components)");
    for file in files {
        assert!(
            dir.join(file).is_file(),
            "{file} is not in {}: scripts/test.sh builds the components, scripts/test-python.sh \
             the Python job",
            dir.display()
        );
    }
    dir
}

/// A port P on 127.0.0.1 with P + 1 free as well: `bao server -dev` also binds its cluster
/// listener on the next port.
fn free_port_pair() -> u16 {
    loop {
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// Whether an OpenBao on `port` answers its health check with 200 (unsealed and active).
fn openbao_healthy(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /v1/sys/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    let mut head = [0u8; 12];
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_exact(&mut head).is_ok()
        && head.ends_with(b" 200")
}

/// OpenBao in dev mode on a free port, healthy. When another process takes one of its two
/// ports first, Bao exits at once; then it starts again on other ports.
fn start_openbao() -> (Process, u16) {
    let bao_bin = std::env::var_os("BAO_BIN").expect("BAO_BIN is not set: run scripts/test.sh");
    for _ in 0..5 {
        let port = free_port_pair();
        let mut bao = Process(
            Command::new(&bao_bin)
                .args(["server", "-dev"])
                .arg(format!("-dev-root-token-id={ROOT_TOKEN}"))
                .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if openbao_healthy(port) {
                return (bao, port);
            }
            if matches!(bao.0.try_wait(), Ok(Some(_))) {
                break;
            }
            assert!(Instant::now() < deadline, "OpenBao did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("OpenBao exited on start five times");
}

/// OpenBao in dev mode and the reference server on it; returns both and the server's URL.
pub fn start_services() -> (Process, Process, String) {
    let (bao, port) = start_openbao();
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
        .env("VAULT_TOKEN", ROOT_TOKEN)
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

/// One HTTP request, answered with the response's body.
pub fn http(method: &str, url: &str, body: Option<&str>) -> String {
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

/// A finished run's stdout and stderr as text.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
