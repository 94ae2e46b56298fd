//! The WASI component binding (feature `component`): exports `vdk:secrets/store` and
//! `vdk:secrets/validate` over the core, glue only. Built for `wasm32-wasip2`.

mod mask;

use std::cell::OnceCell;

use crate::api::{Endpoint, Token};
use crate::client::SecretsClient;
use crate::error::{Error, ErrorKind, Problem};
use crate::job::JobRef;
use crate::secrets::{SecretValue, Secrets};
use crate::transport::wasi::{WasiTransport, block_on};
use crate::validate::{self, Limits};

wit_bindgen::generate!({
    world: "secrets-component",
    path: "wit",
});

use exports::vdk::secrets::store::Guest as Store;
use exports::vdk::secrets::validate::Guest as Validate;
use vdk::secrets::configuration;
use vdk::secrets::types as wit;

struct Component;

export!(Component);

thread_local! {
    /// The client, made on first use from the host's configuration. A component instance
    /// serves one job, so one client suffices.
    static CLIENT: OnceCell<Result<SecretsClient<WasiTransport>, Error>> = const { OnceCell::new() };
}

/// Runs `operation` with the configured client; its waits block on wasi pollables.
fn with_client<T>(
    operation: impl AsyncFnOnce(&SecretsClient<WasiTransport>) -> Result<T, Error>,
) -> Result<T, wit::Error> {
    CLIENT.with(|cell| {
        let client = cell
            .get_or_init(client_from_host)
            .as_ref()
            .map_err(|e| wit::Error::from(e.clone()))?;
        Ok(block_on(operation(client))?)
    })
}

fn client_from_host() -> Result<SecretsClient<WasiTransport>, Error> {
    let config = configuration::get_config();
    let mut job = JobRef::new(config.team, config.job)?;
    if let Some(id) = config.deployment_id {
        job = job.with_deployment(id)?;
    }
    let token = config.token.map(Token::new).transpose()?;
    let endpoint = Endpoint::new(&config.base_url, job, token)?;
    // Reads are answered from the last set read until the job writes, as VDK's own secrets
    // wrapper does; per-key changes always read afresh. scripts/bench-runner.sh also builds
    // the component with `--cfg vdk_bench_no_read_cache`, to time every read over wasi:http.
    let cache = !cfg!(vdk_bench_no_read_cache);
    Ok(SecretsClient::new(WasiTransport, endpoint).with_cache(cache))
}

/// The pairs converted, each value parsed or the problem why not; the core makes the set.
fn entries(
    pairs: Vec<(String, String)>,
) -> impl Iterator<Item = (String, Result<SecretValue, Problem>)> {
    pairs.into_iter().map(|(name, json)| {
        let value = SecretValue::parse(&name, &json);
        (name, value)
    })
}

fn set_from_pairs(pairs: Vec<(String, String)>) -> Result<Secrets, Error> {
    match validate::converted_set(entries(pairs)) {
        (set, problems) if problems.is_empty() => Ok(set),
        (_, problems) => Err(Error::invalid("The set of secrets", problems)),
    }
}

fn pairs(set: &Secrets) -> Vec<(String, String)> {
    set.iter()
        .map(|(name, value)| (name.to_string(), value.to_json()))
        .collect()
}

impl Store for Component {
    fn get_secret(name: String) -> Result<Option<String>, wit::Error> {
        with_client(async |c| Ok(c.get(&name).await?.map(|v| v.to_json())))
    }

    fn get_all_secrets() -> Result<Vec<(String, String)>, wit::Error> {
        with_client(async |c| Ok(pairs(&c.read_all().await?)))
    }

    fn set_all_secrets(secrets: Vec<(String, String)>) -> Result<(), wit::Error> {
        let set = set_from_pairs(secrets)?;
        with_client(async |c| c.replace_all(&set).await)
    }

    fn set_secret(name: String, json: String) -> Result<(), wit::Error> {
        let v = SecretValue::from_json(&name, &json)?;
        with_client(async |c| c.set(&name, v).await)
    }

    fn delete_secret(name: String) -> Result<(), wit::Error> {
        with_client(async |c| c.delete(&[name.as_str()]).await)
    }
}

impl Validate for Component {
    fn secret_name(name: String) -> Vec<wit::Problem> {
        problems(validate::secret_name(&name).err())
    }

    fn secrets(secrets: Vec<(String, String)>, max_set_bytes: Option<u64>) -> Vec<wit::Problem> {
        let limits = max_set_bytes.map_or_else(Limits::default, |max| Limits {
            max_set_bytes: usize::try_from(max).unwrap_or(usize::MAX),
        });
        // Values that are not JSON are reported with every rule broken by the rest.
        validate::converted_set_problems(entries(secrets), &limits)
            .into_iter()
            .map(to_wit_problem)
            .collect()
    }
}

fn problems(error: Option<Error>) -> Vec<wit::Problem> {
    error.map_or_else(Vec::new, |e| {
        e.problems().iter().cloned().map(to_wit_problem).collect()
    })
}

fn to_wit_problem(p: Problem) -> wit::Problem {
    wit::Problem {
        key: p.key,
        message: p.message,
    }
}

impl From<Error> for wit::Error {
    fn from(error: Error) -> wit::Error {
        let code = match error.kind() {
            ErrorKind::InvalidInput => wit::ErrorCode::InvalidInput,
            ErrorKind::NotFound => wit::ErrorCode::NotFound,
            ErrorKind::Unauthorized => wit::ErrorCode::Unauthorized,
            ErrorKind::Forbidden => wit::ErrorCode::Forbidden,
            ErrorKind::Conflict => wit::ErrorCode::Conflict,
            ErrorKind::TooLarge => wit::ErrorCode::TooLarge,
            ErrorKind::NotConfigured => wit::ErrorCode::NotConfigured,
            ErrorKind::Unavailable => wit::ErrorCode::Unavailable,
            ErrorKind::Protocol => wit::ErrorCode::Protocol,
            ErrorKind::NotSupported => wit::ErrorCode::NotSupported,
        };
        let status = error.status();
        let report = error.into_report();
        wit::Error {
            code,
            status,
            what: report.what,
            why: report.why,
            countermeasures: report.countermeasures,
            problems: report.problems.into_iter().map(to_wit_problem).collect(),
        }
    }
}
