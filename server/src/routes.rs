//! The HTTP API. Each handler reads like the API document: check access, check the input
//! with the core's own rules, call the store, answer.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::path::ErrorKind as PathErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};
use serde_json::json;
use vdk_secrets::validate::{self, Limits};
use vdk_secrets::{JobRef, Secrets};

use crate::auth::Access;
use crate::edge::DevHosts;
use crate::error::ApiError;
use crate::store::Store;

/// The path of a job's secrets; the deployment id is accepted and ignored, as upstream does.
pub const SECRETS_ROUTE: &str =
    "/data-jobs/for-team/{team}/jobs/{job}/deployments/{deployment_id}/secrets";

/// What every handler shares.
pub struct AppState {
    pub store: Store,
    pub access: Access,
    pub limits: Limits,
    /// The host names answered in dev mode ([`Access::Open`]); unused with a tokens file.
    pub dev_hosts: DevHosts,
}

type Shared = State<Arc<AppState>>;
type JobPath = Path<(String, String, String)>;

/// The API routes (without UI, CORS and logging, which `app` adds). A method a path does not
/// have gets 405 with `Allow` and a JSON body.
pub fn api(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            SECRETS_ROUTE,
            get(read_secrets)
                .put(replace_secrets)
                .fallback(async || ApiError::method_not_allowed("GET, HEAD, PUT")),
        )
        .route(
            "/health",
            get(health).fallback(async || ApiError::method_not_allowed("GET, HEAD")),
        )
        .route(
            "/openapi.json",
            get(openapi).fallback(async || ApiError::method_not_allowed("GET, HEAD")),
        )
        .with_state(state)
}

async fn read_secrets(
    State(app): Shared,
    path: Result<JobPath, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (team, job, deployment) = job_path(path)?;
    app.access.check(&headers, &team)?;
    let job = job_ref(team, job, deployment)?;
    let stored = app.store.read(&job).await?;
    let mut response = (
        [(header::CONTENT_TYPE, "application/json")],
        stored.json.clone(),
    )
        .into_response();
    set_version_headers(&mut response, stored.version);
    Ok(response)
}

async fn replace_secrets(
    State(app): Shared,
    path: Result<JobPath, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (team, job, deployment) = job_path(path)?;
    app.access.check(&headers, &team)?;
    let job = job_ref(team, job, deployment)?;
    let secrets = read_set(body, &app.limits).await?;
    let expected = match headers.get(header::IF_MATCH) {
        None => None,
        Some(value) => match parse_if_match(value) {
            IfMatch::Any => None,
            IfMatch::Version(v) => Some(v),
            // A tag this server never issued cannot match the current version.
            IfMatch::Unknown => return Err(crate::store::StoreError::Conflict.into()),
        },
    };
    let version = app.store.write(&job, &secrets, expected).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_version_headers(&mut response, version);
    Ok(response)
}

/// Team, job and deployment id from the path; a path that does not decode is a 400 in the
/// API's error shape.
fn job_path(path: Result<JobPath, PathRejection>) -> Result<(String, String, String), ApiError> {
    let Path(segments) = path.map_err(path_error)?;
    Ok(segments)
}

/// A path whose team, job or deployment id does not decode: 400 in the API's error shape.
fn path_error(rejection: PathRejection) -> ApiError {
    let why = match &rejection {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            PathErrorKind::InvalidUtf8InPathParam { key } => {
                format!("the {key} in the path is not UTF-8 once percent-decoded")
            }
            _ => "the team, job and deployment id in the path cannot be read".to_string(),
        },
        _ => "the team, job and deployment id in the path cannot be read".to_string(),
    };
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "The path is not valid",
        why,
        "Nothing was read or changed.",
        "Percent-encode team, job and deployment id as UTF-8.",
    )
}

/// The checked job: the core's rules for team, job and deployment id, every problem at once.
fn job_ref(team: String, job: String, deployment: String) -> Result<JobRef, ApiError> {
    let deployment_problem = validate::deployment(&deployment).err();
    match (JobRef::new(team, job), deployment_problem) {
        (Ok(job), None) => Ok(job.with_deployment(deployment).map_err(ApiError::invalid)?),
        (Ok(_), Some(e)) => Err(ApiError::invalid(e)),
        (Err(e), None) => Err(ApiError::invalid(e)),
        (Err(e), Some(d)) => {
            let problems = [e.problems(), d.problems()].concat();
            Err(ApiError::invalid(vdk_secrets::Error::invalid(
                "The job reference",
                problems,
            )))
        }
    }
}

/// Reads and checks a PUT body: 413 when it is too large, 400 for anything else wrong.
async fn read_set(body: Body, limits: &Limits) -> Result<Secrets, ApiError> {
    // Whitespace and escapes may make a legal set's body larger than its compact form, so the
    // raw cap is generous; the exact limit is checked on the parsed set.
    let raw_cap = limits
        .max_set_bytes
        .saturating_mul(4)
        .saturating_add(64 * 1024);
    let bytes = to_bytes(body, raw_cap).await.map_err(|e| {
        let error: &(dyn std::error::Error + 'static) = &e;
        let over_cap = std::iter::successors(Some(error), |e| e.source())
            .any(|e| e.is::<http_body_util::LengthLimitError>());
        if over_cap {
            ApiError::body_too_large(raw_cap, limits.max_set_bytes)
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "The secrets could not be received",
                format!("reading the request body failed: {e}"),
                "Nothing was changed.",
                "Send the whole set again.",
            )
        }
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "The secrets are not valid",
            "the body is not UTF-8 text",
            "Nothing was changed.",
            "Send the set as a UTF-8 JSON object.",
        )
    })?;
    let secrets = Secrets::from_json_document(text).map_err(ApiError::invalid)?;
    let size = validate::json_size(&secrets);
    if size > limits.max_set_bytes {
        return Err(ApiError::too_large(size, limits.max_set_bytes));
    }
    validate::secrets(&secrets, limits).map_err(ApiError::invalid)?;
    Ok(secrets)
}

enum IfMatch {
    Any,
    Version(u64),
    Unknown,
}

fn parse_if_match(value: &HeaderValue) -> IfMatch {
    let Ok(text) = value.to_str() else {
        return IfMatch::Unknown;
    };
    let text = text.trim();
    // An empty If-Match states no condition; treat it as absent.
    if text == "*" || text.is_empty() {
        return IfMatch::Any;
    }
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse().ok())
        .map_or(IfMatch::Unknown, IfMatch::Version)
}

fn set_version_headers(response: &mut Response, version: u64) {
    let headers = response.headers_mut();
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header"),
    );
    // Secret values must not linger in browser or proxy caches.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Whether the backend is reachable, and the set size limit, so that clients such as the
/// Operations UI can check a set against this server's limit before sending it.
async fn health(State(app): Shared) -> Response {
    let backend = app.store.name();
    let max_set_bytes = app.limits.max_set_bytes;
    match app.store.health().await {
        Ok(()) => Json(json!({
            "status": "ok",
            "backend": backend,
            "reachable": true,
            "maxSetBytes": max_set_bytes,
        }))
        .into_response(),
        Err(e) => {
            let why = match e {
                crate::store::StoreError::Unavailable(why)
                | crate::store::StoreError::Corrupt(why)
                | crate::store::StoreError::Unknown(why)
                | crate::store::StoreError::Refused(why) => why,
                other => format!("{other:?}"),
            };
            let body = json!({
                "status": "unavailable",
                "backend": backend,
                "reachable": false,
                "why": why,
                "maxSetBytes": max_set_bytes,
            });
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

/// The OpenAPI document of this API, kept in the repository next to the code.
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// The answer to a path that matches nothing.
pub async fn not_found() -> ApiError {
    ApiError::not_found()
}
