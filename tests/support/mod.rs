//! A small Secrets API server on 127.0.0.1 for the native client's tests: the API's contract
//! (GET/PUT, ETag, If-Match, 401/403/413) in memory, plus knobs to inject failures.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

/// What the server does beyond the plain contract.
#[derive(Clone, Default)]
pub struct Knobs {
    /// Send `ETag` and honour `If-Match`.
    pub etags: bool,
    /// When set, requests need `Authorization: Bearer <token>`, and only team `team` is allowed.
    pub token: Option<(String, String)>,
    /// Answer this many reads with 503 before serving them.
    pub failing_reads: u32,
    /// The server's own size limit, in bytes of the request body.
    pub max_body: Option<usize>,
}

#[derive(Default)]
struct Store {
    jobs: HashMap<(String, String), (u64, Map<String, Value>)>,
    knobs: Knobs,
    /// Every request seen: method, path (decoded team and job).
    pub seen: Vec<(String, String, String)>,
}

/// A running test server; stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    store: Arc<Mutex<Store>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start(knobs: Knobs) -> TestServer {
        let store = Arc::new(Mutex::new(Store {
            knobs,
            ..Store::default()
        }));
        let app = Router::new()
            .route(
                "/data-jobs/for-team/{team}/jobs/{job}/deployments/{deployment}/secrets",
                get(read).put(replace),
            )
            .with_state(store.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestServer { addr, store, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The stored set of `team`/`job`, `{}` if none.
    pub fn stored(&self, team: &str, job: &str) -> Value {
        let store = self.store.lock().unwrap();
        let set = store
            .jobs
            .get(&(team.to_string(), job.to_string()))
            .map(|(_, set)| set.clone())
            .unwrap_or_default();
        Value::Object(set)
    }

    /// Every request seen so far: (method, team, job).
    pub fn seen(&self) -> Vec<(String, String, String)> {
        self.store.lock().unwrap().seen.clone()
    }

    pub fn fail_next_reads(&self, n: u32) {
        self.store.lock().unwrap().knobs.failing_reads = n;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Shared = State<Arc<Mutex<Store>>>;

fn error(status: StatusCode, what: &str, why: &str) -> Response {
    let body = json!({"what": what, "why": why, "consequences": "Nothing changed.",
                      "countermeasures": "Fix the request."});
    (status, axum::Json(body)).into_response()
}

/// The refusal to send, if the request may not proceed.
fn denial(store: &Store, team: &str, headers: &HeaderMap) -> Option<Response> {
    let (token, allowed_team) = store.knobs.token.as_ref()?;
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if sent != Some(token.as_str()) {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "Not authenticated",
            "no valid token",
        ));
    }
    if team != allowed_team {
        return Some(error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "token is for another team",
        ));
    }
    None
}

async fn read(
    State(store): Shared,
    Path((team, job, _deployment)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut store = store.lock().unwrap();
    store.seen.push(("GET".into(), team.clone(), job.clone()));
    if let Some(denied) = denial(&store, &team, &headers) {
        return denied;
    }
    if store.knobs.failing_reads > 0 {
        store.knobs.failing_reads -= 1;
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Storage down",
            "injected failure",
        );
    }
    let etags = store.knobs.etags;
    let (version, set) = store.jobs.entry((team, job)).or_default().clone();
    let mut response = axum::Json(Value::Object(set)).into_response();
    if etags {
        let etag = format!("\"{version}\"").parse().unwrap();
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

async fn replace(
    State(store): Shared,
    Path((team, job, _deployment)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut store = store.lock().unwrap();
    store.seen.push(("PUT".into(), team.clone(), job.clone()));
    if let Some(denied) = denial(&store, &team, &headers) {
        return denied;
    }
    if store.knobs.max_body.is_some_and(|max| body.len() > max) {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Secrets too large",
            "over the server limit",
        );
    }
    let Ok(Value::Object(set)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid body", "not a JSON object");
    };
    let etags = store.knobs.etags;
    let entry = store.jobs.entry((team, job)).or_default();
    if etags {
        let current = format!("\"{}\"", entry.0);
        let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok());
        if if_match.is_some_and(|m| m != current) {
            return error(StatusCode::PRECONDITION_FAILED, "Conflict", "stale version");
        }
    }
    entry.0 += 1;
    entry.1 = set;
    let mut response = StatusCode::ACCEPTED.into_response();
    if etags {
        let etag = format!("\"{}\"", entry.0).parse().unwrap();
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// An address on 127.0.0.1 where nothing listens.
pub fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}
