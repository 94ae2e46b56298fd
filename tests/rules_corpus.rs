//! The shared corpus of inputs and verdicts (`rules_corpus.json`), checked natively. The
//! npm package gets the same verdicts and words in `npm/test/rules-corpus.test.mjs`; other
//! harnesses can load the same file with `include_str!`.

use serde_json::Value;
use vdk_secrets::validate::{self, Limits};
use vdk_secrets::{JobRef, Problem, Secrets};

const CORPUS: &str = include_str!("rules_corpus.json");

fn corpus(section: &str) -> Vec<Value> {
    let corpus: Value = serde_json::from_str(CORPUS).expect("the corpus is JSON");
    corpus[section].as_array().expect("a list of cases").clone()
}

/// Every problem with a secrets document, as the npm package's `validateSecretsDocument`
/// finds them.
fn document_problems(document: &str) -> Vec<Problem> {
    match Secrets::from_json_document(document) {
        Ok(set) => validate::secrets_problems(&set, &Limits::default()),
        Err(e) if e.problems().is_empty() => vec![Problem::new("", e.report().why.clone())],
        Err(e) => e.problems().to_vec(),
    }
}

/// Checks one case's verdict against what was found.
fn check(case: &Value, problems: &[Problem]) {
    let expected_valid = case["valid"].as_bool().expect("`valid` is a boolean");
    assert_eq!(problems.is_empty(), expected_valid, "{case}: {problems:?}");
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    let expected_keys: Vec<&str> = case["keys"]
        .as_array()
        .map(|keys| keys.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(keys, expected_keys, "{case}");
    if let Some(exact) = case["problems"].as_array() {
        let found: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.key.as_str(), p.message.as_str()))
            .collect();
        let expected: Vec<(&str, &str)> = exact
            .iter()
            .map(|pair| (pair[0].as_str().unwrap(), pair[1].as_str().unwrap()))
            .collect();
        assert_eq!(found, expected, "{case}");
    }
    let shown: Vec<String> = problems.iter().map(Problem::to_string).collect();
    for mention in case["mentions"].as_array().into_iter().flatten() {
        let mention = mention.as_str().expect("a mention is text");
        assert!(
            shown.iter().any(|s| s.contains(mention)),
            "{case}: {mention:?} not in {shown:?}"
        );
    }
}

#[test]
fn job_references_get_the_corpus_verdicts() {
    let cases = corpus("jobs");
    assert!(!cases.is_empty());
    for case in &cases {
        let (team, job) = (
            case["team"].as_str().unwrap(),
            case["job"].as_str().unwrap(),
        );
        let problems = JobRef::new(team, job)
            .err()
            .map(|e| e.problems().to_vec())
            .unwrap_or_default();
        check(case, &problems);
    }
}

#[test]
fn secrets_documents_get_the_corpus_verdicts() {
    let cases = corpus("documents");
    assert!(!cases.is_empty());
    for case in &cases {
        let document = case["document"].as_str().unwrap();
        check(case, &document_problems(document));
    }
}
