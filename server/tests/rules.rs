//! The core's rules at the server, on both backends: a team name that Vault would refuse in a
//! path is a 400 from validation (never the backend failing), and a number that would not be
//! stored as written is a 400 naming its secret, with nothing stored.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::{Bao, Server, http_json};
use vdk_secrets::{ErrorKind, JobRef};

/// `te\u{200B}am` (a zero width space after "te"), percent-encoded as UTF-8 for a URL path.
const INVISIBLE_TEAM: &str = "te%E2%80%8Bam";

fn dev_server(data: &Path) -> Server {
    Server::start(&["--dev", "--data-dir", data.to_str().unwrap()], &[])
}

/// One request: status and body text.
async fn raw(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().request(method.parse().unwrap(), url);
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The error body as JSON, after checking it has the API's error shape.
fn error_body(text: &str) -> Value {
    let body: Value = serde_json::from_str(text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    for field in ["what", "why", "consequences", "countermeasures"] {
        assert!(body[field].is_string(), "`{field}` in {body}");
    }
    body
}

/// The keys of the body's problems.
fn problem_keys(body: &Value) -> Vec<&str> {
    body["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems in {body}"))
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect()
}

/// A GET and a PUT of the job `job` of the invisible team: each is a 400 naming U+200B.
async fn invisible_team_is_refused(server: &Server) {
    let url = server.secrets_url(INVISIBLE_TEAM, "job");
    for (method, body) in [("GET", None), ("PUT", Some(r#"{"k": "v"}"#))] {
        let (status, text) = raw(method, &url, body).await;
        assert_eq!(status, 400, "{method}: {text}");
        let body = error_body(&text);
        assert_eq!(problem_keys(&body), ["team"], "{method}: {body}");
        let message = body["problems"][0]["message"].as_str().unwrap();
        assert!(
            message.starts_with("contains U+200B (an invisible format character)"),
            "{method}: {message}"
        );
        assert!(body["why"].as_str().unwrap().contains("U+200B"), "{body}");
    }
}

#[test]
fn the_native_client_refuses_such_names_before_sending() {
    // Without a JobRef there is no Endpoint, so nothing can be sent.
    let e = JobRef::new("te\u{200B}am", "job").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(e.problems()[0].key, "team");
    assert!(
        e.to_string()
            .contains("`team` contains U+200B (an invisible format character)"),
        "{e}"
    );
    let e = JobRef::new("te\u{FEFF}am", "jo\u{202E}b").unwrap_err();
    let named: Vec<(&str, bool)> = e
        .problems()
        .iter()
        .map(|p| {
            (
                p.key.as_str(),
                p.message.contains("U+FEFF") || p.message.contains("U+202E"),
            )
        })
        .collect();
    assert_eq!(named, [("team", true), ("job", true)]);
    let ok = JobRef::new("team", "job").unwrap();
    assert!(ok.with_deployment("TO\u{200B}DO").is_err());
}

#[tokio::test]
async fn the_embedded_store_answers_400_for_an_invisible_team_and_writes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path());
    invisible_team_is_refused(&server).await;
    let stored: Vec<_> = std::fs::read_dir(data.path().join("jobs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .filter(|name| name.to_string_lossy().ends_with(".vdks"))
        .collect();
    assert!(stored.is_empty(), "written: {stored:?}");
}

#[tokio::test]
async fn the_vault_backend_answers_400_not_503_for_an_invisible_team() {
    let bao = Bao::dev();
    // The reason for the rule: OpenBao itself refuses such a path.
    let (status, _) = http_json(
        "POST",
        &format!("{}/v1/secret/data/{INVISIBLE_TEAM}/job", bao.addr),
        &bao.root_token,
        Some(json!({"data": {"k": "v"}})),
    );
    assert_eq!(status, 400, "OpenBao accepted a path with U+200B");

    let server = Server::start(
        &["--dev", "--backend", "vault", "--vault-addr", &bao.addr],
        &[("VAULT_TOKEN", &bao.root_token)],
    );
    invisible_team_is_refused(&server).await;
    // Nothing was written: the KV mount holds no key at all.
    let (status, listed) = bao.try_call("LIST", "/v1/secret/metadata/", None);
    assert_eq!(status, 404, "keys in Vault: {listed}");
}

#[tokio::test]
async fn numbers_that_would_change_are_refused_by_name_and_the_set_kept() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path());
    let url = server.secrets_url("team", "job");
    let (status, text) = raw("PUT", &url, Some(r#"{"keep": "me"}"#)).await;
    assert_eq!(status, 204, "{text}");

    for (document, key, reason) in [
        (
            r#"{"a": 1.00000000000000000001}"#,
            "a",
            "has a number at line 1 column 7 with more precision than a 64-bit float holds",
        ),
        (
            r#"{"b": 1e-400}"#,
            "b",
            "has a number at line 1 column 7 too close to zero for a 64-bit float (it \
             underflows), which would be stored as 0",
        ),
    ] {
        let (status, text) = raw("PUT", &url, Some(document)).await;
        assert_eq!(status, 400, "{document}: {text}");
        let body = error_body(&text);
        assert_eq!(problem_keys(&body), [key], "{body}");
        let message = body["problems"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(reason), "{message}");
        assert!(message.ends_with("write it as a string to keep it exact"));
        let (status, stored) = raw("GET", &url, None).await;
        assert_eq!((status, stored.as_str()), (200, r#"{"keep":"me"}"#));
    }

    let (status, text) = raw("PUT", &url, Some(r#"{"c": 0.1}"#)).await;
    assert_eq!(status, 204, "{text}");
    let (status, stored) = raw("GET", &url, None).await;
    assert_eq!((status, stored.as_str()), (200, r#"{"c":0.1}"#));
}
