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

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use vdk_secrets::{JobRef, Secrets};

use super::{
    Backend, BoxFuture, Record, Replaced, StoreError, Stored, VersionMeta, Versions, WriteMeta,
    Written, rfc3339,
};

const MAGIC: &[u8; 4] = b"VDKS";
const FORMAT: u8 = 1;
const HEADER_LEN: usize = 4 + 1 + 8;
const NONCE_LEN: usize = 12;

/// Encrypted files in a directory, one per job.
pub struct EmbeddedStore {
    inner: Arc<Inner>,
    /// Serialises writes so that check-and-set is atomic within this process; the directory
    /// lock keeps other processes out.
    write_lock: Mutex<()>,
    /// The open lock file; the exclusive lock on it lasts as long as this store.
    _dir_lock: File,
}

struct Inner {
    data_dir: PathBuf,
    jobs_dir: PathBuf,
    cipher: Aes256Gcm,
    /// Versions kept per job, the current one included.
    keep_versions: u64,
}

/// Versions kept per job unless configured otherwise.
pub const DEFAULT_KEEP_VERSIONS: u64 = 10;

/// Free space below which the store reports itself unable to take writes.
const MIN_FREE_BYTES: u64 = 16 * 1024 * 1024;

/// What the key-check file holds, sealed with the key.
const KEY_CHECK_TEXT: &[u8] = b"vdk-secrets embedded store key check v1";

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
        let dir_lock = lock_data_dir(data_dir)?;
        let jobs_dir = data_dir.join("jobs");
        create_private_dir(&jobs_dir)?;
        // Only the lock holder may clean up: another process's temporary files are its
        // writes in progress.
        let leftovers = remove_temporary_files(&jobs_dir)?;
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
                    jobs.len(),
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
        };
        inner.check_key(&jobs)?;
        Ok(EmbeddedStore {
            inner: Arc::new(inner),
            write_lock: Mutex::new(()),
            _dir_lock: dir_lock,
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
        let _guard = self.write_lock.lock().await;
        let inner = self.inner.clone();
        let job = job.clone();
        let mut record = Record::new(&job, secrets);
        record.written = Some(Written {
            time: rfc3339(SystemTime::now()),
            author: meta.author.clone(),
            restored_from: meta.restored_from,
        });
        blocking(move || {
            let current = inner.read(&job)?;
            if expected.is_some_and(|v| v != current.version) {
                return Err(StoreError::Conflict);
            }
            inner.keep_as_history(&job, current.version)?;
            let version = current.version + 1;
            inner.write(&job, &record, version)?;
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
    /// Checks at start that the key is the one the data was sealed with: by the key-check
    /// file, or, in a store made before that file existed, by the jobs themselves (then the
    /// key-check file is written for next time).
    fn check_key(&self, jobs: &[PathBuf]) -> Result<(), String> {
        let check_path = self.data_dir.join("key-check");
        let wrong_key = |what: &str| {
            format!(
                "the key file {} does not open {what}: it is not the key this data was \
                 sealed with; restore the key file from the backup taken with this data directory",
                self.data_dir.join("key").display()
            )
        };
        match fs::read(&check_path) {
            Ok(sealed) => {
                return self
                    .open_key_check(&sealed)
                    .then_some(())
                    .ok_or_else(|| wrong_key(&format!("{}", check_path.display())));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", check_path.display())),
        }
        if !jobs.is_empty() && !jobs.iter().any(|path| self.open_file(path).is_ok()) {
            return Err(wrong_key(&format!(
                "any of the {} job(s) in {}",
                jobs.len(),
                self.jobs_dir.display()
            )));
        }
        let sealed = self
            .seal_key_check()
            .map_err(|e| format!("cannot seal the key check: {e:?}"))?;
        write_durably(&self.data_dir, &check_path, &[&sealed])
            .map_err(|e| format!("cannot write {}: {e}", check_path.display()))
    }

    fn seal_key_check(&self) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| StoreError::Unavailable(format!("no randomness for a nonce: {e}")))?;
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), KEY_CHECK_TEXT)
            .map_err(|_| StoreError::Unavailable("encryption failed".into()))?;
        Ok([&nonce[..], &sealed].concat())
    }

    fn open_key_check(&self, sealed: &[u8]) -> bool {
        sealed.len() > NONCE_LEN
            && self
                .cipher
                .decrypt(
                    Nonce::from_slice(&sealed[..NONCE_LEN]),
                    &sealed[NONCE_LEN..],
                )
                .is_ok_and(|plain| plain == KEY_CHECK_TEXT)
    }

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

    fn file_id(job: &JobRef) -> String {
        let digest = Sha256::digest(job.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn current_path(&self, job: &JobRef) -> PathBuf {
        self.jobs_dir.join(format!("{}.vdks", Self::file_id(job)))
    }

    fn history_path(&self, job: &JobRef, version: u64) -> PathBuf {
        self.jobs_dir
            .join(format!("{}.{version}.vdks", Self::file_id(job)))
    }

    fn read(&self, job: &JobRef) -> Result<Stored, StoreError> {
        Ok(self
            .open_path(job, &self.current_path(job))?
            .map_or_else(|| Stored::empty(0), |(stored, _)| stored))
    }

    /// Version `version` of `job` and what its record says of its writing; None when it
    /// cannot be read (never written, or no longer kept).
    fn open_version(
        &self,
        job: &JobRef,
        version: u64,
    ) -> Result<Option<(Stored, VersionMeta)>, StoreError> {
        if version == 0 {
            return Ok(None);
        }
        // A kept version has a file of its own; only the current version needs the current
        // file (read after, so that a listing does not decrypt it once per kept version).
        if let Some(kept) = self.open_path(job, &self.history_path(job, version))? {
            return Ok(Some(kept));
        }
        Ok(self
            .open_path(job, &self.current_path(job))?
            .filter(|(stored, _)| stored.version == version))
    }

    /// The current version and the kept ones, oldest first.
    fn versions(&self, job: &JobRef) -> Result<Versions, StoreError> {
        let Some((current, current_meta)) = self.open_path(job, &self.current_path(job))? else {
            return Ok(Versions::default());
        };
        let mut kept = vec![current_meta];
        // Earlier versions are kept contiguously below the current one.
        for version in (1..current.version).rev() {
            match self.open_path(job, &self.history_path(job, version))? {
                Some((_, meta)) => kept.push(meta),
                None => break,
            }
        }
        kept.reverse();
        Ok(Versions {
            current: current.version,
            kept,
        })
    }

    /// Gives the current version (if any) its history name, before a write replaces it.
    fn keep_as_history(&self, job: &JobRef, current: u64) -> Result<(), StoreError> {
        if current == 0 || self.keep_versions < 2 {
            return Ok(());
        }
        match fs::hard_link(self.current_path(job), self.history_path(job, current)) {
            Ok(()) => Ok(()),
            // Left by a write that crashed after linking: the same file.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
            Err(e) => {
                tracing::warn!(dir = %self.jobs_dir.display(), error = %e, "keeping a version for history failed");
                Err(StoreError::Unavailable(format!(
                    "keeping the current version for history failed: {e}"
                )))
            }
        }
    }

    /// Removes the versions that fell out of the kept range with `version`'s write.
    fn prune(&self, job: &JobRef, version: u64) {
        let mut oldest_gone = version.saturating_sub(self.keep_versions);
        while oldest_gone > 0 {
            match fs::remove_file(self.history_path(job, oldest_gone)) {
                Ok(()) => oldest_gone -= 1,
                Err(e) if e.kind() == ErrorKind::NotFound => break,
                Err(e) => {
                    tracing::warn!(dir = %self.jobs_dir.display(), error = %e, "removing an old version failed; it is kept");
                    break;
                }
            }
        }
    }

    /// Opens the job file at `path` for `job`: None when it does not exist.
    fn open_path(
        &self,
        job: &JobRef,
        path: &Path,
    ) -> Result<Option<(Stored, VersionMeta)>, StoreError> {
        let (version, record) = match self.open_file(path) {
            Ok(opened) => opened,
            Err(FileError::Missing) => return Ok(None),
            Err(FileError::Io(e)) => {
                tracing::warn!(path = %path.display(), error = %e, "reading a job file failed");
                return Err(StoreError::Unavailable(format!(
                    "the job's file cannot be read: {}",
                    e.kind()
                )));
            }
            Err(FileError::Corrupt(why)) => {
                tracing::error!(path = %path.display(), %job, why, "a job file cannot be opened");
                return Err(StoreError::Corrupt(format!("the job's file {why}")));
            }
        };
        if record.job_name != job.to_string() {
            tracing::error!(path = %path.display(), %job, "a job file belongs to another job");
            return Err(StoreError::Corrupt(
                "the job's file belongs to another job".into(),
            ));
        }
        let written = record.written.clone();
        // Records written before history existed carry no time: the file's is close.
        let time = written.as_ref().map(|w| w.time.clone()).or_else(|| {
            fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .map(rfc3339)
        });
        let meta = VersionMeta {
            version,
            time,
            meta: WriteMeta {
                author: written.as_ref().and_then(|w| w.author.clone()),
                restored_from: written.and_then(|w| w.restored_from),
            },
        };
        Ok(Some((record.into_stored(version)?, meta)))
    }

    /// Reads, authenticates and decrypts one job file: its version and record.
    fn open_file(&self, path: &Path) -> Result<(u64, Record), FileError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(FileError::Missing),
            Err(e) => return Err(FileError::Io(e)),
        };
        let stem = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .ok_or(FileError::Corrupt("has no job id in its name"))?;
        // `{id}` for the current version, `{id}.{N}` for a kept one: the id is authenticated,
        // and a kept version's name must match the version inside.
        let (id, named_version) = match stem.split_once('.') {
            Some((id, n)) => (
                id,
                Some(
                    n.parse::<u64>()
                        .map_err(|_| FileError::Corrupt("has a malformed name"))?,
                ),
            ),
            None => (stem, None),
        };
        if bytes.len() < HEADER_LEN + NONCE_LEN || &bytes[..4] != MAGIC {
            return Err(FileError::Corrupt("is not a vdk-secrets file"));
        }
        if bytes[4] != FORMAT {
            return Err(FileError::Corrupt(
                "was written by a newer version of the server",
            ));
        }
        let mut version = [0u8; 8];
        version.copy_from_slice(&bytes[5..HEADER_LEN]);
        let nonce = &bytes[HEADER_LEN..HEADER_LEN + NONCE_LEN];
        let aad = associated_data(&bytes[..HEADER_LEN], id);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: &bytes[HEADER_LEN + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .map_err(|_| {
                FileError::Corrupt("does not decrypt with this key (wrong key file, or altered)")
            })?;
        let record: Record = serde_json::from_slice(&plain)
            .map_err(|_| FileError::Corrupt("decrypts, but holds no record"))?;
        let version = u64::from_be_bytes(version);
        if named_version.is_some_and(|named| named != version) {
            return Err(FileError::Corrupt(
                "holds another version than its name says",
            ));
        }
        Ok((version, record))
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

        let target = self.jobs_dir.join(format!("{id}.vdks"));
        write_durably(&self.jobs_dir, &target, &[&header, &nonce, &sealed]).map_err(|failure| {
            tracing::warn!(dir = %self.jobs_dir.display(), %failure, "writing a job file failed");
            match failure {
                // The new file is in place but may not survive a crash: neither "saved" nor
                // "unchanged" would be true.
                WriteFailure::NotDurable(e) => StoreError::Unknown(format!(
                    "the new set was written but syncing the data directory failed: {e}"
                )),
                WriteFailure::Before(what, e) => {
                    StoreError::Unavailable(format!("{what} in the data directory failed: {e}"))
                }
            }
        })
    }
}

/// Why [`write_durably`] failed.
enum WriteFailure {
    /// Before the rename: the target is unchanged.
    Before(&'static str, std::io::Error),
    /// After the rename: the target holds the new content, which may not survive a crash.
    NotDurable(std::io::Error),
}

impl std::fmt::Display for WriteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteFailure::Before(what, e) => write!(f, "{what}: {e}"),
            WriteFailure::NotDurable(e) => write!(f, "syncing the directory after the rename: {e}"),
        }
    }
}

/// Replaces `target` (in `dir`) with `parts`, all or nothing: a private temporary file is
/// written and synced, renamed over the target, and the directory synced.
fn write_durably(dir: &Path, target: &Path, parts: &[&[u8]]) -> Result<(), WriteFailure> {
    let mut tag = [0u8; 8];
    getrandom::fill(&mut tag).map_err(|e| {
        WriteFailure::Before(
            "drawing a random name",
            std::io::Error::other(e.to_string()),
        )
    })?;
    let suffix: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{name}.{suffix}.tmp"));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(|e| WriteFailure::Before("creating a file", e))?;
        for part in parts {
            file.write_all(part)
                .map_err(|e| WriteFailure::Before("writing", e))?;
        }
        file.sync_all()
            .map_err(|e| WriteFailure::Before("syncing", e))?;
        fs::rename(&temporary, target).map_err(|e| WriteFailure::Before("renaming", e))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written?;
    // The rename itself is durable only once the directory is synced.
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(WriteFailure::NotDurable)
}

/// Why a job file could not be opened.
enum FileError {
    Missing,
    Io(std::io::Error),
    Corrupt(&'static str),
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

/// Takes the exclusive lock of the data directory, or says which process holds it. The kernel
/// drops the lock when the holder exits, however it exits, so a crash leaves no stale lock.
fn lock_data_dir(data_dir: &Path) -> Result<File, String> {
    use std::io::{Read, Seek};
    use std::os::fd::AsRawFd;
    let path = data_dir.join("lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
    // SAFETY: flock on a descriptor this function owns; no memory is shared with the kernel.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if !locked {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(format!("cannot lock {}: {error}", path.display()));
        }
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim();
        let holder = if holder.is_empty() {
            "another process".to_string()
        } else {
            format!("process {holder}")
        };
        return Err(format!(
            "the data directory {} is in use by {holder}: two servers on one directory would \
             lose each other's writes. Stop the other server, or give this one its own \
             --data-dir (to run replicas, use the Vault backend)",
            data_dir.display()
        ));
    }
    // Who holds it, for the message above; the lock, not this text, is what counts.
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()));
    Ok(file)
}

/// The job files in the jobs directory.
fn job_files(jobs_dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        fs::read_dir(jobs_dir).map_err(|e| format!("cannot list {}: {e}", jobs_dir.display()))?;
    Ok(entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "vdks"))
        .collect())
}

/// Reads the 32-byte key; None when the file does not exist. A key that other users can read
/// is refused, as ssh refuses such private keys.
fn load_key(path: &Path) -> Result<Option<[u8; 32]>, String> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read the key file {}: {e}", path.display())),
    };
    crate::auth::check_private_file(path, "key file")?;
    bytes.try_into().map(Some).map_err(|b: Vec<u8>| {
        format!(
            "the key file {} holds {} bytes, not 32; restore it from a backup",
            path.display(),
            b.len()
        )
    })
}

/// Makes a new 32-byte key in a new file of mode 0600.
fn create_key(path: &Path) -> Result<[u8; 32], String> {
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

/// Free bytes for unprivileged users on the file system holding `path`.
fn free_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("the path holds a NUL byte"))?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: a valid NUL-terminated path and a buffer of the right type, which statvfs fills
    // when it returns 0.
    let status = unsafe { libc::statvfs(c_path.as_ptr(), stats.as_mut_ptr()) };
    if status != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it filled the buffer.
    let stats = unsafe { stats.assume_init() };
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
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
