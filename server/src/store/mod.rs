//! Where the secret sets live: Vault KV v2, the embedded encrypted store, or nowhere.
//!
//! Every backend keeps a version per job; the version is the `ETag` and the basis of
//! check-and-set, so that a stale writer gets 412 instead of overwriting someone else.

pub mod batch;
pub mod embedded;
pub mod vault;

use std::sync::Arc;

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

/// The configured backend.
pub enum Store {
    Embedded(Arc<EmbeddedStore>, Option<Arc<ReadBatcher>>),
    Vault(Arc<VaultStore>, Option<Arc<ReadBatcher>>),
    None,
}

impl Store {
    /// The backend's name, as given on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Store::Embedded(..) => "embedded",
            Store::Vault(..) => "vault",
            Store::None => "none",
        }
    }

    /// The embedded backend; `batch_reads` lets concurrent reads of a job share storage reads.
    pub fn embedded(store: EmbeddedStore, batch_reads: bool) -> Self {
        Store::Embedded(Arc::new(store), batch_reads.then(Arc::default))
    }

    /// The Vault backend; `batch_reads` lets concurrent reads of a job share Vault reads.
    pub fn vault(store: VaultStore, batch_reads: bool) -> Self {
        Store::Vault(Arc::new(store), batch_reads.then(Arc::default))
    }

    /// The set of `job` and its version, from a storage read that begins after this call
    /// (concurrent readers of one job share it; see [`batch`]).
    pub async fn read(&self, job: &JobRef) -> Result<Arc<Stored>, StoreError> {
        match self {
            Store::Embedded(store, None) => store.read(job).await.map(Arc::new),
            Store::Vault(store, None) => store.read(job).await.map(Arc::new),
            Store::Embedded(store, Some(batcher)) => {
                let (store, owned) = (store.clone(), job.clone());
                batcher
                    .read(job, move || {
                        let (store, job) = (store.clone(), owned.clone());
                        async move { store.read(&job).await }
                    })
                    .await
            }
            Store::Vault(store, Some(batcher)) => {
                let (store, owned) = (store.clone(), job.clone());
                batcher
                    .read(job, move || {
                        let (store, job) = (store.clone(), owned.clone());
                        async move { store.read(&job).await }
                    })
                    .await
            }
            Store::None => Err(StoreError::NotConfigured),
        }
    }

    /// Replaces the set of `job`; when `expected` is given, only if the stored version is that
    /// one. Returns the new version. Either the whole set is written or nothing is.
    pub async fn write(
        &self,
        job: &JobRef,
        secrets: &Secrets,
        expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        match self {
            Store::Embedded(s, _) => s.write(job, secrets, expected).await,
            Store::Vault(s, _) => s.write(job, secrets, expected).await,
            Store::None => Err(StoreError::NotConfigured),
        }
    }

    /// Whether the backend can serve requests now.
    pub async fn health(&self) -> Result<(), StoreError> {
        match self {
            Store::Embedded(s, _) => s.health().await,
            Store::Vault(s, _) => s.health().await,
            Store::None => Ok(()),
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
