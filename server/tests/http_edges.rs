//! The server's HTTP edge, driven over raw sockets so that every byte of the request is the
//! test's choice: which Host names a dev server answers, `If-Match` parsing, the Operations
//! UI's static files and headers, and the shape and size of every error answer.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use support::Server;

/// One answer, as read off the socket.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the API's error shape and returns the body.
    fn error(&self) -> Value {
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "status {}, content type {:?}",
            self.status,
            self.header("content-type")
        );
        let body = self.json();
        for key in ["what", "why", "consequences", "countermeasures"] {
            assert!(
                body[key].as_str().is_some_and(|s| !s.is_empty()),
                "`{key}` in {body}"
            );
        }
        body
    }
}

/// `host:port` of a server.
fn address(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_string()
}

/// The port of a server.
fn port(server: &Server) -> u16 {
    address(server).rsplit(':').next().unwrap().parse().unwrap()
}

/// Sends `raw` as it is and reads the whole answer (the request asks to close).
fn send_raw(server: &Server, raw: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(address(server)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(raw).unwrap();
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    parse_answer(&bytes)
}

/// An HTTP/1.1 request with `Host: 127.0.0.1:PORT` unless `headers` names another Host (an
/// empty name sends no Host at all).
fn request(
    server: &Server,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut raw = format!("{method} {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        raw.push_str(&format!("Host: {}\r\n", address(server)));
    }
    for (name, value) in headers {
        if !name.is_empty() {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    raw.push_str(&format!(
        "Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    send_raw(server, &raw)
}

fn parse_answer(bytes: &[u8]) -> Answer {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer head in {:?}", String::from_utf8_lossy(bytes)));
    let head = String::from_utf8_lossy(&bytes[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = bytes[end + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = unchunk(&body);
    }
    Answer {
        status: status.parse().unwrap(),
        headers,
        body,
    }
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

fn dev_server(data: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["--dev", "--data-dir", data.to_str().unwrap()];
    args.extend_from_slice(extra);
    Server::start(&args, &[])
}

const SECRETS: &str = "/data-jobs/for-team/t/jobs/j/deployments/TODO/secrets";

// ---------------------------------------------------------------------------------------------
// Host names in dev mode

#[test]
fn a_dev_server_refuses_host_names_that_are_not_loopback() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    let p = port(&server);
    let foreign = [
        "attacker.example".to_string(),
        format!("attacker.example:{p}"),
        format!("localhost.attacker.example:{p}"),
        format!("127.0.0.1.nip.io:{p}"),
        "sub.localhost".to_string(),
        "10.0.0.7".to_string(),
        format!("192.168.1.20:{p}"),
        "[::2]".to_string(),
        "127.1".to_string(),
        String::new(),
    ];
    for host in &foreign {
        let answer = request(&server, "GET", SECRETS, &[("Host", host)], b"");
        assert_eq!(answer.status, 421, "Host: {host}");
        let body = answer.error();
        let text = body.to_string();
        assert!(text.contains("loopback"), "{text}");
        assert!(text.contains("--tokens-file"), "{text}");
        assert!(!text.contains("attacker"), "the name is not echoed: {text}");
    }
    // The DNS-rebinding write: a simple (text/plain) PUT under a foreign name.
    let answer = request(
        &server,
        "PUT",
        SECRETS,
        &[
            ("Host", &format!("attacker.example:{p}")),
            ("Content-Type", "text/plain"),
        ],
        br#"{"stolen": true}"#,
    );
    assert_eq!(answer.status, 421);
    for path in ["/health", "/openapi.json", "/nothing"] {
        let answer = request(&server, "GET", path, &[("Host", "attacker.example")], b"");
        assert_eq!(answer.status, 421, "{path}");
    }
    // A request in absolute form names its target in the request line, whatever the Host.
    let answer = request(
        &server,
        "GET",
        &format!("http://attacker.example:{p}{SECRETS}"),
        &[("Host", &format!("localhost:{p}"))],
        b"",
    );
    assert_eq!(answer.status, 421);
    // HTTP/1.0 without any Host.
    let answer = send_raw(
        &server,
        format!("GET {SECRETS} HTTP/1.0\r\n\r\n").as_bytes(),
    );
    assert_eq!(answer.status, 421);
    answer.error();

    let answer = request(&server, "GET", SECRETS, &[], b"");
    assert_eq!((answer.status, answer.json()), (200, json!({})));
    assert_eq!(answer.header("etag"), Some("\"0\""), "nothing was written");
    let log = server.log_text();
    assert!(log.contains("status=421"), "{log}");
    assert!(
        !log.contains("attacker"),
        "no header value in the log: {log}"
    );
}

#[test]
fn a_dev_server_answers_loopback_host_names_on_any_port() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    let p = port(&server);
    let loopback = [
        "localhost".to_string(),
        format!("localhost:{p}"),
        format!("LocalHost:{p}"),
        "localhost:1".to_string(),
        format!("127.0.0.1:{p}"),
        "127.0.0.1".to_string(),
        "127.9.8.7:80".to_string(),
        format!("[::1]:{p}"),
        "[::1]".to_string(),
    ];
    for host in &loopback {
        let answer = request(&server, "GET", SECRETS, &[("Host", host)], b"");
        assert_eq!(answer.status, 200, "Host: {host}");
    }
    let answer = request(
        &server,
        "GET",
        &format!("http://localhost:{p}/health"),
        &[("Host", &format!("localhost:{p}"))],
        b"",
    );
    assert_eq!(answer.status, 200);
    let answer = send_raw(
        &server,
        format!("GET /health HTTP/1.0\r\nHost: 127.0.0.1:{p}\r\n\r\n").as_bytes(),
    );
    assert_eq!(answer.status, 200);
}

#[test]
fn a_server_with_a_tokens_file_answers_any_host_name() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    let line =
        vdk_secrets_server::auth::tokens_file_line("edge-token-0123456789", &[], None).unwrap();
    std::fs::write(&tokens, format!("{line}\n")).unwrap();
    let data = dir.path().join("data");
    let server = Server::start(
        &[
            "--tokens-file",
            tokens.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    );
    let host = ("Host", "secrets.example.com");
    assert_eq!(request(&server, "GET", "/health", &[host], b"").status, 200);
    assert_eq!(request(&server, "GET", SECRETS, &[host], b"").status, 401);
    let auth = ("Authorization", "Bearer edge-token-0123456789");
    assert_eq!(
        request(&server, "GET", SECRETS, &[host, auth], b"").status,
        200
    );
}

// ---------------------------------------------------------------------------------------------
// If-Match

#[test]
fn if_match_follows_rfc_9110() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    let put = |if_match: &[&str], body: &str| {
        let headers: Vec<(&str, &str)> = if_match.iter().map(|v| ("If-Match", *v)).collect();
        request(&server, "PUT", SECRETS, &headers, body.as_bytes())
    };
    let etag = |answer: &Answer| answer.header("etag").map(str::to_string);

    let answer = put(&[], r#"{"v": 1}"#);
    assert_eq!((answer.status, etag(&answer)), (204, Some("\"1\"".into())));

    // Not an If-Match field at all: 400, naming the header and its form; nothing written.
    for bad in [
        "",
        " ",
        "1",
        "\"1",
        "1\"",
        "garbage",
        "\"1\" \"2\"",
        "\"1\";\"2\"",
        "*, \"1\"",
        "W/1",
        "w/\"1\"",
        "\"1\"x",
        "\"a b\"",
        "\" 1\"",
        ",",
        "**",
    ] {
        let answer = put(&[bad], r#"{"bad": 1}"#);
        assert_eq!(answer.status, 400, "If-Match: {bad}");
        let body = answer.error();
        assert!(
            body["what"].as_str().unwrap().contains("If-Match"),
            "{body}"
        );
        assert!(
            body["countermeasures"]
                .as_str()
                .unwrap()
                .contains("If-Match: \"<version>\""),
            "{body}"
        );
    }
    let answer = put(&["*", "\"1\""], r#"{"bad": 1}"#);
    assert_eq!(answer.status, 400, "`*` combined with a tag");

    // Well-formed tags this server never issued for the current version: 412.
    for stale in [
        "\"+1\"",
        "\"01\"",
        "\"1.0\"",
        "\"-1\"",
        "W/\"1\"",
        "\"0\"",
        "\"2\"",
        "\"abc\"",
        "\"\"",
        "\"99999999999999999999999\"",
        "\"0\", \"2\", W/\"1\"",
    ] {
        let answer = put(&[stale], r#"{"stale": 1}"#);
        assert_eq!(answer.status, 412, "If-Match: {stale}");
        answer.error();
    }
    assert_eq!(put(&["\"2\"", "\"3\""], "{}").status, 412);

    // A list holding the current tag.
    let answer = put(&["\"0\", \"1\", \"7\""], r#"{"v": 2}"#);
    assert_eq!((answer.status, etag(&answer)), (204, Some("\"2\"".into())));
    // Several If-Match lines make one list; empty list elements are ignored.
    let answer = put(&["\"7\"", " , \"2\" ,"], r#"{"v": 3}"#);
    assert_eq!((answer.status, etag(&answer)), (204, Some("\"3\"".into())));
    let answer = put(&["\"3\""], r#"{"v": 4}"#);
    assert_eq!((answer.status, etag(&answer)), (204, Some("\"4\"".into())));
    let answer = put(&["*"], r#"{"v": 5}"#);
    assert_eq!((answer.status, etag(&answer)), (204, Some("\"5\"".into())));

    let answer = request(&server, "GET", SECRETS, &[], b"");
    assert_eq!(answer.json(), json!({"v": 5}));
    assert_eq!(answer.header("etag"), Some("\"5\""));
}

// ---------------------------------------------------------------------------------------------
// The Operations UI

const PAGE_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self' http: https:; base-uri 'none'; form-action 'none'";

/// A UI directory with the page's files, files it must not serve, and symlinks out of it.
fn ui_dir(root: &Path) -> std::path::PathBuf {
    let ui = root.join("ui");
    let outside = root.join("outside");
    std::fs::create_dir_all(ui.join("tests")).unwrap();
    std::fs::create_dir_all(ui.join("node_modules/m")).unwrap();
    std::fs::create_dir_all(ui.join("vendor/lib")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        ui.join("index.html"),
        format!(
            "<!doctype html>\n<html><head>\n  <meta charset=\"utf-8\">\n  <meta \
             http-equiv=\"Content-Security-Policy\"\n        content=\"{PAGE_CSP}\">\n\
             </head><body>page</body></html>\n"
        ),
    )
    .unwrap();
    std::fs::write(ui.join("app.js"), "export const app = 1;\n").unwrap();
    std::fs::write(ui.join("style.css"), "body { color: black }\n").unwrap();
    std::fs::write(ui.join("x.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(ui.join("vendor/lib/index.js"), "export {};\n").unwrap();
    std::fs::write(ui.join("README.md"), "# readme\n").unwrap();
    std::fs::write(ui.join("prepare.sh"), "#!/bin/sh\n").unwrap();
    std::fs::write(ui.join("package.json"), "{}\n").unwrap();
    std::fs::write(ui.join(".hidden.js"), "secret\n").unwrap();
    std::fs::write(ui.join("tests/a.test.mjs"), "test\n").unwrap();
    std::fs::write(ui.join("node_modules/m/index.js"), "module\n").unwrap();
    std::fs::write(outside.join("secret.js"), "outside secret\n").unwrap();
    std::os::unix::fs::symlink(outside.join("secret.js"), ui.join("link.js")).unwrap();
    std::os::unix::fs::symlink(&outside, ui.join("linked")).unwrap();
    std::os::unix::fs::symlink(ui.join("app.js"), ui.join("inside-link.js")).unwrap();
    ui
}

#[test]
fn the_ui_serves_only_the_page_files_with_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let ui = ui_dir(dir.path());
    let data = dir.path().join("data");
    let server = dev_server(&data, &["--ui-dir", ui.to_str().unwrap()]);

    let served = [
        ("/", "text/html", "<!doctype html>"),
        ("/index.html", "text/html", "<!doctype html>"),
        ("/app.js", "text/javascript", "export const app"),
        ("/app.js?v=2", "text/javascript", "export const app"),
        ("/style.css", "text/css", "body"),
        ("/x.wasm", "application/wasm", "\0asm"),
        ("/vendor/lib/index.js", "text/javascript", "export"),
        ("/vendor/lib/%69ndex.js", "text/javascript", "export"),
    ];
    for (path, content_type, start) in served {
        let answer = request(&server, "GET", path, &[], b"");
        assert_eq!(answer.status, 200, "{path}");
        assert!(
            answer
                .header("content-type")
                .unwrap()
                .starts_with(content_type),
            "{path}: {:?}",
            answer.header("content-type")
        );
        assert!(answer.body.starts_with(start.as_bytes()), "{path}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("x-frame-options"), Some("DENY"));
        assert_eq!(answer.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(answer.header("cache-control"), Some("no-cache"));
        assert_eq!(
            answer.header("content-security-policy"),
            Some(format!("{PAGE_CSP}; frame-ancestors 'none'").as_str()),
            "{path}"
        );
    }
    let answer = request(&server, "HEAD", "/app.js", &[], b"");
    assert_eq!(answer.status, 200);
    assert!(answer.body.is_empty());

    let hidden = [
        "/README.md",
        "/prepare.sh",
        "/package.json",
        "/.hidden.js",
        "/tests/a.test.mjs",
        "/node_modules/m/index.js",
        "/link.js",
        "/inside-link.js",
        "/linked/secret.js",
        "/../outside/secret.js",
        "/%2e%2e/outside/secret.js",
        "/vendor/..%2f..%2foutside%2fsecret.js",
        "/vendor/%2e%2e/app.js",
        "/vendor/../app.js",
        "/./app.js",
        "//app.js",
        "/app.js/",
        "/app.js%00",
        "/vendor",
        "/vendor/",
        "/tests",
        "/missing.js",
        "/%ff.js",
    ];
    for path in hidden {
        let answer = request(&server, "GET", path, &[], b"");
        assert_eq!(answer.status, 404, "{path}");
        let body = answer.error();
        let text = body.to_string();
        assert!(!text.contains("outside secret"), "{path}: {text}");
        assert!(!text.contains(dir.path().to_str().unwrap()), "{text}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
    }
    let answer = request(&server, "POST", "/app.js", &[], b"x");
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow"), Some("GET, HEAD"));
    answer.error();
}

// ---------------------------------------------------------------------------------------------
// Error answers

#[test]
fn a_path_that_is_not_utf8_is_a_logged_json_400() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    let path = "/data-jobs/for-team/%FF/jobs/j/deployments/d/secrets";
    for method in ["GET", "PUT"] {
        let answer = request(&server, method, path, &[], b"{}");
        assert_eq!(answer.status, 400, "{method}");
        let body = answer.error();
        assert!(body["why"].as_str().unwrap().contains("UTF-8"), "{body}");
    }
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log_text();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("status=400") && l.contains("deployment_id"))
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
}

#[test]
fn every_answered_request_is_logged() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    request(&server, "GET", "/no/such/path?token=query-secret", &[], b"");
    request(&server, "DELETE", SECRETS, &[], b"");
    request(&server, "GET", "/health", &[], b"");
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log_text();
    assert!(log.contains("status=404"), "{log}");
    assert!(log.contains("status=405"), "{log}");
    assert!(log.contains("status=200"), "{log}");
    assert!(!log.contains("query-secret"), "{log}");
}

#[test]
fn wrong_methods_get_405_with_allow_and_a_json_body() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    for method in ["POST", "DELETE", "PATCH"] {
        let answer = request(&server, method, SECRETS, &[], b"{}");
        assert_eq!(answer.status, 405, "{method}");
        let allow = answer.header("allow").unwrap().to_string();
        for m in ["GET", "HEAD", "PUT"] {
            assert!(allow.contains(m), "{allow}");
        }
        let body = answer.error();
        assert!(
            body["why"].as_str().unwrap().contains("GET, HEAD, PUT"),
            "{body}"
        );
    }
    let answer = request(&server, "POST", "/health", &[], b"");
    assert_eq!(answer.status, 405);
    assert!(answer.header("allow").unwrap().contains("GET"));
    answer.error();
}

#[test]
fn thousands_of_bad_names_give_a_small_answer_that_counts_them() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    let set: serde_json::Map<String, Value> = (0..5000)
        .map(|i| (format!("bad name {i:04}"), json!(i)))
        .collect();
    let body = serde_json::to_vec(&set).unwrap();
    let answer = request(&server, "PUT", SECRETS, &[], &body);
    assert_eq!(answer.status, 400);
    assert!(answer.body.len() < 64 * 1024, "{} bytes", answer.body.len());
    let body = answer.error();
    let why = body["why"].as_str().unwrap();
    assert!(why.contains("5000"), "{why}");
    assert!(
        !why.contains("bad name 0001"),
        "the list is not repeated: {why}"
    );
    let problems = body["problems"].as_array().unwrap();
    assert!(problems.len() <= 100, "{}", problems.len());
    assert_eq!(problems[0]["key"], "bad name 0000");
    let last = problems.last().unwrap()["message"].as_str().unwrap();
    assert!(
        last.contains(&(5000 - problems.len() + 1).to_string()),
        "{last}"
    );

    // One name of a megabyte is cut, not echoed whole.
    let long = format!("{{\"{} x\": 1}}", "n".repeat(900_000));
    let answer = request(&server, "PUT", SECRETS, &[], long.as_bytes());
    assert_eq!(answer.status, 400);
    assert!(answer.body.len() < 8 * 1024, "{} bytes", answer.body.len());
    answer.error();
}

#[test]
fn api_answers_carry_nosniff_and_unknown_paths_are_json() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    for (path, status) in [(SECRETS, 200), ("/health", 200), ("/", 404), ("/x", 404)] {
        let answer = request(&server, "GET", path, &[], b"");
        assert_eq!(answer.status, status, "{path}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        if status == 404 {
            answer.error();
        }
    }
}

#[test]
fn embedded_store_errors_point_at_the_data_directory_not_vault() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    assert_eq!(
        request(&server, "PUT", SECRETS, &[], b"{\"a\":1}").status,
        204
    );
    let jobs: Vec<_> = std::fs::read_dir(data.path().join("jobs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(jobs.len(), 1);
    std::fs::write(&jobs[0], b"this is not a job file").unwrap();
    let answer = request(&server, "GET", SECRETS, &[], b"");
    assert_eq!(answer.status, 500);
    let body = answer.error();
    let text = body.to_string();
    assert!(text.contains("data directory"), "{text}");
    assert!(!text.contains("Vault"), "{text}");
    assert!(!text.contains(data.path().to_str().unwrap()), "{text}");

    // A data directory that lost its jobs directory: writes fail, and so does the health check.
    std::fs::remove_dir_all(data.path().join("jobs")).unwrap();
    let answer = request(&server, "PUT", SECRETS, &[], b"{\"a\":2}");
    assert_eq!(answer.status, 503);
    let text = answer.error().to_string();
    assert!(text.contains("data directory"), "{text}");
    assert!(!text.contains("Vault"), "{text}");
    assert!(!text.contains(data.path().to_str().unwrap()), "{text}");
    // The health answer may be reused for a moment.
    let mut answer = request(&server, "GET", "/health", &[], b"");
    for _ in 0..30 {
        if answer.status == 503 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        answer = request(&server, "GET", "/health", &[], b"");
    }
    assert_eq!(answer.status, 503);
    let text = String::from_utf8_lossy(&answer.body).to_string();
    assert!(!text.contains(data.path().to_str().unwrap()), "{text}");
}
