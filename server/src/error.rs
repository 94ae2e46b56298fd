//! Every failure of a request becomes one [`ApiError`], answered in one place in upstream's
//! error body shape: `what`, `why`, `consequences`, `countermeasures`, and `problems` for
//! invalid input. Every answer is bounded: long text is cut, and at most [`MAX_PROBLEMS`]
//! problems are listed, the last saying how many more there were.

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
    /// For a version that cannot be read: the versions that can, ascending.
    pub versions: Option<Vec<u64>>,
}

#[derive(Serialize)]
struct Body<'a> {
    what: &'a str,
    why: &'a str,
    consequences: &'a str,
    countermeasures: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<ProblemBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    versions: Option<&'a [u64]>,
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
                versions: None,
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

    /// A core validation error, as 400 with its problem list: one problem is also told in
    /// `why`; several are only counted there, and listed (at most [`MAX_PROBLEMS`]) in
    /// `problems`.
    pub fn invalid(error: Error) -> Self {
        let report = error.report();
        let count = report.problems.len();
        let why = if count < 2 {
            report.why.clone()
        } else if count <= MAX_PROBLEMS {
            format!("{count} problems, each listed in `problems`")
        } else {
            format!(
                "{count} problems; `problems` lists the first {} and how many more there are",
                MAX_PROBLEMS - 1
            )
        };
        let mut answer = ApiError::new(
            StatusCode::BAD_REQUEST,
            report.what.clone(),
            why,
            "Nothing was changed.",
            "Correct the names or values listed and send the request again.",
        );
        answer.detail.problems = bounded_problems(&report.problems);
        answer
    }

    /// An `If-Match` field that is not one: empty, or not `*` nor a list of entity-tags.
    pub fn bad_if_match() -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "The If-Match header is not valid",
            "If-Match must be `*` or a comma-separated list of quoted entity-tags",
            "Nothing was changed.",
            "Send If-Match: \"<version>\" with the ETag of the last read, quotes included \
             (e.g. If-Match: \"3\"), or If-Match: * to replace whatever is stored, or no \
             If-Match at all.",
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

    /// A failure of the storage backend named `backend` (`embedded`, `vault` or `none`), with
    /// countermeasures for that backend.
    pub fn store(e: StoreError, backend: &str) -> Self {
        let operators = match backend {
            "vault" => {
                "operators should check that Vault is reachable and unsealed, that the \
                 server's Vault credentials are valid, and the server's log"
            }
            "embedded" => "operators should check the server's log and its data directory",
            _ => "operators should check the server's log and its storage backend",
        };
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
                format!("Try again later; {operators}."),
            ),
            StoreError::Unknown(why) => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "The secrets may or may not have been saved",
                why,
                "Whether the change was stored is unknown.",
                format!(
                    "Read the secrets to see whether the change arrived before trying again; \
                     if this repeats, {operators}."
                ),
            ),
            StoreError::VersionNotFound(kept) => {
                let why = match (kept.first(), kept.last()) {
                    (Some(first), Some(last)) if first == last => {
                        format!("only version {first} is kept")
                    }
                    (Some(first), Some(last)) => {
                        format!("the versions kept are {first} to {last}")
                    }
                    _ => "the job has no versions".to_string(),
                };
                let mut error = ApiError::new(
                    StatusCode::NOT_FOUND,
                    "The version does not exist",
                    format!("it was never written, or is no longer kept, or was deleted; {why}"),
                    "Nothing was read or changed.",
                    "Choose one of the versions listed in `versions`.",
                );
                error.detail.versions = Some(kept);
                error
            }
            StoreError::Refused(why) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "The secrets storage cannot hold this job",
                why,
                "Nothing was changed.",
                "Use another team or job name.",
            ),
            StoreError::Corrupt(why) => {
                let check = match backend {
                    "embedded" => {
                        "Operators should check the server's log, its data directory and the \
                         key file."
                    }
                    "vault" => {
                        "Operators should check the job's record in Vault's KV mount and the \
                         server's log."
                    }
                    _ => "Operators should check the server's log and its storage backend.",
                };
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The stored secrets cannot be read",
                    why,
                    "The stored set is kept as it is; nothing was changed.",
                    check,
                )
            }
        }
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

    /// A restore sent without `If-Match`: it must say which version it restores over.
    pub fn if_match_required() -> Self {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "A restore needs the current version",
            "the request has no If-Match header",
            "Nothing was changed.",
            "Read the secrets, and send their ETag as `If-Match: \"<version>\"`.",
        )
    }

    /// A version number in the path that is not a positive whole number.
    pub fn bad_version(text: &str) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "The version is not valid",
            format!("`{}` is not a version number", clip(text, 40)),
            "Nothing was read or changed.",
            "Use a version number from the job's history: a whole number from 1.",
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
        let (what, why) = (clip(&d.what, MAX_TEXT_CHARS), clip(&d.why, MAX_TEXT_CHARS));
        let consequences = clip(&d.consequences, MAX_TEXT_CHARS);
        let countermeasures = clip(&d.countermeasures, MAX_TEXT_CHARS);
        let keys: Vec<String> = d
            .problems
            .iter()
            .take(MAX_PROBLEMS)
            .map(|p| clip(&p.key, MAX_KEY_CHARS))
            .collect();
        let messages: Vec<String> = d
            .problems
            .iter()
            .take(MAX_PROBLEMS)
            .map(|p| clip(&p.message, MAX_TEXT_CHARS))
            .collect();
        let body = Body {
            what: &what,
            why: &why,
            consequences: &consequences,
            countermeasures: &countermeasures,
            problems: keys
                .iter()
                .zip(&messages)
                .map(|(key, message)| ProblemBody { key, message })
                .collect(),
            versions: self.detail.versions.as_deref(),
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

/// At most this many entries in an answer's `problems`: the first `MAX_PROBLEMS - 1` problems
/// and one saying how many more there are (the core's client keeps this many).
pub const MAX_PROBLEMS: usize = 100;

/// A problem's key (a secret's name) is cut beyond this many characters; names of a legal
/// length (at most 256) are never cut.
const MAX_KEY_CHARS: usize = 256;

/// Any other text of an answer is cut beyond this many characters.
const MAX_TEXT_CHARS: usize = 1000;

/// `problems` as an answer lists them: all when they fit, else the first `MAX_PROBLEMS - 1`
/// and one counting the rest.
fn bounded_problems(problems: &[Problem]) -> Vec<Problem> {
    if problems.len() <= MAX_PROBLEMS {
        return problems.to_vec();
    }
    let shown = MAX_PROBLEMS - 1;
    let mut list = problems[..shown].to_vec();
    list.push(Problem::new(
        "",
        format!(
            "and {} more problems not listed here; correct those listed and send the set \
             again to see the rest",
            problems.len() - shown
        ),
    ));
    list
}

/// At most `max` characters of `text`, with `…` where it was cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_problems_are_counted_not_repeated() {
        let problems: Vec<Problem> = (0..250)
            .map(|i| Problem::new(format!("bad {i:03}"), "contains whitespace"))
            .collect();
        let answer = ApiError::invalid(Error::invalid("The set of secrets", problems));
        assert_eq!(
            answer.detail.why,
            "250 problems; `problems` lists the first 99 and how many more there are"
        );
        let listed = &answer.detail.problems;
        assert_eq!(listed.len(), MAX_PROBLEMS);
        assert_eq!(listed[98].key, "bad 098");
        assert!(listed[99].message.starts_with("and 151 more problems"));
    }

    #[test]
    fn one_problem_is_told_in_why() {
        let problems = vec![Problem::new("a b", "contains whitespace")];
        let answer = ApiError::invalid(Error::invalid("The set of secrets", problems));
        assert_eq!(answer.detail.why, "`a b` contains whitespace");
        assert_eq!(answer.detail.problems.len(), 1);
    }

    #[test]
    fn clip_cuts_at_characters() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("äbcd", 2), "äb…");
    }

    #[test]
    fn store_errors_name_the_configured_backend() {
        let unavailable = || StoreError::Unavailable("down".into());
        let embedded = ApiError::store(unavailable(), "embedded");
        assert!(embedded.detail.countermeasures.contains("data directory"));
        assert!(!embedded.detail.countermeasures.contains("Vault"));
        let vault = ApiError::store(unavailable(), "vault");
        assert!(vault.detail.countermeasures.contains("Vault"));
        let corrupt = ApiError::store(StoreError::Corrupt("x".into()), "embedded");
        assert!(!corrupt.detail.countermeasures.contains("Vault"));
    }
}
