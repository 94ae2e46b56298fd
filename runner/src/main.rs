//! `vdk-job-runner`: runs a data-job component with its secrets, through the `vdk:secrets`
//! component, in a sandbox that masks secret values in the job's output.

mod egress;
mod host;
mod mask;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use host::{JobConfig, JobOptions, SecretsSide};
use mask::Masker;

#[derive(Parser)]
#[command(version, about = "Runs a data-job component with its secrets")]
struct Cli {
    /// The data-job component (world `vdk:secrets/data-job`).
    job_component: PathBuf,
    /// The vdk:secrets component (world `vdk:secrets/secrets-component`).
    #[arg(long, env = "VDK_SECRETS_COMPONENT")]
    secrets_component: PathBuf,
    /// The Control Service (or vdk-secrets server) URL; the only host the secrets component
    /// may reach.
    #[arg(long, env = "VDK_CONTROL_SERVICE_URL")]
    control_service_url: String,
    /// The job's team.
    #[arg(long, env = "VDK_TEAM")]
    team: String,
    /// The job's name.
    #[arg(long = "job", env = "VDK_JOB")]
    job: String,
    /// The deployment id sent in the API path (default "TODO").
    #[arg(long, env = "VDK_DEPLOYMENT_ID")]
    deployment_id: Option<String>,
    /// File holding the bearer token for the Secrets API.
    #[arg(long, env = "VDK_TOKEN_FILE", conflicts_with = "token_env")]
    token_file: Option<PathBuf>,
    /// Read the token from the environment variable VDK_TOKEN.
    #[arg(long)]
    token_env: bool,
    /// Read all of the job's secrets once, before the job starts, and fail at once if the
    /// Secrets API cannot be reached; the job's reads are then answered from that set.
    #[arg(long)]
    prefetch: bool,
    /// Give the job network access (sockets and wasi:http). Off by default.
    #[arg(long)]
    allow_job_network: bool,
    /// Where compiled components are kept (default ~/.cache/vdk-job-runner).
    #[arg(long, env = "VDK_RUNNER_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile components every time instead of using the cache.
    #[arg(long)]
    no_cache: bool,
    /// Arguments passed to the job.
    #[arg(last = true)]
    job_args: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vdk-job-runner: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("vdk-job-runner: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let token = token(&cli)?;
    let engine = host::engine().map_err(|e| format!("cannot start wasmtime: {e:#}"))?;
    let cache_dir = if cli.no_cache {
        None
    } else {
        cli.cache_dir.clone().or_else(host::default_cache_dir)
    };
    let secrets_component = host::load(&engine, &cli.secrets_component, cache_dir.as_deref())?;
    let job_component = host::load(&engine, &cli.job_component, cache_dir.as_deref())?;
    let config = JobConfig {
        base_url: cli.control_service_url.clone(),
        team: cli.team.clone(),
        job: cli.job.clone(),
        deployment_id: cli.deployment_id.clone(),
        token,
    };
    let mut secrets = SecretsSide::start(&engine, &secrets_component, config).await?;
    let snapshot = if cli.prefetch {
        let all = secrets
            .get_all()
            .await
            .map_err(|e| format!("the secrets component failed: {e:#}"))?
            .map_err(|e| {
                format!(
                    "cannot read the secrets of job {}/{} before starting it: {}",
                    cli.team,
                    cli.job,
                    host::describe(&e)
                )
            })?;
        Some(all)
    } else {
        None
    };
    let options = JobOptions {
        args: std::iter::once(cli.job_component.display().to_string())
            .chain(cli.job_args.iter().cloned())
            .collect(),
        allow_network: cli.allow_job_network,
        snapshot,
    };
    host::run_job(&engine, &job_component, secrets, Masker::default(), options).await
}

fn token(cli: &Cli) -> Result<Option<String>, String> {
    if let Some(path) = &cli.token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
        let text = text.trim().to_string();
        if text.is_empty() {
            return Err(format!("the token file {} is empty", path.display()));
        }
        return Ok(Some(text));
    }
    if cli.token_env {
        return match std::env::var("VDK_TOKEN") {
            Ok(t) if !t.trim().is_empty() => Ok(Some(t.trim().to_string())),
            _ => Err("--token-env is given but VDK_TOKEN is empty or unset".into()),
        };
    }
    Ok(None)
}
