//! `vdk-job-runner`: runs a data-job component with its secrets, through the `vdk:secrets`
//! component, in a sandbox that masks secret values in the job's output.

mod cache;
mod egress;
mod host;
mod limits;
mod mask;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use host::{Failure, JobOptions, SecretsConfig, SecretsSide, Stopper};
use limits::{Limit, Size, Stop};
use mask::SharedMasker;

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
    /// The most memory the job may use (its linear memories and tables together), e.g.
    /// 512M or 2G; past it the job is stopped, with exit status 3.
    #[arg(long, env = "VDK_RUNNER_MEMORY_LIMIT", default_value = "512M")]
    memory_limit: Size,
    /// The most memory the secrets component may use.
    #[arg(long, env = "VDK_RUNNER_SECRETS_MEMORY_LIMIT", default_value = "128M")]
    secrets_memory_limit: Size,
    /// How long the job may run, e.g. 90s, 10m or 2h; past it the job is stopped, with exit
    /// status 124.
    #[arg(long, env = "VDK_RUNNER_TIME_LIMIT", default_value = "10m")]
    time_limit: Limit,
    /// Arguments passed to the job.
    #[arg(last = true)]
    job_args: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match host::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vdk-job-runner: cannot start: {e}");
            return ExitCode::from(host::FAILURE_STATUS);
        }
    };
    let engine = match host::engine() {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("vdk-job-runner: cannot start wasmtime: {e:#}");
            return ExitCode::from(host::FAILURE_STATUS);
        }
    };
    let stopper = Stopper::new(&engine);
    if let Err(e) = runtime.block_on(async { stop_on_signals(stopper.clone()) }) {
        eprintln!("vdk-job-runner: cannot handle signals: {e}");
        return ExitCode::from(host::FAILURE_STATUS);
    }
    match runtime.block_on(run(cli, engine, &stopper)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { message, status }) => {
            eprintln!("vdk-job-runner: {message}");
            ExitCode::from(status)
        }
    }
}

/// On SIGTERM or SIGINT, stops the job; before the job starts there is nothing to clean up,
/// so the runner exits at once.
fn stop_on_signals(stopper: Stopper) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let stop = tokio::select! {
            _ = terminate.recv() => Stop::Terminated,
            _ = interrupt.recv() => Stop::Interrupted,
        };
        stopper.stop(stop);
        if !stopper.job_started() {
            let signal = if stop == Stop::Terminated {
                "SIGTERM"
            } else {
                "SIGINT"
            };
            eprintln!("vdk-job-runner: stopped on {signal} before the job started");
            std::process::exit(i32::from(stop.exit_status()));
        }
    });
    Ok(())
}

async fn run(cli: Cli, engine: wasmtime::Engine, stopper: &Stopper) -> Result<(), Failure> {
    let token = token(&cli)?;
    let cache_dir = if cli.no_cache {
        None
    } else {
        cli.cache_dir.clone().or_else(cache::default_cache_dir)
    };
    let secrets_component = cache::load(&engine, &cli.secrets_component, cache_dir.as_deref())?;
    let job_component = cache::load(&engine, &cli.job_component, cache_dir.as_deref())?;
    let config = SecretsConfig {
        base_url: cli.control_service_url.clone(),
        team: cli.team.clone(),
        job: cli.job.clone(),
        deployment_id: cli.deployment_id.clone(),
        token,
    };
    let mut secrets = SecretsSide::start(
        &engine,
        &secrets_component,
        config,
        cli.secrets_memory_limit.0,
    )
    .await?;
    if cli.prefetch {
        // The component keeps the set it read, and answers the job's reads from it until the
        // job writes.
        secrets.get_all().await.map_err(|e| {
            format!(
                "cannot read the secrets of job {}/{} before starting it: {}",
                cli.team,
                cli.job,
                host::describe(&e)
            )
        })?;
    }
    let options = JobOptions {
        args: std::iter::once(cli.job_component.display().to_string())
            .chain(cli.job_args.iter().cloned())
            .collect(),
        allow_network: cli.allow_job_network,
        memory_limit: cli.memory_limit.0,
        time_limit: cli.time_limit,
    };
    host::run_job(
        &engine,
        &job_component,
        secrets,
        SharedMasker::default(),
        options,
        stopper,
    )
    .await
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
