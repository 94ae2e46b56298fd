//! Every failure of a request becomes one [`ApiError`], answered in one place in upstream's
//! error body shape: `what`, `why`, `consequences`, `countermeasures`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use vdk_secrets::{Error, ErrorKind, Problem};

use crate::store::StoreError;

/// An error answer: status plus the four fields of upstream's error body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Boxed so that `Result<_, ApiError>` stays small on the happy path.
    pub detail: Box<Detail>,
}

/// The text of an error answer.
#[derive(Debug)]
pub struct Detail {
    pub what: String,
    pub why: String,
    pub consequences: String,
    pub countermeasures: String,
    pub problems: Vec<Problem>,
}

#[derive(Serialize)]
struct Body<'a> {
    what: &'a str,
    why: &'a str,
    consequences: &'a str,
    countermeasures: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<ProblemBody<'a>>,
}

#[derive(Serialize)]
struct ProblemBody<'a> {
    key: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        what: impl Into<String>,
        why: impl Into<String>,
        consequences: impl Into<String>,
        countermeasures: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            detail: Box::new(Detail {
                what: what.into(),
                why: why.into(),
                consequences: consequences.into(),
                countermeasures: countermeasures.into(),
                problems: Vec::new(),
            }),
        }
    }

    pub fn unauthorized(why: &str) -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Authentication is required",
            why,
            "Nothing was read or changed.",
            "Send `Authorization: Bearer <token>` with a token listed in the server's tokens file.",
        )
    }

    pub fn forbidden(team: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            format!("The token may not access team `{team}`"),
            "the tokens file does not grant this token that team",
            "Nothing was read or changed.",
            "Use a token of this team, or ask the server's operators to grant it.",
        )
    }

    /// A core validation error, as 400 (or 413 for size) with its problem list.
    pub fn invalid(error: Error) -> Self {
        let report = error.report();
        let mut answer = ApiError::new(
            StatusCode::BAD_REQUEST,
            report.what.clone(),
            report.why.clone(),
            "Nothing was changed.",
            "Correct the names or values listed and send the request again.",
        );
        answer.detail.problems = report.problems.clone();
        answer
    }

    pub fn too_large(size: usize, limit: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The secrets are too large",
            format!("the set is {size} bytes as JSON and the limit is {limit} bytes"),
            "The secrets stored before are unchanged.",
            "Remove or shorten secrets until the set fits.",
        )
    }

    /// A body cut off at `cap` bytes, more than any set within `limit` takes even with
    /// generous whitespace; its real size is unknown.
    pub fn body_too_large(cap: usize, limit: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The secrets are too large",
            format!(
                "the body is over {cap} bytes, more than any set within the limit of {limit} \
                 bytes as compact JSON"
            ),
            "The secrets stored before are unchanged.",
            "Remove or shorten secrets until the set fits.",
        )
    }

    /// A dev server (no authentication) asked for a host name that is not a loopback name: a
    /// page on another site may have had its name point at this server (DNS rebinding).
    pub fn misdirected() -> Self {
        ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "This server does not answer that host name",
            "a dev server, which has no authentication, answers only loopback host names \
             (localhost, 127.x.y.z, [::1]) and its own listen address; others could be a web \
             page's name pointed at this server",
            "Nothing was read or changed.",
            "Use http://localhost:<port> or http://127.0.0.1:<port>. To serve other host names, \
             start the server with --tokens-file instead of --dev.",
        )
    }

    /// A method the resource does not have; `allow` lists those it has.
    pub fn method_not_allowed(allow: &str) -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "The method is not allowed here",
            format!("this resource answers only {allow}"),
            "Nothing was read or changed.",
            format!("Use one of {allow}."),
        )
    }

    pub fn not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "No such resource",
            "the path is not part of the Data Job Secrets API",
            "Nothing was read or changed.",
            "Use /data-jobs/for-team/{team}/jobs/{job}/deployments/{id}/secrets.",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "The secrets changed since they were read",
                "the If-Match version is not the stored version",
                "Nothing was changed.",
                "Read the secrets again, reapply the change and send it with the new ETag.",
            ),
            StoreError::NotConfigured => ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                "No secrets storage is configured",
                "the server runs with backend `none`",
                "Secrets can be neither read nor saved.",
                "Start the server with --backend embedded or --backend vault.",
            ),
            StoreError::Unavailable(why) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The secrets storage is unavailable",
                why,
                "Nothing was changed.",
                "Try again later; operators should check the storage backend (Vault) health.",
            ),
            StoreError::Unknown(why) => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "The secrets may or may not have been saved",
                why,
                "Whether the change was stored is unknown.",
                "Read the secrets to see whether the change arrived before trying again.",
            ),
            StoreError::Refused(why) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "The secrets storage cannot hold this job",
                why,
                "Nothing was changed.",
                "Use another team or job name.",
            ),
            StoreError::Corrupt(why) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The stored secrets cannot be read",
                why,
                "The stored set is kept as it is; nothing was changed.",
                "Operators should check the data directory and the key file.",
            ),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e.kind() {
            ErrorKind::InvalidInput => ApiError::invalid(e),
            _ => {
                let r = e.report();
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    r.what.clone(),
                    r.why.clone(),
                    "Nothing was changed.",
                    r.countermeasures.clone(),
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let d = &self.detail;
        let body = Body {
            what: &d.what,
            why: &d.why,
            consequences: &d.consequences,
            countermeasures: &d.countermeasures,
            problems: d
                .problems
                .iter()
                .map(|p| ProblemBody {
                    key: &p.key,
                    message: &p.message,
                })
                .collect(),
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        // Errors, like secrets, must not linger in caches.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

/// At most `max` characters of `text`, with `…` where it was cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}
