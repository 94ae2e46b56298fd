//! The Data Job Secrets API without I/O: build each request, interpret each response.
//!
//! ```text
//! GET {base}/data-jobs/for-team/{team}/jobs/{job}/deployments/{id}/secrets -> 200 {..all..}
//! PUT {base}/data-jobs/for-team/{team}/jobs/{job}/deployments/{id}/secrets <- {..all..}
//! ```
//!
//! Servers that keep a version history (the reference server does; the upstream Control
//! Service does not) also answer, below the same path:
//!
//! ```text
//! GET  …/secrets/versions             -> 200 {"current": 7, "versions": [{..}, ..]} (newest first)
//! GET  …/secrets/versions/{n}         -> 200 {..all, as at version n..}
//! POST …/secrets/versions/{n}/restore    If-Match: "<current>" -> 204, ETag: "<new version>"
//! ```
//!
//! A version that does not exist is a 404 whose body lists the versions that do (`versions`);
//! a 404, 405 or 501 without that list means the server keeps no history.
//!
//! A transport sends the [`HttpRequest`] and hands back the [`HttpResponse`]; everything the
//! API means lives here, so every runtime behaves the same and this module is tested without
//! sockets.

use std::fmt;

use crate::error::{Error, ErrorKind, Problem, Report};
use crate::http::{HttpRequest, HttpResponse, Method, encode_path_segment};
use crate::job::JobRef;
use crate::secrets::{Secrets, json};
use crate::text::{concat, decimal, version_words};
use crate::validate::{self, Limits};

/// A bearer token. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token, refusing one that cannot travel in a header.
    pub fn new(token: impl Into<String>) -> Result<Self, Error> {
        let token = token.into();
        let token = token.trim().to_string();
        if token.is_empty() || token.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
            return Err(Error::invalid(
                "The token",
                vec![Problem::new(
                    "token",
                    "is empty or has characters other than visible ASCII; copy it again",
                )],
            ));
        }
        Ok(Token(token))
    }

    /// The token itself, for a transport's `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The version of a job's set as the server labels it; sent back in `If-Match`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ETag(String);

impl ETag {
    /// An entity tag exactly as it appeared in the `ETag` header, quotes included.
    pub fn new(raw: impl Into<String>) -> Self {
        ETag(raw.into())
    }

    /// The header value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A job's set together with the version it was read at, if the server reports versions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Versioned {
    /// Every secret of the job.
    pub secrets: Secrets,
    /// The version, from the `ETag` header; `None` for servers that send none (upstream).
    pub etag: Option<ETag>,
}

/// What a server reports of its limits (`GET {base}/health`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerLimits {
    /// The largest set it accepts, in bytes of compact UTF-8 JSON; `None` when it does not
    /// say (the upstream Control Service, which then applies its default of
    /// [`validate::DEFAULT_MAX_SET_BYTES`]).
    pub max_set_bytes: Option<usize>,
}

impl ServerLimits {
    /// The limits to check sets against: the server's, or the defaults where it says none.
    pub fn limits(&self) -> Limits {
        self.max_set_bytes
            .map_or_else(Limits::default, |max_set_bytes| Limits { max_set_bytes })
    }
}

/// Where a job's secrets live: the API's base URL, the job, and the credentials.
#[derive(Clone, Debug)]
pub struct Endpoint {
    base_url: String,
    job: JobRef,
    token: Option<Token>,
}

impl Endpoint {
    /// The endpoint of `job`'s secrets at `base_url` (e.g. `https://cs.example.com`).
    pub fn new(base_url: &str, job: JobRef, token: Option<Token>) -> Result<Self, Error> {
        let base = base_url.trim().trim_end_matches('/');
        let scheme_ok = base.starts_with("http://") || base.starts_with("https://");
        let host_ok = base
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty());
        if !scheme_ok || !host_ok || base.contains(['?', '#']) || base.contains(char::is_whitespace)
        {
            return Err(Error::invalid(
                "The Control Service URL",
                vec![Problem::new(
                    "base_url",
                    "must be an http:// or https:// URL with a host and no query or fragment, \
                     such as https://control-service.example.com",
                )],
            ));
        }
        Ok(Endpoint {
            base_url: base.to_string(),
            job,
            token,
        })
    }

    /// The job this endpoint serves.
    pub fn job(&self) -> &JobRef {
        &self.job
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The secrets URL of the job, every segment percent-encoded.
    pub fn url(&self) -> String {
        concat(&[
            &*self.base_url,
            "/data-jobs/for-team/",
            &encode_path_segment(self.job.team()),
            "/jobs/",
            &encode_path_segment(self.job.job()),
            "/deployments/",
            &encode_path_segment(self.job.deployment_id()),
            "/secrets",
        ])
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![("accept", "application/json".to_string())];
        if let Some(token) = &self.token {
            headers.push(("authorization", concat(&["Bearer ", token.expose()])));
        }
        headers
    }

    /// `GET` the whole set.
    pub fn read_request(&self) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url: self.url(),
            headers: self.headers(),
            body: None,
        }
    }

    /// `PUT` the whole set, after checking every rule; with `If-Match` when `etag` is known.
    pub fn replace_request(
        &self,
        secrets: &Secrets,
        etag: Option<&ETag>,
        limits: &Limits,
    ) -> Result<HttpRequest, Error> {
        validate::secrets(secrets, limits)?;
        Ok(self.checked_replace_request(secrets.to_json().into_bytes(), etag))
    }

    /// `PUT` a set's JSON text as it is, with `If-Match` when `etag` is known. For text whose
    /// set has passed every rule already, as [`Endpoint::replace_request`] checks them.
    pub(crate) fn checked_replace_request(
        &self,
        body: Vec<u8>,
        etag: Option<&ETag>,
    ) -> HttpRequest {
        let mut headers = self.headers();
        headers.push(("content-type", "application/json".to_string()));
        if let Some(etag) = etag {
            headers.push(("if-match", etag.as_str().to_string()));
        }
        HttpRequest {
            method: Method::Put,
            url: self.url(),
            headers,
            body: Some(body),
        }
    }

    /// The server's health URL (`{base}/health`), which reports its limits.
    pub fn health_url(&self) -> String {
        concat(&[&*self.base_url, "/health"])
    }

    /// `GET` the server's health and limits. Sent without credentials: it is no job's data.
    pub fn health_request(&self) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url: self.health_url(),
            headers: vec![("accept", "application/json".to_string())],
            body: None,
        }
    }

    /// Interprets the answer to [`Endpoint::health_request`]. A body that reports
    /// `maxSetBytes` (a whole number from 1 up) gives it, whatever the status (the reference
    /// server reports its limit while its backend is down too). Without one, a success or a
    /// missing endpoint (404, 405, 501: the upstream Control Service has none) means the
    /// server says no limit; any other status is an error, as for every other request.
    pub fn health_response(&self, response: &HttpResponse) -> Result<ServerLimits, Error> {
        if let Some(max_set_bytes) = reported_max_set_bytes(&response.body) {
            return Ok(ServerLimits {
                max_set_bytes: Some(max_set_bytes),
            });
        }
        match response.status {
            200..=299 | 404 | 405 | 501 => Ok(ServerLimits::default()),
            _ => Err(self.error_response(Operation::ReadLimits, response)),
        }
    }

    /// Interprets the answer to [`Endpoint::read_request`].
    pub fn read_response(&self, response: &HttpResponse) -> Result<Versioned, Error> {
        if response.status != 200 {
            return Err(self.error_response(Operation::Read, response));
        }
        match Secrets::from_server_body(&response.body) {
            Ok(secrets) => Ok(Versioned {
                secrets,
                etag: etag_of(response),
            }),
            Err(why) => Err(self.malformed_body(Operation::Read, 200, &why)),
        }
    }

    /// A protocol error for a success status whose body is not what the API sends.
    fn malformed_body(&self, op: Operation, status: u16, why: &str) -> Error {
        Error::Protocol(
            Report::new(
                self.failed(op),
                concat(&[
                    "the server answered ",
                    &decimal(status.into()),
                    " but ",
                    why,
                ]),
                "Check that the URL points at a VDK Control Service or a vdk-secrets server.",
            )
            .with_status(status),
        )
    }

    /// "<what> could not be <done>", for the reports of `op`.
    fn failed(&self, op: Operation) -> String {
        let job = &*self.job.path();
        match op {
            Operation::Read => concat(&["The secrets of job `", job, "` could not be read"]),
            Operation::Replace => concat(&["The secrets of job `", job, "` could not be saved"]),
            Operation::ListVersions => concat(&[
                "The version history of the secrets of job `",
                job,
                "` could not be read",
            ]),
            Operation::ReadVersion(n) => version_words(
                n,
                &concat(&[" of the secrets of job `", job, "` could not be read"]),
            ),
            Operation::RestoreVersion(n) => version_words(
                n,
                &concat(&[" of the secrets of job `", job, "` could not be restored"]),
            ),
            Operation::ReadLimits => concat(&[
                "The limits of the server at ",
                &self.base_url,
                " could not be read",
            ]),
        }
    }

    /// Interprets the answer to [`Endpoint::replace_request`]; any 2xx is success.
    pub fn replace_response(&self, response: &HttpResponse) -> Result<Option<ETag>, Error> {
        if (200..300).contains(&response.status) {
            Ok(etag_of(response))
        } else {
            Err(self.error_response(Operation::Replace, response))
        }
    }

    /// Turns a non-success response into an error, preferring the server's own explanation.
    pub fn error_response(&self, op: Operation, response: &HttpResponse) -> Error {
        let status = response.status;
        let (kind, why, countermeasures) = default_explanation(status);
        let mut report = Report::new(self.failed(op), why, countermeasures).with_status(status);
        let mut problems = Vec::new();
        if let Some(body) = ServerError::parse(&response.body) {
            problems = body.problems();
            // The server's own words are more specific than ours; keep ours where it is silent.
            let why = [body.what, body.why]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ");
            if !why.is_empty() {
                report.why = why;
            }
            if let Some(consequences) = body.consequences {
                report.why.push_str("; ");
                report.why.push_str(&consequences);
            }
            if let Some(countermeasures) = body.countermeasures {
                report.countermeasures = countermeasures;
            }
        }
        if kind == ErrorKind::InvalidInput {
            if problems.is_empty() {
                problems.push(Problem::new("", report.why.clone()));
            }
            report.problems = problems;
        }
        Error::new(kind, report)
    }
}

/// The operations of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `GET` the set.
    Read,
    /// `PUT` the set.
    Replace,
    /// `GET` the list of versions.
    ListVersions,
    /// `GET` the set as it was at this version.
    ReadVersion(u64),
    /// `POST` a restore of this version.
    RestoreVersion(u64),
    /// `GET` the server's health and limits.
    ReadLimits,
}

impl Operation {
    /// The operation as `Debug` shows it, e.g. `ReadVersion(3)`.
    pub(crate) fn name(self) -> String {
        let (name, version) = match self {
            Operation::Read => ("Read", None),
            Operation::Replace => ("Replace", None),
            Operation::ListVersions => ("ListVersions", None),
            Operation::ReadVersion(n) => ("ReadVersion", Some(n)),
            Operation::RestoreVersion(n) => ("RestoreVersion", Some(n)),
            Operation::ReadLimits => ("ReadLimits", None),
        };
        match version {
            Some(n) => concat(&[name, "(", &decimal(n), ")"]),
            None => name.into(),
        }
    }
}

/// The `maxSetBytes` of a health body: a whole number from 1 up that fits a `usize`.
fn reported_max_set_bytes(body: &[u8]) -> Option<usize> {
    let serde_json::Value::Object(fields) = json::from_slice(body).ok()? else {
        return None;
    };
    let max = fields.get("maxSetBytes")?.as_u64()?;
    usize::try_from(max).ok().filter(|&max| max > 0)
}

/// Whether a failed read is worth repeating: the server or network may recover.
pub fn is_retryable(error: &Error) -> bool {
    error.kind() == ErrorKind::Unavailable
}

fn etag_of(response: &HttpResponse) -> Option<ETag> {
    response
        .header("etag")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(ETag::new)
}

/// Our explanation of a status when the server gives none: kind, why, countermeasures.
fn default_explanation(status: u16) -> (ErrorKind, String, &'static str) {
    use ErrorKind::*;
    // Specific statuses first, then the ranges they belong to.
    #[allow(clippy::match_overlapping_arm)]
    let (kind, why, todo) = match status {
        400 => (
            InvalidInput,
            "the server rejected the request as invalid",
            "Check the team, job and secret names and values; nothing was changed.",
        ),
        401 => (
            Unauthorized,
            "the server needs a valid access token and did not get one",
            "Log in again or supply a fresh token.",
        ),
        403 => (
            Forbidden,
            "the token is not allowed to access this team's jobs",
            "Ask the team's owners for access, or use a token of the right team.",
        ),
        404 => (
            NotFound,
            "the server knows no such job, or the URL does not point at the Secrets API",
            "Check the team and job names and the Control Service URL.",
        ),
        409 | 412 => (
            Conflict,
            "the secrets changed on the server since they were read",
            "Read the secrets again and redo the change; nothing was overwritten.",
        ),
        413 => (
            TooLarge,
            "the set of secrets is larger than the server accepts",
            "Remove or shorten secrets; the set stored before is unchanged.",
        ),
        501 => (
            NotConfigured,
            "the server has no secrets storage configured",
            "Ask the operators of the Control Service to configure a secrets store (Vault).",
        ),
        408 | 429 => (
            Unavailable,
            "the server is busy or timed out",
            "Wait a moment and try again.",
        ),
        500..=599 => (
            Unavailable,
            "the server or its secrets storage failed",
            "Try again later; if it persists, tell the Control Service's operators.",
        ),
        400..=499 => (
            Protocol,
            "the server refused a request this client sends",
            "Check that the URL points at a VDK Control Service or a vdk-secrets server, and \
             that client and server versions match.",
        ),
        _ => (
            Protocol,
            "the server answered with an unexpected status",
            "Check that the URL points at a VDK Control Service or a vdk-secrets server, and \
             not at a proxy or login page.",
        ),
    };
    let why = concat(&[why, " (HTTP ", &decimal(status.into()), ")"]);
    (kind, why, todo)
}

/// Upstream's error body. Every field is optional, and one of the wrong type counts as
/// absent; text is trimmed and made printable. `problems` (the reference server's per-key
/// list) is read leniently: entries that are not `{"key": string, "message": string}` are
/// skipped, and a malformed list loses nothing else. Read from a `Value` rather than derived,
/// which keeps serde's typed-field code out of the wasm builds.
struct ServerError {
    what: Option<String>,
    why: Option<String>,
    consequences: Option<String>,
    countermeasures: Option<String>,
    problems: Option<serde_json::Value>,
}

impl ServerError {
    /// A server message longer than this is cut: an error line must stay readable.
    const MAX_FIELD_CHARS: usize = 500;
    /// At most this many of the server's problems are kept.
    const MAX_PROBLEMS: usize = 100;

    fn parse(body: &[u8]) -> Option<ServerError> {
        let serde_json::Value::Object(fields) = json::from_slice(body).ok()? else {
            return None;
        };
        let clean = |field: Option<&serde_json::Value>| {
            field
                .and_then(serde_json::Value::as_str)
                .map(|s| clip(s.trim(), Self::MAX_FIELD_CHARS))
                .filter(|s| !s.is_empty())
        };
        let parsed = ServerError {
            what: clean(fields.get("what")),
            why: clean(fields.get("why")),
            consequences: clean(fields.get("consequences")),
            countermeasures: clean(fields.get("countermeasures")),
            problems: fields.get("problems").cloned(),
        };
        let any = parsed.what.is_some()
            || parsed.why.is_some()
            || parsed.consequences.is_some()
            || parsed.countermeasures.is_some();
        any.then_some(parsed)
    }

    /// The server's per-key problems, cleaned like the other fields.
    fn problems(&self) -> Vec<Problem> {
        let Some(serde_json::Value::Array(items)) = &self.problems else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                let key = item.get("key")?.as_str()?;
                let message = item.get("message")?.as_str()?.trim();
                (!message.is_empty()).then(|| {
                    Problem::new(
                        clip(key, Self::MAX_FIELD_CHARS),
                        clip(message, Self::MAX_FIELD_CHARS),
                    )
                })
            })
            .take(Self::MAX_PROBLEMS)
            .collect()
    }
}

/// At most `max` characters of `s`, control characters escaped.
fn clip(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    // Newlines and escapes would let a server forge log lines.
    out.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

mod history;
#[cfg(test)]
mod tests;

pub use history::{History, VersionInfo};
