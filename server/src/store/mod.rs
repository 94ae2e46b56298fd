//! Where the secret sets live: Vault KV v2, the embedded encrypted store, or nowhere.
//!
//! Every backend keeps a version per job; the version is the `ETag` and the basis of
//! check-and-set, so that a stale writer gets 412 instead of overwriting someone else.

pub mod embedded;
pub mod vault;

use vdk_secrets::{JobRef, Secrets};

pub use embedded::EmbeddedStore;
pub use vault::VaultStore;

/// A job's set and its version. Version 0 means nothing was ever written.
#[derive(Debug)]
pub struct Stored {
    pub secrets: Secrets,
    pub version: u64,
}

/// Why a backend could not do what was asked. Never holds a secret value.
#[derive(Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The expected version is not the stored one.
    Conflict,
    /// Backend `none`.
    NotConfigured,
    /// The backend cannot be reached or refuses to work (sealed, down, no permission).
    Unavailable(String),
    /// What is stored cannot be decoded.
    Corrupt(String),
}

/// The configured backend.
pub enum Store {
    Embedded(EmbeddedStore),
    Vault(VaultStore),
    None,
}

impl Store {
    /// The backend's name, as given on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Store::Embedded(_) => "embedded",
            Store::Vault(_) => "vault",
            Store::None => "none",
        }
    }

    /// The set of `job` and its version.
    pub async fn read(&self, job: &JobRef) -> Result<Stored, StoreError> {
        match self {
            Store::Embedded(s) => s.read(job).await,
            Store::Vault(s) => s.read(job).await,
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
            Store::Embedded(s) => s.write(job, secrets, expected).await,
            Store::Vault(s) => s.write(job, secrets, expected).await,
            Store::None => Err(StoreError::NotConfigured),
        }
    }

    /// Whether the backend can serve requests now.
    pub async fn health(&self) -> Result<(), StoreError> {
        match self {
            Store::Embedded(s) => s.health().await,
            Store::Vault(s) => s.health().await,
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

    /// The set inside the record; errors never quote it.
    pub fn secrets(&self) -> Result<Secrets, StoreError> {
        Secrets::from_json_document(&self.secrets_json).map_err(|e| {
            StoreError::Corrupt(format!(
                "the record of `{}` holds no readable set: {}",
                self.job_name,
                e.report().why
            ))
        })
    }
}
