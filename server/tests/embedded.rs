//! The server binary on its default backend, the embedded encrypted store, driven over HTTP by
//! the core's native client and by raw requests.

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use support::Server;
use vdk_secrets::{ErrorKind, Secrets};

fn dev_server(data: &std::path::Path, extra: &[&str]) -> Server {
    let mut args = vec!["--dev", "--data-dir", data.to_str().unwrap()];
    args.extend_from_slice(extra);
    Server::start(&args, &[])
}

async fn raw(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new().request(method.parse().unwrap(), url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn every_client_operation_works_against_the_server() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    let c = server.client("team", "job", None);
    assert!(c.read_all().await.unwrap().is_empty());
    c.set("pw", "s3cret".into()).await.unwrap();
    c.set("n", json!(1).into()).await.unwrap();
    c.set("n", "2".into()).await.unwrap();
    assert_eq!(c.get("n").await.unwrap().unwrap().expose(), &json!(2));
    c.delete(&["pw"]).await.unwrap();
    assert_eq!(
        c.delete(&["pw"]).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    c.overwrite_from_json(r#"{"a": [1], "b": {"c": null}}"#)
        .await
        .unwrap();
    let all = c.read_versioned().await.unwrap();
    assert_eq!(all.secrets.names().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(all.etag.unwrap().as_str(), "\"5\"");
    c.delete_all().await.unwrap();
    assert!(c.read_all().await.unwrap().is_empty());
}

#[tokio::test]
async fn get_answers_etag_and_no_store() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    let (status, headers, body) = raw("GET", &server.secrets_url("t", "j"), &[], None).await;
    assert_eq!((status, body), (200, json!({})));
    assert_eq!(headers["etag"], "\"0\"");
    assert_eq!(headers["cache-control"], "no-store");
}

#[tokio::test]
async fn put_over_the_limit_returns_413_and_keeps_the_set() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &["--max-set-bytes", "200"]);
    let url = server.secrets_url("t", "j");
    let (status, _, _) = raw("PUT", &url, &[], Some(r#"{"keep": "me"}"#.into())).await;
    assert_eq!(status, 204);
    let big = json!({ "big": "x".repeat(300) }).to_string();
    let (status, _, body) = raw("PUT", &url, &[], Some(big)).await;
    assert_eq!(status, 413);
    assert!(
        body["why"].as_str().unwrap().contains("limit is 200 bytes"),
        "{body}"
    );
    for key in ["what", "why", "consequences", "countermeasures"] {
        assert!(body[key].is_string(), "{key} in {body}");
    }
    // Far over the limit: refused before the body is even parsed, without a made-up size.
    let huge = format!("{{\"h\": \"{}\"}}", "y".repeat(2_000_000));
    let (status, _, body) = raw("PUT", &url, &[], Some(huge)).await;
    assert_eq!(status, 413);
    assert_eq!(
        body["why"],
        "the body is over 66336 bytes, more than any set within the limit of 200 bytes as \
         compact JSON"
    );
    let (_, _, stored) = raw("GET", &url, &[], None).await;
    assert_eq!(stored, json!({"keep": "me"}));
}

#[tokio::test]
async fn a_body_that_breaks_off_is_400_not_413_and_keeps_the_set() {
    use std::io::{Read, Write};
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    let url = server.secrets_url("t", "j");
    assert_eq!(
        raw("PUT", &url, &[], Some(r#"{"keep": "me"}"#.into()))
            .await
            .0,
        204
    );
    let address = server.url.trim_start_matches("http://").to_string();
    let path = url.trim_start_matches(&server.url).to_string();
    let response = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        // A chunked body whose second chunk size is not hexadecimal.
        write!(
            stream,
            "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\n\r\n2\r\n{{}}\r\nzz\r\n"
        )
        .unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(
        response.contains("reading the request body failed"),
        "{response}"
    );
    let (_, _, stored) = raw("GET", &url, &[], None).await;
    assert_eq!(stored, json!({"keep": "me"}));
}

#[tokio::test]
async fn put_with_stale_etag_returns_conflict() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    let url = server.secrets_url("t", "j");
    let (status, headers, _) = raw(
        "PUT",
        &url,
        &[("if-match", "\"0\"")],
        Some("{\"a\":1}".into()),
    )
    .await;
    assert_eq!(
        (status, &headers["etag"]),
        (
            204,
            &"\"1\"".parse::<reqwest::header::HeaderValue>().unwrap()
        )
    );
    for stale in ["\"0\"", "\"7\"", "W/\"1\""] {
        let (status, _, body) = raw("PUT", &url, &[("if-match", stale)], Some("{}".into())).await;
        assert_eq!(status, 412, "{stale}");
        assert!(
            body["countermeasures"]
                .as_str()
                .unwrap()
                .contains("Read the secrets again")
        );
    }
    // Not an entity tag at all: the request is malformed, not stale.
    let (status, _, body) = raw("PUT", &url, &[("if-match", "garbage")], Some("{}".into())).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        raw("PUT", &url, &[("if-match", "*")], Some("{\"b\":2}".into()))
            .await
            .0,
        204
    );
    assert_eq!(raw("GET", &url, &[], None).await.2, json!({"b": 2}));
}

#[tokio::test]
async fn bad_names_and_bodies_are_400_with_every_problem() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    let url = server.secrets_url("t", "j");
    let (status, _, body) = raw(
        "PUT",
        &url,
        &[],
        Some(r#"{"a b": "hunter2", "": 1, "ok": 2}"#.into()),
    )
    .await;
    assert_eq!(status, 400);
    let keys: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    // Problems of named secrets first, by name; the empty name's with the whole set's, last.
    assert_eq!(keys, ["a b", ""]);
    assert!(!body.to_string().contains("hunter2"));
    for bad in ["[1]", "not json", "{\"a\": 1, \"a\": 2}", ""] {
        assert_eq!(
            raw("PUT", &url, &[], Some(bad.into())).await.0,
            400,
            "{bad}"
        );
    }
    let blank_team = server.secrets_url("%20", "j");
    let (status, _, body) = raw("GET", &blank_team, &[], None).await;
    assert_eq!(status, 400);
    assert_eq!(body["problems"][0]["key"], "team");
    assert_eq!(
        raw("GET", &server.secrets_url("t", "a%2Fb"), &[], None)
            .await
            .0,
        400
    );
    assert_eq!(
        raw("GET", &format!("{}/nothing/here", server.url), &[], None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn any_deployment_id_is_accepted_and_ignored() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    let base = format!("{}/data-jobs/for-team/t/jobs/j/deployments", server.url);
    raw(
        "PUT",
        &format!("{base}/TODO/secrets"),
        &[],
        Some("{\"a\":1}".into()),
    )
    .await;
    assert_eq!(
        raw(
            "GET",
            &format!("{base}/other-deployment/secrets"),
            &[],
            None
        )
        .await
        .2,
        json!({"a": 1})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_per_key_writers_keep_all_keys() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    let clients: Vec<_> = (0..20)
        .map(|_| Arc::new(server.client("t", "j", None)))
        .collect();
    let writers: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, c)| tokio::spawn(async move { c.set(&format!("key{i}"), json!(i).into()).await }))
        .collect();
    for w in writers {
        w.await.unwrap().unwrap();
    }
    let all = server.client("t", "j", None).read_all().await.unwrap();
    assert_eq!(all.len(), 20);
}

#[tokio::test]
async fn the_store_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    server
        .client("t", "j", None)
        .set("kept", "yes".into())
        .await
        .unwrap();
    drop(server);
    let server = dev_server(data.path(), &[]);
    let v = server
        .client("t", "j", None)
        .get("kept")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.expose(), &json!("yes"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_survives_a_writer_killed_mid_write() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &[]);
    // Each generation writes 200 keys of ~4 KB, all carrying the generation number, so a torn
    // write would show as mixed generations.
    let generation = |g: usize| -> Secrets {
        (0..200)
            .map(|k| {
                (
                    format!("k{k:03}"),
                    json!(format!("{g}:{}", "x".repeat(4000))),
                )
            })
            .collect()
    };
    let url = server.url.clone();
    let (done, mut completed) = tokio::sync::watch::channel(0);
    let writer = tokio::spawn(async move {
        let c = support::client(&url, "t", "j", None);
        for g in 1.. {
            if c.replace_all(&generation(g)).await.is_err() {
                return;
            }
            let _ = done.send(g);
        }
    });
    // Let a few writes land, then kill the server while the next one is in flight.
    completed.wait_for(|g| *g >= 3).await.unwrap();
    tokio::time::sleep(Duration::from_millis(15)).await;
    server.kill();
    writer.await.unwrap();

    let server = dev_server(data.path(), &[]);
    let set = server.client("t", "j", None).read_all().await.unwrap();
    assert_eq!(set.len(), 200);
    let generations: std::collections::BTreeSet<&str> = set
        .iter()
        .map(|(_, v)| v.expose().as_str().unwrap().split(':').next().unwrap())
        .collect();
    assert_eq!(
        generations.len(),
        1,
        "one whole generation, not a mix: {generations:?}"
    );
    // No unfinished write is left behind: only the job's file and its kept versions.
    let leftovers: Vec<_> = std::fs::read_dir(data.path().join("jobs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn tokens_file_gives_401_and_403_and_the_log_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    let line = vdk_secrets_server::auth::tokens_file_line(
        "tok-team-a-0123456789",
        &["team-a".into()],
        None,
    )
    .unwrap();
    std::fs::write(&tokens, format!("# test tokens\n{line}\n")).unwrap();
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

    let e = server
        .client("team-a", "j", None)
        .read_all()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    let e = server
        .client("team-a", "j", Some("wrong-token"))
        .read_all()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    let e = server
        .client("team-b", "j", Some("tok-team-a-0123456789"))
        .read_all()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden);

    let c = server.client("team-a", "j", Some("tok-team-a-0123456789"));
    c.set("password", "value-that-must-not-be-logged".into())
        .await
        .unwrap();
    c.set("json", json!({"inner": "nested-value-not-logged"}).into())
        .await
        .unwrap();
    c.read_all().await.unwrap();
    let _ = c.set("bad name", "bad-value-not-logged".into()).await;

    let log = server.log_text();
    assert!(
        log.contains("status=204"),
        "the log records requests: {log}"
    );
    for needle in [
        "value-that-must-not-be-logged",
        "nested-value-not-logged",
        "bad-value-not-logged",
        "tok-team-a-0123456789",
    ] {
        assert!(!log.contains(needle), "`{needle}` leaked into the log");
    }
}

#[test]
fn refuses_to_start_without_authentication_or_with_dev_mode_on_a_public_address() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    let e = Server::try_start(&["--data-dir", d], &[]).err().unwrap();
    assert!(e.contains("--tokens-file"), "{e}");
    let e = Server::try_start(&["--dev", "--data-dir", d, "--listen", "0.0.0.0:0"], &[])
        .err()
        .unwrap();
    assert!(e.contains("--force-insecure-dev"), "{e}");
    let e = Server::try_start(&["--backend", "vault", "--dev"], &[("VAULT_ADDR", "")])
        .err()
        .unwrap();
    assert!(e.contains("Vault"), "{e}");
}

#[tokio::test]
async fn backend_none_answers_501() {
    let server = Server::start(&["--dev", "--backend", "none"], &[]);
    let e = server.client("t", "j", None).read_all().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotConfigured);
    let e = server
        .client("t", "j", None)
        .replace_all(&Secrets::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotConfigured);
}

#[tokio::test]
async fn cors_preflight_is_answered_for_allowed_origins_only() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &["--cors-origin", "http://ui.example"]);
    let url = server.secrets_url("t", "j");
    let preflight = |origin: &'static str| {
        let url = url.clone();
        async move {
            raw(
                "OPTIONS",
                &url,
                &[
                    ("origin", origin),
                    ("access-control-request-method", "PUT"),
                    (
                        "access-control-request-headers",
                        "authorization,if-match,content-type",
                    ),
                ],
                None,
            )
            .await
        }
    };
    let (status, headers, _) = preflight("http://ui.example").await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "http://ui.example");
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        allowed.contains("if-match") && allowed.contains("authorization"),
        "{allowed}"
    );
    let (_, headers, _) = preflight("http://evil.example").await;
    assert!(!headers.contains_key("access-control-allow-origin"));
    let (_, headers, _) = raw("GET", &url, &[("origin", "http://ui.example")], None).await;
    assert!(
        headers["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("etag")
    );
}

#[tokio::test]
async fn serves_health_and_its_openapi_document() {
    let data = tempfile::tempdir().unwrap();
    let server = dev_server(data.path(), &["--max-set-bytes", "4096"]);
    let (status, _, health) = raw("GET", &format!("{}/health", server.url), &[], None).await;
    assert_eq!(
        (status, health),
        (
            200,
            json!({"status": "ok", "backend": "embedded", "reachable": true, "maxSetBytes": 4096})
        )
    );
    let (status, _, doc) = raw("GET", &format!("{}/openapi.json", server.url), &[], None).await;
    assert_eq!(status, 200);
    assert!(doc["paths"]["/data-jobs/for-team/{team}/jobs/{job}/deployments/{deployment_id}/secrets"]["put"].is_object());
}

#[test]
fn a_size_limit_of_zero_is_refused_at_start() {
    let data = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_vdk-secrets-server"))
        .args([
            "serve",
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--max-set-bytes",
            "0",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--max-set-bytes") && stderr.contains("at least 1"),
        "{stderr}"
    );
}
