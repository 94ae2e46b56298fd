//! The Data Job Secrets API without I/O: build each request, interpret each response.
//!
//! ```text
//! GET {base}/data-jobs/for-team/{team}/jobs/{job}/deployments/{id}/secrets -> 200 {..all..}
//! PUT {base}/data-jobs/for-team/{team}/jobs/{job}/deployments/{id}/secrets <- {..all..}
//! ```
//!
//! A transport sends the [`HttpRequest`] and hands back the [`HttpResponse`]; everything the
//! API means lives here, so every runtime behaves the same and this file is tested without
//! sockets.

use std::fmt;

use crate::error::{Error, ErrorKind, Problem, Report};
use crate::http::{HttpRequest, HttpResponse, Method, encode_path_segment};
use crate::job::JobRef;
use crate::secrets::Secrets;
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
        format!(
            "{}/data-jobs/for-team/{}/jobs/{}/deployments/{}/secrets",
            self.base_url,
            encode_path_segment(self.job.team()),
            encode_path_segment(self.job.job()),
            encode_path_segment(self.job.deployment_id()),
        )
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![("accept", "application/json".to_string())];
        if let Some(token) = &self.token {
            headers.push(("authorization", format!("Bearer {}", token.expose())));
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
        let mut headers = self.headers();
        headers.push(("content-type", "application/json".to_string()));
        if let Some(etag) = etag {
            headers.push(("if-match", etag.as_str().to_string()));
        }
        Ok(HttpRequest {
            method: Method::Put,
            url: self.url(),
            headers,
            body: Some(secrets.to_json().into_bytes()),
        })
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
            Err(why) => Err(Error::Protocol(
                Report::new(
                    format!("The secrets of job `{}` could not be read", self.job),
                    format!("the server answered 200 but {why}"),
                    "Check that the URL points at a VDK Control Service or a vdk-secrets server.",
                )
                .with_status(200),
            )),
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
        let doing = match op {
            Operation::Read => "read",
            Operation::Replace => "saved",
        };
        let mut report = Report::new(
            format!("The secrets of job `{}` could not be {doing}", self.job),
            why,
            countermeasures,
        )
        .with_status(status);
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
                report.why = format!("{}; {consequences}", report.why);
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

/// The two operations of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `GET` the set.
    Read,
    /// `PUT` the set.
    Replace,
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
    (kind, format!("{why} (HTTP {status})"), todo)
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
        let serde_json::Value::Object(mut fields) = serde_json::from_slice(body).ok()? else {
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
            problems: fields.remove("problems"),
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

#[cfg(test)]
mod tests;
