//! The sealed job file: its name, its format, and the crash-safe write that puts a new one
//! in place.
//!
//! A job file is `"VDKS" | format | version | nonce | ciphertext`, with the header and the
//! job's id (taken from the file's name) authenticated as associated data. A kept version is
//! the same file under the name `{id}.{N}.vdks`, and its name must match the version inside.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use aes_gcm::Nonce;
use aes_gcm::aead::{Aead, Payload};
use sha2::{Digest, Sha256};
use vdk_secrets::JobRef;

use super::Inner;
use crate::store::{Record, StoreError, Stored, VersionMeta, WriteMeta, rfc3339};

const MAGIC: &[u8; 4] = b"VDKS";
const FORMAT: u8 = 1;
const HEADER_LEN: usize = 4 + 1 + 8;
pub(super) const NONCE_LEN: usize = 12;

impl Inner {
    /// The job's id in file names: the SHA-256 of `team/job`, in hex.
    pub(super) fn file_id(job: &JobRef) -> String {
        let digest = Sha256::digest(job.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The file of the job's current version.
    pub(super) fn current_path(&self, job: &JobRef) -> PathBuf {
        self.jobs_dir.join(format!("{}.vdks", Self::file_id(job)))
    }

    /// The file of a kept version of the job.
    pub(super) fn history_path(&self, job: &JobRef, version: u64) -> PathBuf {
        self.jobs_dir
            .join(format!("{}.{version}.vdks", Self::file_id(job)))
    }

    /// Opens the job file at `path` for `job`: None when it does not exist.
    pub(super) fn open_path(
        &self,
        job: &JobRef,
        path: &Path,
    ) -> Result<Option<(Stored, VersionMeta)>, StoreError> {
        let (version, record, key) = match self.open_file(path) {
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
        let stored = record.into_stored(version)?;
        self.remember_meta(key, &meta);
        Ok(Some((stored, meta)))
    }

    /// Reads, authenticates and decrypts one job file: its version and record, and its key.
    pub(super) fn open_file(&self, path: &Path) -> Result<(u64, Record, FileKey), FileError> {
        let (bytes, file) = match read_with_metadata(path) {
            Ok(read) => read,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(FileError::Missing),
            Err(e) => return Err(FileError::Io(e)),
        };
        #[cfg(test)]
        self.files_opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // `{id}` for the current version, `{id}.{N}` for a kept one: the id is authenticated,
        // and a kept version's name must match the version inside.
        let (id, named_version) = name_parts(path)?;
        let (version, nonce) = header(&bytes)?;
        let aad = associated_data(&bytes[..HEADER_LEN], id);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(&nonce),
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
        if named_version.is_some_and(|named| named != version) {
            return Err(FileError::Corrupt(
                "holds another version than its name says",
            ));
        }
        Ok((version, record, FileKey::new(id, version, nonce, &file)))
    }

    /// Seals `record` (a record's JSON text, see [`crate::store::record_json`]) as `version`
    /// of `job` and puts it in place of the current file.
    pub(super) fn write(
        &self,
        job: &JobRef,
        record: &[u8],
        version: u64,
    ) -> Result<(), StoreError> {
        let id = Self::file_id(job);
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.push(FORMAT);
        header.extend_from_slice(&version.to_be_bytes());
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| StoreError::Unavailable(format!("no randomness for a nonce: {e}")))?;
        let aad = associated_data(&header, &id);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: record,
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
pub(super) enum WriteFailure {
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
pub(super) fn write_durably(
    dir: &Path,
    target: &Path,
    parts: &[&[u8]],
) -> Result<(), WriteFailure> {
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
pub(super) enum FileError {
    Missing,
    Io(std::io::Error),
    Corrupt(&'static str),
}

/// What the cipher authenticates besides the ciphertext: the header and the job's id.
fn associated_data(header: &[u8], file_id: &str) -> Vec<u8> {
    let mut aad = header.to_vec();
    aad.extend_from_slice(file_id.as_bytes());
    aad
}

/// Which sealing a job file holds: the job's id (from the file's name), the version and the
/// random nonce it was sealed with (unique to each write), and the file's inode, length and
/// modification time. A kept version is the file that was current, under a second name (a
/// hard link: the same inode, length and modification time), and a file is never changed once
/// written, so what its record says can be remembered by this key. A file copied from another
/// job, or changed in place, has another key, and is read again.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct FileKey {
    id: String,
    version: u64,
    nonce: [u8; NONCE_LEN],
    inode: (u64, u64),
    len: u64,
    modified: (i64, i64),
}

impl FileKey {
    fn new(id: &str, version: u64, nonce: [u8; NONCE_LEN], file: &fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileKey {
            id: id.to_string(),
            version,
            nonce,
            inode: (file.dev(), file.ino()),
            len: file.len(),
            modified: (file.mtime(), file.mtime_nsec()),
        }
    }

    /// The key of the file at `path`, from its name, its first bytes and its metadata only
    /// (nothing is decrypted); None when it cannot be read or is not a job file.
    pub(super) fn read(path: &Path) -> Option<Self> {
        use std::io::Read;
        let (id, _) = name_parts(path).ok()?;
        let mut file = File::open(path).ok()?;
        let meta = file.metadata().ok()?;
        let mut start = [0u8; HEADER_LEN + NONCE_LEN];
        file.read_exact(&mut start).ok()?;
        let (version, nonce) = header(&start).ok()?;
        Some(Self::new(id, version, nonce, &meta))
    }
}

/// A job file's name: the job's id, and the version it says for a kept version
/// (`{id}.{N}.vdks`); None for the current one (`{id}.vdks`).
fn name_parts(path: &Path) -> Result<(&str, Option<u64>), FileError> {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .ok_or(FileError::Corrupt("has no job id in its name"))?;
    match stem.split_once('.') {
        Some((id, n)) => {
            let named = n
                .parse::<u64>()
                .map_err(|_| FileError::Corrupt("has a malformed name"))?;
            Ok((id, Some(named)))
        }
        None => Ok((stem, None)),
    }
}

/// The version and the nonce in a job file's first bytes, once they are known to be a job
/// file of this format.
fn header(bytes: &[u8]) -> Result<(u64, [u8; NONCE_LEN]), FileError> {
    if bytes.len() < HEADER_LEN + NONCE_LEN || &bytes[..4] != MAGIC {
        return Err(FileError::Corrupt("is not a vdk-secrets file"));
    }
    if bytes[4] > FORMAT {
        return Err(FileError::Corrupt(
            "was written by a newer version of the server",
        ));
    }
    if bytes[4] != FORMAT {
        // No earlier format exists: the byte was damaged.
        return Err(FileError::Corrupt("has a damaged header (unknown format)"));
    }
    let mut version = [0u8; 8];
    version.copy_from_slice(&bytes[5..HEADER_LEN]);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&bytes[HEADER_LEN..HEADER_LEN + NONCE_LEN]);
    Ok((u64::from_be_bytes(version), nonce))
}

/// The bytes of the file at `path`, and the metadata of the file they were read from.
fn read_with_metadata(path: &Path) -> std::io::Result<(Vec<u8>, fs::Metadata)> {
    use std::io::Read;
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    Ok((bytes, meta))
}
