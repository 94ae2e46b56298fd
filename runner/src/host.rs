//! The two sides of a run, each in its own store:
//!
//! - the **secrets side**: the `vdk:secrets` component, with wasi:http limited to the Control
//!   Service's authority, and the configuration (token included) that only it sees;
//! - the **job side**: the data-job component, whose `vdk:secrets/store` import the host
//!   forwards to the secrets side, with no network unless allowed.
//!
//! Separate stores keep the token and the network out of the job's reach even though both
//! components run in one process.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::egress::EgressHooks;
use crate::mask::{MaskedOutput, Masker, Sink};

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

use secrets_side::vdk::secrets::configuration::Config as SecretsConfig;
use secrets_side::vdk::secrets::types::{Error as WitError, ErrorCode};

/// An engine for running components asynchronously.
pub fn engine() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    Engine::new(&config)
}

/// Loads a component, compiling it only once: the compiled form is kept in `cache_dir`,
/// named by the component's hash and the engine's compatibility hash.
pub fn load(
    engine: &Engine,
    path: &Path,
    cache_dir: Option<&Path>,
) -> anyhow_like::Result<Component> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read the component {}: {e}", path.display()))?;
    let Some(cache_dir) = cache_dir else {
        return Component::new(engine, &bytes).map_err(|e| invalid_component(path, &e));
    };
    let mut hasher = Sha256::new();
    hasher.update(&bytes);
    std::hash::Hash::hash(
        &engine.precompile_compatibility_hash(),
        &mut HashWriter(&mut hasher),
    );
    let key: String = hasher
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    let cached = cache_dir.join(format!("{key}.cwasm"));
    // Compiled code is run as it is: only a directory nobody else can write to may hold it.
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(cache_dir);
    let trusted = match private_to_this_user(cache_dir) {
        Ok(()) => true,
        Err(why) => {
            eprintln!(
                "vdk-job-runner: not using the cache {}: {why}; compiling afresh",
                cache_dir.display()
            );
            false
        }
    };
    if let Some(compiled) = trusted.then(|| read_private_file(&cached)).flatten() {
        // SAFETY: the bytes were written by `precompile_component` of an engine with the same
        // compatibility hash (part of the name), into a directory only this user can write;
        // the file they were read from was, as opened, this user's and writable by no one else.
        if let Ok(component) = unsafe { Component::deserialize(engine, &compiled) } {
            return Ok(component);
        }
    }
    let compiled = engine
        .precompile_component(&bytes)
        .map_err(|e| invalid_component(path, &e))?;
    let temporary = cache_dir.join(format!(".{key}.{}.tmp", std::process::id()));
    let written = trusted
        && std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .and_then(|mut file| file.write_all(&compiled))
            .is_ok();
    if written {
        let _ = std::fs::rename(&temporary, &cached);
    } else {
        let _ = std::fs::remove_file(&temporary);
    }
    // SAFETY: `compiled` was just produced by this engine.
    unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| invalid_component(path, &e))
}

/// The contents of `path` when, as opened (a link is not followed), it is a file of this user
/// that no one else can write: checked on the open file, so a swap after the check is harmless.
fn read_private_file(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || owner_problem(&meta).is_some() {
        return None;
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Ok when `path` (not followed if a link) is owned by this user and writable by no one else.
fn private_to_this_user(path: &Path) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if meta.file_type().is_symlink() {
        Err("it is a symbolic link".into())
    } else {
        owner_problem(&meta).map_or(Ok(()), Err)
    }
}

/// What is wrong with the owner or mode of a file or directory, if anything.
fn owner_problem(meta: &std::fs::Metadata) -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        Some(format!(
            "it belongs to user {}, not to this user",
            meta.uid()
        ))
    } else if meta.mode() & 0o022 != 0 {
        Some("others can write to it (chmod go-w, or remove it)".into())
    } else {
        None
    }
}

fn invalid_component(path: &Path, e: &wasmtime::Error) -> String {
    format!("{} is not a usable component: {e:#}", path.display())
}

/// Feeds `Hash` output into SHA-256.
struct HashWriter<'a>(&'a mut Sha256);

impl std::hash::Hasher for HashWriter<'_> {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// String errors for this binary: every message is for a person.
pub mod anyhow_like {
    pub type Result<T> = std::result::Result<T, String>;
}

/// What the secrets component's store holds.
pub struct SecretsState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: EgressHooks,
    config: SecretsConfig,
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

/// Where the job's secrets are.
pub struct JobConfig {
    pub base_url: String,
    pub team: String,
    pub job: String,
    pub deployment_id: Option<String>,
    pub token: Option<String>,
}

impl SecretsSide {
    /// Starts the secrets component; it may reach `config.base_url`'s authority only.
    pub async fn start(
        engine: &Engine,
        component: &Component,
        config: JobConfig,
    ) -> anyhow_like::Result<SecretsSide> {
        let hooks = EgressHooks::allowing(&config.base_url)?;
        SecretsSide::start_with_egress(engine, component, config, hooks).await
    }

    async fn start_with_egress(
        engine: &Engine,
        component: &Component,
        config: JobConfig,
        hooks: EgressHooks,
    ) -> anyhow_like::Result<SecretsSide> {
        let mut linker = Linker::<SecretsState>::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| e.to_string())?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| e.to_string())?;
        secrets_side::SecretsComponent::add_to_linker::<_, wasmtime::component::HasSelf<_>>(
            &mut linker,
            |state| state,
        )
        .map_err(|e| e.to_string())?;
        let state = SecretsState {
            // No environment, arguments, files or sockets: only wasi:http, filtered.
            wasi: WasiCtxBuilder::new().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks,
            config: SecretsConfig {
                base_url: config.base_url,
                team: config.team,
                job: config.job,
                deployment_id: config.deployment_id,
                token: config.token,
            },
        };
        let mut store = Store::new(engine, state);
        let instance =
            secrets_side::SecretsComponent::instantiate_async(&mut store, component, &linker)
                .await
                .map_err(|e| format!("the secrets component does not start: {e:#}"))?;
        Ok(SecretsSide { store, instance })
    }

    pub async fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, WitError>> {
        self.instance
            .vdk_secrets_store()
            .call_get_all_secrets(&mut self.store)
            .await
    }
}

/// What the job's store holds.
pub struct JobState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    secrets: Arc<Mutex<SecretsSide>>,
    masker: Masker,
    /// The set fetched at start with `--prefetch`, until the job writes.
    snapshot: Option<Vec<(String, String)>>,
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

/// A trap in the secrets component becomes an `unavailable` error for the job.
fn trapped(e: wasmtime::Error) -> WitError {
    WitError {
        code: ErrorCode::Unavailable,
        status: None,
        what: "The secrets component failed".into(),
        why: format!("{e:#}"),
        countermeasures: "Report this to the operators of the job runner.".into(),
        problems: Vec::new(),
    }
}

impl secrets_side::vdk::secrets::types::Host for JobState {}

impl job_side::vdk::secrets::store::Host for JobState {
    async fn get_secret(&mut self, name: String) -> Result<Option<String>, WitError> {
        let value = match &self.snapshot {
            Some(all) => all.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()),
            None => {
                let mut side = self.secrets.lock().await;
                let SecretsSide { store, instance } = &mut *side;
                instance
                    .vdk_secrets_store()
                    .call_get_secret(store, &name)
                    .await
                    .map_err(trapped)??
            }
        };
        if let Some(json) = &value {
            self.masker.register_json(json);
        }
        Ok(value)
    }

    async fn get_all_secrets(&mut self) -> Result<Vec<(String, String)>, WitError> {
        let all = match &self.snapshot {
            Some(all) => all.clone(),
            None => self
                .secrets
                .lock()
                .await
                .get_all()
                .await
                .map_err(trapped)??,
        };
        for (_, json) in &all {
            self.masker.register_json(json);
        }
        Ok(all)
    }

    async fn set_all_secrets(&mut self, secrets: Vec<(String, String)>) -> Result<(), WitError> {
        self.snapshot = None;
        let mut side = self.secrets.lock().await;
        let SecretsSide { store, instance } = &mut *side;
        instance
            .vdk_secrets_store()
            .call_set_all_secrets(store, &secrets)
            .await
            .map_err(trapped)?
    }

    async fn set_secret(&mut self, name: String, value: String) -> Result<(), WitError> {
        self.snapshot = None;
        let mut side = self.secrets.lock().await;
        let SecretsSide { store, instance } = &mut *side;
        instance
            .vdk_secrets_store()
            .call_set_secret(store, &name, &value)
            .await
            .map_err(trapped)?
    }

    async fn delete_secret(&mut self, name: String) -> Result<(), WitError> {
        self.snapshot = None;
        let mut side = self.secrets.lock().await;
        let SecretsSide { store, instance } = &mut *side;
        instance
            .vdk_secrets_store()
            .call_delete_secret(store, &name)
            .await
            .map_err(trapped)?
    }
}

/// How the job runs.
pub struct JobOptions {
    pub args: Vec<String>,
    pub allow_network: bool,
    pub snapshot: Option<Vec<(String, String)>>,
}

/// Runs the job to its end; `Err` carries a message for the person who started it.
pub async fn run_job(
    engine: &Engine,
    component: &Component,
    secrets: SecretsSide,
    masker: Masker,
    options: JobOptions,
) -> anyhow_like::Result<()> {
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
    job_side::DataJob::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)
        .map_err(|e| e.to_string())?;
    let state = JobState {
        wasi: wasi.build(),
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        secrets: Arc::new(Mutex::new(secrets)),
        masker,
        snapshot: options.snapshot,
    };
    let mut store = Store::new(engine, state);
    let job = job_side::DataJob::instantiate_async(&mut store, component, &linker)
        .await
        .map_err(|e| {
            let text = format!("{e:#}");
            if text.contains("wasi:http") || text.contains("wasi:sockets") {
                format!(
                    "the job needs network access ({text}); jobs get none unless the runner is \
                     started with --allow-job-network"
                )
            } else {
                format!("the job component does not start: {text}")
            }
        })?;
    let outcome = job.call_run(&mut store).await;
    stdout.finish();
    stderr.finish();
    let masker = store.data().masker.clone();
    let mask = |text: String| String::from_utf8_lossy(&masker.mask(text.as_bytes())).into_owned();
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(format!("the job failed: {}", mask(message))),
        Err(trap) => Err(format!("the job trapped: {}", mask(format!("{trap:#}")))),
    }
}

/// A cache directory for compiled components: `$XDG_CACHE_HOME` or `~/.cache`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|base| base.join("vdk-job-runner"))
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

    use super::*;

    /// The secrets component built by scripts/build-component.sh, which the test command
    /// always runs first: its absence is a failure, not a reason to skip.
    fn secrets_component(engine: &Engine) -> Component {
        let dir = std::env::var_os("VDK_TEST_COMPONENTS").expect(
            "VDK_TEST_COMPONENTS is not set: run scripts/test.sh (it builds the components)",
        );
        load(engine, &PathBuf::from(dir).join("vdk-secrets.wasm"), None).unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_secrets_component_cannot_reach_any_other_authority_to_read_or_write() {
        // A listener that would see any connection the component managed to open.
        let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
        elsewhere.set_nonblocking(true).unwrap();
        let elsewhere_url = format!("http://{}", elsewhere.local_addr().unwrap());

        let engine = engine().unwrap();
        let component = secrets_component(&engine);
        let config = JobConfig {
            base_url: elsewhere_url,
            team: "team".into(),
            job: "job".into(),
            deployment_id: None,
            token: Some("token-that-must-stay-home".into()),
        };
        // Only the Control Service at another address is allowed.
        let hooks = EgressHooks::allowing("http://127.0.0.1:9").unwrap();
        let mut side = SecretsSide::start_with_egress(&engine, &component, config, hooks)
            .await
            .unwrap();
        let error = side.get_all().await.unwrap().unwrap_err();

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
        let error = side
            .instance
            .vdk_secrets_store()
            .call_set_all_secrets(&mut side.store, &set)
            .await
            .unwrap()
            .unwrap_err();
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
        let config = JobConfig {
            base_url: "http://127.0.0.1:9".into(),
            team: "team".into(),
            job: "job".into(),
            deployment_id: None,
            token: None,
        };
        let hooks = EgressHooks::allowing(&config.base_url).unwrap();
        let mut side = SecretsSide::start_with_egress(&engine, &component, config, hooks)
            .await
            .unwrap();
        let set: Vec<(String, String)> = [
            ("not json", "{"),
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
        // A value that is not JSON hides no other rule: its own name, other names, the size.
        assert_eq!(
            keys,
            ["bad name", "not json", "not json", ""],
            "{problems:?}"
        );
        assert!(problems[1].message.contains("whitespace"), "{problems:?}");
        assert!(
            problems[2].message.contains("not valid JSON"),
            "{problems:?}"
        );
        assert!(problems[3].message.contains("limit is 40 bytes"));
    }

    #[test]
    fn only_a_private_regular_file_of_this_user_is_read_from_the_cache() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.cwasm");
        std::fs::write(&file, b"compiled").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_private_file(&file).as_deref(), Some(&b"compiled"[..]));

        // Writable by others: not trusted.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(read_private_file(&file), None);
        assert!(
            private_to_this_user(&file)
                .unwrap_err()
                .contains("others can write")
        );

        // A link, even to a private file: not followed.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("b.cwasm");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_private_file(&link), None);
        assert!(
            private_to_this_user(&link)
                .unwrap_err()
                .contains("symbolic link")
        );

        // A directory where a file is expected: not read.
        assert_eq!(read_private_file(dir.path()), None);
    }
}
