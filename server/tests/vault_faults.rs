//! The Vault backend when Vault misbehaves or is set up unlike the defaults: paused mid-write,
//! demanding check-and-set, holding an expired token, or shared with a Control Service that
//! keeps other records beside the jobs. Against a real OpenBao.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Bao, Server, http_json};
use vdk_secrets::ErrorKind;

fn server_on(bao: &Bao, token: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--dev", "--backend", "vault", "--vault-addr", &bao.addr];
    args.extend_from_slice(extra);
    Server::start(&args, &[("VAULT_TOKEN", token)])
}

/// A raw request to the server: status and JSON body.
async fn raw(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method.parse().unwrap(), url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
    (status, body)
}

fn signal(pid: u32, signal: i32) {
    // SAFETY: signals a child process this test started, by its PID.
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
}

#[tokio::test]
async fn a_write_vault_never_answers_is_reported_as_of_unknown_outcome() {
    let bao = Bao::dev();
    let server = server_on(&bao, &bao.root_token, &["--vault-timeout", "2"]);
    let url = server.secrets_url("t", "j");
    let (status, _) = raw("PUT", &url, &[], Some(r#"{"before": "1"}"#)).await;
    assert_eq!(status, 204);

    signal(bao.pid(), libc::SIGSTOP);
    let (status, body) = raw(
        "PUT",
        &url,
        &[("if-match", "\"1\"")],
        Some(r#"{"after": "2"}"#),
    )
    .await;
    signal(bao.pid(), libc::SIGCONT);
    assert_eq!(status, 504, "{body}");
    let text = body.to_string();
    assert!(
        body["what"].as_str().unwrap().contains("may or may not"),
        "{text}"
    );
    assert!(!text.contains("Nothing was changed"), "{text}");
    assert!(
        !text.contains(&bao.addr),
        "the Vault address leaked: {text}"
    );

    // Once Vault resumes, it may apply the write it had received (it did in the attack run
    // this answers), or drop it when it notices the closed connection: either set is a true
    // outcome of "may or may not", a mix of the two never is.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, set) = raw("GET", &url, &[], None).await;
    assert_eq!(status, 200);
    assert!(
        set == json!({"after": "2"}) || set == json!({"before": "1"}),
        "{set}"
    );
    signal(bao.pid(), libc::SIGSTOP);
    let e = server
        .client("t", "j", None)
        .replace_all(&vdk_secrets::Secrets::new())
        .await
        .unwrap_err();
    signal(bao.pid(), libc::SIGCONT);
    assert_eq!(e.status(), Some(504));
    assert!(e.to_string().contains("may or may not"), "{e}");
}

#[tokio::test]
async fn writes_work_on_a_mount_that_requires_check_and_set() {
    let bao = Bao::dev();
    bao.call(
        "POST",
        "/v1/secret/config",
        Some(json!({"cas_required": true})),
    );
    let server = server_on(&bao, &bao.root_token, &[]);
    let url = server.secrets_url("t", "j");
    // Unconditional writes: the first and a later one.
    assert_eq!(raw("PUT", &url, &[], Some(r#"{"a": 1}"#)).await.0, 204);
    assert_eq!(raw("PUT", &url, &[], Some(r#"{"a": 2}"#)).await.0, 204);
    // Conditional ones still fail when stale and pass when current.
    let (status, body) = raw("PUT", &url, &[("if-match", "\"1\"")], Some("{}")).await;
    assert_eq!(status, 412, "{body}");
    let c = server.client("t", "j", None);
    c.set("b", "x".into()).await.unwrap();
    assert_eq!(c.read_all().await.unwrap().len(), 2);
    let stored = bao.call("GET", "/v1/secret/metadata/t/j", None);
    assert_eq!(stored["data"]["current_version"], json!(3));
}

#[tokio::test]
async fn health_fails_once_the_vault_token_expires() {
    let bao = Bao::dev();
    let created = bao.call(
        "POST",
        "/v1/auth/token/create",
        Some(json!({"policies": ["root"], "ttl": "3s", "renewable": false})),
    );
    let token = created["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_string();
    let server = server_on(&bao, &token, &[]);
    let (status, health) = http_json("GET", &format!("{}/health", server.url), "", None);
    assert_eq!(status, 200, "{health}");
    tokio::time::sleep(Duration::from_millis(4_000)).await;
    let (status, health) = http_json("GET", &format!("{}/health", server.url), "", None);
    assert_eq!(
        (status, &health["status"]),
        (503, &json!("unavailable")),
        "{health}"
    );
    assert!(
        health["why"].as_str().unwrap().contains("token"),
        "{health}"
    );
    assert!(!health.to_string().contains(&token));
    assert!(!health.to_string().contains(&bao.addr));
}

#[tokio::test]
async fn the_control_services_oauth_record_is_not_a_job() {
    let bao = Bao::dev();
    let oauth = json!({"data": {"clientId": "team-client", "clientSecret": "oauth-secret-value"}});
    bao.call(
        "POST",
        "/v1/secret/data/t/team-oauth-credentials",
        Some(oauth.clone()),
    );
    let server = server_on(&bao, &bao.root_token, &[]);
    let url = server.secrets_url("t", "team-oauth-credentials");
    let (status, body) = raw("GET", &url, &[], None).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["why"].as_str().unwrap().contains("OAuth credentials"),
        "{body}"
    );
    assert!(!body.to_string().contains("oauth-secret-value"));
    let (status, _) = raw("PUT", &url, &[], Some(r#"{"x": 1}"#)).await;
    assert_eq!(status, 400);
    let e = server
        .client("t", "team-oauth-credentials", None)
        .read_all()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // Untouched.
    let stored = bao.call("GET", "/v1/secret/data/t/team-oauth-credentials", None);
    assert_eq!(stored["data"]["data"], oauth["data"]);
    assert_eq!(stored["data"]["metadata"]["version"], json!(1));
}
