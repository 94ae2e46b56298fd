//! The HTTP API. Each handler reads like the API document: check access, check the input
//! with the core's own rules, call the store, answer.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::path::ErrorKind as PathErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::GetAll;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use vdk_secrets::validate::{self, Limits};
use vdk_secrets::{JobRef, Secrets};

use crate::audit::Audit;
use crate::auth::{Access, Who};
use crate::edge::DevHosts;
use crate::error::ApiError;
use crate::store::{Replaced, Store, StoreError, WriteMeta};

/// The path of a job's secrets; the deployment id is accepted and ignored, as upstream does.
pub const SECRETS_ROUTE: &str =
    "/data-jobs/for-team/{team}/jobs/{job}/deployments/{deployment_id}/secrets";

/// A job's version history.
pub const VERSIONS_ROUTE: &str =
    "/data-jobs/for-team/{team}/jobs/{job}/deployments/{deployment_id}/secrets/versions";
/// One version of a job's set.
pub const VERSION_ROUTE: &str =
    "/data-jobs/for-team/{team}/jobs/{job}/deployments/{deployment_id}/secrets/versions/{version}";
/// Restoring one version of a job's set.
pub const RESTORE_ROUTE: &str = "/data-jobs/for-team/{team}/jobs/{job}/deployments/{deployment_id}/secrets/versions/{version}/restore";

/// What every handler shares.
pub struct AppState {
    pub store: Store,
    pub access: Access,
    pub limits: Limits,
    /// Where a record of each successful write goes.
    pub audit: Audit,
    /// The host names answered in dev mode ([`Access::Open`]); unused with a tokens file.
    pub dev_hosts: DevHosts,
}

impl AppState {
    /// A store failure, with countermeasures for the configured backend.
    fn store_error(&self, e: StoreError) -> ApiError {
        ApiError::store(e, self.store.name())
    }
}

type Shared = State<Arc<AppState>>;

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
            VERSIONS_ROUTE,
            get(list_versions).fallback(async || ApiError::method_not_allowed("GET, HEAD")),
        )
        .route(
            VERSION_ROUTE,
            get(read_version).fallback(async || ApiError::method_not_allowed("GET, HEAD")),
        )
        .route(
            RESTORE_ROUTE,
            post(restore_version).fallback(async || ApiError::method_not_allowed("POST")),
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

/// The job a request is about, once the caller may access its team: team, job and deployment
/// id from the path, checked by the core's rules (every problem at once), and who is asking.
pub struct JobAccess(pub JobRef, pub Who);

/// The path segments every job route has.
#[derive(serde::Deserialize)]
struct JobSegments {
    team: String,
    job: String,
    deployment_id: String,
}

impl FromRequestParts<Arc<AppState>> for JobAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<AppState>) -> Result<Self, ApiError> {
        let Path(segments) = Path::<JobSegments>::from_request_parts(parts, app)
            .await
            .map_err(path_error)?;
        let who = app.access.check(&parts.headers, &segments.team)?;
        let job = job_ref(segments.team, segments.job, segments.deployment_id)?;
        Ok(JobAccess(job, who))
    }
}

/// The version in a history path: a whole number written plainly (no sign, no leading zero).
struct VersionNumber(u64);

impl FromRequestParts<Arc<AppState>> for VersionNumber {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<AppState>) -> Result<Self, ApiError> {
        #[derive(serde::Deserialize)]
        struct Segment {
            version: String,
        }
        let Path(Segment { version }) = Path::<Segment>::from_request_parts(parts, app)
            .await
            .map_err(path_error)?;
        let plain = !version.is_empty()
            && version.bytes().all(|b| b.is_ascii_digit())
            && !version.starts_with('0');
        match version.parse::<u64>() {
            Ok(n) if plain => Ok(VersionNumber(n)),
            _ => Err(ApiError::bad_version(&version)),
        }
    }
}

async fn read_secrets(
    State(app): Shared,
    JobAccess(job, _): JobAccess,
) -> Result<Response, ApiError> {
    let stored = app.store.read(&job).await.map_err(|e| app.store_error(e))?;
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
    JobAccess(job, who): JobAccess,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let if_match = parse_if_match(headers.get_all(header::IF_MATCH))?;
    let secrets = read_set(body, &app.limits).await?;
    let expected = match if_match {
        None | Some(IfMatch::Any) => None,
        Some(IfMatch::Versions(versions)) => Some(listed_version(&app, &job, &versions).await?),
    };
    let meta = WriteMeta {
        author: who.0.clone(),
        restored_from: None,
    };
    let write = {
        let (app, job, who) = (app.clone(), job.clone(), who.clone());
        async move {
            let written = app.store.replace(&job, &secrets, expected, &meta).await?;
            audit_write(&app, &who, &job, &written, &secrets, None).await;
            Ok(written)
        }
    };
    let written = to_the_end(write).await.map_err(|e| app.store_error(e))?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_version_headers(&mut response, written.version);
    Ok(response)
}

/// The version a write may go ahead from, given the versions its If-Match lists: the one
/// listed, or, when several are, the current one if listed (the store's check-and-set then
/// catches a write that lands in between); 412 when none can match.
async fn listed_version(app: &AppState, job: &JobRef, listed: &[u64]) -> Result<u64, ApiError> {
    let conflict = || app.store_error(StoreError::Conflict);
    match listed {
        // Only tags this server never issued: none can be the current version.
        [] => Err(conflict()),
        [version] => Ok(*version),
        several => {
            let current = current_version(app, job).await?;
            if several.contains(&current) {
                Ok(current)
            } else {
                Err(conflict())
            }
        }
    }
}

async fn current_version(app: &AppState, job: &JobRef) -> Result<u64, ApiError> {
    Ok(app
        .store
        .read(job)
        .await
        .map_err(|e| app.store_error(e))?
        .version)
}

/// Runs a write and its audit record in a task of their own and waits for it: a client that
/// goes away mid-write stops waiting, and the write still ends with its record.
async fn to_the_end(
    write: impl Future<Output = Result<Replaced, StoreError>> + Send + 'static,
) -> Result<Replaced, StoreError> {
    tokio::spawn(write).await.unwrap_or_else(|_| {
        Err(StoreError::Unknown(
            "the write stopped before it could tell whether the set was stored".into(),
        ))
    })
}

/// Records a successful write in the audit log: who, which job, the new version, the names it
/// added, changed and removed.
async fn audit_write(
    app: &AppState,
    who: &Who,
    job: &JobRef,
    written: &Replaced,
    secrets: &Secrets,
    restored_from: Option<u64>,
) {
    let names = app.store.changed_names(job, written, secrets).await;
    app.audit.record(
        who.0.as_deref(),
        job,
        written.version,
        &names,
        restored_from,
    );
}

/// The job's versions, newest first, with who wrote each and the names each changed.
async fn list_versions(
    State(app): Shared,
    JobAccess(job, _): JobAccess,
) -> Result<Response, ApiError> {
    let history = app
        .store
        .history(&job)
        .await
        .map_err(|e| app.store_error(e))?;
    let mut response = Json(history).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The whole set as it was at one version.
async fn read_version(
    State(app): Shared,
    JobAccess(job, _): JobAccess,
    VersionNumber(version): VersionNumber,
) -> Result<Response, ApiError> {
    let stored = app
        .store
        .read_version(&job, version)
        .await
        .map_err(|e| app.store_error(e))?;
    let mut response = ([(header::CONTENT_TYPE, "application/json")], stored.json).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Writes an earlier version's set as a new version, if the set is still at the version the
/// caller read (`If-Match`, required).
async fn restore_version(
    State(app): Shared,
    JobAccess(job, who): JobAccess,
    VersionNumber(version): VersionNumber,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let expected = match parse_if_match(headers.get_all(header::IF_MATCH))? {
        None => return Err(ApiError::if_match_required()),
        Some(IfMatch::Any) => current_version(&app, &job).await?,
        Some(IfMatch::Versions(versions)) => listed_version(&app, &job, &versions).await?,
    };
    let write = {
        let (app, job, who) = (app.clone(), job.clone(), who.clone());
        async move {
            let (written, secrets) = app
                .store
                .restore(&job, version, expected, who.0.clone())
                .await?;
            audit_write(&app, &who, &job, &written, &secrets, Some(version)).await;
            Ok(written)
        }
    };
    let written = to_the_end(write).await.map_err(|e| app.store_error(e))?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_version_headers(&mut response, written.version);
    Ok(response)
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
    let raw_cap = crate::listener::body_cap(limits);
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

/// A well-formed `If-Match` (RFC 9110, 13.1.1).
#[derive(Debug, PartialEq, Eq)]
enum IfMatch {
    /// `*`: whatever is stored.
    Any,
    /// The versions named by strong entity-tags this server may have issued (`"<version>"`,
    /// decimal digits without sign or leading zeros). Weak tags never match (If-Match compares
    /// strongly), and neither do other tags; both are left out, so this may be empty.
    Versions(Vec<u64>),
}

/// The `If-Match` of a request, all its field lines making one list: None when absent, 400
/// when empty or not `*` nor a list of entity-tags.
fn parse_if_match(lines: GetAll<'_, HeaderValue>) -> Result<Option<IfMatch>, ApiError> {
    let mut lines = lines.iter().peekable();
    if lines.peek().is_none() {
        return Ok(None);
    }
    let (mut stars, mut tags, mut versions) = (0, 0, Vec::new());
    for line in lines {
        let mut rest = line.as_bytes();
        loop {
            rest = rest.trim_ascii_start();
            match rest.first() {
                None => break,
                // An empty list element, which recipients ignore (RFC 9110, 5.6.1).
                Some(b',') => {
                    rest = &rest[1..];
                    continue;
                }
                Some(b'*') => {
                    stars += 1;
                    rest = &rest[1..];
                }
                Some(_) => {
                    let (version, after) = entity_tag(rest).ok_or_else(ApiError::bad_if_match)?;
                    tags += 1;
                    versions.extend(version);
                    rest = after;
                }
            }
            rest = rest.trim_ascii_start();
            match rest.first() {
                None => break,
                Some(b',') => rest = &rest[1..],
                Some(_) => return Err(ApiError::bad_if_match()),
            }
        }
    }
    versions.sort_unstable();
    versions.dedup();
    match (stars, tags) {
        (1, 0) => Ok(Some(IfMatch::Any)),
        (0, 1..) => Ok(Some(IfMatch::Versions(versions))),
        _ => Err(ApiError::bad_if_match()),
    }
}

/// One entity-tag at the start of `text`: the version it names if this server may have issued
/// it, and the text after it; None when `text` does not start with an entity-tag.
fn entity_tag(text: &[u8]) -> Option<(Option<u64>, &[u8])> {
    let (weak, text) = match text.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let text = text.strip_prefix(b"\"")?;
    let end = text.iter().position(|&b| b == b'"')?;
    let opaque = &text[..end];
    // etagc: %x21 / %x23-7E / obs-text.
    if !opaque
        .iter()
        .all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
    {
        return None;
    }
    let issued = !weak
        && !opaque.is_empty()
        && opaque.iter().all(u8::is_ascii_digit)
        && (opaque == b"0" || opaque[0] != b'0');
    let version = issued
        .then(|| std::str::from_utf8(opaque).ok()?.parse().ok())
        .flatten();
    Some((version, &text[end + 1..]))
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
            // The store's reasons name no file path and no URL; this one is bounded too.
            let why = match e {
                StoreError::Unavailable(why)
                | StoreError::Corrupt(why)
                | StoreError::Unknown(why)
                | StoreError::Refused(why) => crate::error::clip(&why, 1000),
                StoreError::Conflict | StoreError::VersionNotFound(_) => {
                    "the backend reported a conflict".into()
                }
                StoreError::NotConfigured => "no backend is configured".into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&[u8]]) -> Result<Option<IfMatch>, u16> {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(header::IF_MATCH, HeaderValue::from_bytes(line).unwrap());
        }
        parse_if_match(headers.get_all(header::IF_MATCH)).map_err(|e| e.status.as_u16())
    }

    fn versions(v: &[u64]) -> Result<Option<IfMatch>, u16> {
        Ok(Some(IfMatch::Versions(v.to_vec())))
    }

    #[tokio::test]
    async fn a_write_goes_on_when_its_caller_stops_waiting() {
        let (done, finished) = tokio::sync::oneshot::channel();
        let write = async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let _ = done.send(());
            Ok(Replaced {
                version: 1,
                previous: None,
            })
        };
        // The caller (a request handler whose client went away) is dropped mid-write.
        let caller = tokio::time::timeout(std::time::Duration::from_millis(1), to_the_end(write));
        assert!(caller.await.is_err(), "the write was still under way");
        finished
            .await
            .expect("the write, and so its audit record, ran to the end");
    }

    #[test]
    fn if_match_is_star_or_a_list_of_entity_tags() {
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&[b"*"]), Ok(Some(IfMatch::Any)));
        assert_eq!(parse(&[b" * "]), Ok(Some(IfMatch::Any)));
        assert_eq!(parse(&[b"\"3\""]), versions(&[3]));
        assert_eq!(parse(&[b"\"3\", \"4\""]), versions(&[3, 4]));
        assert_eq!(parse(&[b"\"4\",\"3\",\"4\""]), versions(&[3, 4]));
        assert_eq!(parse(&[b"\"3\"", b"\"4\""]), versions(&[3, 4]));
        assert_eq!(parse(&[b", \"3\" ,, \"4\","]), versions(&[3, 4]));
        assert_eq!(parse(&[b"\"3\"\t,\t\"4\""]), versions(&[3, 4]));
        assert_eq!(parse(&[b"\"0\""]), versions(&[0]));
        assert_eq!(parse(&[b"\"18446744073709551615\""]), versions(&[u64::MAX]));
    }

    #[test]
    fn tags_this_server_never_issued_match_nothing() {
        for tag in [
            &b"W/\"3\""[..],
            b"\"+3\"",
            b"\"03\"",
            b"\"-3\"",
            b"\"3.0\"",
            b"\"\"",
            b"\"x\"",
            b"\"18446744073709551616\"",
            b"\"\xc3\xa9\"",
        ] {
            assert_eq!(parse(&[tag]), versions(&[]), "{tag:?}");
        }
        assert_eq!(parse(&[b"W/\"3\", \"4\""]), versions(&[4]));
    }

    #[test]
    fn anything_else_is_400() {
        for bad in [
            &b""[..],
            b" ",
            b",",
            b" , ,",
            b"3",
            b"\"3",
            b"3\"",
            b"\"3\" \"4\"",
            b"\"3\";\"4\"",
            b"\"3\"x",
            b"\"a b\"",
            b"w/\"3\"",
            b"W/3",
            b"W/ \"3\"",
            b"**",
            b"*, *",
            b"*, \"3\"",
            b"garbage",
        ] {
            assert_eq!(
                parse(&[bad]),
                Err(400),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse(&[b"*", b"\"3\""]), Err(400));
        assert_eq!(parse(&[b"", b""]), Err(400));
    }
}
