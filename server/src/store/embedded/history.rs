//! Kept versions: before a write replaces the current file, the file is hard-linked under
//! its version's name, and versions that fall out of the kept range are removed after the
//! write. Kept versions lie contiguously below the current one.

use std::collections::HashMap;
use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;

use vdk_secrets::JobRef;

use super::{FileKey, Inner};
use crate::store::{StoreError, Stored, VersionMeta, Versions, WriteMeta, Written};

impl Inner {
    /// Version `version` of `job` and what its record says of its writing; None when it
    /// cannot be read (never written, or no longer kept).
    pub(super) fn open_version(
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

    /// The current version and the kept ones, oldest first. Files whose record was read
    /// before are not decrypted again: a listing right after a write decrypts the new file
    /// only, since the version it replaced is the same file under its kept name.
    pub(super) fn versions(&self, job: &JobRef) -> Result<Versions, StoreError> {
        let Some(current) = self.meta_at(job, &self.current_path(job), None)? else {
            return Ok(Versions::default());
        };
        let newest = current.version;
        let mut kept = vec![current];
        // Earlier versions are kept contiguously below the current one.
        for version in (1..newest).rev() {
            match self.meta_at(job, &self.history_path(job, version), Some(version))? {
                Some(meta) => kept.push(meta),
                None => break,
            }
        }
        kept.reverse();
        Ok(Versions {
            current: newest,
            kept,
        })
    }

    /// What the record of the job file at `path` says of its writing: remembered when the
    /// same sealing was read before (and, for a kept version, holds the version its name
    /// says), else read from the file. None when there is no such file.
    fn meta_at(
        &self,
        job: &JobRef,
        path: &std::path::Path,
        named: Option<u64>,
    ) -> Result<Option<VersionMeta>, StoreError> {
        if let Some(key) = FileKey::read(path) {
            let remembered = self
                .metas
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
                .cloned();
            if let Some(meta) = remembered.filter(|m| named.is_none_or(|n| n == m.version)) {
                return Ok(Some(meta));
            }
        }
        Ok(self.open_path(job, path)?.map(|(_, meta)| meta))
    }

    /// Remembers what the job's current file, just written as `version`, says of its
    /// writing: a listing after a write then decrypts no file for it but to read its set.
    pub(super) fn remember_written(&self, job: &JobRef, version: u64, written: Written) {
        if let Some(key) = FileKey::read(&self.current_path(job)) {
            let meta = VersionMeta {
                version,
                time: Some(written.time),
                meta: WriteMeta {
                    author: written.author,
                    restored_from: written.restored_from,
                },
            };
            self.remember_meta(key, &meta);
        }
    }

    /// Remembers what the record of the file with `key` says, for [`Inner::versions`]. The
    /// entries are small (a version, a time, an author); past a bound they are dropped all
    /// at once and the next listings read their files again.
    pub(super) fn remember_meta(&self, key: FileKey, meta: &VersionMeta) {
        const MAX_REMEMBERED: usize = 65_536;
        let mut metas = self.metas.lock().unwrap_or_else(|p| p.into_inner());
        if metas.len() >= MAX_REMEMBERED {
            metas.clear();
        }
        metas.insert(key, meta.clone());
    }

    /// Gives the current version (if any) its history name, before a write replaces it.
    pub(super) fn keep_as_history(&self, job: &JobRef, current: u64) -> Result<(), StoreError> {
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

    /// Removes, of each job's kept versions among `files` (as `job_files` lists them), all
    /// but the newest the setting keeps. After `--keep-versions` is lowered, the versions it
    /// no longer covers go at start, not at each job's next write (a job never written again
    /// would keep them, readable by number, for good). Gives how many files went.
    pub(super) fn prune_beyond_setting(&self, files: &[PathBuf]) -> usize {
        let mut kept: HashMap<&str, Vec<(u64, &PathBuf)>> = HashMap::new();
        for path in files {
            let stem = path.file_stem().and_then(|stem| stem.to_str());
            if let Some((id, version)) = stem.and_then(|stem| stem.split_once('.')) {
                if let Ok(version) = version.parse::<u64>() {
                    kept.entry(id).or_default().push((version, path));
                }
            }
        }
        let keep = usize::try_from(self.keep_versions.saturating_sub(1)).unwrap_or(usize::MAX);
        let mut removed = 0;
        for mut versions in kept.into_values() {
            versions.sort_unstable_by_key(|&(version, _)| std::cmp::Reverse(version));
            for (_, path) in versions.into_iter().skip(keep) {
                match fs::remove_file(path) {
                    Ok(()) => removed += 1,
                    Err(e) => {
                        tracing::warn!(dir = %self.jobs_dir.display(), error = %e, "removing a version beyond --keep-versions failed; it is kept");
                    }
                }
            }
        }
        removed
    }

    /// Removes the versions that fell out of the kept range with `version`'s write.
    pub(super) fn prune(&self, job: &JobRef, version: u64) {
        // Keeping one version, the version just replaced was given no file of its own, so the
        // walk starts below it, where files kept under a larger setting may remain.
        let mut oldest_gone = version.saturating_sub(self.keep_versions.max(2));
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
}
