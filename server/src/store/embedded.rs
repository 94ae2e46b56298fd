//! The embedded store: one encrypted file per job in a data directory.
//!
//! ```text
//! {data_dir}/lock                   held (flock) by the one server process using the directory
//! {data_dir}/key                    32 random bytes, mode 0600, made on first start
//! {data_dir}/key-check              a known text sealed with the key: proves the key is the right one
//! {data_dir}/jobs/{sha256(team/job)}.vdks         the current version
//! {data_dir}/jobs/{sha256(team/job)}.{N}.vdks     an earlier version N, kept for history
//!     "VDKS" | format (1 byte) | version (u64, big endian) | nonce (12 bytes) | AES-256-GCM ciphertext
//! ```
//!
//! History: before a write replaces the current file, the current file is hard-linked under
//! its version's name (no copy, and the link is made durable with the write), and versions
//! beyond the number kept (10 by default) are removed after it. A crash between the link and
//! the write leaves an extra name for the current version, which is ignored. Each record
//! carries who wrote it, when, and what it restored, encrypted with the set.
//!
//! The header is authenticated as associated data together with the file's name, so a file
//! copied to another job, or one whose version field was edited, fails to decrypt instead of
//! being served. Putting back an older genuine file of the same job is not detected: that
//! would need a version counter kept outside the data directory. A write goes to a temporary
//! file that is synced and then renamed over the old one: a crash at any point leaves either
//! the old set or the new one, never a mix.
//!
//! Check-and-set is serialised inside one process, so two processes on one directory would
//! lose each other's writes: the second process is refused at start by an exclusive lock on
//! `lock`, which the kernel releases when its holder exits, however it exits. A store whose key
//! is missing or is not the key its data was sealed with is refused at start too, rather than
//! given a new key that would leave the old data unreadable beside the new.

// The store, its `Backend` implementation and its health check are here; `file` holds the
// sealed job file and the crash-safe write, `history` the kept versions, `dir` the data
// directory (lock, private directories, key and key check, listing, free space, leftovers).
mod dir;
mod file;
mod history;

use self::file::FileKey;

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use aes_gcm::aead::KeyInit;
use aes_gcm::{Aes256Gcm, Key};
use tokio::sync::Mutex;
use vdk_secrets::{JobRef, Secrets};

use self::dir::{
    check_parents, create_key, create_private_dir, free_bytes, job_count, job_files, load_key,
    lock_data_dir, remove_temporary_files,
};
use super::{
    Backend, BoxFuture, Replaced, StoreError, Stored, VersionMeta, Versions, WriteMeta, Written,
    record_json, rfc3339,
};

/// Encrypted files in a directory, one per job.
pub struct EmbeddedStore {
    inner: Arc<Inner>,
    /// Serialises writes so that check-and-set is atomic within this process; the directory
    /// lock keeps other processes out. A write's storage thread holds it to the end, even
    /// when the caller stops waiting.
    write_lock: Arc<Mutex<()>>,
}

struct Inner {
    data_dir: PathBuf,
    jobs_dir: PathBuf,
    cipher: Aes256Gcm,
    /// Versions kept per job, the current one included.
    keep_versions: u64,
    /// What the records of job files opened so far say of their writing, by file: a listing
    /// of versions reads it here instead of decrypting every kept file again.
    metas: std::sync::Mutex<HashMap<FileKey, VersionMeta>>,
    /// Job files read and decrypted, for tests to count.
    #[cfg(test)]
    files_opened: std::sync::atomic::AtomicUsize,
    /// The open lock file; the exclusive lock on it lasts as long as the store and every
    /// storage thread still at work (each holds this `Inner`), so that another process
    /// cannot take the directory while a write that outlived its caller is finishing.
    _dir_lock: File,
}

/// Versions kept per job unless configured otherwise.
pub const DEFAULT_KEEP_VERSIONS: u64 = 10;

/// Free space below which the store reports itself unable to take writes.
const MIN_FREE_BYTES: u64 = 16 * 1024 * 1024;

impl EmbeddedStore {
    /// Opens (or creates) the store in `data_dir`: takes the directory's lock, makes the key on
    /// first start, checks that the key is the one the data was sealed with, and removes
    /// temporary files that a crash left behind.
    pub fn open(data_dir: &Path) -> Result<Self, String> {
        Self::open_keeping(data_dir, DEFAULT_KEEP_VERSIONS)
    }

    /// As [`EmbeddedStore::open`], keeping `keep_versions` versions of each job (at least 1:
    /// the current one).
    pub fn open_keeping(data_dir: &Path, keep_versions: u64) -> Result<Self, String> {
        create_private_dir(data_dir)?;
        // From here on the directory is reached by its real path: a link to it, given as
        // --data-dir, cannot be pointed elsewhere while the server runs.
        let (real, warnings) = check_parents(data_dir)?;
        for warning in warnings {
            tracing::warn!("{warning}");
        }
        let data_dir = real.as_path();
        let dir_lock = lock_data_dir(data_dir)?;
        let jobs_dir = data_dir.join("jobs");
        create_private_dir(&jobs_dir)?;
        // Only the lock holder may clean up: another process's temporary files are its
        // writes in progress. The data directory's own are the key's and the key check's.
        let leftovers = remove_temporary_files(&jobs_dir)? + remove_temporary_files(data_dir)?;
        if leftovers > 0 {
            tracing::warn!(
                count = leftovers,
                "removed unfinished writes left by an earlier crash; the sets before them are intact"
            );
        }
        let jobs = job_files(&jobs_dir)?;
        let key_path = data_dir.join("key");
        let key = match load_key(&key_path)? {
            Some(key) => key,
            None if !jobs.is_empty() => {
                return Err(format!(
                    "the key file {} is missing, but {} holds {} encrypted job(s) sealed with it; \
                     restore the key file from the backup taken with this data directory (a new \
                     key could not read them). To start empty instead, move {} away first",
                    key_path.display(),
                    jobs_dir.display(),
                    job_count(&jobs),
                    data_dir.display()
                ));
            }
            None => create_key(&key_path)?,
        };
        let inner = Inner {
            data_dir: data_dir.to_path_buf(),
            jobs_dir,
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)),
            keep_versions: keep_versions.max(1),
            metas: Default::default(),
            #[cfg(test)]
            files_opened: Default::default(),
            _dir_lock: dir_lock,
        };
        inner.check_key(&jobs)?;
        let pruned = inner.prune_beyond_setting(&jobs);
        if pruned > 0 {
            tracing::info!(
                count = pruned,
                keep_versions = inner.keep_versions,
                "removed kept versions beyond --keep-versions"
            );
        }
        Ok(EmbeddedStore {
            inner: Arc::new(inner),
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    async fn read_job(&self, job: &JobRef) -> Result<Stored, StoreError> {
        let inner = self.inner.clone();
        let job = job.clone();
        blocking(move || inner.read(&job)).await
    }

    /// Writes the set as the version after the current one; gives back the current one's
    /// set, which the version check reads anyway.
    async fn write_job(
        &self,
        job: &JobRef,
        secrets: &Secrets,
        expected: Option<u64>,
        meta: &WriteMeta,
    ) -> Result<Replaced, StoreError> {
        let guard = self.write_lock.clone().lock_owned().await;
        let inner = self.inner.clone();
        let job = job.clone();
        let written = Written {
            time: rfc3339(SystemTime::now()),
            author: meta.author.clone(),
            restored_from: meta.restored_from,
        };
        let record = record_json(&job, secrets, Some(&written))?;
        blocking(move || {
            // Dropping the future does not stop this thread: the lock goes with it, so that
            // the next write reads what this one wrote.
            let _guard = guard;
            let current = inner.read(&job)?;
            if expected.is_some_and(|v| v != current.version) {
                return Err(StoreError::Conflict);
            }
            inner.keep_as_history(&job, current.version)?;
            let version = current.version + 1;
            inner.write(&job, &record, version)?;
            inner.remember_written(&job, version, written);
            inner.prune(&job, version);
            Ok(Replaced {
                version,
                previous: Some(current),
            })
        })
        .await
    }
}

impl Backend for EmbeddedStore {
    fn name(&self) -> &'static str {
        "embedded"
    }

    fn read<'a>(&'a self, job: &'a JobRef) -> BoxFuture<'a, Result<Stored, StoreError>> {
        Box::pin(self.read_job(job))
    }

    fn replace<'a>(
        &'a self,
        job: &'a JobRef,
        secrets: &'a Secrets,
        expected: Option<u64>,
        meta: &'a WriteMeta,
    ) -> BoxFuture<'a, Result<Replaced, StoreError>> {
        Box::pin(self.write_job(job, secrets, expected, meta))
    }

    fn versions<'a>(&'a self, job: &'a JobRef) -> BoxFuture<'a, Result<Versions, StoreError>> {
        let (inner, job) = (self.inner.clone(), job.clone());
        Box::pin(blocking(move || inner.versions(&job)))
    }

    fn read_version<'a>(
        &'a self,
        job: &'a JobRef,
        version: u64,
    ) -> BoxFuture<'a, Result<Option<Stored>, StoreError>> {
        let (inner, job) = (self.inner.clone(), job.clone());
        Box::pin(blocking(move || {
            Ok(inner.open_version(&job, version)?.map(|(stored, _)| stored))
        }))
    }

    /// The key still opens the key check, the jobs directory can be listed and written, and
    /// the disk has room for a set.
    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        let inner = self.inner.clone();
        Box::pin(blocking(move || inner.health()))
    }
}

impl Inner {
    fn health(&self) -> Result<(), StoreError> {
        let unavailable = |why: String| {
            tracing::warn!(problem = %why, "embedded store health check failed");
            StoreError::Unavailable(why)
        };
        match fs::read(self.data_dir.join("key-check")) {
            Ok(sealed) if self.open_key_check(&sealed) => {}
            Ok(_) => {
                return Err(unavailable(
                    "the key-check file no longer opens with the server's key".into(),
                ));
            }
            Err(e) => {
                return Err(unavailable(format!(
                    "the key-check file cannot be read: {e}"
                )));
            }
        }
        fs::read_dir(&self.jobs_dir)
            .map_err(|e| unavailable(format!("the jobs directory cannot be listed: {e}")))?;
        let probe = self.jobs_dir.join(".health-probe.tmp");
        let written = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&probe)
            .and_then(|mut file| file.write_all(b"probe"));
        let _ = fs::remove_file(&probe);
        written.map_err(|e| unavailable(format!("the jobs directory cannot be written: {e}")))?;
        let free = free_bytes(&self.jobs_dir)
            .map_err(|e| unavailable(format!("the free disk space cannot be read: {e}")))?;
        if free < MIN_FREE_BYTES {
            return Err(unavailable(format!(
                "the disk holding the data directory has {free} bytes free; writes need at \
                 least {MIN_FREE_BYTES}"
            )));
        }
        Ok(())
    }

    fn read(&self, job: &JobRef) -> Result<Stored, StoreError> {
        Ok(self
            .open_path(job, &self.current_path(job))?
            .map_or_else(|| Stored::empty(0), |(stored, _)| stored))
    }
}

/// Runs storage work on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(StoreError::Unavailable(format!("storage task failed: {e}"))))
}

#[cfg(test)]
mod tests;
