//! The WASI component binding (feature `component`): exports `vdk:secrets/store` and
//! `vdk:secrets/validate` over the core, glue only. Built for `wasm32-wasip2`.

mod mask;

use std::cell::OnceCell;

use crate::api::{Endpoint, Token};
use crate::client::SecretsClient;
use crate::error::{Error, ErrorKind, Problem};
use crate::job::JobRef;
use crate::secrets::{SecretValue, Secrets};
use crate::validate::{self, Limits};
use crate::wasi::WasiTransport;

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

/// Runs `operation` with the configured client on wstd's executor.
fn with_client<T>(
    operation: impl AsyncFnOnce(&SecretsClient<WasiTransport>) -> Result<T, Error>,
) -> Result<T, wit::Error> {
    CLIENT.with(|cell| {
        let client = cell
            .get_or_init(client_from_host)
            .as_ref()
            .map_err(to_wit)?;
        wstd::runtime::block_on(operation(client)).map_err(|e| to_wit(&e))
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
    // wrapper does; per-key changes always read afresh.
    Ok(SecretsClient::new(WasiTransport, endpoint).with_cache(true))
}

fn value(name: &str, json: &str) -> Result<SecretValue, Error> {
    SecretValue::from_json(name, json)
}

fn set_from_pairs(pairs: Vec<(String, String)>) -> Result<Secrets, Error> {
    let (set, problems) = convertible_pairs(pairs);
    if problems.is_empty() {
        Ok(set)
    } else {
        Err(Error::invalid("The set of secrets", problems))
    }
}

/// The pairs whose value is JSON, as a set, and the problems of the others (their name's
/// too, since the rules that check the set never see them) and of repeated names.
fn convertible_pairs(pairs: Vec<(String, String)>) -> (Secrets, Vec<Problem>) {
    let mut set = Secrets::new();
    let mut problems = Vec::new();
    for (name, json) in pairs {
        match value(&name, &json) {
            Ok(v) => {
                if set.insert(name.clone(), v).is_some() {
                    problems.push(Problem::new(name, "is given more than once; keep one"));
                }
            }
            Err(e) => {
                problems.extend(validate::secret_name_problem(&name));
                problems.extend(e.problems().iter().cloned());
            }
        }
    }
    (set, problems)
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
        let set = set_from_pairs(secrets).map_err(|e| to_wit(&e))?;
        with_client(async |c| c.replace_all(&set).await)
    }

    fn set_secret(name: String, json: String) -> Result<(), wit::Error> {
        let v = value(&name, &json).map_err(|e| to_wit(&e))?;
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
        let (set, mut problems) = convertible_pairs(secrets);
        problems.extend(validate::secrets_problems(&set, &limits));
        validate::sort_problems(&mut problems);
        problems.into_iter().map(to_wit_problem).collect()
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

fn to_wit(error: &Error) -> wit::Error {
    let r = error.report();
    wit::Error {
        code: match error.kind() {
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
        },
        status: r.status,
        what: r.what.clone(),
        why: r.why.clone(),
        countermeasures: r.countermeasures.clone(),
        problems: r.problems.iter().cloned().map(to_wit_problem).collect(),
    }
}
