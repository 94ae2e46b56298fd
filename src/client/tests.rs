//! Unit tests of the client's logic over an in-memory transport. The same behaviour is proven
//! against a real HTTP server in `tests/native_client.rs`.

use super::*;
use crate::api::Endpoint;
use crate::error::ErrorKind;
use crate::http::Method;
use crate::job::JobRef;
use serde_json::json;
use std::collections::VecDeque;

/// A scripted server: answers from a queue when one is given, otherwise behaves like the
/// Secrets API with versions, and records every request and every sleep.
#[derive(Default)]
struct Fake {
    state: Mutex<FakeState>,
}

#[derive(Default)]
struct FakeState {
    set: serde_json::Map<String, Value>,
    version: u64,
    etags: bool,
    scripted: VecDeque<Result<HttpResponse, TransportError>>,
    /// Writes by "someone else" that land right after each of the next reads.
    interleaved_writes: u32,
    requests: Vec<HttpRequest>,
    sleeps: Vec<Duration>,
    /// Keep every version written and answer the history endpoints; otherwise answer them
    /// 404 as upstream does.
    history: bool,
    versions: Vec<(u64, serde_json::Map<String, Value>)>,
}

impl Fake {
    fn with_etags() -> Self {
        let fake = Fake::default();
        fake.state.lock().unwrap().etags = true;
        fake
    }

    fn with_history() -> Self {
        let fake = Fake::with_etags();
        fake.state.lock().unwrap().history = true;
        fake
    }

    fn seed(self, set: Value) -> Self {
        self.state.lock().unwrap().set = set.as_object().unwrap().clone();
        self
    }

    fn script(&self, response: Result<HttpResponse, TransportError>) {
        self.state.lock().unwrap().scripted.push_back(response);
    }

    fn stored(&self) -> Value {
        Value::Object(self.state.lock().unwrap().set.clone())
    }

    fn methods(&self) -> Vec<Method> {
        let state = self.state.lock().unwrap();
        state.requests.iter().map(|r| r.method).collect()
    }
}

impl Transport for &Fake {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut s = self.state.lock().unwrap();
        s.requests.push(request.clone());
        if let Some(scripted) = s.scripted.pop_front() {
            return scripted;
        }
        let etag = format!("\"{}\"", s.version);
        if let Some((_, path)) = request.url.split_once("/secrets/versions") {
            return Ok(s.history(request.method, path, request.header("if-match"), &etag));
        }
        match request.method {
            Method::Get => {
                let body = Value::Object(s.set.clone()).to_string();
                let mut response = HttpResponse::new(200, body);
                if s.etags {
                    response = response.with_header("ETag", etag);
                }
                if s.interleaved_writes > 0 {
                    s.interleaved_writes -= 1;
                    s.version += 1;
                    let n = s.version;
                    s.set.insert(format!("other{n}"), json!(n));
                }
                Ok(response)
            }
            Method::Put => {
                if s.etags {
                    if let Some(if_match) = request.header("if-match") {
                        if if_match != etag {
                            return Ok(HttpResponse::new(412, ""));
                        }
                    }
                }
                let body: Value = serde_json::from_slice(request.body.as_ref().unwrap()).unwrap();
                s.set = body.as_object().unwrap().clone();
                s.version += 1;
                let written = (s.version, s.set.clone());
                s.versions.push(written);
                Ok(HttpResponse::new(202, ""))
            }
            Method::Post => Ok(HttpResponse::new(405, "")),
        }
    }

    async fn sleep(&self, duration: Duration) {
        self.state.lock().unwrap().sleeps.push(duration);
    }
}

impl FakeState {
    /// The history endpoints: `path` is what follows `/secrets/versions`.
    fn history(
        &mut self,
        method: Method,
        path: &str,
        if_match: Option<&str>,
        etag: &str,
    ) -> HttpResponse {
        if !self.history {
            let body = json!({"what": "Not found", "why": "no such path"});
            return HttpResponse::new(404, body.to_string());
        }
        let kept: Vec<u64> = self.versions.iter().map(|(n, _)| *n).collect();
        let missing = |n: &str| {
            let body = json!({"what": "No such version", "why": format!("{n} is not kept"),
                              "versions": kept});
            HttpResponse::new(404, body.to_string())
        };
        let find = |n: &str| self.versions.iter().find(|(v, _)| v.to_string() == n);
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            (Method::Get, [""]) => {
                let versions: Vec<Value> = self
                    .versions
                    .iter()
                    .rev()
                    .map(|(n, set)| {
                        json!({"version": n, "time": "2026-01-01T00:00:00Z",
                               "author": null, "added": set.keys().collect::<Vec<_>>()})
                    })
                    .collect();
                let body = json!({"current": self.version, "versions": versions});
                HttpResponse::new(200, body.to_string())
            }
            (Method::Get, &[n]) => match find(n) {
                Some((_, set)) => HttpResponse::new(200, Value::Object(set.clone()).to_string()),
                None => missing(n),
            },
            (Method::Post, &[n, "restore"]) => {
                let Some((old, set)) = find(n).cloned() else {
                    return missing(n);
                };
                if if_match != Some(etag) {
                    return HttpResponse::new(412, "");
                }
                self.version += 1;
                self.set = set;
                let written = (self.version, self.set.clone());
                self.versions.push(written);
                assert_ne!(old, self.version);
                HttpResponse::new(204, "").with_header("ETag", format!("\"{}\"", self.version))
            }
            _ => HttpResponse::new(405, ""),
        }
    }
}

fn client(fake: &Fake) -> SecretsClient<&Fake> {
    let endpoint = Endpoint::new("http://h", JobRef::new("t", "j").unwrap(), None).unwrap();
    SecretsClient::new(fake, endpoint)
}

/// Runs a future to completion. The fake transport never waits, so polling suffices and the
/// tests need no runtime (they also build for wasm32).
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

#[test]
fn get_returns_the_value_or_none_and_get_or_the_default() {
    let fake = Fake::default().seed(json!({"a": {"x": 1}}));
    let c = client(&fake);
    block_on(async {
        assert_eq!(
            c.get("a").await.unwrap().unwrap().expose(),
            &json!({"x": 1})
        );
        assert!(c.get("b").await.unwrap().is_none());
        let d = c.get_or("b", SecretValue::string("dflt")).await.unwrap();
        assert_eq!(d.expose(), &json!("dflt"));
    });
}

#[test]
fn get_rejects_an_invalid_name_without_a_request() {
    let fake = Fake::default();
    let e = block_on(client(&fake).get("a b")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(fake.methods().is_empty());
}

#[test]
fn set_merges_into_the_existing_set_with_if_match() {
    let fake = Fake::with_etags().seed(json!({"keep": 1}));
    block_on(client(&fake).set("new", "v".into())).unwrap();
    assert_eq!(fake.stored(), json!({"keep": 1, "new": "v"}));
    let s = fake.state.lock().unwrap();
    assert_eq!(s.requests[1].header("if-match"), Some("\"0\""));
}

#[test]
fn set_redoes_the_merge_after_a_conflict() {
    let fake = Fake::with_etags().seed(json!({"keep": 1}));
    fake.state.lock().unwrap().interleaved_writes = 2;
    block_on(client(&fake).set("mine", "v".into())).unwrap();
    assert_eq!(
        fake.stored(),
        json!({"keep": 1, "other1": 1, "other2": 2, "mine": "v"})
    );
    assert_eq!(
        fake.methods(),
        [
            Method::Get,
            Method::Put,
            Method::Get,
            Method::Put,
            Method::Get,
            Method::Put
        ]
    );
}

#[test]
fn set_gives_up_after_the_configured_conflict_attempts() {
    let fake = Fake::with_etags().seed(json!({}));
    fake.state.lock().unwrap().interleaved_writes = 100;
    let e = block_on(client(&fake).with_conflict_attempts(3).set("k", "v".into())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("3 times"), "{e}");
    assert_eq!(fake.methods().len(), 6);
    assert!(!fake.stored().as_object().unwrap().contains_key("k"));
}

#[test]
fn set_works_against_a_server_without_etags() {
    let fake = Fake::default().seed(json!({"a": 1}));
    block_on(client(&fake).set("b", json!([1, 2]).into())).unwrap();
    assert_eq!(fake.stored(), json!({"a": 1, "b": [1, 2]}));
    assert_eq!(
        fake.state.lock().unwrap().requests[1].header("if-match"),
        None
    );
}

#[test]
fn set_string_keeps_the_existing_type_when_it_converts() {
    let fake =
        Fake::default().seed(json!({"n": 1, "b": false, "l": [], "o": {}, "z": null, "s": "x"}));
    let c = client(&fake);
    block_on(async {
        c.set("n", " 42.5 ".into()).await.unwrap();
        c.set("b", "TRUE".into()).await.unwrap();
        c.set("l", "[1, \"a\"]".into()).await.unwrap();
        c.set("o", "{\"k\": 2}".into()).await.unwrap();
        c.set("z", "text".into()).await.unwrap();
        c.set("s", "7".into()).await.unwrap();
        // Text that is no number is refused for a number; a non-string replaces any type.
        c.set("n", json!("now a string").into()).await.unwrap_err();
        c.set("b", json!(3).into()).await.unwrap();
    });
    assert_eq!(
        fake.stored(),
        json!({"n": 42.5, "b": 3, "l": [1, "a"], "o": {"k": 2}, "z": "text", "s": "7"})
    );
}

#[test]
fn set_string_that_does_not_convert_is_a_clear_error_and_changes_nothing() {
    let fake = Fake::default().seed(json!({"n": 1, "l": [1], "b": true}));
    let c = client(&fake);
    for (name, text, expected) in [
        ("n", "abc", "number"),
        ("l", "{}", "list"),
        ("b", "yes", "boolean"),
    ] {
        let e = block_on(c.set(name, text.into())).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(e.problems()[0].key, name);
        assert!(
            e.to_string().contains(&format!("holds a {expected}")),
            "{e}"
        );
    }
    assert_eq!(fake.stored(), json!({"n": 1, "l": [1], "b": true}));
    assert!(!fake.methods().contains(&Method::Put));
}

#[test]
fn delete_removes_the_named_secrets_in_one_write() {
    let fake = Fake::with_etags().seed(json!({"a": 1, "b": 2, "c": 3}));
    block_on(client(&fake).delete(&["a", "c"])).unwrap();
    assert_eq!(fake.stored(), json!({"b": 2}));
    assert_eq!(fake.methods(), [Method::Get, Method::Put]);
}

#[test]
fn delete_of_a_missing_secret_names_it_and_deletes_nothing() {
    let fake = Fake::with_etags().seed(json!({"a": 1, "b": 2}));
    let e = block_on(client(&fake).delete(&["a", "nope"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.problems().len(), 1);
    assert_eq!(e.problems()[0].key, "nope");
    assert!(e.to_string().contains("nothing was deleted"));
    assert_eq!(fake.stored(), json!({"a": 1, "b": 2}));
}

#[test]
fn delete_all_and_overwrite_replace_the_whole_set() {
    let fake = Fake::default().seed(json!({"a": 1}));
    let c = client(&fake);
    block_on(c.overwrite_from_json(r#"{"x": "1", "y": [2]}"#)).unwrap();
    assert_eq!(fake.stored(), json!({"x": "1", "y": [2]}));
    block_on(c.delete_all()).unwrap();
    assert_eq!(fake.stored(), json!({}));
}

#[test]
fn overwrite_with_a_bad_document_sends_nothing() {
    let fake = Fake::default().seed(json!({"a": 1}));
    let c = client(&fake);
    for doc in ["[1]", "{\"a\": 1, \"a\": 2}", "{\"bad name\": 1}", "{"] {
        let e = block_on(c.overwrite_from_json(doc)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{doc}");
    }
    assert!(fake.methods().is_empty());
    assert_eq!(fake.stored(), json!({"a": 1}));
}

#[test]
fn reads_retry_on_5xx_and_transport_errors_with_growing_backoff() {
    let fake = Fake::default().seed(json!({"a": 1}));
    fake.script(Ok(HttpResponse::new(503, "")));
    fake.script(Err(TransportError::not_sent("connection refused")));
    let all = block_on(client(&fake).read_all()).unwrap();
    assert_eq!(all.len(), 1);
    let s = fake.state.lock().unwrap();
    assert_eq!(s.requests.len(), 3);
    assert_eq!(
        s.sleeps,
        [Duration::from_millis(200), Duration::from_millis(400)]
    );
}

#[test]
fn reads_give_up_after_the_policy_attempts() {
    let fake = Fake::default();
    for _ in 0..5 {
        fake.script(Ok(HttpResponse::new(502, "")));
    }
    let retry = RetryPolicy {
        attempts: 4,
        ..RetryPolicy::default()
    };
    let e = block_on(client(&fake).with_retry(retry).read_all()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(fake.methods().len(), 4);
}

#[test]
fn reads_do_not_retry_errors_a_retry_cannot_fix() {
    for status in [401, 403, 404, 501] {
        let fake = Fake::default();
        fake.script(Ok(HttpResponse::new(status, "")));
        block_on(client(&fake).read_all()).unwrap_err();
        assert_eq!(fake.methods().len(), 1, "{status}");
    }
}

#[test]
fn reads_refused_by_the_host_policy_are_not_retried() {
    let fake = Fake::default().seed(json!({"a": 1}));
    fake.script(Err(TransportError::refused("the host denied the request")));
    let e = block_on(client(&fake).read_all()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.to_string().contains("the host denied the request"), "{e}");
    assert_eq!(fake.methods().len(), 1);
    assert!(fake.state.lock().unwrap().sleeps.is_empty());
}

#[test]
fn writes_are_never_retried() {
    let fake = Fake::default();
    fake.script(Ok(HttpResponse::new(503, "")));
    let e = block_on(client(&fake).replace_all(&Secrets::new())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(fake.methods(), [Method::Put]);

    fake.script(Err(TransportError::maybe_sent("connection reset")));
    let e = block_on(client(&fake).replace_all(&Secrets::new())).unwrap_err();
    assert!(
        e.to_string().contains("may or may not have been saved"),
        "{e}"
    );
    assert_eq!(fake.methods(), [Method::Put, Method::Put]);
}

#[test]
fn cache_answers_reads_until_a_write() {
    let fake = Fake::default().seed(json!({"a": 1}));
    let c = client(&fake).with_cache(true);
    block_on(async {
        c.read_all().await.unwrap();
        c.get("a").await.unwrap();
        assert_eq!(fake.methods(), [Method::Get]);
        c.set("b", "2".into()).await.unwrap();
        let all = c.read_all().await.unwrap();
        assert!(all.contains("b"), "the read after a write is fresh");
    });
    assert_eq!(
        fake.methods(),
        [Method::Get, Method::Get, Method::Put, Method::Get]
    );
}

#[test]
fn without_cache_every_read_goes_to_the_server() {
    let fake = Fake::default();
    let c = client(&fake);
    block_on(async {
        c.read_all().await.unwrap();
        c.read_all().await.unwrap();
    });
    assert_eq!(fake.methods().len(), 2);
}

#[test]
fn backoff_doubles_and_is_capped() {
    let p = RetryPolicy::default();
    assert_eq!(p.backoff(0), Duration::from_millis(200));
    assert_eq!(p.backoff(3), Duration::from_millis(1600));
    assert_eq!(p.backoff(4), Duration::from_secs(2));
    assert_eq!(p.backoff(40), Duration::from_secs(2));
}

// Version history

#[test]
fn versions_lists_the_history_and_read_version_an_old_set() {
    let fake = Fake::with_history();
    let c = client(&fake);
    block_on(async {
        c.replace_all(&Secrets::from_json_document(r#"{"a": 1}"#).unwrap())
            .await
            .unwrap();
        c.set("b", "x".into()).await.unwrap();
        let history = c.versions().await.unwrap();
        assert_eq!(history.current, 2);
        let listed: Vec<u64> = history.versions.iter().map(|v| v.version).collect();
        assert_eq!(listed, [2, 1]);
        assert_eq!(history.versions[0].author, None);
        assert_eq!(history.versions[0].added, ["a", "b"]);
        let old = c.read_version(1).await.unwrap();
        assert_eq!(old.len(), 1);
        assert_eq!(old.get("a").unwrap().expose(), &json!(1));
    });
}

#[test]
fn restore_posts_with_if_match_and_returns_the_new_etag() {
    let fake = Fake::with_history();
    let c = client(&fake).with_cache(true);
    block_on(async {
        c.replace_all(&Secrets::from_json_document(r#"{"a": 1}"#).unwrap())
            .await
            .unwrap();
        c.set("a", "2".into()).await.unwrap();
        let read = c.read_versioned().await.unwrap();
        let etag = c
            .restore_version(1, read.etag.as_ref().unwrap())
            .await
            .unwrap();
        assert_eq!(etag, ETag::new("\"3\""));
        // The restore dropped the cache: this read is fresh.
        assert_eq!(
            c.read_all().await.unwrap().get("a").unwrap().expose(),
            &json!(1)
        );
    });
    assert_eq!(fake.stored(), json!({"a": 1}));
    let s = fake.state.lock().unwrap();
    let post = s
        .requests
        .iter()
        .find(|r| r.method == Method::Post)
        .unwrap();
    assert!(
        post.url.ends_with("/secrets/versions/1/restore"),
        "{}",
        post.url
    );
    assert_eq!(post.header("if-match"), Some("\"2\""));
    assert!(post.body.is_none());
}

#[test]
fn restore_from_a_stale_etag_is_a_conflict_and_writes_nothing() {
    let fake = Fake::with_history();
    let c = client(&fake);
    block_on(async {
        c.set("a", "1".into()).await.unwrap();
        c.set("a", "2".into()).await.unwrap();
        let e = c.restore_version(1, &ETag::new("\"1\"")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert_eq!(e.status(), Some(412));
    });
    assert_eq!(fake.stored(), json!({"a": "2"}));
    assert_eq!(fake.state.lock().unwrap().version, 2);
}

#[test]
fn a_missing_version_is_not_found_and_names_the_kept_ones() {
    let fake = Fake::with_history();
    let c = client(&fake);
    block_on(async {
        c.set("a", "1".into()).await.unwrap();
        c.set("a", "2".into()).await.unwrap();
        for e in [
            c.read_version(9).await.unwrap_err(),
            c.restore_version(9, &ETag::new("\"2\"")).await.unwrap_err(),
        ] {
            assert_eq!(e.kind(), ErrorKind::NotFound);
            assert!(e.report().why.contains("can be read are 1, 2"), "{e}");
        }
    });
    assert_eq!(fake.state.lock().unwrap().version, 2);
}

#[test]
fn history_on_a_server_without_it_is_not_supported_and_not_retried() {
    let fake = Fake::with_etags();
    let c = client(&fake);
    block_on(async {
        for e in [
            c.versions().await.unwrap_err(),
            c.read_version(1).await.unwrap_err(),
            c.restore_version(1, &ETag::new("\"0\"")).await.unwrap_err(),
        ] {
            assert_eq!(e.kind(), ErrorKind::NotSupported);
            assert_eq!(e.status(), Some(404));
        }
    });
    assert_eq!(fake.methods(), [Method::Get, Method::Get, Method::Post]);
}

#[test]
fn history_reads_retry_and_a_malformed_list_is_a_protocol_error() {
    let fake = Fake::with_history();
    fake.script(Ok(HttpResponse::new(503, "")));
    fake.script(Err(TransportError::not_sent("connection refused")));
    let c = client(&fake);
    assert_eq!(block_on(c.versions()).unwrap().current, 0);
    assert_eq!(fake.methods().len(), 3);

    fake.script(Ok(HttpResponse::new(
        200,
        r#"{"current": "7", "versions": [}"#,
    )));
    let e = block_on(c.versions()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert_eq!(fake.methods().len(), 4, "a malformed answer is not retried");

    fake.script(Ok(HttpResponse::new(502, "")));
    assert_eq!(
        block_on(c.read_version(1)).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        fake.methods().len(),
        6,
        "one retry, then the 404 of a kept-nothing history"
    );
}

#[test]
fn restore_is_never_retried_and_a_lost_answer_is_an_unknown_outcome() {
    let fake = Fake::with_history();
    let c = client(&fake);
    fake.script(Ok(HttpResponse::new(503, "")));
    let e = block_on(c.restore_version(1, &ETag::new("\"0\""))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(fake.methods(), [Method::Post]);

    fake.script(Err(TransportError::maybe_sent("connection reset")));
    let e = block_on(c.restore_version(1, &ETag::new("\"0\""))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(
        e.to_string().contains("may or may not have been restored"),
        "{e}"
    );

    fake.script(Err(TransportError::not_sent("connection refused")));
    let e = block_on(c.restore_version(1, &ETag::new("\"0\""))).unwrap_err();
    assert!(e.to_string().contains("could not be restored"), "{e}");
    assert!(e.to_string().contains("nothing was changed"), "{e}");
    assert_eq!(fake.methods(), [Method::Post, Method::Post, Method::Post]);
    assert!(fake.state.lock().unwrap().sleeps.is_empty());
}

#[test]
fn version_zero_is_refused_without_a_request() {
    let fake = Fake::with_history();
    let c = client(&fake);
    let e = block_on(c.read_version(0)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = block_on(c.restore_version(0, &ETag::new("\"0\""))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(fake.methods().is_empty());
}

#[test]
fn server_limits_reads_health_without_the_token_and_retries_like_a_read() {
    let fake = Fake::default();
    fake.script(Ok(HttpResponse::new(502, "")));
    fake.script(Ok(HttpResponse::new(
        200,
        r#"{"status":"ok","maxSetBytes":2048}"#,
    )));
    let endpoint = Endpoint::new(
        "http://h/base/",
        JobRef::new("t", "j").unwrap(),
        Some(crate::api::Token::new("tok-1").unwrap()),
    )
    .unwrap();
    let c = SecretsClient::new(&fake, endpoint);
    let limits = block_on(c.server_limits()).unwrap();
    assert_eq!(limits.max_set_bytes, Some(2048));
    assert_eq!(limits.limits().max_set_bytes, 2048);
    let s = fake.state.lock().unwrap();
    assert_eq!(s.requests.len(), 2, "the 502 was retried");
    for request in &s.requests {
        assert_eq!(request.method, Method::Get);
        assert_eq!(request.url, "http://h/base/health");
        assert_eq!(request.header("authorization"), None);
    }
}

#[test]
fn server_limits_is_none_where_the_server_reports_none() {
    for response in [
        HttpResponse::new(404, "Not Found"),
        HttpResponse::new(200, "<html>login</html>"),
        HttpResponse::new(200, r#"{"status":"UP"}"#),
        HttpResponse::new(200, r#"{"maxSetBytes":"big"}"#),
    ] {
        let fake = Fake::default();
        fake.script(Ok(response.clone()));
        let limits = block_on(client(&fake).server_limits()).unwrap();
        assert_eq!(limits.max_set_bytes, None, "{response:?}");
        assert_eq!(limits.limits(), Limits::default());
    }
    let fake = Fake::default();
    fake.script(Ok(HttpResponse::new(401, "")));
    let e = block_on(client(&fake).server_limits()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    assert!(e.to_string().contains("limits of the server"), "{e}");
}
