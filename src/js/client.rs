//! `SecretsClient`: the npm package's client, each method one promise over the core client.
//!
//! Built unless the crate is compiled with `--cfg vdk_size_rules_only`, which
//! `scripts/build-npm.sh --size-rules-only` uses to weigh the module without the client.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::set_text::{plain_set_text, secrets_to_js};
use super::{convert, limits_arg, set};
use crate::api::{ETag, Endpoint, History, Token};
use crate::client::SecretsClient;
use crate::error::{Error, Problem};
use crate::job::JobRef;
use crate::secrets::Secrets;
use crate::transport::fetch::FetchTransport;
use crate::validate::{self, Limits};

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
