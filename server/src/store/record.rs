//! The record a job's set is stored in: upstream's two fields in Vault, and in the embedded
//! store's files the same with who wrote it and when.

use std::io::{self, Write};

use vdk_secrets::{JobRef, Secrets};

use super::{StoreError, Stored};

/// Upstream's record for a job in Vault, also the embedded store's plaintext:
/// `{"jobName": "{team}/{job}", "secretsJson": "<the set as JSON text>"}`.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Record {
    #[serde(rename = "jobName")]
    pub job_name: String,
    #[serde(rename = "secretsJson")]
    pub secrets_json: String,
    /// Who wrote this version and when, and what it restored: kept in the embedded store's
    /// records only. Vault records stay exactly upstream's two fields (the Vault backend
    /// keeps these in the path's custom metadata instead).
    #[serde(rename = "written", default, skip_serializing_if = "Option::is_none")]
    pub written: Option<Written>,
}

/// What the embedded store records about a write.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Written {
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_from: Option<u64>,
}

impl Record {
    /// Upstream's record: the job's name and its set as JSON text.
    pub fn new(job: &JobRef, secrets: &Secrets) -> Self {
        Record {
            job_name: job.to_string(),
            secrets_json: secrets.to_json(),
            written: None,
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

/// `record` as JSON text, as serde_json prints a [`Record`] whose `secretsJson` is
/// `secrets.to_json()`, byte for byte; but the set is printed once, straight into the escaped
/// text of `secretsJson`, rather than printed and then escaped in a second pass over up to
/// the whole set's size.
pub fn record_json(
    job: &JobRef,
    secrets: &Secrets,
    written: Option<&Written>,
) -> Result<Vec<u8>, StoreError> {
    let failed = |e: serde_json::Error| {
        StoreError::Unavailable(format!("the record of `{job}` could not be written: {e}"))
    };
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"jobName\":");
    serde_json::to_writer(&mut out, &job.to_string()).map_err(failed)?;
    out.extend_from_slice(b",\"secretsJson\":\"");
    serde_json::to_writer(Escaping(&mut out), secrets).map_err(failed)?;
    out.push(b'"');
    if let Some(written) = written {
        out.extend_from_slice(b",\"written\":");
        serde_json::to_writer(&mut out, written).map_err(failed)?;
    }
    out.push(b'}');
    Ok(out)
}

/// Appends what is written to it as the inside of a JSON string, escaped as serde_json
/// escapes a string: `"`, `\` and control characters, nothing else.
struct Escaping<'a>(&'a mut Vec<u8>);

impl Write for Escaping<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        vdk_secrets::secrets::json::escape_into(self.0, bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn job() -> JobRef {
        JobRef::new("team-a", "job \"quoted\"").unwrap()
    }

    #[test]
    fn a_record_is_printed_as_serde_json_prints_it() {
        let sets = [
            json!({}),
            json!({"a": 1}),
            json!({
                "quote\"and\\slash": "say \"hi\" \\ C:\\dir",
                "controls": "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f}",
                "unicode": "é ✓ 😀 \u{2028}",
                "nested": {"b": [1.5, -0.0, null, true, "x\"y"], "a": {"\\": "\\\\"}},
                "big": 18446744073709551615u64,
                "negative": -9223372036854775808i64,
            }),
        ];
        let written = Written {
            time: "2026-12-01T03:04:05Z".into(),
            author: Some("ops \"lead\"".into()),
            restored_from: Some(3),
        };
        for value in sets {
            let serde_json::Value::Object(map) = value else {
                unreachable!()
            };
            let secrets: Secrets = map.into_iter().collect();
            for written in [None, Some(&written)] {
                let expected = serde_json::to_vec(&Record {
                    written: written.cloned(),
                    ..Record::new(&job(), &secrets)
                })
                .unwrap();
                let printed = record_json(&job(), &secrets, written).unwrap();
                assert_eq!(
                    String::from_utf8(printed).unwrap(),
                    String::from_utf8(expected).unwrap()
                );
            }
        }
    }

    #[test]
    fn every_byte_below_space_is_escaped_as_serde_json_escapes_it() {
        let text: String = (0u8..0x80).map(char::from).collect();
        let mut escaped = Vec::new();
        Escaping(&mut escaped).write_all(text.as_bytes()).unwrap();
        let expected = serde_json::to_string(&text).unwrap();
        assert_eq!(
            format!("\"{}\"", String::from_utf8(escaped).unwrap()),
            expected
        );
    }
}
