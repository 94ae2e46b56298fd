//! One log line per answered request: method, route template, team, job, status and latency.
//! Never a body, a header value, a query, a token or a secret value.
//!
//! The middleware is layered around every route and every fallback, and it takes nothing from
//! the request that could be refused, so that a request the API refuses is logged as well.

use std::time::Instant;

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{MatchedPath, RawPathParams, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Put in an answer's extensions by a fallback that serves something, to name what it served
/// in the log's `route` (requests that match no route are logged as `(none)`).
#[derive(Clone, Copy, Debug)]
pub struct RouteName(pub &'static str);

/// Longest team or job name logged; longer ones (invalid anyway) are cut.
const MAX_NAME_CHARS: usize = 255;

/// Middleware that logs each request after it is answered.
pub async fn log_request(
    params: Result<RawPathParams, RawPathParamsRejection>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    // A parameter that is not UTF-8 once decoded is left out; the route still says which.
    let param = |name: &str| {
        params
            .as_ref()
            .ok()
            .and_then(|params| params.iter().find(|(key, _)| *key == name))
            .map(|(_, value)| crate::error::clip(value, MAX_NAME_CHARS))
            .unwrap_or_default()
    };
    let (team, job) = (param("team"), param("job"));
    let response = next.run(request).await;
    let route = matched.unwrap_or_else(|| {
        let name = response.extensions().get::<RouteName>();
        name.map_or("(none)", |n| n.0).to_string()
    });
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::warn!(%method, route, team, job, status, latency_ms, "request");
    } else {
        tracing::info!(%method, route, team, job, status, latency_ms, "request");
    }
    response
}
