//! The audit log: one JSON line per successful write, saying who changed which names of
//! which job, and what a restore restored. Never a value, never a token.
//!
//! ```text
//! {"time":"2026-12-01T03:04:05Z","who":"alice","team":"t","job":"j","version":8,
//!  "added":["new"],"changed":["db_password"],"removed":[],"restoredFrom":null}
//! ```
//!
//! Lines go to `--audit-log FILE` (appended, one write per line, synced) or, without it, to
//! the server's log as `audit` events.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;
use vdk_secrets::JobRef;

use crate::store::{NameDiff, rfc3339};

/// Where audit records go.
pub enum Audit {
    /// The server's log.
    Log,
    /// A file of JSON lines.
    File(Mutex<File>),
}

/// One successful write.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record<'a> {
    pub time: String,
    /// The token holder's name; null for a token without one.
    pub who: Option<&'a str>,
    pub team: &'a str,
    pub job: &'a str,
    pub version: u64,
    #[serde(flatten)]
    pub names: &'a NameDiff,
    pub restored_from: Option<u64>,
}

impl Audit {
    /// Appends to `path` (created with mode 0600 if missing).
    pub fn to_file(path: &Path) -> Result<Audit, String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("cannot open the audit log {}: {e}", path.display()))?;
        Ok(Audit::File(Mutex::new(file)))
    }

    /// Records a write of `job` that made `version`.
    pub fn record(
        &self,
        who: Option<&str>,
        job: &JobRef,
        version: u64,
        names: &NameDiff,
        restored_from: Option<u64>,
    ) {
        let record = Record {
            time: rfc3339(std::time::SystemTime::now()),
            who,
            team: job.team(),
            job: job.job(),
            version,
            names,
            restored_from,
        };
        let Ok(line) = serde_json::to_string(&record) else {
            return;
        };
        match self {
            Audit::Log => tracing::info!(target: "audit", "{line}"),
            Audit::File(file) => {
                let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
                let written = file
                    .write_all(format!("{line}\n").as_bytes())
                    .and_then(|()| file.sync_data());
                if let Err(e) = written {
                    tracing::error!(error = %e, record = %line, "the audit log could not be written");
                }
            }
        }
    }
}
