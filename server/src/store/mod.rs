//! Where the secret sets live: Vault KV v2, the embedded encrypted store, or nowhere.
//!
//! Every backend keeps a version per job; the version is the `ETag` and the basis of
//! check-and-set, so that a stale writer gets 412 instead of overwriting someone else.
//! Backends also keep the last versions of each job, with who wrote each, so that a bad save
//! can be seen and undone ([`Store::history`], [`Store::restore`]).

pub mod batch;
mod diff;
pub mod embedded;
mod record;
pub mod vault;

use std::sync::Arc;
use std::time::{Duration, Instant};

use vdk_secrets::{JobRef, Secrets};

use batch::ReadBatcher;

pub use diff::NameDiff;
pub use record::{Record, Written, record_json};

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
    /// The version asked for cannot be read (never written, pruned or deleted); the versions
    /// that can, ascending.
    VersionNotFound(Vec<u64>),
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
    /// one. Returns the new version and, when the backend read it on the way (to check the
    /// version), the set it replaced, so that naming what changed needs no second read. Either
    /// the whole set is written or nothing is; when that cannot be known,
    /// [`StoreError::Unknown`].
    fn replace<'a>(
        &'a self,
        job: &'a JobRef,
        secrets: &'a Secrets,
        expected: Option<u64>,
        meta: &'a WriteMeta,
    ) -> BoxFuture<'a, Result<Replaced, StoreError>>;

    /// As [`Backend::replace`], giving the new version only.
    fn write<'a>(
        &'a self,
        job: &'a JobRef,
        secrets: &'a Secrets,
        expected: Option<u64>,
        meta: &'a WriteMeta,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move { Ok(self.replace(job, secrets, expected, meta).await?.version) })
    }

    /// Whether reads and writes would work now. Cheap enough to poll; [`Store`] caches it
    /// briefly.
    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// The job's current version and the versions that can still be read, oldest first.
    fn versions<'a>(&'a self, job: &'a JobRef) -> BoxFuture<'a, Result<Versions, StoreError>>;

    /// The set as it was at `version`; None when that version cannot be read.
    fn read_version<'a>(
        &'a self,
        job: &'a JobRef,
        version: u64,
    ) -> BoxFuture<'a, Result<Option<Stored>, StoreError>>;
}

/// A write that went through: the new version, and the set it replaced (the version just
/// before) when the backend had read it anyway.
#[derive(Debug)]
pub struct Replaced {
    pub version: u64,
    pub previous: Option<Stored>,
}

/// What a write records about itself besides the set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteMeta {
    /// The name of the token that wrote (dev mode: `dev`); None when the token has none.
    pub author: Option<String>,
    /// The version whose set this write restores.
    pub restored_from: Option<u64>,
}

/// One version a backend can still read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionMeta {
    pub version: u64,
    /// When it was written, RFC 3339 UTC; None when the backend does not know.
    pub time: Option<String>,
    pub meta: WriteMeta,
}

/// A job's current version and the versions that can be read, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Versions {
    pub current: u64,
    pub kept: Vec<VersionMeta>,
}

/// One entry of a job's history: a version and the names it changed relative to `previous`,
/// the next older version still kept (every name counts as added when there is none).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub version: u64,
    pub time: Option<String>,
    pub author: Option<String>,
    pub restored_from: Option<u64>,
    pub previous: Option<u64>,
    #[serde(flatten)]
    pub names: NameDiff,
}

/// A job's history, newest first.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct History {
    pub current: u64,
    pub versions: Vec<HistoryEntry>,
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

    fn replace<'a>(
        &'a self,
        _: &'a JobRef,
        _: &'a Secrets,
        _: Option<u64>,
        _: &'a WriteMeta,
    ) -> BoxFuture<'a, Result<Replaced, StoreError>> {
        Box::pin(async { Err(StoreError::NotConfigured) })
    }

    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    fn versions<'a>(&'a self, _: &'a JobRef) -> BoxFuture<'a, Result<Versions, StoreError>> {
        Box::pin(async { Err(StoreError::NotConfigured) })
    }

    fn read_version<'a>(
        &'a self,
        _: &'a JobRef,
        _: u64,
    ) -> BoxFuture<'a, Result<Option<Stored>, StoreError>> {
        Box::pin(async { Err(StoreError::NotConfigured) })
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
        meta: &WriteMeta,
    ) -> Result<u64, StoreError> {
        Ok(self.replace(job, secrets, expected, meta).await?.version)
    }

    /// As [`Store::write`], with the replaced set when the backend read it on the way.
    pub async fn replace(
        &self,
        job: &JobRef,
        secrets: &Secrets,
        expected: Option<u64>,
        meta: &WriteMeta,
    ) -> Result<Replaced, StoreError> {
        let outcome = self.backend.replace(job, secrets, expected, meta).await;
        self.forget_health_after(&outcome);
        outcome
    }

    /// The job's history, newest first: each version that can still be read, with who wrote
    /// it and the names it added, changed and removed. Reads every kept version once.
    pub async fn history(&self, job: &JobRef) -> Result<History, StoreError> {
        let versions = self.backend.versions(job).await?;
        let mut entries = Vec::with_capacity(versions.kept.len());
        let mut previous: Option<(u64, Stored)> = None;
        for kept in versions.kept {
            // A version deleted between the listing and this read is left out.
            let Some(stored) = self.backend.read_version(job, kept.version).await? else {
                continue;
            };
            let before = previous.as_ref().map_or("{}", |(_, before)| &before.json);
            let names = NameDiff::between_texts(before, &stored.json).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "version {} of the set cannot be read as a JSON object of secrets",
                    kept.version
                ))
            })?;
            entries.push(HistoryEntry {
                version: kept.version,
                time: kept.time,
                author: kept.meta.author,
                restored_from: kept.meta.restored_from,
                previous: previous.as_ref().map(|(version, _)| *version),
                names,
            });
            previous = Some((kept.version, stored));
        }
        entries.reverse();
        Ok(History {
            current: versions.current,
            versions: entries,
        })
    }

    /// The set as it was at `version`, or [`StoreError::VersionNotFound`] with the versions
    /// that can be read.
    pub async fn read_version(&self, job: &JobRef, version: u64) -> Result<Stored, StoreError> {
        if version > 0 {
            if let Some(stored) = self.backend.read_version(job, version).await? {
                return Ok(stored);
            }
        }
        let versions = self.backend.versions(job).await?;
        Err(StoreError::VersionNotFound(
            versions.kept.iter().map(|kept| kept.version).collect(),
        ))
    }

    /// Writes the set of `version` as a new version that records the restore, if the current
    /// version is still `expected`. Returns the write and the set it wrote.
    pub async fn restore(
        &self,
        job: &JobRef,
        version: u64,
        expected: u64,
        author: Option<String>,
    ) -> Result<(Replaced, Secrets), StoreError> {
        let secrets = self.read_version(job, version).await?.secrets()?;
        let meta = WriteMeta {
            author,
            restored_from: Some(version),
        };
        let replaced = self.replace(job, &secrets, Some(expected), &meta).await?;
        Ok((replaced, secrets))
    }

    /// The names a write changed: between the set it replaced and `after`. That set is the
    /// write's own when the backend gave it back, otherwise the version before is read; it may
    /// be gone (pruned, deleted), and then every name counts as added.
    pub async fn changed_names(&self, job: &JobRef, write: &Replaced, after: &Secrets) -> NameDiff {
        let read;
        let before = match (
            &write.previous,
            write.version.checked_sub(1).filter(|v| *v > 0),
        ) {
            (Some(previous), _) => Some(previous),
            (None, Some(previous)) => {
                read = self.backend.read_version(job, previous).await;
                read.as_ref().ok().and_then(Option::as_ref)
            }
            (None, None) => None,
        };
        before
            .and_then(|before| NameDiff::from_text(&before.json, after))
            .unwrap_or_else(|| NameDiff::between(&Secrets::new(), after))
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

/// `time` as RFC 3339 UTC with whole seconds, e.g. `2026-12-01T03:04:05Z`.
pub fn rfc3339(time: std::time::SystemTime) -> String {
    let seconds = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Days since 1970-01-01 to a civil date (the proleptic Gregorian calendar).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc_3339_utc() {
        let at = |s| std::time::UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(1_796_094_245)), "2026-12-01T03:04:05Z");
    }
}
