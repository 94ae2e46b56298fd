//! The compiled-component cache: a component is compiled once and kept, by its hash and
//! wasmtime's compatibility hash, in a directory only this user can write to. Compiled code is
//! run as it is, so every read checks who owns the file and who may write to it.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Loads a component, compiling it only once: the compiled form is kept in `cache_dir`,
/// named by the component's hash and the engine's compatibility hash.
pub fn load(engine: &Engine, path: &Path, cache_dir: Option<&Path>) -> Result<Component, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read the component {}: {e}", path.display()))?;
    let Some(cache_dir) = cache_dir else {
        return Component::new(engine, &bytes).map_err(|e| invalid_component(path, &e));
    };
    let mut hasher = Sha256::new();
    hasher.update(&bytes);
    std::hash::Hash::hash(
        &engine.precompile_compatibility_hash(),
        &mut HashWriter(&mut hasher),
    );
    let key: String = hasher
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    let cached = cache_dir.join(format!("{key}.cwasm"));
    // Compiled code is run as it is: only a directory nobody else can write to may hold it.
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(cache_dir);
    let trusted = match private_to_this_user(cache_dir) {
        Ok(()) => true,
        Err(why) => {
            eprintln!(
                "vdk-job-runner: not using the cache {}: {why}; compiling afresh",
                cache_dir.display()
            );
            false
        }
    };
    if let Some(compiled) = trusted.then(|| read_private_file(&cached)).flatten() {
        // SAFETY: the bytes were written by `precompile_component` of an engine with the same
        // compatibility hash (part of the name), into a directory only this user can write;
        // the file they were read from was, as opened, this user's and writable by no one else.
        if let Ok(component) = unsafe { Component::deserialize(engine, &compiled) } {
            return Ok(component);
        }
    }
    let compiled = engine
        .precompile_component(&bytes)
        .map_err(|e| invalid_component(path, &e))?;
    let temporary = cache_dir.join(format!(".{key}.{}.tmp", std::process::id()));
    let written = trusted
        && std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .and_then(|mut file| file.write_all(&compiled))
            .is_ok();
    if written {
        let _ = std::fs::rename(&temporary, &cached);
    } else {
        let _ = std::fs::remove_file(&temporary);
    }
    // SAFETY: `compiled` was just produced by this engine.
    unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| invalid_component(path, &e))
}

/// The contents of `path` when, as opened (a link is not followed), it is a file of this user
/// that no one else can write: checked on the open file, so a swap after the check is harmless.
fn read_private_file(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || owner_problem(&meta).is_some() {
        return None;
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Ok when `path` (not followed if a link) is owned by this user and writable by no one else.
fn private_to_this_user(path: &Path) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if meta.file_type().is_symlink() {
        Err("it is a symbolic link".into())
    } else {
        owner_problem(&meta).map_or(Ok(()), Err)
    }
}

/// What is wrong with the owner or mode of a file or directory, if anything.
fn owner_problem(meta: &std::fs::Metadata) -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        Some(format!(
            "it belongs to user {}, not to this user",
            meta.uid()
        ))
    } else if meta.mode() & 0o022 != 0 {
        Some("others can write to it (chmod go-w, or remove it)".into())
    } else {
        None
    }
}

fn invalid_component(path: &Path, e: &wasmtime::Error) -> String {
    format!("{} is not a usable component: {e:#}", path.display())
}

/// Feeds `Hash` output into SHA-256.
struct HashWriter<'a>(&'a mut Sha256);

impl std::hash::Hasher for HashWriter<'_> {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// A cache directory for compiled components: `$XDG_CACHE_HOME` or `~/.cache`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|base| base.join("vdk-job-runner"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_private_regular_file_of_this_user_is_read_from_the_cache() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.cwasm");
        std::fs::write(&file, b"compiled").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_private_file(&file).as_deref(), Some(&b"compiled"[..]));

        // Writable by others: not trusted.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(read_private_file(&file), None);
        assert!(
            private_to_this_user(&file)
                .unwrap_err()
                .contains("others can write")
        );

        // A link, even to a private file: not followed.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("b.cwasm");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_private_file(&link), None);
        assert!(
            private_to_this_user(&link)
                .unwrap_err()
                .contains("symbolic link")
        );

        // A directory where a file is expected: not read.
        assert_eq!(read_private_file(dir.path()), None);
    }
}
