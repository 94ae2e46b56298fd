//! The Vault backend: KV v2 at `{mount}/data/{team}/{job}`, holding upstream's record, so this
//! server and a VDK Control Service can share one Vault.
//!
//! The KV v2 version is the job's version: reads return it as the ETag, and writes with an
//! expected version use KV v2 check-and-set (`options.cas`), which Vault applies atomically.
//! On a mount that requires check-and-set for every write (`cas_required`), an unconditional
//! write reads the current version and writes against it.
//!
//! A write whose answer does not arrive (Vault paused, the connection lost after sending) may
//! still be applied later by Vault: it is reported as [`StoreError::Unknown`], never as
//! "nothing changed". Errors for clients name no Vault address; the log has it.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use vdk_secrets::http::encode_path_segment;
use vdk_secrets::{JobRef, Secrets};

use super::{
    Backend, BoxFuture, Record, Replaced, StoreError, Stored, VersionMeta, Versions, WriteMeta,
    record_json,
};

/// How the server logs in to Vault.
pub enum VaultAuth {
    /// A fixed token.
    Token(String),
    /// AppRole: the server logs in, and logs in again before the token expires.
    AppRole { role_id: String, secret_id: String },
}

/// Settings of the Vault backend.
pub struct VaultConfig {
    pub addr: String,
    pub auth: VaultAuth,
    pub mount: String,
    pub namespace: Option<String>,
    /// PEM file with the CA certificate(s) that sign Vault's TLS certificate.
    pub ca_cert: Option<std::path::PathBuf>,
    /// How long one call may take, answer included.
    pub timeout: Duration,
    /// Versions KV v2 keeps of each job path; None leaves the mount's setting (10 by default).
    pub max_versions: Option<u64>,
}

/// A token obtained by AppRole login and when to replace it.
struct Login {
    token: String,
    renew_at: Instant,
}

pub struct VaultStore {
    http: reqwest::Client,
    addr: String,
    mount: String,
    namespace: Option<String>,
    auth: VaultAuth,
    login: Mutex<Option<Login>>,
    max_versions: Option<u64>,
}

impl VaultStore {
    pub fn new(config: VaultConfig) -> Result<Self, String> {
        let addr = config.addr.trim().trim_end_matches('/').to_string();
        if !(addr.starts_with("http://") || addr.starts_with("https://")) {
            return Err(format!(
                "the Vault address `{addr}` must start with http:// or https://"
            ));
        }
        let mount = config.mount.trim_matches('/').to_string();
        if mount.is_empty() {
            return Err("the KV v2 mount must not be empty".into());
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .timeout(config.timeout);
        if let Some(path) = &config.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read the CA certificate {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("{} holds no PEM certificate: {e}", path.display()))?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot start the HTTP client for Vault: {e}"))?;
        Ok(VaultStore {
            http,
            addr,
            mount,
            namespace: config.namespace.filter(|n| !n.is_empty()),
            auth: config.auth,
            login: Mutex::new(None),
            max_versions: config.max_versions,
        })
    }

    fn data_url(&self, job: &JobRef) -> String {
        format!(
            "{}/v1/{}/data/{}/{}",
            self.addr,
            self.mount,
            encode_path_segment(job.team()),
            encode_path_segment(job.job())
        )
    }

    fn metadata_url(&self, job: &JobRef) -> String {
        format!(
            "{}/v1/{}/metadata/{}/{}",
            self.addr,
            self.mount,
            encode_path_segment(job.team()),
            encode_path_segment(job.job())
        )
    }

    async fn read_job(&self, job: &JobRef) -> Result<Stored, StoreError> {
        Ok(self.read_at(job, None).await?.unwrap_or_else(Stored::empty))
    }

    /// The set at `version` (the latest when None), or, when there is none to read (never
    /// written, deleted or destroyed), the version Vault names (0 when none).
    async fn read_at(
        &self,
        job: &JobRef,
        version: Option<u64>,
    ) -> Result<Result<Stored, u64>, StoreError> {
        refuse_reserved(job)?;
        let url = match version {
            Some(version) => format!("{}?version={version}", self.data_url(job)),
            None => self.data_url(job),
        };
        let (status, body) = self
            .call(Method::GET, &url, None)
            .await
            .map_err(|e| e.reading())?;
        // Typed, so that the hot path builds no intermediate JSON tree.
        #[derive(serde::Deserialize)]
        struct Envelope {
            data: Option<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            data: Option<Record>,
            metadata: Option<Metadata>,
        }
        #[derive(serde::Deserialize)]
        struct Metadata {
            version: u64,
        }
        let envelope = || {
            serde_json::from_slice::<Envelope>(&body).map_err(|_| {
                StoreError::Corrupt(format!(
                    "the Vault entry of `{job}` is not a record with jobName and secretsJson"
                ))
            })
        };
        let version_of = |entry: &Entry| entry.metadata.as_ref().map_or(0, |m| m.version);
        match status {
            StatusCode::OK => match envelope()?.data {
                Some(Entry {
                    data: Some(record),
                    metadata,
                }) => record
                    .into_stored(metadata.map_or(0, |m| m.version))
                    .map(Ok),
                // The version was deleted: it exists, without data.
                Some(entry) => Ok(Err(version_of(&entry))),
                None => Ok(Err(0)),
            },
            // Never written, or deleted (then metadata keeps the version).
            StatusCode::NOT_FOUND => {
                let version = envelope()
                    .ok()
                    .and_then(|e| e.data)
                    .map_or(0, |e| version_of(&e));
                Ok(Err(version))
            }
            other => Err(unexpected(other, &parse(&body))),
        }
    }

    /// The path's versions from KV v2 metadata, with who wrote each (from the annotations
    /// this server adds to the path's custom metadata; a version without one was written by
    /// another writer of the shared Vault).
    async fn list_versions(&self, job: &JobRef) -> Result<Versions, StoreError> {
        refuse_reserved(job)?;
        let (status, body) = self
            .call(Method::GET, &self.metadata_url(job), None)
            .await
            .map_err(|e| e.reading())?;
        #[derive(serde::Deserialize)]
        struct Envelope {
            data: Metadata,
        }
        #[derive(serde::Deserialize)]
        struct Metadata {
            current_version: u64,
            #[serde(default)]
            versions: std::collections::HashMap<String, VersionState>,
            #[serde(default)]
            custom_metadata: Option<std::collections::HashMap<String, String>>,
        }
        #[derive(serde::Deserialize)]
        struct VersionState {
            #[serde(default)]
            created_time: String,
            #[serde(default)]
            deletion_time: String,
            #[serde(default)]
            destroyed: bool,
        }
        match status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(Versions::default()),
            other => return Err(unexpected(other, &parse(&body))),
        }
        let metadata = serde_json::from_slice::<Envelope>(&body)
            .map_err(|_| {
                StoreError::Corrupt(format!("the Vault metadata of `{job}` cannot be read"))
            })?
            .data;
        let notes = metadata.custom_metadata.unwrap_or_default();
        let mut kept: Vec<VersionMeta> = metadata
            .versions
            .iter()
            .filter(|(_, state)| state.deletion_time.is_empty() && !state.destroyed)
            .filter_map(|(version, state)| {
                let version = version.parse::<u64>().ok()?;
                let meta = notes
                    .get(&annotation_key(version))
                    .and_then(|note| serde_json::from_str::<Annotation>(note).ok())
                    .map(|note| WriteMeta {
                        author: note.author,
                        restored_from: note.restored_from,
                    })
                    .unwrap_or_default();
                Some(VersionMeta {
                    version,
                    time: whole_seconds(&state.created_time),
                    meta,
                })
            })
            .collect();
        kept.sort_by_key(|meta| meta.version);
        Ok(Versions {
            current: metadata.current_version,
            kept,
        })
    }

    /// Records who wrote `version` (and what it restored) in the path's custom metadata, and
    /// drops the note of a version too old to be kept; sets the path's `max_versions` when
    /// configured. A failure loses only the note: the write itself has succeeded.
    async fn annotate(&self, job: &JobRef, version: u64, meta: &WriteMeta) {
        // Nothing to say: a version without a note already reads as an unknown writer's.
        if meta.author.is_none() && meta.restored_from.is_none() && self.max_versions.is_none() {
            return;
        }
        let note = serde_json::to_string(&Annotation {
            author: meta.author.clone(),
            restored_from: meta.restored_from,
        })
        .unwrap_or_default();
        let mut notes = serde_json::Map::new();
        notes.insert(annotation_key(version), Value::String(note));
        if let Some(old) = version.checked_sub(ANNOTATIONS_KEPT).filter(|v| *v > 0) {
            notes.insert(annotation_key(old), Value::Null);
        }
        let mut patch = json!({ "custom_metadata": notes });
        if let Some(max) = self.max_versions {
            patch["max_versions"] = json!(max);
        }
        let outcome = self
            .call_with(
                Method::PATCH,
                &self.metadata_url(job),
                Some(json_body(&patch)),
                "application/merge-patch+json",
            )
            .await;
        match outcome {
            Ok((status, _)) if status.is_success() => {}
            Ok((status, body)) => tracing::warn!(
                %job, version, %status, errors = errors_text(&parse(&body)),
                "Vault refused the note of who wrote this version; history shows an unknown writer"
            ),
            Err(e) => tracing::warn!(
                %job, version, error = %e,
                "the note of who wrote this version was not saved; history shows an unknown writer"
            ),
        }
    }

    async fn write_job(
        &self,
        job: &JobRef,
        secrets: &Secrets,
        expected: Option<u64>,
        meta: &WriteMeta,
    ) -> Result<u64, StoreError> {
        let version = self.write_unannotated(job, secrets, expected).await?;
        self.annotate(job, version, meta).await;
        Ok(version)
    }

    async fn write_unannotated(
        &self,
        job: &JobRef,
        secrets: &Secrets,
        expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        refuse_reserved(job)?;
        let record = record_json(job, secrets, None)?;
        match self.write_record(job, &record, expected).await {
            // The mount (or the path) demands check-and-set: write against the current
            // version, again if another writer gets in between.
            Err(WriteError::CasRequired) if expected.is_none() => {
                for _ in 0..CAS_REQUIRED_ATTEMPTS {
                    let current = self.read_job(job).await?.version;
                    match self.write_record(job, &record, Some(current)).await {
                        Err(WriteError::Store(StoreError::Conflict)) => continue,
                        other => return other.map_err(WriteError::into_store),
                    }
                }
                Err(StoreError::Unavailable(format!(
                    "other writers changed the job {CAS_REQUIRED_ATTEMPTS} times while this \
                     write waited for its turn; nothing was changed"
                )))
            }
            other => other.map_err(WriteError::into_store),
        }
    }

    async fn write_record(
        &self,
        job: &JobRef,
        record: &[u8],
        expected: Option<u64>,
    ) -> Result<u64, WriteError> {
        // `{"data": <record>, "options": {"cas": <expected>}}`, the record copied as it is.
        let mut payload = Vec::with_capacity(record.len() + 48);
        payload.extend_from_slice(b"{\"data\":");
        payload.extend_from_slice(record);
        if let Some(version) = expected {
            payload.extend_from_slice(b",\"options\":{\"cas\":");
            payload.extend_from_slice(version.to_string().as_bytes());
            payload.push(b'}');
        }
        payload.push(b'}');
        let (status, body) = self
            .call_with(
                Method::POST,
                &self.data_url(job),
                Some(payload.into()),
                "application/json",
            )
            .await
            .map_err(|e| WriteError::Store(e.writing()))?;
        let body = parse(&body);
        match status {
            StatusCode::OK | StatusCode::NO_CONTENT => Ok(body
                .pointer("/data/version")
                .and_then(Value::as_u64)
                .unwrap_or(0)),
            StatusCode::BAD_REQUEST => {
                let errors = errors_text(&body);
                if errors.contains("check-and-set parameter required") {
                    Err(WriteError::CasRequired)
                } else if errors.contains("check-and-set") {
                    Err(WriteError::Store(StoreError::Conflict))
                } else {
                    Err(WriteError::Store(unexpected(status, &body)))
                }
            }
            other => Err(WriteError::Store(unexpected(other, &body))),
        }
    }

    /// Vault is unsealed and active (or a standby that forwards), and the server's token is
    /// still accepted.
    async fn check_health(&self) -> Result<(), StoreError> {
        let url = format!("{}/v1/sys/health", self.addr);
        let response = self
            .http
            .get(&url)
            .timeout(HEALTH_TIMEOUT)
            .send()
            .await
            .map_err(|e| self.failed(&e).reading())?;
        match response.status().as_u16() {
            200 | 429 | 472 | 473 => {}
            503 => return Err(StoreError::Unavailable("Vault is sealed".into())),
            501 => return Err(StoreError::Unavailable("Vault is not initialized".into())),
            s => {
                return Err(StoreError::Unavailable(format!(
                    "Vault health answered {s}"
                )));
            }
        }
        // The token: an expired or revoked one would fail every request.
        let url = format!("{}/v1/auth/token/lookup-self", self.addr);
        let (status, body) = self
            .call(Method::GET, &url, None)
            .await
            .map_err(|e| e.reading())?;
        if status.is_success() {
            Ok(())
        } else {
            Err(unexpected(status, &parse(&body)))
        }
    }

    /// One authenticated call; with AppRole, a refused token is replaced and the call repeated
    /// once (the token may have been revoked or expired early).
    async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, bytes::Bytes), CallError> {
        self.call_with(method, url, body.map(json_body), "application/json")
            .await
    }

    /// As [`VaultStore::call`], with the body sent as `content_type`.
    async fn call_with(
        &self,
        method: Method,
        url: &str,
        body: Option<bytes::Bytes>,
        content_type: &str,
    ) -> Result<(StatusCode, bytes::Bytes), CallError> {
        let mut relogged = false;
        loop {
            let token = self.token(relogged).await.map_err(CallError::Login)?;
            let mut request = self
                .http
                .request(method.clone(), url)
                .header("X-Vault-Token", token);
            if let Some(ns) = &self.namespace {
                request = request.header("X-Vault-Namespace", ns);
            }
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(body.clone());
            }
            let response = request.send().await.map_err(|e| {
                let failure = self.failed(&e);
                // A standby that cannot forward answers with a redirect to the active node;
                // when following it fails, the standby may still have passed the request on.
                let redirected = e.url().is_some_and(|at| at.as_str() != url);
                match failure {
                    CallError::NotSent(_) if redirected => CallError::NoAnswer(
                        "Vault redirected the request to another node, which could not be reached",
                    ),
                    other => other,
                }
            })?;
            let status = response.status();
            let body = response.bytes().await.map_err(|e| CallError::Answer {
                status,
                why: self.failed(&e).to_string(),
            })?;
            if status == StatusCode::FORBIDDEN
                && matches!(self.auth, VaultAuth::AppRole { .. })
                && !relogged
            {
                relogged = true;
                continue;
            }
            return Ok((status, body));
        }
    }

    /// The token to use; AppRole logs in when there is no token, when it is two thirds
    /// through its life, or when `force` says the last one was refused.
    async fn token(&self, force: bool) -> Result<String, StoreError> {
        let (role_id, secret_id) = match &self.auth {
            VaultAuth::Token(token) => return Ok(token.clone()),
            VaultAuth::AppRole { role_id, secret_id } => (role_id, secret_id),
        };
        let mut login = self.login.lock().await;
        if let Some(current) = login.as_ref() {
            if !force && Instant::now() < current.renew_at {
                return Ok(current.token.clone());
            }
        }
        let url = format!("{}/v1/auth/approle/login", self.addr);
        let mut request = self
            .http
            .post(&url)
            .json(&json!({"role_id": role_id, "secret_id": secret_id}));
        if let Some(ns) = &self.namespace {
            request = request.header("X-Vault-Namespace", ns);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.failed(&e).reading())?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let token = body
            .pointer("/auth/client_token")
            .and_then(Value::as_str)
            .filter(|_| status.is_success());
        let Some(token) = token else {
            return Err(StoreError::Unavailable(format!(
                "AppRole login to Vault failed ({status}): {}",
                errors_text(&body)
            )));
        };
        let ttl = body
            .pointer("/auth/lease_duration")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        // A lease of 0 means the token does not expire.
        let life = if ttl == 0 {
            Duration::from_secs(3600)
        } else {
            Duration::from_secs(ttl) * 2 / 3
        };
        tracing::info!(ttl_seconds = ttl, "logged in to Vault with AppRole");
        *login = Some(Login {
            token: token.to_string(),
            renew_at: Instant::now() + life,
        });
        Ok(token.to_string())
    }

    /// A failed exchange with Vault, logged in full (address and causes) and described for
    /// clients without them.
    fn failed(&self, e: &reqwest::Error) -> CallError {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            text = format!("{text}: {cause}");
            source = cause.source();
        }
        tracing::warn!(vault = %self.addr, error = %text, "a call to Vault failed");
        if e.is_connect() {
            CallError::NotSent("Vault is unreachable: the connection was refused or timed out")
        } else if e.is_timeout() {
            CallError::NoAnswer("Vault did not answer in time")
        } else {
            CallError::NoAnswer("the connection to Vault broke off")
        }
    }
}

impl Backend for VaultStore {
    fn name(&self) -> &'static str {
        "vault"
    }

    fn read<'a>(&'a self, job: &'a JobRef) -> BoxFuture<'a, Result<Stored, StoreError>> {
        Box::pin(self.read_job(job))
    }

    /// Vault's check-and-set checks the version without reading the set: no `previous`.
    fn replace<'a>(
        &'a self,
        job: &'a JobRef,
        secrets: &'a Secrets,
        expected: Option<u64>,
        meta: &'a WriteMeta,
    ) -> BoxFuture<'a, Result<Replaced, StoreError>> {
        Box::pin(async move {
            let version = self.write_job(job, secrets, expected, meta).await?;
            Ok(Replaced {
                version,
                previous: None,
            })
        })
    }

    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.check_health())
    }

    fn versions<'a>(&'a self, job: &'a JobRef) -> BoxFuture<'a, Result<Versions, StoreError>> {
        Box::pin(self.list_versions(job))
    }

    fn read_version<'a>(
        &'a self,
        job: &'a JobRef,
        version: u64,
    ) -> BoxFuture<'a, Result<Option<Stored>, StoreError>> {
        Box::pin(async move { Ok(self.read_at(job, Some(version)).await?.ok()) })
    }
}

/// What this server notes about a version it wrote, in the path's custom metadata under
/// [`annotation_key`]: names only, never a value.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    restored_from: Option<u64>,
}

/// The custom-metadata key of version `version`'s note.
fn annotation_key(version: u64) -> String {
    format!("vdk-secrets-v{version}")
}

/// Notes kept per path: KV v2 allows 64 custom-metadata keys, and other tools may use some.
const ANNOTATIONS_KEPT: u64 = 48;

/// Vault's nanosecond RFC 3339 time cut to whole seconds; None when empty.
fn whole_seconds(time: &str) -> Option<String> {
    if time.is_empty() {
        return None;
    }
    let cut = match time.split_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => time.to_string(),
    };
    Some(cut)
}

/// How often an unconditional write on a `cas_required` mount tries again after losing a race.
const CAS_REQUIRED_ATTEMPTS: usize = 5;

/// A health check waits less than a request does: a health poll must answer promptly.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// The job name under which the VDK Control Service keeps a team's OAuth credentials in the
/// same KV mount (`{team}/team-oauth-credentials`): a job of that name would overwrite them.
pub const RESERVED_JOB_NAME: &str = "team-oauth-credentials";

fn refuse_reserved(job: &JobRef) -> Result<(), StoreError> {
    if job.job() == RESERVED_JOB_NAME {
        return Err(StoreError::Refused(format!(
            "the job name `{RESERVED_JOB_NAME}` is where the VDK Control Service keeps the \
             team's OAuth credentials in the shared Vault; a job of that name would read or \
             overwrite them"
        )));
    }
    Ok(())
}

/// How one call to Vault failed.
#[derive(Debug)]
enum CallError {
    /// Nothing reached Vault.
    NotSent(&'static str),
    /// The request may have reached Vault, and no answer came back.
    NoAnswer(&'static str),
    /// Vault answered with `status`, and its body broke off.
    Answer { status: StatusCode, why: String },
    /// AppRole login failed; nothing was sent.
    Login(StoreError),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::NotSent(why) | CallError::NoAnswer(why) => f.write_str(why),
            CallError::Answer { status, why } => {
                write!(f, "Vault answered {status} and then {why}")
            }
            CallError::Login(e) => write!(f, "{e:?}"),
        }
    }
}

impl CallError {
    /// For a read, any failure leaves the data as it was.
    fn reading(self) -> StoreError {
        match self {
            CallError::Login(e) => e,
            other => StoreError::Unavailable(other.to_string()),
        }
    }

    /// For a write, only a request that never left says that nothing changed.
    fn writing(self) -> StoreError {
        match self {
            CallError::Login(e) => e,
            CallError::NotSent(why) => StoreError::Unavailable(why.into()),
            CallError::Answer { status, .. } if !status.is_success() => {
                StoreError::Unavailable(format!("Vault answered {status}"))
            }
            other => StoreError::Unknown(format!("{other}; Vault may still apply the write")),
        }
    }
}

/// How one write failed.
enum WriteError {
    /// The mount requires check-and-set, and none was given.
    CasRequired,
    Store(StoreError),
}

impl WriteError {
    fn into_store(self) -> StoreError {
        match self {
            WriteError::CasRequired => StoreError::Unavailable(
                "Vault demands check-and-set for this path and refused the version given".into(),
            ),
            WriteError::Store(e) => e,
        }
    }
}

/// `value` as a request body.
fn json_body(value: &Value) -> bytes::Bytes {
    serde_json::to_vec(value).unwrap_or_default().into()
}

/// A Vault answer as JSON; null when it is none.
fn parse(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// Vault's `errors` array as one line (Vault's messages name paths, never data).
fn errors_text(body: &Value) -> String {
    let text = body
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    let text: String = text
        .chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.is_empty() {
        "no details".into()
    } else {
        text
    }
}

/// An answer that is neither success nor a version conflict. A 4xx about the request itself
/// (a name Vault refuses) is the client's to fix and becomes a 400; a refused token, a sealed
/// or overloaded Vault is the operator's, and becomes a 503.
fn unexpected(status: StatusCode, body: &Value) -> StoreError {
    let errors = errors_text(body);
    match status.as_u16() {
        503 => StoreError::Unavailable(format!("Vault is sealed or unavailable: {errors}")),
        401 | 403 => StoreError::Unavailable(format!(
            "Vault refused the server's token (permission denied or expired): {errors}"
        )),
        429 => StoreError::Unavailable(format!("Vault is rate-limiting the server: {errors}")),
        // A KV mount that is missing, or still upgrading after it was made, answers 4xx about
        // itself, not about the request: for the operator to fix, or to wait for.
        s @ 400..=499
            if errors.contains("upgrade from non-versioned")
                || errors.contains("Upgrading from non-versioned")
                || errors.contains("will be unavailable for a brief period") =>
        {
            StoreError::Unavailable(format!("Vault's KV mount is not ready yet ({s}): {errors}"))
        }
        s @ 400..=499 if errors.contains("no handler for route") => StoreError::Unavailable(
            format!("Vault has no KV mount at the configured path ({s}): {errors}"),
        ),
        s @ 400..=499 => StoreError::Refused(format!("Vault refused the request ({s}): {errors}")),
        s => StoreError::Unavailable(format!("Vault answered {s}: {errors}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_of_the_request_is_the_clients_and_of_the_server_the_operators() {
        let body = json!({"errors": ["bad path"]});
        for status in [400, 404, 405, 413] {
            let e = unexpected(StatusCode::from_u16(status).unwrap(), &body);
            assert!(
                matches!(e, StoreError::Refused(ref why) if why.contains("bad path")),
                "{e:?}"
            );
        }
        for status in [401, 403, 429, 500, 502, 503] {
            let e = unexpected(StatusCode::from_u16(status).unwrap(), &body);
            assert!(matches!(e, StoreError::Unavailable(_)), "{status}: {e:?}");
        }
        // Vault's own state, in a 4xx: not the client's to fix.
        for why in [
            "Waiting for the primary to upgrade from non-versioned to versioned data.",
            "Upgrading from non-versioned to versioned data. This backend will be unavailable \
             for a brief period and will resume service shortly.",
            "no handler for route \"secret/data/t/j\". route entry not found.",
        ] {
            let e = unexpected(StatusCode::BAD_REQUEST, &json!({ "errors": [why] }));
            assert!(matches!(e, StoreError::Unavailable(_)), "{why}: {e:?}");
        }
    }

    #[test]
    fn only_a_write_that_never_left_says_nothing_changed() {
        assert!(matches!(
            CallError::NotSent("x").writing(),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            CallError::NoAnswer("x").writing(),
            StoreError::Unknown(_)
        ));
        let broke_after_ok = CallError::Answer {
            status: StatusCode::OK,
            why: "x".into(),
        };
        assert!(matches!(broke_after_ok.writing(), StoreError::Unknown(_)));
        assert!(matches!(
            CallError::NoAnswer("x").reading(),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn the_control_services_oauth_record_is_no_job() {
        let job = JobRef::new("team", RESERVED_JOB_NAME).unwrap();
        let e = refuse_reserved(&job).unwrap_err();
        assert!(
            matches!(e, StoreError::Refused(ref why) if why.contains("OAuth")),
            "{e:?}"
        );
        assert!(refuse_reserved(&JobRef::new("team", "job").unwrap()).is_ok());
    }
}
