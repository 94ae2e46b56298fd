//! The data directory: its lock, its private directories, the key and the check that it is
//! the key the data was sealed with, the listing of job files, free space, and the temporary
//! files a crash leaves behind.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use aes_gcm::Nonce;
use aes_gcm::aead::Aead;

use super::Inner;
use super::file::{NONCE_LEN, write_durably};
use crate::store::StoreError;

/// What the key-check file holds, sealed with the key.
const KEY_CHECK_TEXT: &[u8] = b"vdk-secrets embedded store key check v1";

/// Creates `dir` with mode 0700, unless it exists. An existing one must be a directory that
/// only this user (or root) owns and that not every user may write: others could remove or
/// replace the sealed sets and the key. One its group may write is used, with a warning
/// (volumes shared within a group, such as a container's, are made that way).
pub(super) fn create_private_dir(dir: &Path) -> Result<(), String> {
    match fs::create_dir(dir) {
        Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot restrict {}: {e}", dir.display())),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => check_existing_dir(dir),
        Err(e) => Err(format!("cannot create {}: {e}", dir.display())),
    }
}

/// The way out that always works: a directory the server makes itself.
const FRESH_PATH: &str =
    "give --data-dir a path that does not exist yet (the server creates it with mode 0700)";

fn check_existing_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let shown = dir.display();
    let meta = fs::metadata(dir).map_err(|e| {
        if fs::symlink_metadata(dir).is_ok_and(|link| link.file_type().is_symlink()) {
            format!(
                "{shown} is a symbolic link to a path that cannot be read ({e}); give --data-dir \
                 the directory itself, or a path that does not exist yet"
            )
        } else {
            format!("cannot read {shown}: {e}")
        }
    })?;
    if !meta.is_dir() {
        return Err(format!(
            "{shown} is not a directory; give --data-dir a directory, or a path that does not \
             exist yet"
        ));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me && meta.uid() != 0 {
        return Err(format!(
            "the directory {shown} belongs to user {}, who could remove or replace the stored \
             secrets and the key; run `chown {me} -- {}` to give it to this server's user \
             ({me}), or {FRESH_PATH}",
            meta.uid(),
            quoted(dir)
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o002 != 0 {
        // In a shared directory such as /tmp (sticky bit set) others cannot remove the
        // server's files, but can put their own in place of those not written yet (the key,
        // the lock); chmod helps only the owner, and not there.
        let (could, fix) = if mode & 0o1000 != 0 {
            ("put files of their own in it", String::new())
        } else if meta.uid() == me {
            (
                "remove or replace the stored secrets and the key",
                format!("run `chmod o-w -- {}`, or ", quoted(dir)),
            )
        } else {
            (
                "remove or replace the stored secrets and the key",
                String::new(),
            )
        };
        return Err(format!(
            "the directory {shown} can be written by every user (mode {mode:04o}), who could \
             {could}; {fix}{FRESH_PATH}"
        ));
    }
    if mode & 0o020 != 0 {
        tracing::warn!(
            dir = %shown,
            mode = %format_args!("{mode:04o}"),
            "the data directory can be written by its group, whose members could remove or \
             replace the stored secrets and the key; run `chmod g-w` on it unless the group is \
             this server's own"
        );
    }
    Ok(())
}

/// The data directory's real path (links resolved), and warnings about the directories above
/// it. The owner of each of those could rename the data directory and put one of their own in
/// its place, and the server would then read their key and sets: one that another user owns
/// (root excepted), or that every user may write and that is not sticky, is named in a
/// warning. Neither is refused: a container's shared volumes (a Kubernetes `emptyDir`) are
/// made writable by every user, and a checkout that belongs to a user is served by root with
/// `sudo`; the operator decides.
pub(super) fn check_parents(dir: &Path) -> Result<(PathBuf, Vec<String>), String> {
    use std::os::unix::fs::MetadataExt;
    let real =
        fs::canonicalize(dir).map_err(|e| format!("cannot resolve {}: {e}", dir.display()))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let mut warnings = Vec::new();
    for parent in real.ancestors().skip(1) {
        let meta =
            fs::metadata(parent).map_err(|e| format!("cannot read {}: {e}", parent.display()))?;
        let mode = meta.mode() & 0o7777;
        let (who, fix) = if meta.uid() != me && meta.uid() != 0 {
            (
                format!("belongs to user {}, who", meta.uid()),
                format!(
                    "unless user {} may see and change the secrets, give --data-dir a path \
                     under directories that only root or this server's user ({me}) own",
                    meta.uid()
                ),
            )
        } else if mode & 0o002 != 0 && mode & 0o1000 == 0 {
            (
                format!("can be written by every user (mode {mode:04o}), any of whom"),
                format!(
                    "run `chmod +t -- {}` unless only this server can reach it (a container's \
                     own volume)",
                    quoted(parent)
                ),
            )
        } else {
            continue;
        };
        warnings.push(format!(
            "the directory {}, above the data directory, {who} could rename the data directory \
             and put one of their own in its place; {fix}",
            parent.display(),
        ));
    }
    Ok((real, warnings))
}

/// `path` quoted for a POSIX shell.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// Takes the exclusive lock of the data directory, or says which process holds it. The kernel
/// drops the lock when the holder exits, however it exits, so a crash leaves no stale lock.
pub(super) fn lock_data_dir(data_dir: &Path) -> Result<File, String> {
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

/// Reads the 32-byte key; None when the file does not exist. A key that other users can read
/// is refused, as ssh refuses such private keys.
pub(super) fn load_key(path: &Path) -> Result<Option<[u8; 32]>, String> {
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

/// Makes a new 32-byte key in a new file of mode 0600, written whole or not at all: a crash
/// while it is written leaves a temporary file (removed at the next start), never a short key.
pub(super) fn create_key(path: &Path) -> Result<[u8; 32], String> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| format!("no randomness for a key: {e}"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    write_durably(dir, path, &[&key])
        .map_err(|e| format!("cannot create the key file {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "created a new encryption key; back it up with the data directory");
    Ok(key)
}

impl Inner {
    /// Checks at start that the key is the one the data was sealed with: by the key-check
    /// file, or, in a store made before that file existed, by the jobs themselves (then the
    /// key-check file is written for next time).
    pub(super) fn check_key(&self, jobs: &[PathBuf]) -> Result<(), String> {
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
                job_count(jobs),
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

    pub(super) fn open_key_check(&self, sealed: &[u8]) -> bool {
        sealed.len() > NONCE_LEN
            && self
                .cipher
                .decrypt(
                    Nonce::from_slice(&sealed[..NONCE_LEN]),
                    &sealed[NONCE_LEN..],
                )
                .is_ok_and(|plain| plain == KEY_CHECK_TEXT)
    }
}

/// The job files in the jobs directory.
pub(super) fn job_files(jobs_dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        fs::read_dir(jobs_dir).map_err(|e| format!("cannot list {}: {e}", jobs_dir.display()))?;
    Ok(entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "vdks"))
        .collect())
}

/// How many jobs `files` (as [`job_files`] lists them) belong to: each job has one current
/// file, `{id}.vdks`, beside its kept versions, `{id}.{N}.vdks`.
pub(super) fn job_count(files: &[PathBuf]) -> usize {
    files
        .iter()
        .filter(|path| {
            !path
                .file_stem()
                .is_some_and(|stem| stem.to_string_lossy().contains('.'))
        })
        .count()
}

/// Removes the temporary files of unfinished writes from `dir`; gives how many it removed.
pub(super) fn remove_temporary_files(dir: &Path) -> Result<usize, String> {
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

/// Free bytes for unprivileged users on the file system holding `path`.
pub(super) fn free_bytes(path: &Path) -> std::io::Result<u64> {
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
