//! `SecretsClient`: the operations a job, a CLI or a UI needs, written once over any
//! [`Transport`].
//!
//! Reads are retried with backoff when the server or network fails; writes never are, because
//! a write whose answer was lost may have been applied. Per-key changes (`set`, `delete`) read
//! the set with its version, change it, and write it back with `If-Match`; when someone else
//! wrote first the server answers 412 and the change is redone on the fresh set.
//!
//! On servers that keep a version history, `versions` and `read_version` are reads (retried
//! alike), and `restore_version` is a write (never retried, and only from the version the
//! caller read).

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use crate::api::{ETag, Endpoint, History, Operation, ServerLimits, Versioned, is_retryable};
use crate::error::{Error, Problem, Report};
use crate::http::{HttpRequest, HttpResponse, TransportError};
use crate::secrets::{SecretValue, Secrets, json};
use crate::text::{concat, decimal, version_words};
use crate::validate::{self, Limits};

/// Moves one request and its response; knows nothing of the Secrets API.
///
/// Implementations exist for native Rust (`native` feature), the browser (`js`) and WASI
/// (`component`). A new runtime needs only this trait.
pub trait Transport {
    /// Sends `request` and returns the whole response, whatever its status.
    fn send(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportError>>;

    /// Waits for `duration` (used between retries).
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()>;
}

/// How often and how patiently reads are repeated after a server or network failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 means no retry.
    pub attempts: u32,
    /// The wait before the second attempt; each later wait doubles, up to `max_backoff`.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// A single attempt.
    pub fn none() -> Self {
        RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        }
    }

    fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// How many times a per-key change is redone after conflicting writes, by default.
pub const DEFAULT_CONFLICT_ATTEMPTS: u32 = 8;

/// A client of one job's secrets.
///
/// ```no_run
/// # async fn demo(transport: impl vdk_secrets::Transport) -> Result<(), vdk_secrets::Error> {
/// use vdk_secrets::{Endpoint, JobRef, SecretsClient, Token};
/// let job = JobRef::new("my-team", "my-job")?;
/// let endpoint = Endpoint::new("https://cs.example.com", job, Some(Token::new("...")?))?;
/// let client = SecretsClient::new(transport, endpoint);
/// client.set("db_password", "s3cret".into()).await?;
/// let password = client.get("db_password").await?;
/// # Ok(()) }
/// ```
pub struct SecretsClient<T> {
    transport: T,
    endpoint: Endpoint,
    limits: Limits,
    retry: RetryPolicy,
    conflict_attempts: u32,
    /// `None` when caching is off; otherwise the last set read, if still valid.
    cache: Option<Mutex<Option<Versioned>>>,
}

impl<T: Transport> SecretsClient<T> {
    /// A client of `endpoint` over `transport`, with default limits and retries, no cache.
    pub fn new(transport: T, endpoint: Endpoint) -> Self {
        SecretsClient {
            transport,
            endpoint,
            limits: Limits::default(),
            retry: RetryPolicy::default(),
            conflict_attempts: DEFAULT_CONFLICT_ATTEMPTS,
            cache: None,
        }
    }

    /// Uses `limits` to check sets before sending them (match the server's configuration).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Uses `retry` for reads.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Redoes a per-key change at most `attempts` times in all when writers conflict.
    pub fn with_conflict_attempts(mut self, attempts: u32) -> Self {
        self.conflict_attempts = attempts.max(1);
        self
    }

    /// Keeps the last set read and answers reads from it until any write through this client.
    /// Changes made by others are not seen until then; per-key changes always read afresh.
    pub fn with_cache(mut self, enabled: bool) -> Self {
        self.cache = enabled.then(|| Mutex::new(None));
        self
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The limits sets are checked against.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Every secret of the job (`get_all_secrets`).
    pub async fn read_all(&self) -> Result<Secrets, Error> {
        Ok(self.read_versioned().await?.secrets)
    }

    /// Every secret of the job and the version it was read at.
    pub async fn read_versioned(&self) -> Result<Versioned, Error> {
        Ok(self.read_versioned_with_body().await?.0)
    }

    /// As [`SecretsClient::read_versioned`], with the response body the set was read from
    /// when it came from the server rather than the cache: for a binding that can build its
    /// own values from that text (the text is known to read as the set).
    pub(crate) async fn read_versioned_with_body(
        &self,
    ) -> Result<(Versioned, Option<Vec<u8>>), Error> {
        if let Some(cached) = self.cached() {
            return Ok((cached, None));
        }
        let (fresh, body) = self.fetch().await?;
        self.store_cache(&fresh);
        Ok((fresh, Some(body)))
    }

    /// The value of secret `name`, or `None` (`get_secret`).
    pub async fn get(&self, name: &str) -> Result<Option<SecretValue>, Error> {
        validate::secret_name(name)?;
        Ok(self.read_versioned().await?.secrets.get(name).cloned())
    }

    /// The value of secret `name`, or `default` when there is none.
    pub async fn get_or(&self, name: &str, default: SecretValue) -> Result<SecretValue, Error> {
        Ok(self.get(name).await?.unwrap_or(default))
    }

    /// Replaces the whole set with `secrets` (`set_all_secrets`), unconditionally.
    pub async fn replace_all(&self, secrets: &Secrets) -> Result<(), Error> {
        self.write(secrets, None).await.map(|_| ())
    }

    /// Replaces the whole set only if it is still at version `etag`; otherwise
    /// [`Error::Conflict`]. Returns the new version when the server reports one.
    pub async fn replace_if_match(
        &self,
        secrets: &Secrets,
        etag: &ETag,
    ) -> Result<Option<ETag>, Error> {
        self.write(secrets, Some(etag)).await
    }

    /// Sets secret `name`, keeping every other secret.
    ///
    /// As with the VDK CLI, a string given for an existing secret of another type is converted
    /// to that type (`"42"` for a number, `"true"` for a boolean, JSON text for a list or
    /// object); when it does not convert, the error says which type is expected.
    pub async fn set(&self, name: &str, value: SecretValue) -> Result<(), Error> {
        validate::secret_name(name)?;
        validate::secret_value(name, &value)?;
        self.modify(&|secrets| {
            let value = keep_type(name, secrets.get(name), value.clone())?;
            secrets.insert(name, value);
            Ok(())
        })
        .await
    }

    /// Deletes the named secrets in one write. If any name does not exist, nothing is deleted
    /// and [`Error::NotFound`] lists the missing names.
    pub async fn delete(&self, names: &[&str]) -> Result<(), Error> {
        let job = self.endpoint.job().path();
        self.modify(&|secrets| {
            let missing: Vec<Problem> = names
                .iter()
                .filter(|name| !secrets.contains(name))
                .map(|name| Problem::new(*name, "does not exist"))
                .collect();
            if !missing.is_empty() {
                let listed: Vec<String> = missing.iter().map(Problem::line).collect();
                return Err(Error::NotFound(Report {
                    problems: missing,
                    ..Report::new(
                        concat(&["Cannot delete secrets of job `", &job, "`"]),
                        listed.join("; "),
                        "Check the names (they are case-sensitive); nothing was deleted.",
                    )
                }));
            }
            // The set is built again without the names rather than having them removed:
            // the same result, with the map's insertion code, which every reader has anyway,
            // instead of its removal code (6 KB of the npm module, 2 KB gzipped). It is built
            // in name order, the map's slower order (see `strictly_ascending`): from the last
            // name would take fewer comparisons but 0.4 KB more of the npm module, for a
            // pass that is small next to sending the whole set. What is left out is wiped as
            // it is dropped.
            let doomed: Secrets = names.iter().map(|name| (*name, Value::Null)).collect();
            *secrets = std::mem::take(secrets)
                .into_iter()
                .filter(|(name, _)| !doomed.contains(name))
                .collect();
            Ok(())
        })
        .await
    }

    /// Deletes every secret of the job.
    pub async fn delete_all(&self) -> Result<(), Error> {
        self.replace_all(&Secrets::new()).await
    }

    /// Replaces the whole set with the secrets in a JSON document, such as an exported file.
    /// The document is checked completely before anything is sent.
    pub async fn overwrite_from_json(&self, document: &str) -> Result<(), Error> {
        let secrets = Secrets::from_json_document(document)?;
        self.replace_all(&secrets).await
    }

    /// The job's version history: the current version and every version that can still be
    /// read, newest first, each with the names it added, changed and removed. A server that
    /// keeps no history gives [`Error::NotSupported`].
    pub async fn versions(&self) -> Result<History, Error> {
        let request = self.endpoint.versions_request();
        let endpoint = &self.endpoint;
        self.read_with_retry(Operation::ListVersions, request, |response| {
            endpoint.versions_response(&response)
        })
        .await
    }

    /// The whole set as it was at `version`. A version that does not exist (or is no longer
    /// kept) gives [`Error::NotFound`] naming those that do; a server that keeps no history
    /// gives [`Error::NotSupported`].
    pub async fn read_version(&self, version: u64) -> Result<Secrets, Error> {
        let request = self.endpoint.version_request(version)?;
        let endpoint = &self.endpoint;
        self.read_with_retry(Operation::ReadVersion(version), request, |response| {
            endpoint.version_response(version, &response)
        })
        .await
    }

    /// Makes the set what it was at `version`, as a new version, only if the set is still at
    /// `etag` (as read with [`SecretsClient::read_versioned`]); otherwise [`Error::Conflict`]
    /// and nothing is written. Returns the new version's entity tag.
    ///
    /// Like every write it is never repeated: when the answer is lost, the error says that
    /// the outcome is unknown (the history then shows whether a restore arrived).
    pub async fn restore_version(&self, version: u64, etag: &ETag) -> Result<ETag, Error> {
        let op = Operation::RestoreVersion(version);
        let request = self.endpoint.restore_request(version, etag)?;
        self.clear_cache();
        match self.transport.send(request).await {
            Ok(response) => self.endpoint.restore_response(version, &response),
            Err(e) => Err(self.transport_error(e, op)),
        }
    }

    /// What the server reports of its limits (`GET {base}/health`, without credentials),
    /// retried like every read. `max_set_bytes` is `None` when the server reports none, as
    /// the upstream Control Service; use [`ServerLimits::limits`] with
    /// [`SecretsClient::with_limits`] to check sets against the server's own limit.
    pub async fn server_limits(&self) -> Result<ServerLimits, Error> {
        let request = self.endpoint.health_request();
        let endpoint = &self.endpoint;
        self.read_with_retry(Operation::ReadLimits, request, |response| {
            endpoint.health_response(&response)
        })
        .await
    }

    /// Reads afresh (with retries), then applies `change` and writes with `If-Match`, redoing
    /// the whole cycle when another writer got in first.
    ///
    /// `change` is a trait object so that the cycle is compiled once for every operation.
    async fn modify(
        &self,
        change: &(dyn Fn(&mut Secrets) -> Result<(), Error> + Sync),
    ) -> Result<(), Error> {
        let mut attempt = 1;
        loop {
            let (Versioned { mut secrets, etag }, _) = self.fetch().await?;
            change(&mut secrets)?;
            match self.write(&secrets, etag.as_ref()).await {
                Err(Error::Conflict(_)) if etag.is_some() && attempt < self.conflict_attempts => {
                    attempt += 1;
                    // Back off a little so that racing writers spread out.
                    let wait = self.retry.initial_backoff / 8 * attempt;
                    self.transport.sleep(wait).await;
                }
                Err(Error::Conflict(mut report)) if etag.is_some() => {
                    report.why = concat(&[
                        "other writers changed the secrets ",
                        &decimal(self.conflict_attempts.into()),
                        " times in a row while this change was being applied",
                    ]);
                    return Err(Error::Conflict(report));
                }
                other => return other.map(|_| ()),
            }
        }
    }

    /// One read of the set from the server, retried per the policy, with the body it was
    /// read from.
    async fn fetch(&self) -> Result<(Versioned, Vec<u8>), Error> {
        let request = self.endpoint.read_request();
        let endpoint = &self.endpoint;
        self.read_with_retry(Operation::Read, request, |response| {
            let read = endpoint.read_response(&response)?;
            Ok((read, response.body))
        })
        .await
    }

    /// Sends `request`, a read, and interprets the answer, repeating both per the policy
    /// while the server or the network fails.
    async fn read_with_retry<R>(
        &self,
        op: Operation,
        request: HttpRequest,
        interpret: impl Fn(HttpResponse) -> Result<R, Error> + Sync,
    ) -> Result<R, Error>
    where
        R: Send,
    {
        let mut read = None;
        self.retry_read(op, request, &mut |response| {
            read = Some(interpret(response)?);
            Ok(())
        })
        .await?;
        read.ok_or_else(|| unreachable_read(op))
    }

    /// The loop of [`SecretsClient::read_with_retry`], compiled once for every read: `accept`
    /// interprets an answer and keeps what it read.
    async fn retry_read(
        &self,
        op: Operation,
        request: HttpRequest,
        accept: &mut (dyn FnMut(HttpResponse) -> Result<(), Error> + Send),
    ) -> Result<(), Error> {
        let mut retry = 0;
        loop {
            let result = match self.transport.send(request.clone()).await {
                Ok(response) => accept(response),
                // A refusal by policy would only be refused again.
                Err(e) if e.permanent => return Err(self.transport_error(e, op)),
                Err(e) => Err(self.transport_error(e, op)),
            };
            match result {
                Err(e) if is_retryable(&e) && retry + 1 < self.retry.attempts => {
                    self.transport.sleep(self.retry.backoff(retry)).await;
                    retry += 1;
                }
                other => return other,
            }
        }
    }

    /// Replaces the whole set with the one `text` writes, as [`SecretsClient::replace_all`]
    /// (no `etag`) and [`SecretsClient::replace_if_match`] do, sending `text` itself: for a
    /// binding that has the set's compact JSON text at hand. `problems` are the text's, as
    /// [`validate::text_set_problems`] finds them with this client's limits (the binding
    /// calls it, and converts the set another way where the text cannot be read); any of them
    /// refuses the set with the error those methods give.
    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    pub(crate) async fn replace_with_text(
        &self,
        text: String,
        problems: Vec<Problem>,
        etag: Option<&ETag>,
    ) -> Result<Option<ETag>, Error> {
        if !problems.is_empty() {
            return Err(Error::invalid("The set of secrets", problems));
        }
        let request = self
            .endpoint
            .checked_replace_request(text.into_bytes(), etag);
        self.send_write(request).await
    }

    /// One write, never retried; the cache is dropped first, whatever the outcome.
    async fn write(&self, secrets: &Secrets, etag: Option<&ETag>) -> Result<Option<ETag>, Error> {
        let request = self.endpoint.replace_request(secrets, etag, &self.limits)?;
        self.send_write(request).await
    }

    /// Sends a checked `PUT` of the set, never retried; the cache is dropped first, whatever
    /// the outcome.
    async fn send_write(&self, request: HttpRequest) -> Result<Option<ETag>, Error> {
        self.clear_cache();
        match self.transport.send(request).await {
            Ok(response) => self.endpoint.replace_response(&response),
            Err(e) => Err(self.transport_error(e, Operation::Replace)),
        }
    }

    /// An exchange of `op` that failed in the transport: unknown outcome for a write whose
    /// request may have arrived, otherwise nothing happened.
    fn transport_error(&self, e: TransportError, op: Operation) -> Error {
        const NOTHING_CHANGED: &str =
            "Check the Control Service URL and the network, then try again; nothing was changed.";
        const TRY_AGAIN: &str = "Check the Control Service URL and the network, then try again.";
        let (what, countermeasures) = match op {
            Operation::Replace if e.maybe_sent => (
                "The secrets may or may not have been saved".into(),
                "Read the secrets to see whether the change arrived before trying again.",
            ),
            Operation::Replace => ("The secrets could not be saved".into(), NOTHING_CHANGED),
            Operation::RestoreVersion(n) if e.maybe_sent => (
                version_words(n, " of the secrets may or may not have been restored"),
                "List the versions to see whether a restore arrived (its entry names the \
                 version it restored) before trying again.",
            ),
            Operation::RestoreVersion(n) => (
                version_words(n, " of the secrets could not be restored"),
                NOTHING_CHANGED,
            ),
            Operation::Read => ("The secrets could not be read".into(), TRY_AGAIN),
            Operation::ListVersions => (
                "The version history of the secrets could not be read".into(),
                TRY_AGAIN,
            ),
            Operation::ReadVersion(n) => (
                version_words(n, " of the secrets could not be read"),
                TRY_AGAIN,
            ),
            Operation::ReadLimits => ("The server's limits could not be read".into(), TRY_AGAIN),
        };
        Error::Unavailable(Report::new(
            concat(&[&*what, " (job `", &self.endpoint.job().path(), "`)"]),
            concat(&[
                "the request to ",
                self.endpoint.base_url(),
                " failed: ",
                &e.message,
            ]),
            countermeasures,
        ))
    }

    fn cached(&self) -> Option<Versioned> {
        let cache = self.cache.as_ref()?;
        cache.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn store_cache(&self, fresh: &Versioned) {
        if let Some(cache) = &self.cache {
            *cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        }
    }

    fn clear_cache(&self) {
        if let Some(cache) = &self.cache {
            *cache.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }
}

/// What a read that succeeded without keeping its result reports: never happens, since
/// [`SecretsClient::read_with_retry`] keeps the result of every answer it accepts.
fn unreachable_read(op: Operation) -> Error {
    Error::Protocol(Report::new(
        concat(&[&*op.name(), " gave no result"]),
        "the client kept no result of an answer it accepted",
        "Report this as a bug in vdk-secrets.",
    ))
}

/// The value to store for `name` when `new` replaces `existing`, following the VDK CLI: a
/// string given for a non-string secret is converted to that secret's type.
pub fn keep_type(
    name: &str,
    existing: Option<&SecretValue>,
    new: SecretValue,
) -> Result<SecretValue, Error> {
    let (Some(existing), Value::String(text)) = (existing, new.expose()) else {
        return Ok(new);
    };
    let text = text.trim();
    let converted = match existing.expose() {
        Value::String(_) | Value::Null => return Ok(new),
        Value::Bool(_) => match text.to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        // Read as a `Value`, not a `Number`: the same numbers, without serde's typed error
        // path (which formats floats) in the wasm builds.
        Value::Number(_) => json::from_str(text).ok().filter(Value::is_number),
        Value::Array(_) => json::from_str(text).ok().filter(Value::is_array),
        Value::Object(_) => json::from_str(text).ok().filter(Value::is_object),
    };
    match converted {
        Some(value) => {
            let value = SecretValue::new(value);
            validate::secret_value(name, &value)?;
            Ok(value)
        }
        None => {
            let expected = existing.type_name();
            Err(Error::invalid(
                "The new secret value",
                vec![Problem::new(
                    name,
                    concat(&[
                        "holds a ",
                        expected,
                        ", and the new text does not convert to a ",
                        expected,
                        "; give a ",
                        expected,
                        ", or delete the secret first to change its type",
                    ]),
                )],
            ))
        }
    }
}

#[cfg(test)]
mod tests;
