//! The shared corpus of inputs and verdicts (`tests/rules_corpus.json` and the cases taken from
//! fuzzing, `tests/corpus/fuzz-documents.jsonl`) through the vdk:secrets component, run by
//! wasmtime: the same verdicts and the very same words as the native code
//! (`tests/rules_corpus.rs`), the npm package in Node and in Chromium.
//!
//! The component takes a set as (name, JSON text of the value) pairs, not as one document.
//! Each document that reads as one JSON object is split into its members here, every value
//! kept as written, and the pairs go to `validate.secrets`:
//!
//! - when the native document check reads the set whole (no repeated name, no number that
//!   would be stored changed), the component must give exactly the expected problems;
//! - otherwise the problem was found while reading the document, and the pairs show it in
//!   their own form: a number's line and column are within its value, and a repeated name is
//!   "given more than once", and an entry with a bad name may be reported by its name alone.
//!   The component must still find the set invalid and name every secret the document
//!   check names, with the same words around the position or its name's problem.
//!
//! A document that is not one JSON object has no pairs: that verdict is the native parser's
//! alone. Every document (those too) is also given whole as one value, so that the
//! component's own JSON reading meets every input: its problems must equal the native
//! code's for the same pairs, and a syntax error must be placed where the document check
//! places it. Job references go in through the host's configuration: a store call checks
//! the team and job before anything else.
//!
//! scripts/test.sh builds the component first and sets VDK_TEST_COMPONENTS to its directory.

mod support;

use serde_json::Value;
use vdk_secrets::validate::{self, Limits};
use vdk_secrets::{Problem, SecretValue, Secrets};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "secrets-component",
    exports: { default: async },
});

use vdk::secrets::configuration::Config as SecretsConfig;

const HAND_WRITTEN: &str = include_str!("../../tests/rules_corpus.json");
const FUZZ_CASES: &str = include_str!("../../tests/corpus/fuzz-documents.jsonl");

/// A base URL the component refuses: a store call checks the job first, then this, and so
/// never reaches the network.
const NO_URL: &str = "no URL";

struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    config: SecretsConfig,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: wasmtime_wasi_http::default_hooks(),
        }
    }
}

impl vdk::secrets::configuration::Host for State {
    fn get_config(&mut self) -> SecretsConfig {
        self.config.clone()
    }
}

impl vdk::secrets::types::Host for State {}

/// The built component, ready to instantiate, once per configuration.
struct Built {
    engine: Engine,
    pre: SecretsComponentPre<State>,
}

impl Built {
    fn load() -> Built {
        let dir = support::components(&["vdk-secrets.wasm"]);
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config).unwrap();
        let component = Component::from_file(&engine, dir.join("vdk-secrets.wasm")).unwrap();
        let mut linker = Linker::<State>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).unwrap();
        SecretsComponent::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).unwrap();
        let pre = SecretsComponentPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
        Built { engine, pre }
    }

    /// A new instance whose host configures `team` and `job`.
    async fn instance(&self, team: &str, job: &str) -> (Store<State>, SecretsComponent) {
        let state = State {
            wasi: WasiCtxBuilder::new().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            config: SecretsConfig {
                base_url: NO_URL.into(),
                team: team.into(),
                job: job.into(),
                deployment_id: None,
                token: None,
            },
        };
        let mut store = Store::new(&self.engine, state);
        let instance = self.pre.instantiate_async(&mut store).await.unwrap();
        (store, instance)
    }
}

type Pairs = Vec<(String, String)>;

fn problem_pairs(problems: impl IntoIterator<Item = Problem>) -> Pairs {
    problems.into_iter().map(|p| (p.key, p.message)).collect()
}

fn wit_pairs(problems: Vec<vdk::secrets::types::Problem>) -> Pairs {
    problems.into_iter().map(|p| (p.key, p.message)).collect()
}

fn expected_pairs(case: &Value) -> Pairs {
    case["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|pair| {
            (
                pair[0].as_str().unwrap().to_string(),
                pair[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The document cases, hand-written first: a name for messages, the document, the verdict
/// and every problem `validateSecretsDocument` gives, as [key, message].
fn document_cases() -> Vec<(String, String, bool, Pairs)> {
    let hand: Value = serde_json::from_str(HAND_WRITTEN).unwrap();
    let hand = hand["documents"].as_array().unwrap().iter().map(|case| {
        let document = case["document"].as_str().unwrap().to_string();
        let name: String = format!("{document:?}").chars().take(80).collect();
        (name, document, case["valid"].as_bool().unwrap(), case)
    });
    let fuzz: Vec<Value> = FUZZ_CASES
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let fuzz = fuzz.iter().map(|case| {
        let name = case["from"].as_str().unwrap().to_string();
        let document = case["document"].as_str().unwrap().to_string();
        (name, document, case["valid"].as_bool().unwrap(), case)
    });
    hand.chain(fuzz)
        .map(|(name, document, valid, case)| {
            let expected = expected_pairs(case);
            assert!(
                !valid || expected.is_empty(),
                "{name}: a valid case lists no problem"
            );
            assert!(
                valid || !expected.is_empty(),
                "{name}: every invalid case lists its problems exactly"
            );
            (name, document, valid, expected)
        })
        .collect()
}

/// The members of `document`, which must read as one JSON object, in document order, each
/// value as written (without the whitespace around it). Repeated names are kept.
fn members(document: &str) -> Pairs {
    let bytes = document.as_bytes();
    let skip_space = |mut i: usize| {
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    };
    // The end of the JSON string starting at `i` (just past its closing quote).
    let string_end = |mut i: usize| {
        i += 1;
        while bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        i + 1
    };
    let mut out = Vec::new();
    let mut i = skip_space(0);
    assert_eq!(bytes[i], b'{', "one JSON object");
    i = skip_space(i + 1);
    while bytes[i] != b'}' {
        let key_end = string_end(i);
        let name: String = serde_json::from_str(&document[i..key_end]).unwrap();
        i = skip_space(key_end);
        assert_eq!(bytes[i], b':');
        let start = skip_space(i + 1);
        let mut depth = 0usize;
        i = start;
        loop {
            match bytes[i] {
                b'"' => i = string_end(i) - 1,
                b'[' | b'{' => depth += 1,
                b']' | b'}' if depth == 0 => break,
                b']' | b'}' => depth -= 1,
                b',' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        let value = document[start..i].trim_end_matches([' ', '\t', '\n', '\r']);
        out.push((name, value.to_string()));
        if bytes[i] == b',' {
            i = skip_space(i + 1);
        }
    }
    out
}

/// What the native code answers for the same pairs the component gets.
fn native(pairs: &Pairs) -> Pairs {
    let entries = pairs
        .iter()
        .map(|(name, json)| (name.clone(), SecretValue::parse(name, json)));
    problem_pairs(validate::converted_set_problems(
        entries,
        &Limits::default(),
    ))
}

/// `message` with the line and column of a position left out.
fn without_position(message: &str) -> String {
    let Some(at) = message.find("at line ") else {
        return message.to_string();
    };
    let rest = &message[at + "at line ".len()..];
    let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let line = digits(rest);
    let rest = rest[line..]
        .strip_prefix(" column ")
        .unwrap_or(&rest[line..]);
    let column = digits(rest);
    format!("{}at line _ column _{}", &message[..at], &rest[column..])
}

#[tokio::test(flavor = "multi_thread")]
async fn every_document_gets_the_native_verdict_and_words_through_the_component() {
    let secrets = Built::load();
    let (mut store, instance) = secrets.instance("team", "job").await;
    let validate = instance.vdk_secrets_validate();
    let cases = document_cases();
    let (mut whole, mut in_pairs_form, mut native_only) = (0, 0, 0);
    let mut disagreements = Vec::new();
    for (name, document, valid, expected) in &cases {
        // The whole document as one value: the component's own reading of the JSON.
        let one = vec![("value".to_string(), document.clone())];
        let found = wit_pairs(validate.call_secrets(&mut store, &one, None).await.unwrap());
        assert_eq!(found, native(&one), "{name}, as one value");

        let check = validate::document(document, &Limits::default());
        if check.size == 0 {
            // Not one JSON object: there are no pairs to give the component.
            native_only += 1;
            assert!(!valid, "{name}");
            if let Some(position) = expected[0].1.strip_prefix("the document is not valid JSON") {
                assert!(
                    found.iter().any(|(_, m)| m.ends_with(position)),
                    "{name}: the component places the syntax error where the document check \
                     does ({position}): {found:?}"
                );
            }
            continue;
        }
        let pairs = members(document);
        let found = wit_pairs(
            validate
                .call_secrets(&mut store, &pairs, None)
                .await
                .unwrap(),
        );
        assert_eq!(found, native(&pairs), "{name}: component and native code");
        assert_eq!(found.is_empty(), *valid, "{name}: {found:?}");
        for (key, _) in &pairs {
            let names = validate.call_secret_name(&mut store, key).await.unwrap();
            let native = validate::secret_name(key)
                .err()
                .map(|e| e.problems().to_vec());
            assert_eq!(
                wit_pairs(names),
                problem_pairs(native.unwrap_or_default()),
                "{name}: secret-name {key:?}"
            );
        }
        if Secrets::from_json_document(document).is_ok() {
            whole += 1;
            if &found != expected {
                disagreements.push(format!(
                    "{name}\n  expected  {expected:?}\n  component {found:?}"
                ));
            }
        } else {
            in_pairs_form += 1;
            for (key, message) in expected {
                // The name's own problem may stand for the entry (a pair whose name is bad).
                let name_problem = validate::secret_name(key)
                    .err()
                    .and_then(|e| e.problems().first().map(|p| p.message.clone()));
                let named = found.iter().any(|(k, m)| {
                    k == key
                        && (m == "is given more than once; keep one"
                            || without_position(m) == without_position(message)
                            || Some(m) == name_problem.as_ref())
                });
                assert!(named, "{name}: ({key:?}, {message:?}) not in {found:?}");
            }
        }
    }
    eprintln!(
        "{} documents: {whole} checked whole, {in_pairs_form} in the pairs' form, \
         {native_only} the native parser's alone (each also given as one value)",
        cases.len()
    );
    assert!(whole > 50 && in_pairs_form > 5 && native_only > 20);
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_job_reference_gets_the_native_verdict_and_words_through_the_component() {
    let secrets = Built::load();
    let hand: Value = serde_json::from_str(HAND_WRITTEN).unwrap();
    let cases = hand["jobs"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let (team, job) = (
            case["team"].as_str().unwrap(),
            case["job"].as_str().unwrap(),
        );
        let (mut store, instance) = secrets.instance(team, job).await;
        let error = instance
            .vdk_secrets_store()
            .call_get_all_secrets(&mut store)
            .await
            .unwrap()
            .expect_err("the base URL is refused");
        assert_eq!(
            error.code,
            vdk::secrets::types::ErrorCode::InvalidInput,
            "{case}"
        );
        let found = wit_pairs(error.problems);
        if case["valid"].as_bool().unwrap() {
            // The job passed; the next check, of the base URL, is what failed.
            let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, ["base_url"], "{case}: {found:?}");
        } else {
            assert_eq!(found, expected_pairs(case), "{case}");
        }
    }
}
