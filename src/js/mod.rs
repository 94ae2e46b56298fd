//! The JavaScript binding (feature `js`): the npm package's surface, glue only.
//!
//! ```js
//! import { SecretsClient, validateSecrets } from "vdk-secrets";
//! const client = new SecretsClient({ baseUrl: "https://cs.example.com", team: "t", job: "j", token });
//! await client.setSecret("db_password", "s3cret");
//! const all = await client.getAllSecrets();          // { db_password: "s3cret", ... }
//! const { current, versions } = await client.versions(); // names changed, never values
//! ```
//!
//! Errors are JS `Error`s named `SecretsError` with `code`, `status`, `what`, `why`,
//! `countermeasures` and `problems`.

mod convert;
mod set_text;

// Talc instead of the default dlmalloc: measurably faster at the many small allocations of
// parsing a secret set, and smaller (see docs/BENCHMARKS.md); freed small blocks are kept
// and reused before talc is asked (`secrets::memory::Reusing`).
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: crate::secrets::memory::Reusing<talc::wasm::WasmDynamicTalc> =
    crate::secrets::memory::Reusing::new(talc::wasm::new_wasm_dynamic_allocator());

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use crate::api::{ETag, Endpoint, History, Token};
use crate::client::SecretsClient;
use crate::error::{Error, Problem};
use crate::job::JobRef;
use crate::secrets::Secrets;
use crate::transport::fetch::FetchTransport;
use crate::validate::{self, Limits};

use set_text::{plain_set_text, secrets_to_js};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/**
 * Any JSON value: what a secret may hold. Integers beyond Number.MAX_SAFE_INTEGER arrive as
 * `bigint`, so that they are not rounded, and a `bigint` from -2^63 to 2^64 - 1 is sent as an
 * exact JSON integer.
 */
export type JsonValue = string | number | bigint | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** All secrets of a job: names mapped to values. */
export type Secrets = { [name: string]: JsonValue };
/** Where a job's secrets are and how to reach them. */
export interface ClientConfig {
  /** The Control Service (or vdk-secrets server) URL, e.g. "https://cs.example.com". */
  baseUrl: string;
  team: string;
  job: string;
  /** Sent in the path and ignored by the server; default "TODO", as upstream clients send. */
  deploymentId?: string;
  /** OAuth2 access token, sent as `Authorization: Bearer`. Kept inside the client only. */
  token?: string;
  /** Answer reads from the last set read until this client writes. Default false. */
  cache?: boolean;
  /** The server's size limit, to check sets before sending. Default 1048576. */
  maxSetBytes?: number;
}
/** One broken rule: the key it is about (a secret name, "team", ...) and what is wrong. */
export interface Problem { key: string; message: string; }
export type ErrorCode = "invalid-input" | "not-found" | "unauthorized" | "forbidden" | "conflict"
  | "too-large" | "not-configured" | "unavailable" | "protocol" | "not-supported";
/** What every rejected promise and thrown error of this package is. */
export interface SecretsError extends Error {
  name: "SecretsError";
  code: ErrorCode;
  /** The HTTP status, when the server answered. */
  status: number | null;
  what: string;
  why: string;
  countermeasures: string;
  problems: Problem[];
}
/** A job's secrets and the version they were read at (null if the server sends none). */
export interface Versioned { secrets: Secrets; etag: string | null; }
/**
 * One version in a job's history: when and by whom it was written, and the NAMES of the
 * secrets it added, changed and removed (never a value), each list sorted.
 */
export interface VersionInfo {
  /** Counted from 1; its etag is `"<version>"`. */
  version: number;
  /** When it was written: RFC 3339, UTC. */
  time: string;
  /** The name of the token that wrote it, or null when the server does not know. */
  author: string | null;
  /** The version this one restored, or null. */
  restoredFrom: number | null;
  /** The next older version still kept, which the three lists compare against; null when
   * there is none (then every name is in `added`). */
  previous: number | null;
  added: string[];
  changed: string[];
  removed: string[];
}
/** A job's current version (0 if never written) and the versions that can still be read,
 * newest first. */
export interface History { current: number; versions: VersionInfo[]; }
/** The limits the rules use. */
export interface Limits { maxSetBytes: number; maxSecretNameChars: number; maxValueDepth: number; }
/** What `checkSecretsDocument` found. */
export interface DocumentCheck {
  /** The set, when the text is one JSON object of unique names (even if `problems` lists
   * other broken rules); null otherwise. */
  secrets: Secrets | null;
  /** Every problem, sorted by name, problems of the whole set last; empty when it can be
   * saved as it is. */
  problems: Problem[];
  /** Bytes of the set as compact UTF-8 JSON, the measure the server limits; 0 when the
   * text cannot be read. */
  size: number;
}
/** What a server reports of its limits; `maxSetBytes` is null when it reports none. */
export interface ServerLimits { maxSetBytes: number | null; }
"#;

/// A client of one job's secrets.
#[wasm_bindgen(js_name = SecretsClient)]
pub struct JsSecretsClient {
    /// Shared with the operations under way, which may outlive the JS object (`free()`).
    inner: Rc<SecretsClient<FetchTransport>>,
}

/// What an operation of the client resolves to, or rejects with.
type Outcome = Result<JsValue, JsValue>;

/// Runs an operation as a JS promise. Every method goes through this one adapter, so the
/// promise machinery is in the module once, not once per method.
fn spawn(operation: Pin<Box<dyn Future<Output = Outcome>>>) -> Promise {
    wasm_bindgen_futures::future_to_promise(operation)
}

#[wasm_bindgen(js_class = SecretsClient)]
impl JsSecretsClient {
    /// Checks the configuration and makes a client; throws a `SecretsError` naming every
    /// wrong field.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ClientConfig")] config: JsValue,
    ) -> Result<JsSecretsClient, JsValue> {
        Ok(JsSecretsClient {
            inner: Rc::new(client_from_config(&config)?),
        })
    }

    /// The value of secret `name`, or `undefined`.
    #[wasm_bindgen(js_name = getSecret, unchecked_return_type = "Promise<JsonValue | undefined>")]
    pub fn get_secret(&self, name: String) -> Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move {
            let value = client.get(&name).await?;
            Ok(value.map_or(JsValue::UNDEFINED, |v| convert::to_js(v.expose())))
        }))
    }

    /// Every secret of the job.
    #[wasm_bindgen(js_name = getAllSecrets, unchecked_return_type = "Promise<Secrets>")]
    pub fn get_all_secrets(&self) -> Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move {
            let (read, body) = client.read_versioned_with_body().await?;
            Ok(secrets_to_js(&read.secrets, body))
        }))
    }

    /// Every secret and the version they were read at (for `setAllSecrets(…, etag)`).
    #[wasm_bindgen(js_name = getAllSecretsVersioned, unchecked_return_type = "Promise<Versioned>")]
    pub fn get_all_secrets_versioned(&self) -> Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move {
            let (read, body) = client.read_versioned_with_body().await?;
            let out = Object::new();
            set(&out, "secrets", &secrets_to_js(&read.secrets, body));
            set(&out, "etag", &etag_to_js(read.etag.as_ref()));
            Ok(out.into())
        }))
    }

    /// Replaces the whole set. With `ifMatch` (an etag), only if the set is still at that
    /// version, else a `conflict` error. Resolves to the new etag, or null.
    #[wasm_bindgen(js_name = setAllSecrets, unchecked_return_type = "Promise<string | null>")]
    pub fn set_all_secrets(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Secrets")] secrets: JsValue,
        #[wasm_bindgen(js_name = ifMatch)] if_match: Option<String>,
    ) -> Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move {
            let if_match = if_match.map(ETag::new);
            // The set's text, and its problems when the module reads that text back: not a
            // lone surrogate, which JSON.stringify escapes as `\ud800` and JSON refuses; such a
            // set is converted member by member, as any other set the text cannot carry.
            let checked = plain_set_text(&secrets).and_then(|text| {
                let problems = validate::text_set_problems(&text, client.limits())?;
                Some((text, problems))
            });
            let etag = match checked {
                Some((text, problems)) => {
                    client
                        .replace_with_text(text, problems, if_match.as_ref())
                        .await?
                }
                None => {
                    let secrets = whole_set_arg(&secrets, client.limits())?;
                    match &if_match {
                        Some(tag) => client.replace_if_match(&secrets, tag).await?,
                        None => client.replace_all(&secrets).await.map(|()| None)?,
                    }
                }
            };
            // Without `ifMatch` the new etag is not reported, as before.
            Ok(etag_to_js(etag.as_ref().filter(|_| if_match.is_some())))
        }))
    }

    /// Sets one secret, keeping the others. A string for an existing number, boolean, list
    /// or object is converted to that type, as the VDK CLI does.
    #[wasm_bindgen(js_name = setSecret, unchecked_return_type = "Promise<void>")]
    pub fn set_secret(
        &self,
        name: String,
        #[wasm_bindgen(unchecked_param_type = "JsonValue")] value: JsValue,
    ) -> Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move {
            let value = convert::value_from_js(&name, &value)
                .map_err(|p| Error::invalid("The secret value", vec![p]))?;
            client.set(&name, value).await?;
            Ok(JsValue::UNDEFINED)
        }))
    }

    /// Deletes the named secrets in one write; if any does not exist, nothing is deleted.
    #[wasm_bindgen(js_name = deleteSecrets, unchecked_return_type = "Promise<void>")]
    pub fn delete_secrets(&self, names: Vec<String>) -> Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            client.delete(&names).await?;
            Ok(JsValue::UNDEFINED)
        }))
    }

    /// Deletes every secret of the job.
    #[wasm_bindgen(js_name = deleteAllSecrets, unchecked_return_type = "Promise<void>")]
    pub fn delete_all_secrets(&self) -> Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move {
            client.delete_all().await?;
            Ok(JsValue::UNDEFINED)
        }))
    }

    /// The job's version history, newest first. Rejects with code `not-supported` when the
    /// server keeps none (the upstream Control Service).
    #[wasm_bindgen(unchecked_return_type = "Promise<History>")]
    pub fn versions(&self) -> Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move {
            let history = client.versions().await?;
            Ok(history_to_js(&history))
        }))
    }

    /// The whole set as it was at `version`; `not-found` (naming the versions that can be
    /// read) when it does not exist or is no longer kept.
    #[wasm_bindgen(js_name = readVersion, unchecked_return_type = "Promise<Secrets>")]
    pub fn read_version(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] version: JsValue,
    ) -> Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move {
            let version = version_arg(&version)?;
            let secrets = client.read_version(version).await?;
            Ok(convert::secrets_to_js(&secrets))
        }))
    }

    /// Makes the set what it was at `version`, as a new version, only if it is still at
    /// `ifMatch` (the etag of `getAllSecretsVersioned`), else a `conflict` error. Resolves to
    /// the new etag. Never repeated: a lost answer rejects with `unavailable`, saying the
    /// outcome is unknown.
    #[wasm_bindgen(js_name = restoreVersion, unchecked_return_type = "Promise<string>")]
    pub fn restore_version(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] version: JsValue,
        #[wasm_bindgen(js_name = ifMatch, unchecked_param_type = "string")] if_match: JsValue,
    ) -> Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move {
            let version = version_arg(&version)?;
            let Some(tag) = if_match.as_string() else {
                return Err(JsValue::from(Error::invalid(
                    "The version to restore",
                    vec![Problem::new(
                        "ifMatch",
                        "must be the etag the secrets were read at (from getAllSecretsVersioned)",
                    )],
                )));
            };
            let etag = client.restore_version(version, &ETag::new(tag)).await?;
            Ok(etag.as_str().into())
        }))
    }

    /// The server's limits, from `GET {baseUrl}/health` (sent without the token).
    /// `maxSetBytes` is null when the server reports none (the upstream Control Service).
    #[wasm_bindgen(js_name = serverLimits, unchecked_return_type = "Promise<ServerLimits>")]
    pub fn server_limits(&self) -> Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move {
            let limits = client.server_limits().await?;
            let out = Object::new();
            let max = limits
                .max_set_bytes
                .map_or(JsValue::NULL, |max| (max as f64).into());
            set(&out, "maxSetBytes", &max);
            Ok(out.into())
        }))
    }

    /// Replaces the whole set with a JSON document (an exported secrets file).
    #[wasm_bindgen(js_name = overwriteAllSecrets, unchecked_return_type = "Promise<void>")]
    pub fn overwrite_all_secrets(&self, json: String) -> Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move {
            client.overwrite_from_json(&json).await?;
            Ok(JsValue::UNDEFINED)
        }))
    }
}

/// Every problem with a secret name; empty when it is valid.
#[wasm_bindgen(js_name = validateSecretName, unchecked_return_type = "Problem[]")]
pub fn validate_secret_name(name: &str) -> JsValue {
    problems_to_js(
        validate::secret_name(name)
            .err()
            .map(|e| e.problems().to_vec()),
    )
}

/// Every problem with one secret's value; empty when it is valid.
#[wasm_bindgen(js_name = validateSecretValue, unchecked_return_type = "Problem[]")]
pub fn validate_secret_value(
    name: &str,
    #[wasm_bindgen(unchecked_param_type = "JsonValue")] value: JsValue,
) -> JsValue {
    let problems = match convert::value_from_js(name, &value) {
        Ok(v) => validate::secret_value(name, &v)
            .err()
            .map(|e| e.problems().to_vec()),
        Err(p) => Some(vec![p]),
    };
    problems_to_js(problems)
}

/// Every problem with a whole set (names, values, size), as the server would find them.
#[wasm_bindgen(js_name = validateSecrets, unchecked_return_type = "Problem[]")]
pub fn validate_secrets(
    #[wasm_bindgen(unchecked_param_type = "Secrets")] secrets: JsValue,
    #[wasm_bindgen(js_name = maxSetBytes)] max_set_bytes: Option<f64>,
) -> JsValue {
    // Values that cannot be JSON are reported with every rule broken by the rest.
    problems_to_js(Some(convert::set_problems(
        &secrets,
        &limits_arg(max_set_bytes),
    )))
}

/// Every problem with a secrets document (JSON text): syntax, duplicate names, every rule.
#[wasm_bindgen(js_name = validateSecretsDocument, unchecked_return_type = "Problem[]")]
pub fn validate_secrets_document(
    json: &str,
    #[wasm_bindgen(js_name = maxSetBytes)] max_set_bytes: Option<f64>,
) -> JsValue {
    problems_to_js(Some(validate::document_problems(
        json,
        &limits_arg(max_set_bytes),
    )))
}

/// Reads a secrets document (JSON text) once and reports every problem together: a text
/// that is not one JSON object (the only problem then), names written twice, each name and
/// value that breaks a rule, a set over `maxSetBytes` (default 1048576). Never throws on bad
/// input, and no message holds a value.
#[wasm_bindgen(js_name = checkSecretsDocument, unchecked_return_type = "DocumentCheck")]
pub fn check_secrets_document(
    text: &str,
    #[wasm_bindgen(js_name = maxSetBytes)] max_set_bytes: Option<f64>,
) -> JsValue {
    let check = validate::document(text, &limits_arg(max_set_bytes));
    let out = Object::new();
    let secrets = check
        .secrets
        .as_ref()
        .map_or(JsValue::NULL, convert::secrets_to_js);
    set(&out, "secrets", &secrets);
    set(&out, "problems", &problems_to_js(Some(check.problems)));
    set(&out, "size", &(check.size as f64).into());
    out.into()
}

/// The bytes one entry `"name":value` takes in the compact JSON of a set. A set of n ≥ 1
/// entries takes `2 + (sum of its entry sizes) + (n - 1)` bytes, and an empty set 2: the
/// same as `secretsSize`. Throws a `SecretsError` if the value cannot be JSON.
#[wasm_bindgen(js_name = secretEntrySize)]
pub fn secret_entry_size(
    name: &str,
    #[wasm_bindgen(unchecked_param_type = "JsonValue")] value: JsValue,
) -> Result<f64, JsValue> {
    let value = convert::value_from_js(name, &value)
        .map_err(|p| Error::invalid("The secret value", vec![p]))?;
    Ok(validate::entry_size(name, &value) as f64)
}

/// Every problem with a team and job name; empty when both are valid.
#[wasm_bindgen(js_name = validateJob, unchecked_return_type = "Problem[]")]
pub fn validate_job(team: &str, job: &str) -> JsValue {
    problems_to_js(JobRef::new(team, job).err().map(|e| e.problems().to_vec()))
}

/// The size of a set as the server measures it: bytes of compact UTF-8 JSON. Throws a
/// `SecretsError` if a value cannot be JSON.
#[wasm_bindgen(js_name = secretsSize)]
pub fn secrets_size(
    #[wasm_bindgen(unchecked_param_type = "Secrets")] secrets: JsValue,
) -> Result<f64, JsValue> {
    Ok(validate::json_size(&secrets_arg(&secrets)?) as f64)
}

/// Parses a secrets document (a JSON object), refusing duplicate names; throws a
/// `SecretsError` that names what is wrong, never a value.
#[wasm_bindgen(js_name = parseSecretsDocument, unchecked_return_type = "Secrets")]
pub fn parse_secrets_document(json: &str) -> Result<JsValue, JsValue> {
    let secrets = Secrets::from_json_document(json)?;
    Ok(convert::secrets_to_js(&secrets))
}

/// The limits the rules use by default.
#[wasm_bindgen(unchecked_return_type = "Limits")]
pub fn limits() -> JsValue {
    let out = Object::new();
    set(
        &out,
        "maxSetBytes",
        &(validate::DEFAULT_MAX_SET_BYTES as f64).into(),
    );
    set(
        &out,
        "maxSecretNameChars",
        &(validate::MAX_SECRET_NAME_CHARS as f64).into(),
    );
    set(
        &out,
        "maxValueDepth",
        &(validate::MAX_VALUE_DEPTH as f64).into(),
    );
    out.into()
}

fn client_from_config(config: &JsValue) -> Result<SecretsClient<FetchTransport>, Error> {
    if !convert::is_plain_object(config) {
        return Err(Error::invalid(
            "The client configuration",
            vec![Problem::new(
                "config",
                "must be an object such as { baseUrl, team, job, token }",
            )],
        ));
    }
    let mut problems = Vec::new();
    let mut text = |key: &str, required: bool| -> Option<String> {
        let value = Reflect::get(config, &key.into()).unwrap_or(JsValue::UNDEFINED);
        if value.is_undefined() || value.is_null() {
            if required {
                problems.push(Problem::new(key, "is missing"));
            }
            return None;
        }
        let text = value.as_string();
        if text.is_none() {
            problems.push(Problem::new(key, "must be a string"));
        }
        text
    };
    let base_url = text("baseUrl", true);
    let team = text("team", true);
    let job = text("job", true);
    let deployment = text("deploymentId", false);
    let token = text("token", false);
    let (Some(base_url), Some(team), Some(job)) = (base_url, team, job) else {
        return Err(Error::invalid("The client configuration", problems));
    };
    if !problems.is_empty() {
        return Err(Error::invalid("The client configuration", problems));
    }
    let mut job_ref = JobRef::new(team, job)?;
    if let Some(id) = deployment {
        job_ref = job_ref.with_deployment(id)?;
    }
    let token = token.map(Token::new).transpose()?;
    let endpoint = Endpoint::new(&base_url, job_ref, token)?;
    let cache = Reflect::get(config, &"cache".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let max = Reflect::get(config, &"maxSetBytes".into())
        .ok()
        .and_then(|v| v.as_f64());
    Ok(SecretsClient::new(FetchTransport, endpoint)
        .with_cache(cache)
        .with_limits(limits_arg(max)))
}

fn limits_arg(max_set_bytes: Option<f64>) -> Limits {
    match max_set_bytes {
        Some(n) if n.is_finite() && n >= 0.0 => Limits {
            max_set_bytes: n as usize,
        },
        _ => Limits::default(),
    }
}

/// A set converted member by member; when a member does not convert, the error lists every
/// problem of the set, as `validateSecrets` does, not only the conversions'.
fn whole_set_arg(secrets: &JsValue, limits: &Limits) -> Result<Secrets, JsValue> {
    let entries = convert::secret_entries(secrets)
        .map_err(|problem| Error::invalid("The set of secrets", vec![problem]))?;
    let (set, mut problems) = validate::converted_set(entries);
    if problems.is_empty() {
        return Ok(set);
    }
    problems.extend(validate::secrets_problems(&set, limits));
    validate::sort_problems(&mut problems);
    Err(Error::invalid("The set of secrets", problems).into())
}

fn secrets_arg(secrets: &JsValue) -> Result<Secrets, JsValue> {
    convert::secrets_from_js(secrets)
        .map_err(|problems| Error::invalid("The set of secrets", problems).into())
}

/// A version number from JS: a whole `number` from 1 to `Number.MAX_SAFE_INTEGER`.
fn version_arg(version: &JsValue) -> Result<u64, JsValue> {
    const MAX_SAFE_INTEGER: f64 = crate::numbers::MAX_SAFE_INTEGER as f64;
    match version.as_f64() {
        Some(n) if n.fract() == 0.0 && (1.0..=MAX_SAFE_INTEGER).contains(&n) => Ok(n as u64),
        _ => Err(JsValue::from(Error::invalid(
            "The version",
            vec![Problem::new(
                "version",
                "must be a whole number from 1 up, as listed by versions()",
            )],
        ))),
    }
}

/// Version numbers cross as JS numbers: exact up to 2^53, far beyond any real history.
fn version_to_js(version: u64) -> JsValue {
    (version as f64).into()
}

fn names_to_js(names: &[String]) -> JsValue {
    names
        .iter()
        .map(|name| JsValue::from(name.as_str()))
        .collect::<Array>()
        .into()
}

fn history_to_js(history: &History) -> JsValue {
    let versions = Array::new();
    for info in &history.versions {
        let item = Object::new();
        set(&item, "version", &version_to_js(info.version));
        set(&item, "time", &info.time.as_str().into());
        set(
            &item,
            "author",
            &info.author.as_deref().map_or(JsValue::NULL, JsValue::from),
        );
        set(
            &item,
            "restoredFrom",
            &info.restored_from.map_or(JsValue::NULL, version_to_js),
        );
        set(
            &item,
            "previous",
            &info.previous.map_or(JsValue::NULL, version_to_js),
        );
        set(&item, "added", &names_to_js(&info.added));
        set(&item, "changed", &names_to_js(&info.changed));
        set(&item, "removed", &names_to_js(&info.removed));
        versions.push(&item);
    }
    let out = Object::new();
    set(&out, "current", &version_to_js(history.current));
    set(&out, "versions", &versions);
    out.into()
}

fn etag_to_js(etag: Option<&ETag>) -> JsValue {
    etag.map_or(JsValue::NULL, |e| e.as_str().into())
}

impl From<Error> for JsValue {
    fn from(error: Error) -> JsValue {
        error_to_js(&error)
    }
}

/// A `SecretsError`: a JS `Error` carrying the report's fields.
fn error_to_js(error: &Error) -> JsValue {
    let js = js_sys::Error::new(&error.message());
    js.set_name("SecretsError");
    let report = error.report();
    set(&js, "code", &error.kind().code().into());
    set(
        &js,
        "status",
        &report.status.map_or(JsValue::NULL, |s| f64::from(s).into()),
    );
    set(&js, "what", &report.what.as_str().into());
    set(&js, "why", &report.why.as_str().into());
    set(
        &js,
        "countermeasures",
        &report.countermeasures.as_str().into(),
    );
    set(
        &js,
        "problems",
        &problems_to_js(Some(report.problems.clone())),
    );
    js.into()
}

fn problems_to_js(problems: Option<Vec<Problem>>) -> JsValue {
    let out = Array::new();
    for problem in problems.unwrap_or_default() {
        let item = Object::new();
        set(&item, "key", &problem.key.as_str().into());
        set(&item, "message", &problem.message.as_str().into());
        out.push(&item);
    }
    out.into()
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property on a fresh object or Error cannot fail.
    let _ = Reflect::set(target, &key.into(), value);
}
