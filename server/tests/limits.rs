//! The server under clients that hold resources without a token, under a second process on
//! its data directory, and with credential files others could change: the real binary, real
//! sockets, and a lowered open-file limit where the defect needs one.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::Server;

fn dev_args<'a>(data: &'a std::path::Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--dev", "--data-dir", data.to_str().unwrap()];
    args.extend_from_slice(extra);
    args
}

fn address(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_string()
}

/// A blocking GET of `path` on a fresh connection: status and JSON body; status 0 when no
/// answer came within `limit`.
fn get(server: &Server, path: &str, limit: Duration) -> (u16, Value) {
    let Ok(mut stream) = TcpStream::connect(address(server)) else {
        return (0, Value::Null);
    };
    stream.set_read_timeout(Some(limit)).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, Value::Null);
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

/// Whether the server closed `stream` within `limit` (a read returns end of file or an error).
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream
        .set_read_timeout(Some(limit + Duration::from_secs(1)))
        .unwrap();
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return started.elapsed() <= limit + Duration::from_secs(1),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn idle_sockets_beyond_the_open_file_limit_do_not_lock_anyone_out() {
    let data = tempfile::tempdir().unwrap();
    // 256 open files: room for about 140 connections.
    let server = Server::start_with_fd_limit(&dev_args(data.path(), &[]), &[], 256);
    let mut idle = Vec::new();
    for _ in 0..400 {
        match TcpStream::connect(address(&server)) {
            Ok(stream) => idle.push(stream),
            Err(e) => panic!("the listen queue refused a connection: {e}"),
        }
    }
    // Every idle socket is still open on this side, yet others are served: at the cap the
    // server closes the connections idle longest to make room.
    let (status, health) = get(&server, "/health", Duration::from_secs(10));
    assert_eq!((status, &health["status"]), (200, &json!("ok")), "{health}");
    let (status, _) = get(
        &server,
        "/data-jobs/for-team/t/jobs/j/deployments/d/secrets",
        Duration::from_secs(10),
    );
    assert_eq!(status, 200);
    let log = server.log_text();
    assert!(!log.contains("Too many open files"), "{log}");
    drop(idle);
}

#[test]
fn slow_headers_and_idle_connections_are_closed_after_the_header_timeout() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&dev_args(data.path(), &["--header-timeout", "2"]), &[]);

    let mut silent = TcpStream::connect(address(&server)).unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(3)));

    // A head sent one byte at a time, never finished.
    let mut slow = TcpStream::connect(address(&server)).unwrap();
    let dripper = {
        let mut slow = slow.try_clone().unwrap();
        std::thread::spawn(move || {
            for byte in b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1234567890" {
                if slow.write_all(&[*byte]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    assert!(closed_within(&mut slow, Duration::from_secs(3)));
    dripper.join().unwrap();

    // A keep-alive connection is closed once idle for as long.
    let mut kept = TcpStream::connect(address(&server)).unwrap();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    assert!(closed_within(&mut kept, Duration::from_secs(3)));
}

#[test]
fn a_stalled_body_is_cut_off_and_the_set_is_kept() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&dev_args(data.path(), &["--body-timeout", "2"]), &[]);
    let path = "/data-jobs/for-team/t/jobs/j/deployments/d/secrets";
    let mut put = TcpStream::connect(address(&server)).unwrap();
    put.write_all(
        format!(
            "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: 100000\r\n\r\n{{\"a\": \""
        )
        .as_bytes(),
    )
    .unwrap();
    put.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    let mut answer = String::new();
    let _ = put.read_to_string(&mut answer);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "no answer to a stalled body"
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("did not arrive within 2 s"), "{answer}");
    let (status, body) = get(&server, path, Duration::from_secs(5));
    assert_eq!((status, body), (200, json!({})));
}

/// A blocking PUT of `body` to `path` on a fresh connection: the status, 0 without one.
fn put(server: &Server, path: &str, body: &str) -> u16 {
    let mut stream = TcpStream::connect(address(server)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn clients_that_hang_up_part_way_through_a_body_change_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&dev_args(data.path(), &[]), &[]);
    let path = "/data-jobs/for-team/t/jobs/j/deployments/d/secrets";
    assert_eq!(put(&server, path, r#"{"kept": "as it was"}"#), 204);
    // Twenty writers each announce a body 100 KB longer than the 600 KB set they hold, one of
    // whose values holds a marker, and hang up after sending none of it, part of it, or all
    // of the set (a whole JSON object) without the rest: a body cut short is never taken.
    let marker = "hung-up-value-1b7f0c";
    let set = format!(
        "{{\"new\": \"{marker}{}\", \"other\": 1}}",
        "x".repeat(600_000)
    );
    let writers: Vec<_> = (0..20)
        .map(|i| {
            let address = address(&server);
            let set = set.clone();
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(address).unwrap();
                let head = format!(
                    "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                     Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    set.len() + 100_000
                );
                stream.write_all(head.as_bytes()).unwrap();
                let sent = set.len() * i / 19;
                let _ = stream.write_all(&set.as_bytes()[..sent]);
                let _ = stream.shutdown(std::net::Shutdown::Both);
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    // Every read still sees the set as it was, and the next write is taken.
    let (status, stored) = get(&server, path, Duration::from_secs(5));
    assert_eq!((status, stored), (200, json!({"kept": "as it was"})));
    assert_eq!(put(&server, path, r#"{"kept": "changed"}"#), 204);
    let (_, stored) = get(&server, path, Duration::from_secs(5));
    assert_eq!(stored, json!({"kept": "changed"}));
    assert!(
        !server.log_text().contains(marker),
        "a value of a broken-off body reached the log"
    );
}

#[test]
fn many_stalled_large_bodies_keep_memory_bounded_and_others_served() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(
        &dev_args(
            data.path(),
            &["--body-timeout", "20", "--body-bytes-in-flight", "33554432"],
        ),
        &[],
    );
    let before = rss_kib(server.pid());
    let path = "/data-jobs/for-team/t/jobs/j/deployments/d/secrets";
    let declared = 4_000_000usize;
    let chunk = vec![b' '; 64 * 1024];
    // 100 clients each send most of a 4 MB body, then stall.
    let senders: Vec<_> = (0..100)
        .map(|_| {
            let address = address(&server);
            let chunk = chunk.clone();
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(address).unwrap();
                stream
                    .set_write_timeout(Some(Duration::from_secs(8)))
                    .unwrap();
                let head = format!(
                    "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {declared}\r\n\r\n"
                );
                stream.write_all(head.as_bytes()).unwrap();
                let mut sent = 0;
                while sent + chunk.len() < declared - 100_000 {
                    if stream.write_all(&chunk).is_err() {
                        break;
                    }
                    sent += chunk.len();
                }
                stream
            })
        })
        .collect();
    let streams: Vec<TcpStream> = senders.into_iter().map(|t| t.join().unwrap()).collect();
    let during = rss_kib(server.pid());
    // Meanwhile, reads are served.
    let (status, _) = get(&server, path, Duration::from_secs(10));
    assert_eq!(status, 200);
    // 32 MiB of bodies in flight at most, plus the server's own memory and buffers: far below
    // the 400 MB the stalled clients tried to place.
    let grown_mib = during.saturating_sub(before) / 1024;
    assert!(grown_mib < 150, "the server grew by {grown_mib} MiB");
    drop(streams);
}

#[test]
fn sigterm_ends_the_server_within_the_grace_period_despite_a_partial_request() {
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(
        &dev_args(
            data.path(),
            &["--shutdown-grace", "2", "--header-timeout", "60"],
        ),
        &[],
    );
    let mut partial = TcpStream::connect(address(&server)).unwrap();
    partial
        .write_all(b"PUT /data-jobs/for-team/t/jobs/j/deployments/d/secrets HTTP/1.1\r\nHost: x")
        .unwrap();
    let mut body = TcpStream::connect(address(&server)).unwrap();
    body.write_all(
        b"PUT /data-jobs/for-team/t/jobs/j/deployments/d/secrets HTTP/1.1\r\n\
          Host: 127.0.0.1\r\nContent-Length: 50\r\n\r\n{\"a\"",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: signals a child process this test started, by its PID.
    unsafe { libc::kill(server.pid() as i32, libc::SIGTERM) };
    let status = server.wait_for_exit(Duration::from_secs(10));
    assert!(status.is_some(), "still running 10 s after SIGTERM");
    assert!(server.log_text().contains("stopped accepting"));
    drop((partial, body));
}

#[test]
fn a_second_server_on_one_data_directory_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let first = Server::start(&dev_args(data.path(), &[]), &[]);
    let e = Server::try_start(&dev_args(data.path(), &[]), &[])
        .err()
        .expect("a second server on the same directory must not start");
    assert!(e.contains("is in use by process"), "{e}");
    assert!(e.contains(&first.pid().to_string()), "{e}");
    assert!(e.contains("--data-dir"), "{e}");
    // The lock dies with its holder, even when it is killed.
    first.kill();
    Server::start(&dev_args(data.path(), &[]), &[]);
}

#[tokio::test]
async fn a_missing_key_is_refused_when_jobs_exist_and_health_checks_the_key() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&dev_args(data.path(), &[]), &[]);
    server
        .client("t", "j", None)
        .set("a", "1".into())
        .await
        .unwrap();
    let (status, health) = get(&server, "/health", Duration::from_secs(5));
    assert_eq!(status, 200, "{health}");

    // The key check no longer opens: health says so without a restart.
    let check = data.path().join("key-check");
    let sealed = std::fs::read(&check).unwrap();
    std::fs::write(&check, b"garbage").unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, health) = get(&server, "/health", Duration::from_secs(5));
    assert_eq!((status, &health["status"]), (503, &json!("unavailable")));
    assert!(!health.to_string().contains(data.path().to_str().unwrap()));
    std::fs::write(&check, sealed).unwrap();
    server.kill();

    std::fs::remove_file(data.path().join("key")).unwrap();
    let e = Server::try_start(&dev_args(data.path(), &[]), &[])
        .err()
        .unwrap();
    assert!(
        e.contains("is missing") && e.contains("restore the key file"),
        "{e}"
    );
    assert!(!data.path().join("key").exists());
}

#[test]
fn credential_files_others_could_change_or_read_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, support_tokens_line()).unwrap();
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o666)).unwrap();
    let data = dir.path().join("data");
    let args = [
        "--tokens-file",
        tokens.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ];
    let e = Server::try_start(&args, &[]).err().unwrap();
    assert!(
        e.contains("can be written by other users") && e.contains("chmod go-w"),
        "{e}"
    );
    // Readable by others is fine: it holds hashes only.
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o644)).unwrap();
    Server::start(&args, &[]);

    let token_file = dir.path().join("vault-token");
    std::fs::write(&token_file, "s.some-vault-token").unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = Server::try_start(
        &[
            "--dev",
            "--backend",
            "vault",
            "--vault-addr",
            "http://127.0.0.1:1",
            "--vault-token-file",
            token_file.to_str().unwrap(),
        ],
        &[],
    )
    .err()
    .unwrap();
    assert!(
        e.contains("can be read or written by other users") && e.contains("chmod 600"),
        "{e}"
    );
    assert!(!e.contains("s.some-vault-token"), "{e}");
}

fn support_tokens_line() -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_vdk-secrets-server"))
        .args(["hash-token", "team-a"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(b"a-token")?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}
