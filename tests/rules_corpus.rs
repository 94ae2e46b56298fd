//! The shared corpus of inputs and verdicts, checked natively. Every client runs the same
//! cases and must give the same verdicts and the very same words:
//!
//! - `rules_corpus.json`: hand-written job references and secrets documents;
//! - `corpus/fuzz-documents.jsonl`: secrets documents taken from fuzzing (every input in
//!   `fuzz/regressions/secrets_document/` and a fixed sample of the fuzz corpus) and every
//!   file in `corpus/inputs/` (documents written for the edges between the clients' paths),
//!   one case a line, with what the native code answers recorded as the expectation.
//!
//! The other harnesses: `npm/test/rules-corpus.test.mjs` (the npm package in Node),
//! `www/tests/rules-corpus.test.mjs` (in headless Chromium) and `runner/tests/rules_corpus.rs`
//! (the WASI component in wasmtime).
//!
//! Recording (after a deliberate change of a message, or a new input file):
//!
//! ```sh
//! VDK_BLESS_CORPUS=1 cargo test --test rules_corpus
//! # also take a new sample from a local fuzz corpus:
//! VDK_BLESS_CORPUS=1 VDK_CORPUS_SAMPLE=fuzz/corpus/secrets_document cargo test --test rules_corpus
//! ```
//!
//! Recording rewrites the expectations of the fuzz cases only; hand-written cases keep
//! theirs. Review the diff before committing it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vdk_secrets::validate::{self, Limits};
use vdk_secrets::{JobRef, Problem, Secrets};

const CORPUS: &str = include_str!("rules_corpus.json");

/// The fuzz-derived cases, relative to the crate root.
const FUZZ_CASES: &str = "tests/corpus/fuzz-documents.jsonl";

/// The regression inputs of the `secrets_document` fuzz target, relative to the crate root.
const REGRESSIONS: &str = "fuzz/regressions/secrets_document";

/// Documents written for the edges between the clients' paths, relative to the crate root.
const INPUTS: &str = "tests/corpus/inputs";

/// The sample of a fuzz corpus: inputs of at most this many bytes...
const SAMPLE_MAX_BYTES: u64 = 256;
/// ...of which this many read as one JSON object,
const SAMPLE_OBJECTS: usize = 120;
/// this many do not,
const SAMPLE_OTHERS: usize = 75;
/// and this many are not UTF-8 (read as the npm package's callers decode bytes: invalid
/// sequences become U+FFFD).
const SAMPLE_NOT_UTF8: usize = 5;

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

/// One fuzz-derived case: the input and what the native code answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FuzzCase {
    /// The input file, relative to the repository.
    from: String,
    /// Whether the file is not UTF-8 (then `document` is its text with every invalid
    /// sequence replaced by U+FFFD).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    lossy: bool,
    document: String,
    /// Whether `validateSecretsDocument` finds no problem.
    valid: bool,
    /// Whether the document reads as a set without a repeated name or a number that would be
    /// stored changed (`Secrets::from_json_document` succeeds): then the same set given as
    /// entries (a JS object, the component's pairs) has the problems of `check`.
    whole: bool,
    /// `validateSecretsDocument`: every problem, as [key, message].
    problems: Vec<(String, String)>,
    /// `checkSecretsDocument` (`validate::document`): every problem, and the set's size.
    check: DocumentCheck,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentCheck {
    problems: Vec<(String, String)>,
    size: usize,
}

fn pairs(problems: Vec<Problem>) -> Vec<(String, String)> {
    problems.into_iter().map(|p| (p.key, p.message)).collect()
}

impl FuzzCase {
    /// The case of one input, with what the native code answers today.
    fn answered(from: String, bytes: &[u8]) -> FuzzCase {
        let document = String::from_utf8_lossy(bytes).into_owned();
        let lossy = std::str::from_utf8(bytes).is_err();
        let problems = pairs(document_problems(&document));
        let check = validate::document(&document, &Limits::default());
        FuzzCase {
            from,
            lossy,
            valid: problems.is_empty(),
            whole: Secrets::from_json_document(&document).is_ok(),
            problems,
            check: DocumentCheck {
                problems: pairs(check.problems),
                size: check.size,
            },
            document,
        }
    }

    /// The same input answered again by the code as it is now.
    fn again(&self) -> FuzzCase {
        let mut case = FuzzCase::answered(self.from.clone(), self.document.as_bytes());
        case.lossy = self.lossy;
        case
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_fuzz_cases() -> Vec<FuzzCase> {
    let text = std::fs::read_to_string(root().join(FUZZ_CASES))
        .unwrap_or_else(|e| panic!("{FUZZ_CASES}: {e}"));
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{FUZZ_CASES}:{}: {e}", i + 1))
        })
        .collect()
}

/// The input of a recorded case, whatever else the case records.
#[derive(Deserialize)]
struct Input {
    from: String,
    #[serde(default)]
    lossy: bool,
    document: String,
}

fn read_inputs() -> Vec<Input> {
    let text = std::fs::read_to_string(root().join(FUZZ_CASES)).unwrap();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The files of a directory, sorted by name.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// `path` as the cases name it: relative to the repository, with `/`.
fn relative(path: &Path) -> String {
    let path = path.strip_prefix(root()).unwrap_or(path);
    path.to_string_lossy().replace('\\', "/")
}

/// The cases of every file in [`REGRESSIONS`] and [`INPUTS`].
fn input_file_cases() -> Vec<FuzzCase> {
    [REGRESSIONS, INPUTS]
        .iter()
        .flat_map(|dir| files(&root().join(dir)))
        .map(|path| FuzzCase::answered(relative(&path), &std::fs::read(&path).unwrap()))
        .collect()
}

/// A fixed sample of a fuzz corpus: its files in name order (libFuzzer names a file by the
/// SHA-1 of its content, so this is a fixed shuffle), at most [`SAMPLE_MAX_BYTES`] each,
/// taking the first [`SAMPLE_OBJECTS`] that read as one JSON object, the first
/// [`SAMPLE_OTHERS`] that do not, and the first [`SAMPLE_NOT_UTF8`] that are not UTF-8.
fn sample_cases(dir: &Path) -> Vec<FuzzCase> {
    let (mut objects, mut others, mut not_utf8) = (0, 0, 0);
    let mut sample = Vec::new();
    for path in files(dir) {
        if std::fs::metadata(&path).unwrap().len() > SAMPLE_MAX_BYTES {
            continue;
        }
        let case = FuzzCase::answered(relative(&path), &std::fs::read(&path).unwrap());
        let count = if case.lossy {
            (&mut not_utf8, SAMPLE_NOT_UTF8)
        } else if case.check.size > 0 {
            (&mut objects, SAMPLE_OBJECTS)
        } else {
            (&mut others, SAMPLE_OTHERS)
        };
        if *count.0 < count.1 {
            *count.0 += 1;
            sample.push(case);
        }
    }
    sample
}

fn write_fuzz_cases(cases: &[FuzzCase]) {
    let mut text = String::new();
    for case in cases {
        text.push_str(&serde_json::to_string(case).unwrap());
        text.push('\n');
    }
    let path = root().join(FUZZ_CASES);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
}

/// Whether this run records the fuzz cases' expectations instead of checking them.
fn blessing() -> bool {
    std::env::var_os("VDK_BLESS_CORPUS").is_some_and(|v| !v.is_empty() && v != "0")
}

#[test]
fn fuzz_documents_get_their_recorded_verdicts() {
    if blessing() {
        let sample = match std::env::var_os("VDK_CORPUS_SAMPLE") {
            Some(dir) => sample_cases(&root().join(dir)),
            None if !root().join(FUZZ_CASES).exists() => Vec::new(),
            None => read_inputs()
                .into_iter()
                .filter(|input| !input.from.starts_with(REGRESSIONS))
                .filter(|input| !input.from.starts_with(INPUTS))
                .map(|input| {
                    let mut case = FuzzCase::answered(input.from, input.document.as_bytes());
                    case.lossy = input.lossy;
                    case
                })
                .collect(),
        };
        let mut cases = input_file_cases();
        cases.extend(sample);
        write_fuzz_cases(&cases);
        eprintln!("recorded {} cases in {FUZZ_CASES}", cases.len());
    }
    let cases = read_fuzz_cases();
    let valid = cases.iter().filter(|case| case.valid).count();
    assert!(
        valid > 10 && cases.len() - valid > 10,
        "valid and invalid documents both"
    );
    for case in &cases {
        assert_eq!(
            case.valid,
            case.problems.is_empty(),
            "{}: a valid case has no problems",
            case.from
        );
        assert_eq!(&case.again(), case, "{}", case.from);
    }
}

#[test]
fn every_regression_and_input_file_is_a_corpus_case() {
    if blessing() {
        return; // the other test records every input file
    }
    let cases = read_fuzz_cases();
    let inputs = input_file_cases();
    assert!(inputs.iter().any(|case| case.from.starts_with(REGRESSIONS)));
    assert!(inputs.iter().any(|case| case.from.starts_with(INPUTS)));
    for input in &inputs {
        let case = cases.iter().find(|case| case.from == input.from);
        let case = case.unwrap_or_else(|| {
            panic!(
                "{} is not in {FUZZ_CASES}; record it with VDK_BLESS_CORPUS=1",
                input.from
            )
        });
        assert_eq!(
            case.document, input.document,
            "{} changed; record it again with VDK_BLESS_CORPUS=1",
            input.from
        );
    }
}
