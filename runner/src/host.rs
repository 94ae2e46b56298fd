//! The two sides of a run, each in its own store:
//!
//! - the **secrets side**: the `vdk:secrets` component, with wasi:http limited to the Control
//!   Service's authority, and the configuration (token included) that only it sees;
//! - the **job side**: the data-job component, whose `vdk:secrets/store` import the host
//!   forwards to the secrets side, with no network unless allowed.
//!
//! Separate stores keep the token and the network out of the job's reach even though both
//! components run in one process. Each store has its own memory budget; the job's store can
//! also be interrupted (time limit, signals) through the engine's epoch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::egress::EgressHooks;
use crate::limits::{Limit, MemoryBudget, Size, Stop, StopReason};
use crate::mask::{MaskedOutput, SharedMasker, Sink};

/// Bindings of the secrets component's world.
pub mod secrets_side {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "secrets-component",
        exports: { default: async },
    });
}

/// Bindings of the data job's world; its error types are the secrets side's.
pub mod job_side {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "data-job",
        imports: { default: async },
        exports: { default: async },
        with: { "vdk:secrets/types": super::secrets_side::vdk::secrets::types },
    });
}

/// Bindings of wasi:config (0.2.0-draft), which the job side also serves.
pub mod config_side {
    wasmtime::component::bindgen!({
        path: "wit/wasi-config.wit",
        world: "wasi:config/imports",
        imports: { default: async },
    });
}

use config_side::wasi::config::store::Error as ConfigError;
/// Where the job's secrets are: the configuration the secrets component asks its host for.
pub use secrets_side::vdk::secrets::configuration::Config as SecretsConfig;
use secrets_side::vdk::secrets::types::{Error as WitError, ErrorCode};

/// The tokio runtime the runner runs on.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new()
}

/// An engine for running components asynchronously, with epoch interruption so that a job
/// can be stopped in the middle of its own code.
pub fn engine() -> wasmtime::Result<Engine> {
    Engine::new(&engine_config())
}

/// The configuration of [`engine`].
pub fn engine_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config
}

/// A store's epoch deadline that is never reached: only the job's store is interrupted.
const NEVER: u64 = u64::MAX / 2;

/// What the secrets component's store holds.
pub struct SecretsState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: EgressHooks,
    config: SecretsConfig,
    memory: MemoryBudget,
}

impl WasiView for SecretsState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for SecretsState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl secrets_side::vdk::secrets::configuration::Host for SecretsState {
    fn get_config(&mut self) -> SecretsConfig {
        self.config.clone()
    }
}

impl secrets_side::vdk::secrets::types::Host for SecretsState {}

/// The instantiated secrets component and its store.
pub struct SecretsSide {
    store: Store<SecretsState>,
    instance: secrets_side::SecretsComponent,
}

/// Calls a function of the secrets component's `store` interface, e.g.
/// `forward!(&mut side, call_get_secret(&name))`; a trap becomes an error for the caller.
macro_rules! forward {
    ($side:expr, $function:ident($($arg:expr),*)) => {{
        let side: &mut SecretsSide = $side;
        let result = side
            .instance
            .vdk_secrets_store()
            .$function(&mut side.store, $($arg),*)
            .await;
        side.settle(result)
    }};
}

impl SecretsSide {
    /// Starts the secrets component; it may reach `config.base_url`'s authority only, and
    /// use at most `memory_limit` bytes.
    pub async fn start(
        engine: &Engine,
        component: &Component,
        config: SecretsConfig,
        memory_limit: usize,
    ) -> Result<SecretsSide, String> {
        let hooks = EgressHooks::allowing(&config.base_url)?;
        SecretsSide::start_with_egress(engine, component, config, hooks, memory_limit).await
    }

    async fn start_with_egress(
        engine: &Engine,
        component: &Component,
        config: SecretsConfig,
        hooks: EgressHooks,
        memory_limit: usize,
    ) -> Result<SecretsSide, String> {
        let mut linker = Linker::<SecretsState>::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| e.to_string())?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| e.to_string())?;
        secrets_side::SecretsComponent::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(|e| e.to_string())?;
        let state = SecretsState {
            // No environment, arguments, files or sockets: only wasi:http, filtered.
            wasi: WasiCtxBuilder::new().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks,
            config,
            memory: MemoryBudget::new(memory_limit),
        };
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.memory);
        store.set_epoch_deadline(NEVER);
        let instantiated =
            secrets_side::SecretsComponent::instantiate_async(&mut store, component, &linker).await;
        let instance = match instantiated {
            Ok(instance) => instance,
            Err(_) if store.data().memory.exceeded() => {
                return Err(format!(
                    "the secrets component does not start within its memory limit of {} \
                     (--secrets-memory-limit)",
                    Size(memory_limit)
                ));
            }
            Err(e) => return Err(format!("the secrets component does not start: {e:#}")),
        };
        Ok(SecretsSide { store, instance })
    }

    /// Whether the component tried to use more memory than its limit.
    pub fn over_memory_limit(&self) -> Option<Size> {
        let memory = &self.store.data().memory;
        memory.exceeded().then(|| Size(memory.limit()))
    }

    /// The result of a call, with a trap turned into an `unavailable` error.
    fn settle<T>(&self, result: wasmtime::Result<Result<T, WitError>>) -> Result<T, WitError> {
        let trap = match result {
            Ok(answer) => return answer,
            Err(trap) => trap,
        };
        let why = match self.over_memory_limit() {
            Some(limit) => format!(
                "it needed more than its memory limit of {limit} (the runner's \
                 --secrets-memory-limit)"
            ),
            None => format!("{trap:#}"),
        };
        Err(WitError {
            code: ErrorCode::Unavailable,
            status: None,
            what: "The secrets component failed".into(),
            why,
            countermeasures: "Report this to the operators of the job runner.".into(),
            problems: Vec::new(),
        })
    }

    /// Every secret of the job.
    pub async fn get_all(&mut self) -> Result<Vec<(String, String)>, WitError> {
        forward!(self, call_get_all_secrets())
    }
}

/// Ends a run early: records why, interrupts the job's code through the engine's epoch, and
/// wakes the run if it waits in the host.
#[derive(Clone)]
pub struct Stopper {
    engine: Engine,
    reason: StopReason,
    woken: Arc<Notify>,
    /// Whether the job has started: before that, a stop has nothing to interrupt.
    running: Arc<AtomicBool>,
}

impl Stopper {
    pub fn new(engine: &Engine) -> Self {
        Stopper {
            engine: engine.clone(),
            reason: StopReason::default(),
            woken: Arc::new(Notify::new()),
            running: Arc::default(),
        }
    }

    /// Stops the run for `why`, unless it is already being stopped.
    pub fn stop(&self, why: Stop) {
        if self.reason.set(why) {
            self.engine.increment_epoch();
            self.woken.notify_one();
        }
    }

    /// Whether the job has started, so that a stop is reported by the run.
    pub fn job_started(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Why the run was stopped, if it was.
    pub fn reason(&self) -> Option<Stop> {
        self.reason.get()
    }

    async fn stopped(&self) {
        self.woken.notified().await;
    }
}

/// What the job's store holds.
pub struct JobState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    secrets: SecretsSide,
    masker: SharedMasker,
    memory: MemoryBudget,
}

impl WasiView for JobState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for JobState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: wasmtime_wasi_http::default_hooks(),
        }
    }
}

impl secrets_side::vdk::secrets::types::Host for JobState {}

impl job_side::vdk::secrets::store::Host for JobState {
    async fn get_secret(&mut self, name: String) -> Result<Option<String>, WitError> {
        let value = forward!(&mut self.secrets, call_get_secret(&name))?;
        if let Some(json) = &value {
            self.masker.register_json(json);
        }
        Ok(value)
    }

    async fn get_all_secrets(&mut self) -> Result<Vec<(String, String)>, WitError> {
        let all = self.secrets.get_all().await?;
        for (_, json) in &all {
            self.masker.register_json(json);
        }
        Ok(all)
    }

    async fn set_all_secrets(&mut self, secrets: Vec<(String, String)>) -> Result<(), WitError> {
        forward!(&mut self.secrets, call_set_all_secrets(&secrets))
    }

    async fn set_secret(&mut self, name: String, value: String) -> Result<(), WitError> {
        forward!(&mut self.secrets, call_set_secret(&name, &value))
    }

    async fn delete_secret(&mut self, name: String) -> Result<(), WitError> {
        forward!(&mut self.secrets, call_delete_secret(&name))
    }
}

/// wasi:config/store over the job's secrets: a string value as it is, any other value as
/// its JSON text. Values are masked as those read through `vdk:secrets/store`.
impl config_side::wasi::config::store::Host for JobState {
    async fn get(&mut self, key: String) -> Result<Option<String>, ConfigError> {
        let value = job_side::vdk::secrets::store::Host::get_secret(self, key)
            .await
            .map_err(|e| ConfigError::Upstream(describe(&e)))?;
        Ok(value.map(|json| config_value(&json)))
    }

    async fn get_all(&mut self) -> Result<Vec<(String, String)>, ConfigError> {
        let all = job_side::vdk::secrets::store::Host::get_all_secrets(self)
            .await
            .map_err(|e| ConfigError::Upstream(describe(&e)))?;
        Ok(all
            .into_iter()
            .map(|(name, json)| (name, config_value(&json)))
            .collect())
    }
}

/// A secret's JSON text as a wasi:config value: a string unquoted, anything else as it is.
fn config_value(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::String(text)) => text,
        _ => json.to_string(),
    }
}

/// How the job runs.
pub struct JobOptions {
    pub args: Vec<String>,
    pub allow_network: bool,
    /// The most bytes the job's memories and tables may take together.
    pub memory_limit: usize,
    /// How long the job may run, from its start.
    pub time_limit: Limit,
}

/// Why a run did not succeed: a message for the person who started it, and the exit status.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub status: u8,
}

/// The exit status of a run that failed for any other reason than a limit or a signal.
pub const FAILURE_STATUS: u8 = 1;

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure {
            message,
            status: FAILURE_STATUS,
        }
    }
}

/// Runs the job to its end, or until `stopper` stops it.
pub async fn run_job(
    engine: &Engine,
    component: &Component,
    secrets: SecretsSide,
    masker: SharedMasker,
    options: JobOptions,
    stopper: &Stopper,
) -> Result<(), Failure> {
    let time_limit = options.time_limit;
    let stdout = MaskedOutput::new(masker.clone(), Sink::Stdout);
    let stderr = MaskedOutput::new(masker.clone(), Sink::Stderr);
    let mut wasi = WasiCtxBuilder::new();
    wasi.stdout(stdout.clone())
        .stderr(stderr.clone())
        .args(&options.args);
    if options.allow_network {
        wasi.inherit_network().allow_ip_name_lookup(true);
    }
    let mut linker = Linker::<JobState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| e.to_string())?;
    if options.allow_network {
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| e.to_string())?;
    }
    job_side::DataJob::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
        .map_err(|e| e.to_string())?;
    config_side::wasi::config::store::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
        .map_err(|e| e.to_string())?;
    let state = JobState {
        wasi: wasi.build(),
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        secrets,
        masker,
        memory: MemoryBudget::new(options.memory_limit),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.memory);
    // The job's code traps at the next epoch: the stopper increments it. Set before the
    // reason is checked, so that a stop from now on interrupts the job.
    store.epoch_deadline_trap();
    store.set_epoch_deadline(1);
    stopper.running.store(true, Ordering::SeqCst);
    if let Some(stop) = stopper.reason() {
        return Err(stopped(stop, time_limit));
    }
    let timer = tokio::spawn({
        let (stopper, limit) = (stopper.clone(), time_limit.0);
        async move {
            tokio::time::sleep(limit).await;
            stopper.stop(Stop::TimeLimit);
        }
    });
    let run = async {
        let job = job_side::DataJob::instantiate_async(&mut store, component, &linker)
            .await
            .map_err(Started::No)?;
        job.call_run(&mut store).await.map_err(Started::Yes)
    };
    let outcome = tokio::select! {
        outcome = run => Some(outcome),
        () = stopper.stopped() => None,
    };
    timer.abort();
    stdout.finish();
    stderr.finish();
    let state = store.data();
    if let Some(stop) = stopper
        .reason()
        .filter(|_| !matches!(outcome, Some(Ok(Ok(())))))
    {
        return Err(stopped(stop, time_limit));
    }
    let outcome = outcome.expect("only a stop ends the run early, and a stop returned");
    let over_limit = |what: &str, limit: Size, flag: &str| Failure {
        message: format!(
            "{what} needed more than its memory limit of {limit} and was stopped (raise it \
             with {flag})"
        ),
        status: crate::limits::MEMORY_LIMIT_STATUS,
    };
    if outcome.is_err() || matches!(outcome, Ok(Err(_))) {
        if state.memory.exceeded() {
            return Err(over_limit(
                "the job",
                Size(state.memory.limit()),
                "--memory-limit",
            ));
        }
        if let Some(limit) = state.secrets.over_memory_limit() {
            return Err(over_limit(
                "the secrets component",
                limit,
                "--secrets-memory-limit",
            ));
        }
    }
    let masker = state.masker.clone();
    let mask = |text: String| String::from_utf8_lossy(&masker.mask(text.as_bytes())).into_owned();
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(format!("the job failed: {}", mask(message)).into()),
        Err(Started::Yes(trap)) => {
            Err(format!("the job trapped: {}", mask(format!("{trap:#}"))).into())
        }
        Err(Started::No(e)) => {
            let text = format!("{e:#}");
            Err(
                if text.contains("wasi:http") || text.contains("wasi:sockets") {
                    format!(
                        "the job needs network access ({text}); jobs get none unless the runner \
                     is started with --allow-job-network"
                    )
                } else {
                    format!("the job component does not start: {text}")
                }
                .into(),
            )
        }
    }
}

/// Whether the job got as far as running when it failed.
enum Started {
    No(wasmtime::Error),
    Yes(wasmtime::Error),
}

fn stopped(stop: Stop, time_limit: Limit) -> Failure {
    Failure {
        message: stop_message(stop, time_limit),
        status: stop.exit_status(),
    }
}

/// What the runner says when it stops a job.
pub fn stop_message(stop: Stop, time_limit: Limit) -> String {
    match stop {
        Stop::TimeLimit => format!(
            "the job ran past its time limit of {} and was stopped (raise it with --time-limit)",
            time_limit
        ),
        Stop::Terminated => "the job was stopped on SIGTERM".to_string(),
        Stop::Interrupted => "the job was stopped on SIGINT".to_string(),
    }
}

/// An error from the secrets component, as one line for a person.
pub fn describe(e: &WitError) -> String {
    let mut text = format!("{}: {}", e.what, e.why);
    if !e.countermeasures.is_empty() {
        text.push_str(". ");
        text.push_str(&e.countermeasures);
    }
    text
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::path::PathBuf;

    use super::*;

    /// The secrets component built by scripts/build-component.sh, which the test command
    /// always runs first: its absence is a failure, not a reason to skip.
    fn secrets_component(engine: &Engine) -> Component {
        let dir = std::env::var_os("VDK_TEST_COMPONENTS").expect(
            "VDK_TEST_COMPONENTS is not set: run scripts/test.sh (it builds the components)",
        );
        crate::cache::load(engine, &PathBuf::from(dir).join("vdk-secrets.wasm"), None).unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_secrets_component_cannot_reach_any_other_authority_to_read_or_write() {
        // A listener that would see any connection the component managed to open.
        let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
        elsewhere.set_nonblocking(true).unwrap();
        let elsewhere_url = format!("http://{}", elsewhere.local_addr().unwrap());

        let engine = engine().unwrap();
        let component = secrets_component(&engine);
        let config = SecretsConfig {
            base_url: elsewhere_url,
            team: "team".into(),
            job: "job".into(),
            deployment_id: None,
            token: Some("token-that-must-stay-home".into()),
        };
        // Only the Control Service at another address is allowed.
        let hooks = EgressHooks::allowing("http://127.0.0.1:9").unwrap();
        let mut side = SecretsSide::start_with_egress(&engine, &component, config, hooks, 64 << 20)
            .await
            .unwrap();
        let error = side.get_all().await.unwrap_err();

        assert_eq!(error.code, ErrorCode::Unavailable, "{}", describe(&error));
        assert!(
            describe(&error).contains("denied"),
            "the refusal is named: {}",
            describe(&error)
        );
        assert!(
            elsewhere.accept().is_err(),
            "no connection reached the other authority"
        );

        // A write is denied as plainly, and is known not to have been saved.
        let set = vec![("k".to_string(), "\"v\"".to_string())];
        let error = forward!(&mut side, call_set_all_secrets(&set)).unwrap_err();
        let text = describe(&error);
        assert!(
            text.contains("could not be saved") && text.contains("denied"),
            "a denied write is known not to have been saved: {text}"
        );
        assert!(!text.contains("may or may not"), "{text}");
        assert!(elsewhere.accept().is_err());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_validate_interface_reports_every_problem_of_a_set() {
        let engine = engine().unwrap();
        let component = secrets_component(&engine);
        let config = SecretsConfig {
            base_url: "http://127.0.0.1:9".into(),
            team: "team".into(),
            job: "job".into(),
            deployment_id: None,
            token: None,
        };
        let hooks = EgressHooks::allowing(&config.base_url).unwrap();
        let mut side = SecretsSide::start_with_egress(&engine, &component, config, hooks, 64 << 20)
            .await
            .unwrap();
        let set: Vec<(String, String)> = [
            ("not json", "{"),
            ("broken", "{"),
            ("bad name", "1"),
            ("fine", "\"0123456789012345678901234567890123456789\""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let problems = side
            .instance
            .vdk_secrets_validate()
            .call_secrets(&mut side.store, &set, Some(40))
            .await
            .unwrap();
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        // A bad name is its entry's one problem, as in a document ("not json" also has a value
        // that is not JSON); a value that is not JSON under a good name is reported, and it
        // hides no other entry's rule, nor the size.
        assert_eq!(keys, ["bad name", "broken", "not json", ""], "{problems:?}");
        assert!(problems[0].message.contains("whitespace"), "{problems:?}");
        assert!(
            problems[1].message.contains("not valid JSON"),
            "{problems:?}"
        );
        assert!(problems[2].message.contains("whitespace"), "{problems:?}");
        assert!(problems[3].message.contains("limit is 40 bytes"));
    }
}
