//! `vdk-secrets-server`: the command line of the reference Secrets API server.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use clap::{Parser, Subcommand, ValueEnum};
use vdk_secrets::validate::{DEFAULT_MAX_SET_BYTES, Limits};
use vdk_secrets::{JobRef, Secrets};
use vdk_secrets_server::audit::Audit;
use vdk_secrets_server::auth::{self, Access};
use vdk_secrets_server::listener::{self, ServeLimits};
use vdk_secrets_server::store::vault::{VaultAuth, VaultConfig};
use vdk_secrets_server::store::{EmbeddedStore, Store, StoreError, VaultStore, WriteMeta};
use vdk_secrets_server::{AppState, Frontend};

#[derive(Parser)]
#[command(version, about = "Reference server of the VDK Data Job Secrets API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Secrets API (and the Operations UI, with --ui-dir).
    Serve(Box<Serve>),
    /// Read a token from stdin and print its tokens-file line.
    HashToken {
        /// The token holder's name, recorded as the writer in the history and the audit log.
        #[arg(long)]
        name: Option<String>,
        /// Teams the token may read and write; none means every team (`*`).
        teams: Vec<String>,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Backend {
    /// Encrypted files in --data-dir.
    Embedded,
    /// Vault (or OpenBao) KV v2.
    Vault,
    /// No storage: the API answers 501, as upstream does without Vault.
    None,
}

#[derive(Parser)]
struct Serve {
    /// Address to listen on; port 0 picks a free port (the address is printed on start).
    #[arg(long, env = "VDK_SECRETS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Where secrets are stored.
    #[arg(
        long,
        env = "VDK_SECRETS_BACKEND",
        value_enum,
        default_value = "embedded"
    )]
    backend: Backend,
    /// Directory of the embedded store (created if missing, with its key file).
    #[arg(long, env = "VDK_SECRETS_DATA_DIR", default_value = "vdk-secrets-data")]
    data_dir: PathBuf,
    /// Vault address, e.g. https://vault.example.com:8200.
    #[arg(long, env = "VAULT_ADDR")]
    vault_addr: Option<String>,
    /// Vault token (prefer --vault-token-file or the environment: arguments are visible to
    /// other users of the machine).
    #[arg(long, env = "VAULT_TOKEN", hide_env_values = true)]
    vault_token: Option<String>,
    /// File holding the Vault token.
    #[arg(long, env = "VAULT_TOKEN_FILE")]
    vault_token_file: Option<PathBuf>,
    /// AppRole role id.
    #[arg(long, env = "VAULT_ROLE_ID")]
    vault_role_id: Option<String>,
    /// File holding the AppRole role id.
    #[arg(long, env = "VAULT_ROLE_ID_FILE")]
    vault_role_id_file: Option<PathBuf>,
    /// AppRole secret id.
    #[arg(long, env = "VAULT_SECRET_ID", hide_env_values = true)]
    vault_secret_id: Option<String>,
    /// File holding the AppRole secret id.
    #[arg(long, env = "VAULT_SECRET_ID_FILE")]
    vault_secret_id_file: Option<PathBuf>,
    /// KV v2 mount.
    #[arg(long, env = "VAULT_KV_MOUNT", default_value = "secret")]
    vault_mount: String,
    /// Vault Enterprise / OpenBao namespace.
    #[arg(long, env = "VAULT_NAMESPACE")]
    vault_namespace: Option<String>,
    /// PEM file of the CA that signs Vault's certificate.
    #[arg(long, env = "VAULT_CACERT")]
    vault_ca_cert: Option<PathBuf>,
    /// Largest set accepted, in bytes of compact UTF-8 JSON.
    #[arg(long, env = "VDK_SECRETS_MAX_SET_BYTES", default_value_t = DEFAULT_MAX_SET_BYTES,
          value_parser = positive_bytes)]
    max_set_bytes: usize,
    /// Tokens file: one `sha256:<hash> team...` line per client token.
    #[arg(long, env = "VDK_SECRETS_TOKENS_FILE")]
    tokens_file: Option<PathBuf>,
    /// Dev mode: no authentication at all. Refused on a non-loopback address.
    #[arg(long, conflicts_with = "tokens_file")]
    dev: bool,
    /// Allow --dev on a non-loopback address (anyone who can reach it can read every secret).
    #[arg(long, requires = "dev")]
    force_insecure_dev: bool,
    /// Browser origins allowed to call the API (CORS), e.g. https://ui.example.com.
    #[arg(
        long = "cors-origin",
        env = "VDK_SECRETS_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,
    /// Give every GET its own storage read. By default, concurrent GETs of one job share a
    /// read that began after each of them arrived (as fresh, and far fewer Vault reads and
    /// audit entries).
    #[arg(long, env = "VDK_SECRETS_NO_READ_BATCHING")]
    no_read_batching: bool,
    /// Directory served at `/`: the Operations UI.
    #[arg(long, env = "VDK_SECRETS_UI_DIR")]
    ui_dir: Option<PathBuf>,
    /// Connections open at once; 0 sizes it to the open-file limit (raised to its maximum on
    /// start). At the cap, a new connection closes the connection idle longest.
    #[arg(long, env = "VDK_SECRETS_MAX_CONNECTIONS", default_value_t = 0)]
    max_connections: usize,
    /// Seconds a connection has to send a complete request head once it is ready for one
    /// (this also closes idle keep-alive connections).
    #[arg(long, env = "VDK_SECRETS_HEADER_TIMEOUT", default_value = "10", value_parser = seconds)]
    header_timeout: Duration,
    /// Seconds a client has to send a whole request body.
    #[arg(long, env = "VDK_SECRETS_BODY_TIMEOUT", default_value = "30", value_parser = seconds)]
    body_timeout: Duration,
    /// Seconds a response may stall because the client does not read it.
    #[arg(long, env = "VDK_SECRETS_SEND_TIMEOUT", default_value = "30", value_parser = seconds)]
    send_timeout: Duration,
    /// Bytes of request bodies received at once, across all connections; a request that
    /// finds no room within 5 s gets 503. At least one body's cap (4 × --max-set-bytes + 64 KiB).
    #[arg(long, env = "VDK_SECRETS_BODY_BYTES_IN_FLIGHT", default_value_t = 64 * 1024 * 1024)]
    body_bytes_in_flight: usize,
    /// Seconds open connections have to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "VDK_SECRETS_SHUTDOWN_GRACE", default_value = "10", value_parser = seconds)]
    shutdown_grace: Duration,
    /// Seconds to wait for one answer from Vault. A write that gets none in time is reported
    /// as of unknown outcome (Vault may still apply it).
    #[arg(long, env = "VDK_SECRETS_VAULT_TIMEOUT", default_value = "15", value_parser = seconds)]
    vault_timeout: Duration,
    /// Versions the embedded store keeps of each job, the current one included (at least 1).
    #[arg(long, env = "VDK_SECRETS_KEEP_VERSIONS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    keep_versions: u64,
    /// Versions Vault keeps of each job path (KV v2 `max_versions`, set on the path at each
    /// write); unset leaves the mount's setting (10 unless changed).
    #[arg(long, env = "VDK_SECRETS_VAULT_MAX_VERSIONS",
          value_parser = clap::value_parser!(u64).range(1..))]
    vault_max_versions: Option<u64>,
    /// Append one JSON line per successful write to this file (else to the log, as `audit`).
    #[arg(long, env = "VDK_SECRETS_AUDIT_LOG")]
    audit_log: Option<PathBuf>,
    /// On start, give the job sample-team/sample-job a few fake secrets if it never had any,
    /// so that the Operations UI has something to show.
    #[arg(long, env = "VDK_SECRETS_SAMPLE_JOB")]
    sample_job: bool,
}

/// The job that --sample-job fills.
const SAMPLE_TEAM: &str = "sample-team";
const SAMPLE_JOB: &str = "sample-job";

/// What --sample-job writes: one secret of each kind the UI shows, every value fake.
const SAMPLE_SECRETS: &str = r#"{
    "api_base_url": "https://api.example.invalid/v1",
    "db_port": 5432,
    "db_login": {"user": "sample_user", "password": "not-a-real-password", "pool": [1, 4]},
    "debug_logging": false,
    "tls_private_key": "-----BEGIN FAKE KEY-----\nTm90IGEgcmVhbCBrZXk=\n-----END FAKE KEY-----\n"
}"#;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VDK_SECRETS_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::HashToken { teams, name } => hash_token(&teams, name.as_deref()),
        Command::Serve(serve) => tokio::runtime::Runtime::new()
            .map_err(|e| format!("cannot start the runtime: {e}"))
            .and_then(|rt| {
                let result = rt.block_on(run(*serve));
                // Storage work already begun (an embedded write) gets a moment to end; a
                // write cut short leaves the previous set, never a torn one.
                rt.shutdown_timeout(Duration::from_secs(2));
                result
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn hash_token(teams: &[String], name: Option<&str>) -> Result<(), String> {
    let mut token = String::new();
    std::io::stdin()
        .read_to_string(&mut token)
        .map_err(|e| format!("cannot read the token from stdin: {e}"))?;
    if token.trim().is_empty() {
        return Err("no token on stdin; pipe it in: `printf %s \"$TOKEN\" | vdk-secrets-server hash-token team-a`".into());
    }
    println!("{}", auth::tokens_file_line(&token, teams, name)?);
    Ok(())
}

async fn run(serve: Serve) -> Result<(), String> {
    let access = access(&serve)?;
    let store = store(&serve)?;
    let cors_origins = serve
        .cors_origins
        .iter()
        .filter(|o| !o.is_empty())
        .map(|o| {
            HeaderValue::from_str(o.trim_end_matches('/'))
                .map_err(|_| format!("the CORS origin `{o}` is not a valid header value"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(dir) = &serve.ui_dir {
        if !dir.join("index.html").is_file() {
            return Err(format!(
                "the UI directory {} has no index.html; build the UI first (scripts/serve.sh does)",
                dir.display()
            ));
        }
    }
    let audit = match &serve.audit_log {
        Some(path) => Audit::to_file(path)?,
        None => Audit::Log,
    };
    let state = Arc::new(AppState {
        store,
        access,
        audit,
        limits: Limits {
            max_set_bytes: serve.max_set_bytes,
        },
        dev_hosts: vdk_secrets_server::DevHosts::listening_on(serve.listen.ip()),
    });
    if let Err(e) = state.store.health().await {
        tracing::warn!(backend = state.store.name(), problem = ?e, "the storage backend is not reachable yet; requests will answer 503 until it is");
    }
    if serve.sample_job {
        // A demo nicety, not a reason to refuse to serve.
        match seed_sample_job(&state.store).await {
            Ok(true) => tracing::info!("wrote the sample secrets of {SAMPLE_TEAM}/{SAMPLE_JOB}"),
            Ok(false) => {}
            Err(problem) => tracing::warn!(%problem, "the sample job was not written"),
        }
    }
    let app = vdk_secrets_server::app(
        state.clone(),
        Frontend {
            cors_origins,
            ui_dir: serve.ui_dir.clone(),
        },
    );
    let limits = serve_limits(&serve, &state.limits)?;
    let listener = tokio::net::TcpListener::bind(serve.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", serve.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    // Tests and scripts read this line to learn the port.
    println!("vdk-secrets-server listening on http://{addr}");
    tracing::info!(
        %addr,
        backend = state.store.name(),
        max_connections = limits.max_connections,
        "serving"
    );
    listener::serve(listener, app, limits, shutdown_signal()).await;
    Ok(())
}

/// The connection limits from the command line, checked against each other.
fn serve_limits(serve: &Serve, limits: &Limits) -> Result<ServeLimits, String> {
    let budget = listener::connection_budget();
    let max_connections = match serve.max_connections {
        0 => budget,
        n if n > budget => {
            tracing::warn!(
                requested = n,
                allowed = budget,
                "--max-connections is more than the open-file limit allows; using the limit"
            );
            budget
        }
        n => n,
    };
    let body_cap = vdk_secrets_server::listener::body_cap(limits);
    if serve.body_bytes_in_flight < body_cap {
        return Err(format!(
            "--body-bytes-in-flight {} is less than one body may take ({body_cap} bytes for \
             --max-set-bytes {}); raise it, or lower --max-set-bytes",
            serve.body_bytes_in_flight, limits.max_set_bytes
        ));
    }
    Ok(ServeLimits {
        max_connections,
        header_timeout: serve.header_timeout,
        body_timeout: serve.body_timeout,
        send_timeout: serve.send_timeout,
        body_bytes_in_flight: serve.body_bytes_in_flight,
        body_cap,
        shutdown_grace: serve.shutdown_grace,
    })
}

/// A whole number of seconds, at least 1.
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("must be at least 1 second".into()),
        Ok(n) => Ok(Duration::from_secs(n)),
        Err(e) => Err(format!("must be a whole number of seconds: {e}")),
    }
}

/// Writes the sample set unless the sample job was ever written (version 0 only, so that a
/// user's later changes, deleting everything included, are kept). True when it wrote.
async fn seed_sample_job(store: &Store) -> Result<bool, String> {
    let job = JobRef::new(SAMPLE_TEAM, SAMPLE_JOB).map_err(|e| e.to_string())?;
    let stored = store.read(&job).await.map_err(|e| format!("{e:?}"))?;
    if stored.version != 0 {
        return Ok(false);
    }
    let secrets = Secrets::from_json_document(SAMPLE_SECRETS).map_err(|e| e.to_string())?;
    // Expecting version 0 makes a concurrent first write win rather than be overwritten.
    let meta = WriteMeta {
        author: Some("sample".into()),
        restored_from: None,
    };
    match store.write(&job, &secrets, Some(0), &meta).await {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict) => Ok(false),
        Err(e) => Err(format!("{e:?}")),
    }
}

fn access(serve: &Serve) -> Result<Access, String> {
    if let Some(path) = &serve.tokens_file {
        return Access::from_file(path);
    }
    if !serve.dev {
        return Err(
            "no client authentication configured: pass --tokens-file FILE, or --dev for a \
                    local server without authentication"
                .into(),
        );
    }
    if !serve.listen.ip().is_loopback() && !serve.force_insecure_dev {
        return Err(format!(
            "--dev disables authentication, and {} is reachable from other machines; listen on \
             127.0.0.1, or add --force-insecure-dev if you really mean it",
            serve.listen
        ));
    }
    tracing::warn!(
        "dev mode: no authentication; anyone who can reach the server can read every secret"
    );
    Ok(Access::Open)
}

fn store(serve: &Serve) -> Result<Store, String> {
    match serve.backend {
        Backend::None => Ok(Store::none()),
        Backend::Embedded => Ok(Store::new(
            EmbeddedStore::open_keeping(&serve.data_dir, serve.keep_versions)?,
            !serve.no_read_batching,
        )),
        Backend::Vault => {
            let addr = serve
                .vault_addr
                .clone()
                .ok_or("--backend vault needs --vault-addr (or VAULT_ADDR)")?;
            let token = secret_arg(&serve.vault_token, &serve.vault_token_file, "Vault token")?;
            let role_id = secret_arg(&serve.vault_role_id, &serve.vault_role_id_file, "role id")?;
            let secret_id = secret_arg(
                &serve.vault_secret_id,
                &serve.vault_secret_id_file,
                "secret id",
            )?;
            let auth = match (token, role_id, secret_id) {
                (Some(token), None, None) => VaultAuth::Token(token),
                (None, Some(role_id), Some(secret_id)) => VaultAuth::AppRole { role_id, secret_id },
                (None, None, None) => {
                    return Err("--backend vault needs a Vault token (--vault-token-file) or \
                                AppRole credentials (--vault-role-id-file and --vault-secret-id-file)"
                        .into());
                }
                _ => {
                    return Err("give either a Vault token or both AppRole ids, not a mix".into());
                }
            };
            let store = VaultStore::new(VaultConfig {
                addr,
                auth,
                mount: serve.vault_mount.clone(),
                namespace: serve.vault_namespace.clone(),
                ca_cert: serve.vault_ca_cert.clone(),
                timeout: serve.vault_timeout,
                max_versions: serve.vault_max_versions,
            })?;
            Ok(Store::new(store, !serve.no_read_batching))
        }
    }
}

/// A credential given directly or in a file (whose content is trimmed).
fn secret_arg(
    value: &Option<String>,
    file: &Option<PathBuf>,
    what: &str,
) -> Result<Option<String>, String> {
    match (value, file) {
        (Some(_), Some(_)) => Err(format!("give the {what} directly or as a file, not both")),
        (Some(v), None) => Ok(Some(v.trim().to_string())),
        (None, Some(path)) => {
            // A role id names a role, like a user name; a token or secret id is a password.
            if what != "role id" {
                auth::check_private_file(path, &format!("{what} file"))?;
            }
            read_trimmed(path, what).map(Some)
        }
        (None, None) => Ok(None),
    }
}

fn read_trimmed(path: &Path, what: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the {what} from {}: {e}", path.display()))?;
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(format!("the {what} file {} is empty", path.display()));
    }
    Ok(text)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// A byte count of at least 1: a limit of 0 would refuse every set, even the empty one.
fn positive_bytes(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1 (a limit of 0 would refuse every set)".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("must be a whole number of bytes: {e}")),
    }
}
