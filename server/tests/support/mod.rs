//! Real processes for the server's tests: the server binary and OpenBao, each on a free
//! loopback port, each stopped by PID when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vdk_secrets::native::NativeTransport;
use vdk_secrets::{Endpoint, JobRef, RetryPolicy, SecretsClient, Token};

/// A running `vdk-secrets-server`; its stderr (the log) goes to a file the test can read.
pub struct Server {
    child: Child,
    pub url: String,
    pub log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl Server {
    /// Starts `vdk-secrets-server serve --listen 127.0.0.1:0 ARGS...` with `envs`.
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Server {
        Self::try_start(args, envs).unwrap_or_else(|e| panic!("server did not start: {e}"))
    }

    /// Like `start`, but returns the server's complaint when it refuses to start.
    pub fn try_start(args: &[&str], envs: &[(&str, &str)]) -> Result<Server, String> {
        Self::try_start_limited(args, envs, None)
    }

    /// Like `start`, with the open-file limit (soft and hard) lowered to `fd_limit` first, as
    /// on a host with a small limit.
    pub fn start_with_fd_limit(args: &[&str], envs: &[(&str, &str)], fd_limit: u64) -> Server {
        Self::try_start_limited(args, envs, Some(fd_limit))
            .unwrap_or_else(|e| panic!("server did not start: {e}"))
    }

    fn try_start_limited(
        args: &[&str],
        envs: &[(&str, &str)],
        fd_limit: Option<u64>,
    ) -> Result<Server, String> {
        let log_dir = tempfile::tempdir().unwrap();
        let log = log_dir.path().join("server.log");
        let listen: &[&str] = if args.contains(&"--listen") {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_vdk-secrets-server"));
        command
            .arg("serve")
            .args(listen)
            .args(args)
            .envs(envs.iter().copied())
            .env("VDK_SECRETS_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(limit) = fd_limit {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe and touches only the child's limits.
            unsafe {
                command.pre_exec(move || {
                    let rlimit = libc::rlimit {
                        rlim_cur: limit,
                        rlim_max: limit,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &rlimit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let mut child = command.spawn().expect("the server binary runs");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let Some(url) = line.trim().strip_prefix("vdk-secrets-server listening on ") else {
            let status = child.wait().unwrap();
            let log_text = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!("exit {status}: {log_text}"));
        };
        Ok(Server {
            url: url.to_string(),
            child,
            log,
            _log_dir: log_dir,
        })
    }

    /// The process id, for tests that signal it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for the process to exit; its status, or None if it still runs.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the server logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The native client of `team`/`job` on this server.
    pub fn client(
        &self,
        team: &str,
        job: &str,
        token: Option<&str>,
    ) -> SecretsClient<NativeTransport> {
        client(&self.url, team, job, token)
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The URL of a job's secrets.
    pub fn secrets_url(&self, team: &str, job: &str) -> String {
        format!(
            "{}/data-jobs/for-team/{team}/jobs/{job}/deployments/TODO/secrets",
            self.url
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A native client with quick retries.
pub fn client(
    url: &str,
    team: &str,
    job: &str,
    token: Option<&str>,
) -> SecretsClient<NativeTransport> {
    let job = JobRef::new(team, job).unwrap();
    let token = token.map(|t| Token::new(t).unwrap());
    let endpoint = Endpoint::new(url, job, token).unwrap();
    let retry = RetryPolicy {
        attempts: 2,
        initial_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    SecretsClient::new(NativeTransport::new().unwrap(), endpoint)
        .with_retry(retry)
        .with_conflict_attempts(200)
}

/// A free TCP port on 127.0.0.1 (free when this returns; take it soon).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A port P on 127.0.0.1 with P + 1 free as well, for `bao server -dev`, which listens on
/// both (free when this returns; take them soon).
pub fn free_port_pair() -> u16 {
    loop {
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// The `bao` binary: `$BAO_BIN`, or `bao` on PATH. Tests fail, never skip, without it.
pub fn bao_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("BAO_BIN") {
        return PathBuf::from(bin);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("bao"))
            .find(|candidate| candidate.is_file())
    });
    found.expect("OpenBao's `bao` is not installed: run scripts/test.sh, which installs it")
}

/// A running OpenBao server.
pub struct Bao {
    child: Child,
    pub addr: String,
    pub root_token: String,
    port: u16,
    /// The config file of a persistent server (None for `-dev`).
    config: Option<PathBuf>,
    unseal_key: Option<String>,
    log: tempfile::NamedTempFile,
}

impl Bao {
    /// `bao server -dev` on a free loopback port: in memory, unsealed, KV v2 at `secret/`.
    /// Dev mode also binds a cluster listener on the next port; when another process takes
    /// either port first, Bao exits at once and this starts it again on other ports.
    pub fn dev() -> Bao {
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port_pair();
            let log = tempfile::NamedTempFile::new().unwrap();
            let child = spawn_bao(
                &[
                    "server".into(),
                    "-dev".into(),
                    "-dev-root-token-id=root-token".into(),
                    format!("-dev-listen-address=127.0.0.1:{port}"),
                ],
                &log,
            );
            let mut bao = Bao {
                child,
                addr: format!("http://127.0.0.1:{port}"),
                root_token: "root-token".into(),
                port,
                config: None,
                unseal_key: None,
                log,
            };
            if bao.wait_until_healthy_or_exit() {
                return bao;
            }
            last_log = bao.log_text();
        }
        panic!("bao -dev exited on start five times; the last log:\n{last_log}");
    }

    /// A server with storage on disk in `dir`: initialised and unsealed on first start,
    /// unsealed again on every restart, so data outlives the process.
    pub fn persistent(dir: &Path) -> Bao {
        let port = free_port_pair();
        let cluster_port = port + 1;
        let config = dir.join("bao.hcl");
        std::fs::create_dir_all(dir.join("data")).unwrap();
        // OpenBao's one built-in storage on disk is integrated (raft) storage.
        std::fs::write(
            &config,
            format!(
                "storage \"raft\" {{\n path = \"{data}\"\n node_id = \"test\"\n}}\n\
                 listener \"tcp\" {{\n address = \"127.0.0.1:{port}\"\n \
                 cluster_address = \"127.0.0.1:{cluster_port}\"\n tls_disable = true\n}}\n\
                 api_addr = \"http://127.0.0.1:{port}\"\n\
                 cluster_addr = \"http://127.0.0.1:{cluster_port}\"\n",
                data = dir.join("data").display()
            ),
        )
        .unwrap();
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = spawn_bao(
            &["server".into(), format!("-config={}", config.display())],
            &log,
        );
        let mut bao = Bao {
            child,
            addr: format!("http://127.0.0.1:{port}"),
            root_token: String::new(),
            port,
            config: Some(config),
            unseal_key: None,
            log,
        };
        bao.wait_until_listening();
        let init = bao.call(
            "PUT",
            "/v1/sys/init",
            Some(json!({"secret_shares": 1, "secret_threshold": 1})),
        );
        bao.unseal_key = Some(init["keys"][0].as_str().unwrap().to_string());
        bao.root_token = init["root_token"].as_str().unwrap().to_string();
        bao.unseal();
        bao.call(
            "POST",
            "/v1/sys/mounts/secret",
            Some(json!({"type": "kv", "options": {"version": "2"}})),
        );
        bao
    }

    /// The process id, for tests that pause it (SIGSTOP) or kill it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process (by PID).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts a stopped persistent server again on the same port and storage, and unseals it.
    pub fn start_again(&mut self) {
        let config = self
            .config
            .clone()
            .expect("only a persistent server restarts");
        self.child = spawn_bao(
            &["server".into(), format!("-config={}", config.display())],
            &self.log,
        );
        self.wait_until_listening();
        self.unseal();
    }

    fn unseal(&mut self) {
        let key = self.unseal_key.clone().unwrap();
        self.call("PUT", "/v1/sys/unseal", Some(json!({"key": key})));
        self.wait_until_healthy();
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            let exited = matches!(self.child.try_wait(), Ok(Some(_)));
            assert!(
                !exited && Instant::now() < deadline,
                "bao did not listen on {}; its log:\n{}",
                self.port,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_until_healthy(&mut self) {
        assert!(
            self.wait_until_healthy_or_exit(),
            "bao exited; its log:\n{}",
            self.log_text()
        );
    }

    /// Waits until Bao reports healthy (true) or its process has ended (false); panics, with
    /// Bao's log, when neither happens within 30 s.
    fn wait_until_healthy_or_exit(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            let (status, _) = self.try_call("GET", "/v1/sys/health", None);
            if status == 200 {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "bao is not healthy ({status}); its log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Everything Bao printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// One call to Bao's HTTP API with the root token; panics on an error status.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.try_call(method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {value}"
        );
        value
    }

    /// One call to Bao's HTTP API with the root token: status and JSON body (null if none).
    pub fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        http_json(
            method,
            &format!("{}{path}", self.addr),
            &self.root_token,
            body,
        )
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn_bao(args: &[String], log: &tempfile::NamedTempFile) -> Child {
    Command::new(bao_binary())
        .args(args)
        .stdout(log.reopen().unwrap())
        .stderr(log.reopen().unwrap())
        .spawn()
        .expect("bao starts")
}

/// A blocking HTTP call with a Vault token, on a private thread and runtime so that it also
/// works inside async tests. Status 0 means nothing answered.
pub fn http_json(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let (method, url, token) = (
        ::reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        url.to_string(),
        token.to_string(),
    );
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let mut request = ::reqwest::Client::new()
                .request(method, &url)
                .header("X-Vault-Token", token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let Ok(response) = request.send().await else {
                return (0, Value::Null);
            };
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    })
    .join()
    .unwrap()
}
