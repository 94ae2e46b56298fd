//! Where the secret sets live: Vault KV v2, the embedded encrypted store, or nowhere.
//!
//! Every backend keeps a version per job; the version is the `ETag` and the basis of
//! check-and-set, so that a stale writer gets 412 instead of overwriting someone else.

pub mod batch;
pub mod embedded;
pub mod vault;

use std::sync::Arc;
use std::time::{Duration, Instant};

use vdk_secrets::{JobRef, Secrets};

use batch::ReadBatcher;

pub use embedded::EmbeddedStore;
pub use vault::VaultStore;

/// A job's set, as the JSON text that a GET returns, and its version. Version 0 means nothing
/// was ever written. Reads pass the text through without rebuilding the set.
pub struct Stored {
    /// One JSON object; checked when read from storage.
    pub json: String,
    pub version: u64,
}

impl Stored {
    /// No secrets, at `version`.
    pub fn empty(version: u64) -> Self {
        Stored {
            json: "{}".into(),
            version,
        }
    }

    /// The set itself, parsed.
    pub fn secrets(&self) -> Result<Secrets, StoreError> {
        Secrets::from_json_document(&self.json)
            .map_err(|e| StoreError::Corrupt(format!("the stored set: {}", e.report().why)))
    }
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Stored(version {}, {} bytes redacted)",
            self.version,
            self.json.len()
        )
    }
}

/// Why a backend could not do what was asked. Never holds a secret value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The expected version is not the stored one.
    Conflict,
    /// Backend `none`.
    NotConfigured,
    /// The backend cannot be reached or refuses to work (sealed, down, no permission).
    Unavailable(String),
    /// What is stored cannot be decoded.
    Corrupt(String),
    /// A write whose outcome is unknown: the backend may or may not have stored it (a Vault
    /// call that timed out after the request was sent).
    Unknown(String),
    /// The backend cannot hold this request, whatever its state (a name Vault refuses, a job
    /// path reserved by the Control Service). Nothing was changed.
    Refused(String),
}

/// A boxed future, so that backends can sit behind one trait object.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Where sets are kept. Each backend is one file of this module; [`Store`] adds what they
/// share (read batching, a short health cache).
pub trait Backend: Send + Sync + 'static {
    /// The backend's name, as given on the command line.
    fn name(&self) -> &'static str;

    /// The set of `job` and its version (0 and an empty set when never written).
    fn read<'a>(&'a self, job: &'a JobRef) -> BoxFuture<'a, Result<Stored, StoreError>>;

    /// Replaces the set of `job`; when `expected` is given, only if the stored version is that
    /// one. Returns the new version. Either the whole set is written or nothing is; when that
    /// cannot be known, [`StoreError::Unknown`].
    fn write<'a>(
        &'a self,
        job: &'a JobRef,
        secrets: &'a Secrets,
        expected: Option<u64>,
    ) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// Whether reads and writes would work now. Cheap enough to poll; [`Store`] caches it
    /// briefly.
    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>>;
}

/// Backend `none`: every request answers that no storage is configured.
pub struct NoBackend;

impl Backend for NoBackend {
    fn name(&self) -> &'static str {
        "none"
    }

    fn read<'a>(&'a self, _: &'a JobRef) -> BoxFuture<'a, Result<Stored, StoreError>> {
        Box::pin(async { Err(StoreError::NotConfigured) })
    }

    fn write<'a>(
        &'a self,
        _: &'a JobRef,
        _: &'a Secrets,
        _: Option<u64>,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async { Err(StoreError::NotConfigured) })
    }

    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}

/// How long a health answer is reused: polling `/health` often costs the backend at most one
/// check per interval.
const HEALTH_CACHE: Duration = Duration::from_secs(1);

/// The configured backend, with read batching and a health cache around it.
pub struct Store {
    backend: Arc<dyn Backend>,
    batcher: Option<Arc<ReadBatcher>>,
    health: std::sync::Mutex<Option<(Instant, Result<(), StoreError>)>>,
}

impl Store {
    /// `backend`; `batch_reads` lets concurrent reads of a job share storage reads.
    pub fn new(backend: impl Backend, batch_reads: bool) -> Self {
        Store {
            backend: Arc::new(backend),
            batcher: batch_reads.then(Arc::default),
            health: std::sync::Mutex::new(None),
        }
    }

    /// Backend `none`.
    pub fn none() -> Self {
        Store::new(NoBackend, false)
    }

    /// The backend's name, as given on the command line.
    pub fn name(&self) -> &'static str {
        self.backend.name()
    }

    /// The set of `job` and its version, from a storage read that begins after this call
    /// (concurrent readers of one job share it; see [`batch`]).
    pub async fn read(&self, job: &JobRef) -> Result<Arc<Stored>, StoreError> {
        let outcome = match &self.batcher {
            None => self.backend.read(job).await.map(Arc::new),
            Some(batcher) => {
                let (backend, owned) = (self.backend.clone(), job.clone());
                batcher
                    .read(job, move || {
                        let (backend, job) = (backend.clone(), owned.clone());
                        async move { backend.read(&job).await }
                    })
                    .await
            }
        };
        self.forget_health_after(&outcome);
        outcome
    }

    /// Replaces the set of `job`; when `expected` is given, only if the stored version is that
    /// one. Returns the new version. Either the whole set is written or nothing is.
    pub async fn write(
        &self,
        job: &JobRef,
        secrets: &Secrets,
        expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        let outcome = self.backend.write(job, secrets, expected).await;
        self.forget_health_after(&outcome);
        outcome
    }

    /// Whether reads and writes would work now; answered from a check at most
    /// [`HEALTH_CACHE`] old, so that polling stays cheap.
    pub async fn health(&self) -> Result<(), StoreError> {
        if let Some((at, answer)) = self.cached_health().as_ref() {
            if at.elapsed() < HEALTH_CACHE {
                return answer.clone();
            }
        }
        let answer = self.backend.health().await;
        *self.cached_health() = Some((Instant::now(), answer.clone()));
        answer
    }

    fn cached_health(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<(Instant, Result<(), StoreError>)>> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A request that met a failing backend makes the next health check a fresh one, so that
    /// `/health` never vouches for a backend that has just failed.
    fn forget_health_after<T>(&self, outcome: &Result<T, StoreError>) {
        if matches!(
            outcome,
            Err(StoreError::Unavailable(_) | StoreError::Corrupt(_) | StoreError::Unknown(_))
        ) {
            *self.cached_health() = None;
        }
    }
}

/// Upstream's record for a job in Vault, also the embedded store's plaintext:
/// `{"jobName": "{team}/{job}", "secretsJson": "<the set as JSON text>"}`.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Record {
    #[serde(rename = "jobName")]
    pub job_name: String,
    #[serde(rename = "secretsJson")]
    pub secrets_json: String,
}

impl Record {
    pub fn new(job: &JobRef, secrets: &Secrets) -> Self {
        Record {
            job_name: job.to_string(),
            secrets_json: secrets.to_json(),
        }
    }

    /// The record's set at `version`, after checking that it is one JSON object (without
    /// building it: reads are the hot path). Errors never quote the set.
    pub fn into_stored(self, version: u64) -> Result<Stored, StoreError> {
        let text = self.secrets_json.trim();
        let parses = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
        if !(text.starts_with('{') && parses) {
            return Err(StoreError::Corrupt(format!(
                "the record of `{}` does not hold a JSON object of secrets",
                self.job_name
            )));
        }
        Ok(Stored {
            json: self.secrets_json,
            version,
        })
    }
}
