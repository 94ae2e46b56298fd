//! The Vault backend: KV v2 at `{mount}/data/{team}/{job}`, holding upstream's record, so this
//! server and a VDK Control Service can share one Vault.
//!
//! The KV v2 version is the job's version: reads return it as the ETag, and writes with an
//! expected version use KV v2 check-and-set (`options.cas`), which Vault applies atomically.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use vdk_secrets::http::encode_path_segment;
use vdk_secrets::{JobRef, Secrets};

use super::{Record, StoreError, Stored};

/// How the server logs in to Vault.
pub enum VaultAuth {
    /// A fixed token.
    Token(String),
    /// AppRole: the server logs in, and logs in again before the token expires.
    AppRole { role_id: String, secret_id: String },
}

/// Settings of the Vault backend.
pub struct VaultConfig {
    pub addr: String,
    pub auth: VaultAuth,
    pub mount: String,
    pub namespace: Option<String>,
    /// PEM file with the CA certificate(s) that sign Vault's TLS certificate.
    pub ca_cert: Option<std::path::PathBuf>,
}

/// A token obtained by AppRole login and when to replace it.
struct Login {
    token: String,
    renew_at: Instant,
}

pub struct VaultStore {
    http: reqwest::Client,
    addr: String,
    mount: String,
    namespace: Option<String>,
    auth: VaultAuth,
    login: Mutex<Option<Login>>,
}

impl VaultStore {
    pub fn new(config: VaultConfig) -> Result<Self, String> {
        let addr = config.addr.trim().trim_end_matches('/').to_string();
        if !(addr.starts_with("http://") || addr.starts_with("https://")) {
            return Err(format!(
                "the Vault address `{addr}` must start with http:// or https://"
            ));
        }
        let mount = config.mount.trim_matches('/').to_string();
        if mount.is_empty() {
            return Err("the KV v2 mount must not be empty".into());
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15));
        if let Some(path) = &config.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read the CA certificate {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("{} holds no PEM certificate: {e}", path.display()))?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot start the HTTP client for Vault: {e}"))?;
        Ok(VaultStore {
            http,
            addr,
            mount,
            namespace: config.namespace.filter(|n| !n.is_empty()),
            auth: config.auth,
            login: Mutex::new(None),
        })
    }

    fn data_url(&self, job: &JobRef) -> String {
        format!(
            "{}/v1/{}/data/{}/{}",
            self.addr,
            self.mount,
            encode_path_segment(job.team()),
            encode_path_segment(job.job())
        )
    }

    pub async fn read(&self, job: &JobRef) -> Result<Stored, StoreError> {
        let (status, body) = self.call(Method::GET, &self.data_url(job), None).await?;
        // Typed, so that the hot path builds no intermediate JSON tree.
        #[derive(serde::Deserialize)]
        struct Envelope {
            data: Option<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            data: Option<Record>,
            metadata: Option<Metadata>,
        }
        #[derive(serde::Deserialize)]
        struct Metadata {
            version: u64,
        }
        let envelope = || {
            serde_json::from_slice::<Envelope>(&body).map_err(|_| {
                StoreError::Corrupt(format!(
                    "the Vault entry of `{job}` is not a record with jobName and secretsJson"
                ))
            })
        };
        let version_of = |entry: &Entry| entry.metadata.as_ref().map_or(0, |m| m.version);
        match status {
            StatusCode::OK => match envelope()?.data {
                Some(Entry {
                    data: Some(record),
                    metadata,
                }) => record.into_stored(metadata.map_or(0, |m| m.version)),
                // The latest version was deleted: an empty set at that version.
                Some(entry) => Ok(Stored::empty(version_of(&entry))),
                None => Ok(Stored::empty(0)),
            },
            // Never written, or every version deleted (then metadata keeps the version).
            StatusCode::NOT_FOUND => {
                let version = envelope()
                    .ok()
                    .and_then(|e| e.data)
                    .map_or(0, |e| version_of(&e));
                Ok(Stored::empty(version))
            }
            other => Err(unexpected(other, &parse(&body))),
        }
    }

    pub async fn write(
        &self,
        job: &JobRef,
        secrets: &Secrets,
        expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        let mut payload = json!({ "data": Record::new(job, secrets) });
        if let Some(version) = expected {
            payload["options"] = json!({ "cas": version });
        }
        let (status, body) = self
            .call(Method::POST, &self.data_url(job), Some(&payload))
            .await?;
        let body = parse(&body);
        match status {
            StatusCode::OK | StatusCode::NO_CONTENT => Ok(body
                .pointer("/data/version")
                .and_then(Value::as_u64)
                .unwrap_or(0)),
            StatusCode::BAD_REQUEST if errors_text(&body).contains("check-and-set") => {
                Err(StoreError::Conflict)
            }
            other => Err(unexpected(other, &body)),
        }
    }

    pub async fn health(&self) -> Result<(), StoreError> {
        let url = format!("{}/v1/sys/health", self.addr);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        match response.status().as_u16() {
            200 | 429 | 472 | 473 => Ok(()),
            503 => Err(StoreError::Unavailable("Vault is sealed".into())),
            501 => Err(StoreError::Unavailable("Vault is not initialized".into())),
            s => Err(StoreError::Unavailable(format!(
                "Vault health answered {s}"
            ))),
        }
    }

    /// One authenticated call; with AppRole, a refused token is replaced and the call repeated
    /// once (the token may have been revoked or expired early).
    async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, bytes::Bytes), StoreError> {
        let mut relogged = false;
        loop {
            let token = self.token(relogged).await?;
            let mut request = self
                .http
                .request(method.clone(), url)
                .header("X-Vault-Token", token);
            if let Some(ns) = &self.namespace {
                request = request.header("X-Vault-Namespace", ns);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|e| self.unreachable(e))?;
            let status = response.status();
            let body = response.bytes().await.map_err(|e| self.unreachable(e))?;
            if status == StatusCode::FORBIDDEN
                && matches!(self.auth, VaultAuth::AppRole { .. })
                && !relogged
            {
                relogged = true;
                continue;
            }
            return Ok((status, body));
        }
    }

    /// The token to use; AppRole logs in when there is no token, when it is two thirds
    /// through its life, or when `force` says the last one was refused.
    async fn token(&self, force: bool) -> Result<String, StoreError> {
        let (role_id, secret_id) = match &self.auth {
            VaultAuth::Token(token) => return Ok(token.clone()),
            VaultAuth::AppRole { role_id, secret_id } => (role_id, secret_id),
        };
        let mut login = self.login.lock().await;
        if let Some(current) = login.as_ref() {
            if !force && Instant::now() < current.renew_at {
                return Ok(current.token.clone());
            }
        }
        let url = format!("{}/v1/auth/approle/login", self.addr);
        let mut request = self
            .http
            .post(&url)
            .json(&json!({"role_id": role_id, "secret_id": secret_id}));
        if let Some(ns) = &self.namespace {
            request = request.header("X-Vault-Namespace", ns);
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let token = body
            .pointer("/auth/client_token")
            .and_then(Value::as_str)
            .filter(|_| status.is_success());
        let Some(token) = token else {
            return Err(StoreError::Unavailable(format!(
                "AppRole login to Vault failed ({status}): {}",
                errors_text(&body)
            )));
        };
        let ttl = body
            .pointer("/auth/lease_duration")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        // A lease of 0 means the token does not expire.
        let life = if ttl == 0 {
            Duration::from_secs(3600)
        } else {
            Duration::from_secs(ttl) * 2 / 3
        };
        tracing::info!(ttl_seconds = ttl, "logged in to Vault with AppRole");
        *login = Some(Login {
            token: token.to_string(),
            renew_at: Instant::now() + life,
        });
        Ok(token.to_string())
    }

    fn unreachable(&self, e: reqwest::Error) -> StoreError {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            text = format!("{text}: {cause}");
            source = cause.source();
        }
        StoreError::Unavailable(format!("Vault at {} is unreachable: {text}", self.addr))
    }
}

/// A Vault answer as JSON; null when it is none.
fn parse(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// Vault's `errors` array as one line (Vault's messages name paths, never data).
fn errors_text(body: &Value) -> String {
    let text = body
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    let text: String = text
        .chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.is_empty() {
        "no details".into()
    } else {
        text
    }
}

fn unexpected(status: StatusCode, body: &Value) -> StoreError {
    let why = match status.as_u16() {
        503 => "Vault is sealed or unavailable".to_string(),
        403 => "Vault refused the server's token (permission denied or expired)".to_string(),
        s => format!("Vault answered {s}"),
    };
    StoreError::Unavailable(format!("{why}: {}", errors_text(body)))
}
