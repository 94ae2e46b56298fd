//! One log line per API request: method, route template, team, job, status and latency.
//! Never a body, a header value, a token or a secret value.

use std::time::Instant;

use axum::extract::{MatchedPath, RawPathParams, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Middleware that logs each request after it is answered.
pub async fn log_request(params: RawPathParams, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
            .unwrap_or_default()
    };
    let (team, job) = (param("team"), param("job"));
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::warn!(%method, route, team, job, status, latency_ms, "request");
    } else {
        tracing::info!(%method, route, team, job, status, latency_ms, "request");
    }
    response
}
