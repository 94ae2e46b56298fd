//! The native client against a real HTTP server on 127.0.0.1.

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use support::{Knobs, TestServer, closed_port};
use vdk_secrets::native::NativeTransport;
use vdk_secrets::{
    Endpoint, ErrorKind, JobRef, Limits, RetryPolicy, SecretValue, Secrets, SecretsClient, Token,
};

fn client_for(
    url: &str,
    team: &str,
    job: &str,
    token: Option<&str>,
) -> SecretsClient<NativeTransport> {
    let job = JobRef::new(team, job).unwrap();
    let token = token.map(|t| Token::new(t).unwrap());
    let endpoint = Endpoint::new(url, job, token).unwrap();
    let fast = RetryPolicy {
        initial_backoff: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    SecretsClient::new(NativeTransport::new().unwrap(), endpoint).with_retry(fast)
}

#[tokio::test]
async fn every_operation_round_trips_through_a_real_server() {
    let server = TestServer::start(Knobs {
        etags: true,
        ..Knobs::default()
    })
    .await;
    let c = client_for(&server.url(), "team", "job", None);

    assert!(c.read_all().await.unwrap().is_empty());
    c.set("password", "s3cret".into()).await.unwrap();
    c.set("config", json!({"host": "db", "port": 5432}).into())
        .await
        .unwrap();
    c.set("port", json!(5432).into()).await.unwrap();
    c.set("port", "6543".into()).await.unwrap();
    assert_eq!(
        server.stored("team", "job"),
        json!({"password": "s3cret", "config": {"host": "db", "port": 5432}, "port": 6543})
    );

    assert_eq!(
        c.get("password").await.unwrap().unwrap().expose(),
        &json!("s3cret")
    );
    assert!(c.get("missing").await.unwrap().is_none());
    let default = c.get_or("missing", SecretValue::string("d")).await.unwrap();
    assert_eq!(default.expose(), &json!("d"));

    c.delete(&["password", "port"]).await.unwrap();
    assert_eq!(
        server.stored("team", "job"),
        json!({"config": {"host": "db", "port": 5432}})
    );
    let e = c.delete(&["password"]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);

    c.overwrite_from_json(r#"{"a": 1, "b": [true, null]}"#)
        .await
        .unwrap();
    assert_eq!(
        server.stored("team", "job"),
        json!({"a": 1, "b": [true, null]})
    );

    let all: Secrets = [("x", SecretValue::string("1"))].into_iter().collect();
    c.replace_all(&all).await.unwrap();
    assert_eq!(server.stored("team", "job"), json!({"x": "1"}));

    c.delete_all().await.unwrap();
    assert_eq!(server.stored("team", "job"), json!({}));
}

#[tokio::test]
async fn names_with_reserved_characters_reach_the_server_intact() {
    let server = TestServer::start(Knobs::default()).await;
    let c = client_for(&server.url(), "data team", "jöb?#%", None);
    c.set("k", "v".into()).await.unwrap();
    assert_eq!(server.stored("data team", "jöb?#%"), json!({"k": "v"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_setters_lose_no_update() {
    let server = TestServer::start(Knobs {
        etags: true,
        ..Knobs::default()
    })
    .await;
    let c = Arc::new(client_for(&server.url(), "team", "job", None).with_conflict_attempts(100));
    let writers: Vec<_> = (0..20)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.set(&format!("key{i}"), json!(i).into()).await })
        })
        .collect();
    for w in writers {
        w.await.unwrap().unwrap();
    }
    let stored = server.stored("team", "job");
    assert_eq!(stored.as_object().unwrap().len(), 20, "{stored}");
}

#[tokio::test]
async fn stale_version_is_a_conflict_and_changes_nothing() {
    let server = TestServer::start(Knobs {
        etags: true,
        ..Knobs::default()
    })
    .await;
    let c = client_for(&server.url(), "team", "job", None);
    c.set("a", "1".into()).await.unwrap();
    let before = c.read_versioned().await.unwrap();
    c.set("b", "2".into()).await.unwrap();
    let e = c
        .replace_if_match(&Secrets::new(), before.etag.as_ref().unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(e.status(), Some(412));
    assert_eq!(server.stored("team", "job"), json!({"a": "1", "b": "2"}));
}

#[tokio::test]
async fn reads_retry_through_server_failures() {
    let server = TestServer::start(Knobs::default()).await;
    server.fail_next_reads(2);
    let c = client_for(&server.url(), "team", "job", None);
    assert!(c.read_all().await.is_ok());
    assert_eq!(server.seen().len(), 3);

    server.fail_next_reads(5);
    let e = c.read_all().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(
        e.report().why,
        "Storage down: injected failure; Nothing changed."
    );
}

#[tokio::test]
async fn missing_token_is_unauthorized_and_other_team_forbidden() {
    let knobs = Knobs {
        token: Some(("good-token".into(), "team".into())),
        ..Knobs::default()
    };
    let server = TestServer::start(knobs).await;

    let e = client_for(&server.url(), "team", "job", None)
        .read_all()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    let e = client_for(&server.url(), "team", "job", Some("bad"))
        .set("k", "v".into())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    let e = client_for(&server.url(), "other", "job", Some("good-token"))
        .read_all()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    client_for(&server.url(), "team", "job", Some("good-token"))
        .read_all()
        .await
        .unwrap();
}

#[tokio::test]
async fn server_size_limit_is_reported_as_too_large() {
    let server = TestServer::start(Knobs {
        max_body: Some(64),
        ..Knobs::default()
    })
    .await;
    let c = client_for(&server.url(), "team", "job", None);
    c.set("small", "x".into()).await.unwrap();
    let e = c.set("big", "y".repeat(100).into()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    assert!(!e.to_string().contains(&"y".repeat(100)));
    assert_eq!(server.stored("team", "job"), json!({"small": "x"}));
}

#[tokio::test]
async fn client_limit_stops_an_oversized_set_before_the_wire() {
    let server = TestServer::start(Knobs::default()).await;
    let c =
        client_for(&server.url(), "team", "job", None).with_limits(Limits { max_set_bytes: 32 });
    let e = c.set("big", "y".repeat(100).into()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        server.seen().iter().filter(|(m, _, _)| m == "PUT").count(),
        0
    );
}

#[tokio::test]
async fn unreachable_server_is_unavailable_with_a_clear_message() {
    let url = format!("http://{}", closed_port());
    let c = client_for(&url, "team", "job", Some("tok-secret"));
    let e = c.read_all().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let shown = e.to_string();
    assert!(shown.contains(&url), "{shown}");
    assert!(!shown.contains("tok-secret"));
    let e = c.set("k", "the-value".into()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(!e.to_string().contains("the-value"));
}

#[tokio::test]
async fn cached_reads_skip_the_server_until_a_write() {
    let server = TestServer::start(Knobs::default()).await;
    let c = client_for(&server.url(), "team", "job", None).with_cache(true);
    c.read_all().await.unwrap();
    c.get("x").await.unwrap();
    assert_eq!(server.seen().len(), 1);
    c.set("x", "1".into()).await.unwrap();
    assert!(c.get("x").await.unwrap().is_some());
}
