//! Errors: one variant per thing a caller can act on.
//!
//! Every error carries a [`Report`]: *what* went wrong, *why*, and *what to do*. Reports are
//! written from names, sizes and statuses only. A secret value never enters one, so an error
//! can be logged, shown in a browser or returned across a component boundary safely.

use std::fmt;

use crate::text::{concat, decimal, push_decimal};

/// Something that went wrong talking to the Secrets API or validating input.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input breaks a rule; [`Report::problems`] lists every problem found.
    InvalidInput(Report),
    /// The job (404) or a named secret does not exist.
    NotFound(Report),
    /// No credentials, or the server did not accept them (401).
    Unauthorized(Report),
    /// The credentials are valid but not for this team or job (403).
    Forbidden(Report),
    /// Someone else changed the secrets first (412 or 409); read again and redo the change.
    Conflict(Report),
    /// The set is larger than the server accepts (413).
    TooLarge(Report),
    /// The server has no secrets storage configured (501).
    NotConfigured(Report),
    /// The server or the network failed (5xx, timeouts, refused connections); try again later.
    Unavailable(Report),
    /// The server answered something this client does not understand.
    Protocol(Report),
    /// The server does not offer the operation: it keeps no version history (a 404, 405 or
    /// 501 from a history endpoint, as from the upstream Control Service).
    NotSupported(Report),
}

/// The machine-readable kind of an [`Error`], stable across every binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// See [`Error::InvalidInput`].
    InvalidInput,
    /// See [`Error::NotFound`].
    NotFound,
    /// See [`Error::Unauthorized`].
    Unauthorized,
    /// See [`Error::Forbidden`].
    Forbidden,
    /// See [`Error::Conflict`].
    Conflict,
    /// See [`Error::TooLarge`].
    TooLarge,
    /// See [`Error::NotConfigured`].
    NotConfigured,
    /// See [`Error::Unavailable`].
    Unavailable,
    /// See [`Error::Protocol`].
    Protocol,
    /// See [`Error::NotSupported`].
    NotSupported,
}

impl ErrorKind {
    /// Every kind with its code: the one table the bindings use. The WIT enum `error-code`,
    /// the npm package's `ErrorCode` type and its errors' `code` strings are checked against
    /// it (`tests/error_codes.rs`).
    pub const CODES: [(ErrorKind, &'static str); 10] = [
        (ErrorKind::InvalidInput, "invalid-input"),
        (ErrorKind::NotFound, "not-found"),
        (ErrorKind::Unauthorized, "unauthorized"),
        (ErrorKind::Forbidden, "forbidden"),
        (ErrorKind::Conflict, "conflict"),
        (ErrorKind::TooLarge, "too-large"),
        (ErrorKind::NotConfigured, "not-configured"),
        (ErrorKind::Unavailable, "unavailable"),
        (ErrorKind::Protocol, "protocol"),
        (ErrorKind::NotSupported, "not-supported"),
    ];

    /// The kebab-case code used by the JS and WIT bindings, e.g. `"too-large"`.
    pub fn code(self) -> &'static str {
        // The table lists the kinds in declaration order.
        ErrorKind::CODES[self as usize].1
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What went wrong, why, and what to do about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The HTTP status that caused this, if the error came from the server.
    pub status: Option<u16>,
    /// One sentence: what failed.
    pub what: String,
    /// Why it failed.
    pub why: String,
    /// What a person can do about it.
    pub countermeasures: String,
    /// Every rule broken, for [`Error::InvalidInput`]; empty otherwise.
    pub problems: Vec<Problem>,
}

impl Report {
    /// A report with no HTTP status and no problems.
    pub fn new(
        what: impl Into<String>,
        why: impl Into<String>,
        countermeasures: impl Into<String>,
    ) -> Self {
        Report {
            status: None,
            what: what.into(),
            why: why.into(),
            countermeasures: countermeasures.into(),
            problems: Vec::new(),
        }
    }

    /// The same report, attributed to an HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
}

/// One broken rule, naming the key (or name) it concerns but never a secret value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field the problem is about: `"team"`, `"job"`, `"deployment"`, a secret's name,
    /// or empty for the set as a whole.
    pub key: String,
    /// What is wrong with it, in words, e.g. "contains whitespace".
    pub message: String,
}

impl Problem {
    /// A problem with `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Each problem as its key and message, for tests to compare with a list.
#[cfg(test)]
pub(crate) fn key_message_pairs(problems: &[Problem]) -> Vec<(&str, &str)> {
    problems
        .iter()
        .map(|p| (p.key.as_str(), p.message.as_str()))
        .collect()
}

impl Problem {
    /// The problem in words: `` `key` message ``, or the message alone when there is no key.
    pub(crate) fn line(&self) -> String {
        if self.key.is_empty() {
            self.message.clone()
        } else {
            concat(&["`", &printable(&self.key), "` ", &self.message])
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line())
    }
}

/// Shows a name safely inside a message: control characters are escaped, and very long names
/// are cut so that one bad key cannot flood a log line.
pub(crate) fn printable(name: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if i == MAX_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl Error {
    /// The kind of this error, for matching across bindings.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Unauthorized(_) => ErrorKind::Unauthorized,
            Error::Forbidden(_) => ErrorKind::Forbidden,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::TooLarge(_) => ErrorKind::TooLarge,
            Error::NotConfigured(_) => ErrorKind::NotConfigured,
            Error::Unavailable(_) => ErrorKind::Unavailable,
            Error::Protocol(_) => ErrorKind::Protocol,
            Error::NotSupported(_) => ErrorKind::NotSupported,
        }
    }

    /// What went wrong, why, and what to do.
    pub fn report(&self) -> &Report {
        match self {
            Error::InvalidInput(r)
            | Error::NotFound(r)
            | Error::Unauthorized(r)
            | Error::Forbidden(r)
            | Error::Conflict(r)
            | Error::TooLarge(r)
            | Error::NotConfigured(r)
            | Error::Unavailable(r)
            | Error::Protocol(r)
            | Error::NotSupported(r) => r,
        }
    }

    /// The report, taken out of the error.
    pub fn into_report(self) -> Report {
        match self {
            Error::InvalidInput(r)
            | Error::NotFound(r)
            | Error::Unauthorized(r)
            | Error::Forbidden(r)
            | Error::Conflict(r)
            | Error::TooLarge(r)
            | Error::NotConfigured(r)
            | Error::Unavailable(r)
            | Error::Protocol(r)
            | Error::NotSupported(r) => r,
        }
    }

    /// Builds an error of `kind` from a report.
    pub fn new(kind: ErrorKind, report: Report) -> Self {
        match kind {
            ErrorKind::InvalidInput => Error::InvalidInput(report),
            ErrorKind::NotFound => Error::NotFound(report),
            ErrorKind::Unauthorized => Error::Unauthorized(report),
            ErrorKind::Forbidden => Error::Forbidden(report),
            ErrorKind::Conflict => Error::Conflict(report),
            ErrorKind::TooLarge => Error::TooLarge(report),
            ErrorKind::NotConfigured => Error::NotConfigured(report),
            ErrorKind::Unavailable => Error::Unavailable(report),
            ErrorKind::Protocol => Error::Protocol(report),
            ErrorKind::NotSupported => Error::NotSupported(report),
        }
    }

    /// The HTTP status behind this error, if the server sent one.
    pub fn status(&self) -> Option<u16> {
        self.report().status
    }

    /// Every rule broken, for [`Error::InvalidInput`]; empty otherwise.
    pub fn problems(&self) -> &[Problem] {
        &self.report().problems
    }

    /// An invalid-input error listing `problems`; `context` says what was being checked.
    pub fn invalid(context: &str, problems: Vec<Problem>) -> Self {
        let why = match problems.as_slice() {
            [one] => one.line(),
            many => {
                let listed: Vec<String> = many.iter().map(Problem::line).collect();
                concat(&[
                    &decimal(many.len() as u64),
                    " problems: ",
                    &listed.join("; "),
                ])
            }
        };
        Error::InvalidInput(Report {
            problems,
            ..Report::new(
                concat(&[context, " is not valid"]),
                why,
                "Correct the names or values listed and try again; nothing was sent or changed.",
            )
        })
    }
}

impl Error {
    /// The error in words, as `Display` shows it: what, the HTTP status, why, and what to do.
    pub(crate) fn message(&self) -> String {
        let r = self.report();
        let mut out = r.what.clone();
        if let Some(status) = r.status {
            out.push_str(" (HTTP ");
            push_decimal(&mut out, status.into());
            out.push(')');
        }
        if !r.why.is_empty() {
            out.push_str(": ");
            out.push_str(r.why.trim_end_matches('.'));
        }
        if !r.countermeasures.is_empty() {
            out.push_str(". ");
            out.push_str(&r.countermeasures);
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind())
            .field("report", self.report())
            .finish()
    }
}

impl std::error::Error for Error {}
