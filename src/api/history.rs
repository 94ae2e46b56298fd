//! The version history of a job's secrets, on servers that keep one: the requests, and
//! reading their answers (the list of versions, a past set, a restore) and their errors.

use super::{ETag, Endpoint, Operation, ServerError, etag_of};
use crate::error::{Error, Problem, Report};
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::secrets::{Secrets, json};
use crate::text::{concat, decimal, push_decimal, version_words};

/// One version of a job's set in the server's history. Holds secret names, never a value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionInfo {
    /// The version number, counted from 1; its entity tag is `"<version>"`.
    pub version: u64,
    /// When it was written, in RFC 3339 (UTC), exactly as the server gives it.
    pub time: String,
    /// Who wrote it (the name of the token that wrote it), or `None` when the server does
    /// not know, e.g. a write made directly to the backend.
    pub author: Option<String>,
    /// The version this one copied back, when it was made by a restore.
    pub restored_from: Option<u64>,
    /// The next older version still kept, which `added`, `changed` and `removed` compare
    /// against; `None` when there is none, and then every name of this version is in `added`.
    pub previous: Option<u64>,
    /// Names of the secrets this version has and `previous` did not, in name order.
    pub added: Vec<String>,
    /// Names of the secrets whose value differs from `previous`, in name order.
    pub changed: Vec<String>,
    /// Names of the secrets `previous` had and this version does not, in name order.
    pub removed: Vec<String>,
}

/// A job's version history: the current version and every version that can still be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// The version the job's set is at now; 0 for a job never written.
    pub current: u64,
    /// The versions that can be read, newest first; pruned or deleted ones are absent.
    pub versions: Vec<VersionInfo>,
}

impl History {
    /// Parses a server's version list. Errors name the field at fault, never quote the body.
    fn from_server_body(body: &[u8]) -> Result<History, String> {
        let value = json::from_slice(body).map_err(|e| {
            concat(&[
                "the version list is not valid JSON (",
                &crate::secrets::json_error_position(&e),
                ")",
            ])
        })?;
        let serde_json::Value::Object(fields) = value else {
            return Err(concat(&[
                "the version list is a JSON ",
                crate::secrets::type_name(&value),
                ", not an object",
            ]));
        };
        let current = fields
            .get("current")
            .and_then(serde_json::Value::as_u64)
            .ok_or("the version list has no `current` version number")?;
        let Some(serde_json::Value::Array(items)) = fields.get("versions") else {
            return Err("the version list has no `versions` list".into());
        };
        let versions = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                VersionInfo::from_server_entry(item).map_err(|why| {
                    let entry = decimal(i as u64 + 1);
                    concat(&["in entry ", &entry, " of the version list, ", &why])
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(History { current, versions })
    }
}

impl VersionInfo {
    fn from_server_entry(item: &serde_json::Value) -> Result<VersionInfo, String> {
        use serde_json::Value;
        let Value::Object(fields) = item else {
            let found = crate::secrets::type_name(item);
            return Err(concat(&[
                "a JSON ",
                found,
                " stands where an object should",
            ]));
        };
        // An optional number: absent or null is None, anything but a whole number is wrong.
        let number = |key: &str| match fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| concat(&["`", key, "` is not a version number"])),
        };
        let names = |key: &str| match fields.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|n| n.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| concat(&["`", key, "` holds something other than names"])),
            Some(_) => Err(concat(&["`", key, "` is not a list of names"])),
        };
        let version = number("version")?.ok_or("`version` is missing")?;
        let time = match fields.get("time") {
            Some(Value::String(time)) => time.clone(),
            _ => return Err("`time` is missing or not text".into()),
        };
        let author = match fields.get("author") {
            None | Some(Value::Null) => None,
            Some(Value::String(author)) => Some(author.clone()),
            Some(_) => return Err("`author` is neither text nor null".into()),
        };
        Ok(VersionInfo {
            version,
            time,
            author,
            restored_from: number("restoredFrom")?,
            previous: number("previous")?,
            added: names("added")?,
            changed: names("changed")?,
            removed: names("removed")?,
        })
    }
}

impl Endpoint {
    /// The URL of the job's version history (`…/secrets/versions`).
    pub fn versions_url(&self) -> String {
        let mut url = self.url();
        url.push_str("/versions");
        url
    }

    /// `GET` the list of versions.
    pub fn versions_request(&self) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url: self.versions_url(),
            headers: self.headers(),
            body: None,
        }
    }

    /// `GET` the whole set as it was at `version`; refuses version 0 before sending.
    pub fn version_request(&self, version: u64) -> Result<HttpRequest, Error> {
        check_version(version)?;
        Ok(HttpRequest {
            method: Method::Get,
            url: concat(&[&*self.versions_url(), "/", &decimal(version)]),
            headers: self.headers(),
            body: None,
        })
    }

    /// `POST` a restore of `version`, only if the set is still at `etag` (`If-Match`). The
    /// restore writes a new version whose set equals `version`'s.
    pub fn restore_request(&self, version: u64, etag: &ETag) -> Result<HttpRequest, Error> {
        check_version(version)?;
        let tag = etag.as_str().trim();
        if tag.is_empty() || tag.bytes().any(|b| !(0x20..=0x7e).contains(&b)) {
            return Err(Error::invalid(
                "The version to restore",
                vec![Problem::new(
                    "etag",
                    "must be the entity tag the secrets were read at, such as \"7\"",
                )],
            ));
        }
        let mut headers = self.headers();
        headers.push(("if-match", tag.to_string()));
        Ok(HttpRequest {
            method: Method::Post,
            url: concat(&[&*self.versions_url(), "/", &decimal(version), "/restore"]),
            headers,
            body: None,
        })
    }

    /// Interprets the answer to [`Endpoint::versions_request`]. A server without history
    /// gives [`Error::NotSupported`].
    pub fn versions_response(&self, response: &HttpResponse) -> Result<History, Error> {
        let op = Operation::ListVersions;
        if response.status != 200 {
            return Err(self.history_error(op, response));
        }
        History::from_server_body(&response.body)
            .map_err(|why| self.malformed_body(op, response.status, &why))
    }

    /// Interprets the answer to [`Endpoint::version_request`]: the set at `version`. A version
    /// that does not exist is [`Error::NotFound`], naming the versions that do.
    pub fn version_response(
        &self,
        version: u64,
        response: &HttpResponse,
    ) -> Result<Secrets, Error> {
        let op = Operation::ReadVersion(version);
        if response.status != 200 {
            return Err(self.history_error(op, response));
        }
        Secrets::from_server_body(&response.body)
            .map_err(|why| self.malformed_body(op, response.status, &why))
    }

    /// Interprets the answer to [`Endpoint::restore_request`]: the new version's entity tag.
    /// A stale `If-Match` is [`Error::Conflict`] (nothing was written).
    pub fn restore_response(&self, version: u64, response: &HttpResponse) -> Result<ETag, Error> {
        let op = Operation::RestoreVersion(version);
        if !(200..300).contains(&response.status) {
            return Err(self.history_error(op, response));
        }
        etag_of(response).ok_or_else(|| {
            Error::Protocol(
                Report::new(
                    version_words(
                        version,
                        &concat(&[
                            " of the secrets of job `",
                            &self.job.path(),
                            "` was restored, but the server did not say which version that \
                             made",
                        ]),
                    ),
                    concat(&[
                        "the server answered HTTP ",
                        &decimal(response.status.into()),
                        " without an ETag header",
                    ]),
                    "Read the secrets to learn their current version before changing them.",
                )
                .with_status(response.status),
            )
        })
    }

    /// A failed history request: a server without history gives [`Error::NotSupported`], a
    /// version that does not exist [`Error::NotFound`] naming those that do; anything else is
    /// read as for the other operations.
    fn history_error(&self, op: Operation, response: &HttpResponse) -> Error {
        let status = response.status;
        let version = match op {
            Operation::ReadVersion(n) | Operation::RestoreVersion(n) => Some(n),
            _ => None,
        };
        match (status, listed_versions(&response.body), version) {
            (404 | 405 | 501, None, _) => Error::NotSupported(
                Report::new(
                    self.failed(op),
                    concat(&[
                        "this server keeps no version history of secrets: it answered HTTP ",
                        &decimal(status.into()),
                        " where the history should be",
                        &server_words(&response.body),
                    ]),
                    "Use a server that keeps a version history, such as the vdk-secrets \
                     reference server; reading and saving the current secrets still works.",
                )
                .with_status(status),
            ),
            (404, Some(versions), Some(n)) => {
                let why = if versions.is_empty() {
                    concat(&[
                        "version ",
                        &decimal(n),
                        " does not exist, and no version can be read",
                    ])
                } else {
                    concat(&[
                        "version ",
                        &decimal(n),
                        " does not exist or is no longer kept; the versions that can be read \
                         are ",
                        &describe_versions(versions),
                    ])
                };
                Error::NotFound(
                    Report::new(
                        self.failed(op),
                        why,
                        "Pick one of the versions that can be read; nothing was changed.",
                    )
                    .with_status(status),
                )
            }
            _ => self.error_response(op, response),
        }
    }
}

/// The server's own `what` and `why`, cleaned, as ` (what: why)`; empty when it gave none.
fn server_words(body: &[u8]) -> String {
    let Some(body) = ServerError::parse(body) else {
        return String::new();
    };
    let words: Vec<String> = [body.what, body.why].into_iter().flatten().collect();
    if words.is_empty() {
        String::new()
    } else {
        concat(&[" (", &words.join(": "), ")"])
    }
}

/// Versions are numbered from 1; 0 names none and is refused before anything is sent.
fn check_version(version: u64) -> Result<(), Error> {
    if version == 0 {
        return Err(Error::invalid(
            "The version",
            vec![Problem::new(
                "version",
                "must be 1 or more: versions are numbered from 1",
            )],
        ));
    }
    Ok(())
}

/// The `versions` list of an error body, present only on servers that keep a history:
/// its whole numbers, sorted, without repeats. `None` when the body has no such list.
pub(super) fn listed_versions(body: &[u8]) -> Option<Vec<u64>> {
    let serde_json::Value::Object(fields) = json::from_slice(body).ok()? else {
        return None;
    };
    let serde_json::Value::Array(items) = fields.get("versions")? else {
        return None;
    };
    // Servers list them in order, oldest or newest first; any other order is put in order by
    // inserting, for at most MAX_LISTED_VERSIONS of them (inserting costs n² moves, a few
    // milliseconds at this cap; a server keeps far fewer). No slice sort and no set: either
    // brings its own code into the wasm builds.
    const MAX_LISTED_VERSIONS: usize = 10_000;
    let mut versions: Vec<u64> = items.iter().filter_map(serde_json::Value::as_u64).collect();
    if versions.windows(2).all(|pair| pair[0] >= pair[1]) {
        versions.reverse();
    }
    if !versions.windows(2).all(|pair| pair[0] <= pair[1]) {
        let unordered = std::mem::take(&mut versions);
        for version in unordered.into_iter().take(MAX_LISTED_VERSIONS) {
            if let Err(at) = versions.binary_search(&version) {
                versions.insert(at, version);
            }
        }
    }
    versions.dedup();
    Some(versions)
}

/// Sorted versions in short form, runs joined: `1, 3-7, 9`. At most 10 runs are shown.
pub(super) fn describe_versions(versions: Vec<u64>) -> String {
    const MAX_RUNS: usize = 10;
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for v in versions.iter().copied() {
        match runs.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(v) => *last = v,
            _ => runs.push((v, v)),
        }
    }
    let mut shown: Vec<String> = runs
        .iter()
        .take(MAX_RUNS)
        .map(|&(first, last)| {
            let mut run = String::new();
            push_decimal(&mut run, first);
            if last != first {
                run.push_str(if last - first == 1 { ", " } else { "-" });
                push_decimal(&mut run, last);
            }
            run
        })
        .collect();
    if runs.len() > MAX_RUNS {
        let all = decimal(versions.len() as u64);
        shown.push(concat(&["… (", &all, " versions in all)"]));
    }
    shown.join(", ")
}
