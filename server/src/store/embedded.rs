//! The embedded store: one encrypted file per job in a data directory.
//!
//! ```text
//! {data_dir}/key                    32 random bytes, mode 0600, made on first start
//! {data_dir}/jobs/{sha256(team/job)}.vdks
//!     "VDKS" | format (1 byte) | version (u64, big endian) | nonce (12 bytes) | AES-256-GCM ciphertext
//! ```
//!
//! The header is authenticated as associated data together with the file's name, so a file
//! copied to another job, or one whose version field was edited, fails to decrypt instead of
//! being served. Putting back an older genuine file of the same job is not detected: that
//! would need a version counter kept outside the data directory. A write goes to a temporary
//! file that is synced and then renamed over the old one: a crash at any point leaves either
//! the old set or the new one, never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use vdk_secrets::{JobRef, Secrets};

use super::{Record, StoreError, Stored};

const MAGIC: &[u8; 4] = b"VDKS";
const FORMAT: u8 = 1;
const HEADER_LEN: usize = 4 + 1 + 8;
const NONCE_LEN: usize = 12;

/// Encrypted files in a directory, one per job.
pub struct EmbeddedStore {
    inner: Arc<Inner>,
    /// Serialises writes so that check-and-set is atomic within this process.
    write_lock: Mutex<()>,
}

struct Inner {
    jobs_dir: PathBuf,
    cipher: Aes256Gcm,
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `data_dir`, making the key on first start and removing
    /// temporary files that a crash left behind.
    pub fn open(data_dir: &Path) -> Result<Self, String> {
        create_private_dir(data_dir)?;
        let key = load_or_create_key(&data_dir.join("key"))?;
        let jobs_dir = data_dir.join("jobs");
        create_private_dir(&jobs_dir)?;
        let leftovers = remove_temporary_files(&jobs_dir)?;
        if leftovers > 0 {
            tracing::warn!(
                count = leftovers,
                "removed unfinished writes left by an earlier crash; the sets before them are intact"
            );
        }
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key));
        Ok(EmbeddedStore {
            inner: Arc::new(Inner { jobs_dir, cipher }),
            write_lock: Mutex::new(()),
        })
    }

    pub async fn read(&self, job: &JobRef) -> Result<Stored, StoreError> {
        let inner = self.inner.clone();
        let job = job.clone();
        blocking(move || inner.read(&job)).await
    }

    pub async fn write(
        &self,
        job: &JobRef,
        secrets: &Secrets,
        expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        let _guard = self.write_lock.lock().await;
        let inner = self.inner.clone();
        let job = job.clone();
        let record = Record::new(&job, secrets);
        blocking(move || {
            let current = inner.read(&job)?.version;
            if expected.is_some_and(|v| v != current) {
                return Err(StoreError::Conflict);
            }
            let version = current + 1;
            inner.write(&job, &record, version)?;
            Ok(version)
        })
        .await
    }

    pub async fn health(&self) -> Result<(), StoreError> {
        let dir = self.inner.jobs_dir.clone();
        blocking(move || {
            fs::read_dir(&dir)
                .map(|_| ())
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))
        })
        .await
    }
}

impl Inner {
    fn file_id(job: &JobRef) -> String {
        let digest = Sha256::digest(job.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn read(&self, job: &JobRef) -> Result<Stored, StoreError> {
        let id = Self::file_id(job);
        let path = self.jobs_dir.join(format!("{id}.vdks"));
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Stored::empty(0)),
            Err(e) => {
                return Err(StoreError::Unavailable(format!(
                    "reading {}: {e}",
                    path.display()
                )));
            }
        };
        let corrupt = |why: &str| StoreError::Corrupt(format!("{}: {why}", path.display()));
        if bytes.len() < HEADER_LEN + NONCE_LEN || &bytes[..4] != MAGIC {
            return Err(corrupt("not a vdk-secrets file"));
        }
        if bytes[4] != FORMAT {
            return Err(corrupt("written by a newer version of the server"));
        }
        let version = u64::from_be_bytes(bytes[5..HEADER_LEN].try_into().expect("8 bytes"));
        let nonce = &bytes[HEADER_LEN..HEADER_LEN + NONCE_LEN];
        let aad = associated_data(&bytes[..HEADER_LEN], &id);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: &bytes[HEADER_LEN + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .map_err(|_| corrupt("does not decrypt with this key (wrong key file, or altered)"))?;
        let record: Record =
            serde_json::from_slice(&plain).map_err(|_| corrupt("decrypts, but holds no record"))?;
        if record.job_name != job.to_string() {
            return Err(corrupt("belongs to another job"));
        }
        record.into_stored(version)
    }

    fn write(&self, job: &JobRef, record: &Record, version: u64) -> Result<(), StoreError> {
        let id = Self::file_id(job);
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.push(FORMAT);
        header.extend_from_slice(&version.to_be_bytes());
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| StoreError::Unavailable(format!("no randomness for a nonce: {e}")))?;
        let plain = serde_json::to_vec(record).expect("a record serializes");
        let aad = associated_data(&header, &id);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .map_err(|_| StoreError::Unavailable("encryption failed".into()))?;

        let mut tag = [0u8; 8];
        getrandom::fill(&mut tag)
            .map_err(|e| StoreError::Unavailable(format!("no randomness: {e}")))?;
        let suffix: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        let temporary = self.jobs_dir.join(format!(".{id}.{suffix}.tmp"));
        let target = self.jobs_dir.join(format!("{id}.vdks"));
        let io = |what: &str, e: std::io::Error| {
            StoreError::Unavailable(format!("{what} in {}: {e}", self.jobs_dir.display()))
        };
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temporary)
                .map_err(|e| io("creating a file", e))?;
            file.write_all(&header)
                .and_then(|()| file.write_all(&nonce))
                .and_then(|()| file.write_all(&sealed))
                .map_err(|e| io("writing", e))?;
            file.sync_all().map_err(|e| io("syncing", e))?;
            fs::rename(&temporary, &target).map_err(|e| io("renaming", e))?;
            // The rename itself is durable only once the directory is synced.
            File::open(&self.jobs_dir)
                .and_then(|dir| dir.sync_all())
                .map_err(|e| io("syncing the directory", e))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        result
    }
}

fn associated_data(header: &[u8], file_id: &str) -> Vec<u8> {
    let mut aad = header.to_vec();
    aad.extend_from_slice(file_id.as_bytes());
    aad
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(StoreError::Unavailable(format!("storage task failed: {e}"))))
}

fn create_private_dir(dir: &Path) -> Result<(), String> {
    match fs::create_dir(dir) {
        Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot restrict {}: {e}", dir.display())),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("cannot create {}: {e}", dir.display())),
    }
}

/// Reads the 32-byte key, or creates it (mode 0600) if the file does not exist. A key that
/// other users can read is refused, as ssh refuses such private keys.
fn load_or_create_key(path: &Path) -> Result<[u8; 32], String> {
    match fs::read(path) {
        Ok(bytes) => {
            let mode = fs::metadata(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(format!(
                    "the key file {} can be read by other users (mode {:o}); run `chmod 600 {}`",
                    path.display(),
                    mode & 0o777,
                    path.display()
                ));
            }
            bytes.try_into().map_err(|b: Vec<u8>| {
                format!(
                    "the key file {} holds {} bytes, not 32; restore it from a backup",
                    path.display(),
                    b.len()
                )
            })
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| format!("no randomness for a key: {e}"))?;
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("cannot create the key file {}: {e}", path.display()))?;
            file.write_all(&key)
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("cannot write the key file {}: {e}", path.display()))?;
            tracing::info!(path = %path.display(), "created a new encryption key; back it up with the data directory");
            Ok(key)
        }
        Err(e) => Err(format!("cannot read the key file {}: {e}", path.display())),
    }
}

fn remove_temporary_files(dir: &Path) -> Result<usize, String> {
    let mut removed = 0;
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".tmp") && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests;
