//! The npm package's surface, driven from inside the JS engine against the reference server.
//! Shared by `js_node.rs` (Node) and `js_browser.rs` (headless Chromium, through CORS).
//!
//! scripts/test-js.sh starts the servers and sets, at build time:
//! `VDK_SECRETS_TEST_URL` (tokens file, token `VDK_SECRETS_TEST_TOKEN` for team `js`, limit
//! 2048 bytes), `VDK_SECRETS_TEST_NONE_URL` (backend `none`) and `VDK_SECRETS_TEST_DECOY_URL`
//! (a server that answers every GET with an HTML page, as a misconfigured proxy would).

use js_sys::{Array, JSON, Object, Reflect};
use vdk_secrets::js::{
    JsSecretsClient, check_secrets_document, parse_secrets_document, secret_entry_size,
    secrets_size, validate_job, validate_secret_name, validate_secret_value, validate_secrets,
    validate_secrets_document,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn env(name: &str, value: Option<&'static str>) -> &'static str {
    value.unwrap_or_else(|| panic!("{name} is not set: run these tests through scripts/test-js.sh"))
}

fn url() -> &'static str {
    env("VDK_SECRETS_TEST_URL", option_env!("VDK_SECRETS_TEST_URL"))
}

fn token() -> &'static str {
    env(
        "VDK_SECRETS_TEST_TOKEN",
        option_env!("VDK_SECRETS_TEST_TOKEN"),
    )
}

fn js(json: &str) -> JsValue {
    JSON::parse(json).unwrap()
}

fn text(value: &JsValue) -> String {
    JSON::stringify(value).unwrap().as_string().unwrap()
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap()
}

/// A fresh job for each test, so tests do not see each other's secrets.
fn unique_job(prefix: &str) -> String {
    format!("{prefix}-{}", (js_sys::Math::random() * 1e12) as u64)
}

fn config(base: &str, team: &str, job: &str, token: Option<&str>) -> JsValue {
    let c = Object::new();
    Reflect::set(&c, &"baseUrl".into(), &base.into()).unwrap();
    Reflect::set(&c, &"team".into(), &team.into()).unwrap();
    Reflect::set(&c, &"job".into(), &job.into()).unwrap();
    if let Some(token) = token {
        Reflect::set(&c, &"token".into(), &token.into()).unwrap();
    }
    c.into()
}

fn client(job: &str) -> JsSecretsClient {
    JsSecretsClient::new(config(url(), "js", job, Some(token()))).unwrap()
}

/// The `code` of a rejected call, after checking it is a proper `SecretsError`.
fn code(error: JsValue) -> String {
    assert!(error.is_instance_of::<js_sys::Error>(), "a JS Error");
    assert_eq!(get(&error, "name").as_string().unwrap(), "SecretsError");
    for field in ["what", "why", "countermeasures"] {
        assert!(get(&error, field).as_string().is_some(), "{field}");
    }
    assert!(Array::is_array(&get(&error, "problems")));
    get(&error, "code").as_string().unwrap()
}

#[wasm_bindgen_test]
async fn every_operation_round_trips() {
    let c = client(&unique_job("ops"));
    assert_eq!(text(&c.get_all_secrets().await.unwrap()), "{}");
    c.set_secret("password".into(), "s3cret".into())
        .await
        .unwrap();
    c.set_secret("conf".into(), js(r#"{"port": 5432, "tls": true}"#))
        .await
        .unwrap();
    c.set_secret("port".into(), js("1")).await.unwrap();
    c.set_secret("port".into(), "2".into()).await.unwrap();
    assert_eq!(
        c.get_secret("password".into())
            .await
            .unwrap()
            .as_string()
            .unwrap(),
        "s3cret"
    );
    assert!(c.get_secret("missing".into()).await.unwrap().is_undefined());
    assert_eq!(text(&c.get_secret("port".into()).await.unwrap()), "2");

    let versioned = c.get_all_secrets_versioned().await.unwrap();
    let etag = get(&versioned, "etag").as_string().unwrap();
    assert_eq!(
        text(&get(&versioned, "secrets")),
        r#"{"conf":{"port":5432,"tls":true},"password":"s3cret","port":2}"#
    );
    let new_etag = c
        .set_all_secrets(js(r#"{"a": [1, null], "b": "x"}"#), Some(etag.clone()))
        .await
        .unwrap();
    assert_ne!(new_etag.as_string().unwrap(), etag);
    c.delete_secrets(vec!["a".into()]).await.unwrap();
    assert_eq!(text(&c.get_all_secrets().await.unwrap()), r#"{"b":"x"}"#);
    c.overwrite_all_secrets(r#"{"from_file": 1}"#.into())
        .await
        .unwrap();
    assert_eq!(
        text(&c.get_all_secrets().await.unwrap()),
        r#"{"from_file":1}"#
    );
    c.set_all_secrets(js(r#"{"plain": true}"#), None)
        .await
        .unwrap();
    c.delete_all_secrets().await.unwrap();
    assert_eq!(text(&c.get_all_secrets().await.unwrap()), "{}");
}

/// Reads the job's set as raw JSON text, past the package, straight from the server.
async fn stored_json(job: &str) -> String {
    let url = format!(
        "{}/data-jobs/for-team/js/jobs/{job}/deployments/TODO/secrets",
        url()
    );
    use vdk_secrets::{HttpRequest, Method, Transport, transport::fetch::FetchTransport};
    let request = HttpRequest {
        method: Method::Get,
        url,
        headers: vec![("authorization", format!("Bearer {}", token()))],
        body: None,
    };
    let response = FetchTransport.send(request).await.unwrap();
    assert_eq!(response.status, 200);
    String::from_utf8(response.body).unwrap()
}

#[wasm_bindgen_test]
async fn integers_beyond_the_safe_range_survive_a_read_and_a_save() {
    let job = unique_job("bigint");
    let c = client(&job);
    c.overwrite_all_secrets(
        r#"{"id": 12345678901234567891, "min": -9223372036854775808, "safe": 9007199254740991}"#
            .into(),
    )
    .await
    .unwrap();
    let read = c.get_all_secrets().await.unwrap();
    let id = get(&read, "id");
    assert!(id.is_bigint(), "a BigInt, not a rounded number");
    assert_eq!(
        id.unchecked_ref::<js_sys::BigInt>()
            .to_string(10)
            .unwrap()
            .as_string()
            .unwrap(),
        "12345678901234567891"
    );
    assert!(get(&read, "min").is_bigint());
    assert!(
        get(&read, "safe").as_f64().is_some(),
        "safe integers stay numbers"
    );
    let one = c.get_secret("id".into()).await.unwrap();
    assert!(one.is_bigint());

    // Saving what was read, plus a change, stores every integer exactly.
    Reflect::set(
        &read,
        &"added".into(),
        &js_sys::BigInt::from(18446744073709551615u64),
    )
    .unwrap();
    c.set_all_secrets(read, None).await.unwrap();
    assert_eq!(
        stored_json(&job).await,
        r#"{"added":18446744073709551615,"id":12345678901234567891,"min":-9223372036854775808,"safe":9007199254740991}"#
    );

    // A BigInt no 64-bit integer holds is refused, by name, before anything is sent.
    let too_big = js_sys::BigInt::new(&JsValue::from_str("18446744073709551616")).unwrap();
    let e = c
        .set_secret("huge".into(), too_big.into())
        .await
        .unwrap_err();
    assert_eq!(code(e.clone()), "invalid-input");
    assert!(text(&get(&e, "problems")).contains("BigInt"));
    assert!(!text(&get(&e, "problems")).contains("18446744073709551616"));
}

#[wasm_bindgen_test]
async fn invalid_input_is_refused_before_any_request() {
    let c = client(&unique_job("invalid"));
    let e = c
        .set_secret("bad name".into(), "v".into())
        .await
        .unwrap_err();
    assert_eq!(code(e), "invalid-input");
    let e = c
        .set_secret("nan".into(), JsValue::from_f64(f64::NAN))
        .await
        .unwrap_err();
    assert_eq!(code(e.clone()), "invalid-input");
    assert!(text(&get(&e, "problems")).contains("NaN"));
    let e = c.overwrite_all_secrets("[1]".into()).await.unwrap_err();
    assert_eq!(code(e), "invalid-input");
    let e = JsSecretsClient::new(config("not a url", "js", "j", None))
        .err()
        .unwrap();
    assert_eq!(code(e), "invalid-input");
    let e = JsSecretsClient::new(JsValue::from(42)).err().unwrap();
    assert_eq!(code(e), "invalid-input");
}

#[wasm_bindgen_test]
async fn every_server_error_kind_reaches_js() {
    let job = unique_job("errors");
    let c = client(&job);
    c.set_secret("a".into(), "1".into()).await.unwrap();

    let e = c.delete_secrets(vec!["nope".into()]).await.unwrap_err();
    assert_eq!(code(e), "not-found");

    let stale = c
        .set_all_secrets(js("{}"), Some("\"999\"".into()))
        .await
        .unwrap_err();
    assert_eq!(code(stale.clone()), "conflict");
    assert_eq!(get(&stale, "status").as_f64(), Some(412.0));

    let big = format!(r#"{{"big": "{}"}}"#, "x".repeat(3000));
    let e = c.set_all_secrets(js(&big), None).await.unwrap_err();
    assert_eq!(code(e.clone()), "too-large");
    assert!(!text(&get(&e, "message")).contains("xxxxxxxxxx"));

    let anonymous = JsSecretsClient::new(config(url(), "js", &job, None)).unwrap();
    assert_eq!(
        code(anonymous.get_all_secrets().await.unwrap_err()),
        "unauthorized"
    );
    let other_team = JsSecretsClient::new(config(url(), "other", &job, Some(token()))).unwrap();
    assert_eq!(
        code(other_team.get_all_secrets().await.unwrap_err()),
        "forbidden"
    );

    let none_url = env(
        "VDK_SECRETS_TEST_NONE_URL",
        option_env!("VDK_SECRETS_TEST_NONE_URL"),
    );
    let none = JsSecretsClient::new(config(none_url, "js", &job, None)).unwrap();
    assert_eq!(
        code(none.get_all_secrets().await.unwrap_err()),
        "not-configured"
    );

    let down = JsSecretsClient::new(config("http://127.0.0.1:9", "js", &job, None)).unwrap();
    assert_eq!(
        code(down.get_all_secrets().await.unwrap_err()),
        "unavailable"
    );

    // A URL that serves an HTML page where the API should be.
    let decoy = env(
        "VDK_SECRETS_TEST_DECOY_URL",
        option_env!("VDK_SECRETS_TEST_DECOY_URL"),
    );
    let confused = JsSecretsClient::new(config(decoy, "js", "j", Some(token()))).unwrap();
    assert_eq!(
        code(confused.get_all_secrets().await.unwrap_err()),
        "protocol"
    );
}

#[wasm_bindgen_test]
fn validation_functions_report_every_problem() {
    assert_eq!(text(&validate_secret_name("ok")), "[]");
    assert!(text(&validate_secret_name("a b")).contains("whitespace"));
    assert!(text(&validate_secret_value("k", JsValue::UNDEFINED)).contains("undefined"));
    // A huge sparse array is a named problem, not an allocation that ends the module.
    let sparse = Array::new_with_length(1 << 30);
    assert!(text(&validate_secret_value("k", sparse.clone().into())).contains("store less"));
    let set = Object::new();
    Reflect::set(&set, &"k".into(), &Array::of1(&sparse)).unwrap();
    assert!(text(&validate_secrets(set.into(), None)).contains("array items"));
    let problems = validate_secrets(js(r#"{"a b": 1, "ok": 2, "": 3}"#), None);
    let keys: Vec<String> = Array::from(&problems)
        .iter()
        .map(|p| get(&p, "key").as_string().unwrap())
        .collect();
    assert_eq!(keys, ["a b", ""]);
    let over = validate_secrets(js(r#"{"k": "0123456789"}"#), Some(10.0));
    assert!(text(&over).contains("limit is 10 bytes"));
    assert!(text(&validate_secrets_document(r#"{"a":1,"a":2}"#, None)).contains("more than once"));
    assert!(text(&validate_job("", "a/b")).contains("team"));
    assert_eq!(secrets_size(js(r#"{"k":"v"}"#)).unwrap(), 9.0);
    assert_eq!(
        text(&parse_secrets_document(r#"{"k": [1]}"#).unwrap()),
        r#"{"k":[1]}"#
    );
    assert_eq!(
        code(parse_secrets_document("{").unwrap_err()),
        "invalid-input"
    );
}

#[wasm_bindgen_test]
async fn server_limits_come_from_health_or_are_null() {
    let limit = |value: JsValue| get(&value, "maxSetBytes");
    // The test server runs with --max-set-bytes 2048; a client without a token reads it too.
    let anonymous = JsSecretsClient::new(config(url(), "js", "j", None)).unwrap();
    assert_eq!(
        limit(anonymous.server_limits().await.unwrap()).as_f64(),
        Some(2048.0)
    );
    // A page where the API should be reports no limit; a closed port is an error as ever.
    let decoy = env(
        "VDK_SECRETS_TEST_DECOY_URL",
        option_env!("VDK_SECRETS_TEST_DECOY_URL"),
    );
    let confused = JsSecretsClient::new(config(decoy, "js", "j", None)).unwrap();
    assert!(limit(confused.server_limits().await.unwrap()).is_null());
    let down = JsSecretsClient::new(config("http://127.0.0.1:9", "js", "j", None)).unwrap();
    assert_eq!(code(down.server_limits().await.unwrap_err()), "unavailable");
}

#[wasm_bindgen_test]
fn document_check_and_entry_sizes() {
    let check = check_secrets_document(r#"{"a b": 1, "k": "v", "k": 2}"#, Some(10.0));
    assert!(get(&check, "secrets").is_null());
    assert_eq!(
        get(&check, "size").as_f64(),
        Some(r#"{"a b":1,"k":"v"}"#.len() as f64)
    );
    let problems = text(&get(&check, "problems"));
    assert!(problems.contains("whitespace"), "{problems}");
    assert!(problems.contains("more than once"), "{problems}");
    assert!(problems.contains("limit is 10 bytes"), "{problems}");
    let fine = check_secrets_document(r#"{"k": 18446744073709551615}"#, None);
    assert_eq!(text(&get(&fine, "problems")), "[]");
    let big = get(&get(&fine, "secrets"), "k");
    assert!(big.is_bigint(), "exact beyond 2^53");
    let broken = check_secrets_document("{", None);
    assert!(get(&broken, "secrets").is_null());
    assert_eq!(get(&broken, "size").as_f64(), Some(0.0));
    assert!(text(&get(&broken, "problems")).contains("not valid JSON"));

    assert_eq!(secret_entry_size("k", "v".into()).unwrap(), 7.0);
    assert_eq!(
        secret_entry_size("k", big).unwrap(),
        r#""k":18446744073709551615"#.len() as f64
    );
    assert_eq!(
        code(secret_entry_size("k", JsValue::UNDEFINED).unwrap_err()),
        "invalid-input"
    );
}
