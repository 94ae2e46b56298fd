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

// The client is left out of builds with `--cfg vdk_size_rules_only`, which weigh what the
// module's rules cost alone (`scripts/build-npm.sh --size-rules-only`).
#[cfg(not(vdk_size_rules_only))]
mod client;
mod convert;
mod set_text;

#[cfg(not(vdk_size_rules_only))]
pub use client::JsSecretsClient;

// Talc instead of the default dlmalloc: measurably faster at the many small allocations of
// parsing a secret set, and smaller (see docs/BENCHMARKS.md); freed small blocks are kept
// and reused before talc is asked (`secrets::memory::Reusing`).
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: crate::secrets::memory::Reusing<talc::wasm::WasmDynamicTalc> =
    crate::secrets::memory::Reusing::new(talc::wasm::new_wasm_dynamic_allocator());

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::{Error, Problem};
use crate::job::JobRef;
use crate::secrets::Secrets;
use crate::validate::{self, Limits};

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

fn limits_arg(max_set_bytes: Option<f64>) -> Limits {
    match max_set_bytes {
        Some(n) if n.is_finite() && n >= 0.0 => Limits {
            max_set_bytes: n as usize,
        },
        _ => Limits::default(),
    }
}

fn secrets_arg(secrets: &JsValue) -> Result<Secrets, JsValue> {
    convert::secrets_from_js(secrets)
        .map_err(|problems| Error::invalid("The set of secrets", problems).into())
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
