//! The check of a set's JSON text: a secrets document (such as an exported file), and the
//! text of a plain set a binding hands over whole. When nothing but the names and the size
//! can break a rule, the text is checked as it is read, without keeping its values.

use super::report::{converted_entries_problems, problem_order, size_problem};
use super::{
    Limits, MAX_VALUE_DEPTH, json_size, secret_name_problem, secrets_problems, sort_problems,
    value_problem,
};
use crate::error::Problem;
use crate::numbers;
use crate::secrets::{NameSet, ParsedDocument, REPEATED_NAME, SecretValue, Secrets, json};

/// Every problem [`crate::Secrets::from_json_document`] and then [`secrets_problems`] find
/// in a secrets document, in that order: a document that cannot be read (its one problem,
/// keyed `""`), else numbers that would be stored changed, else names written twice, else
/// every rule. A document whose names are in order is checked as it is read, without
/// keeping its values, when nothing but its names and size can break a rule.
pub fn document_problems(text: &str, limits: &Limits) -> Vec<Problem> {
    if let Some(problems) = checked_text_problems(text, true, limits) {
        return problems;
    }
    match Secrets::from_json_document(text) {
        Ok(set) => secrets_problems(&set, limits),
        Err(e) if e.problems().is_empty() => vec![Problem::new("", e.report().why.clone())],
        Err(e) => e.problems().to_vec(),
    }
}

/// Every problem of the set that JSON text of one object makes, when its names are in order
/// (each once) and the text can be checked without keeping its values (see
/// [`json::checked_members`]) and no value breaks a rule: nothing is nested too deep, and no
/// float has a problem (nor, in a `document`, a number that would be stored changed). Then
/// its names and size are all there is to check. `None` for any other text, which is read
/// into values and checked as a set.
fn checked_text_problems(text: &str, document: bool, limits: &Limits) -> Option<Vec<Problem>> {
    let checked = json::checked_members(text, MAX_VALUE_DEPTH)?;
    if !names_unique(&checked.names)
        || checked
            .floats
            .iter()
            .any(|&float| numbers::float_value_problem(float).is_some())
        || (document && !checked.floats.is_empty() && !numbers::changes_in(text).is_empty())
    {
        return None;
    }
    let mut problems: Vec<Problem> = checked
        .names
        .iter()
        .filter_map(|name| secret_name_problem(name))
        .collect();
    problems.extend(size_problem(checked.size, limits));
    sort_problems(&mut problems);
    Some(problems)
}

/// Whether no name is written twice: at once when they are in order (a set's own order), else
/// by putting them in a [`NameSet`] (a slice sort would bring its own code into the wasm
/// builds). The problems found are sorted afterwards, so the order of the names does not
/// matter otherwise.
fn names_unique(names: &[std::borrow::Cow<'_, str>]) -> bool {
    if names.windows(2).all(|pair| pair[0] < pair[1]) {
        return true;
    }
    let mut seen = NameSet::new();
    names.iter().all(|name| seen.insert(name.to_string()))
}

/// Every problem of the set whose members JSON text of one object holds, as a binding's
/// converted set of them is checked
/// ([`converted_set_problems`](super::converted_set_problems)); `None` when the text is not
/// one object.
#[cfg_attr(not(feature = "js"), allow(dead_code))]
pub(crate) fn text_set_problems(text: &str, limits: &Limits) -> Option<Vec<Problem>> {
    if let Some(problems) = checked_text_problems(text, false, limits) {
        return Some(problems);
    }
    let entries = crate::secrets::object_members(text)?
        .into_iter()
        .map(|(name, value)| (name, Ok(SecretValue::new(value))))
        .collect();
    Some(converted_entries_problems(entries, limits))
}

/// What [`document`] found in a secrets document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DocumentCheck {
    /// The set, when the document is one JSON object whose names are unique (even if other
    /// rules are broken: see `problems`); `None` otherwise.
    pub secrets: Option<Secrets>,
    /// Every problem, in the order [`secrets_problems`] reports them; empty when the set can
    /// be saved as it is.
    pub problems: Vec<Problem>,
    /// The set's size as compact UTF-8 JSON (the first value of a name written twice
    /// counted); 0 when the document cannot be read.
    pub size: usize,
}

/// Reads a secrets document (JSON text, such as an exported file) once and reports every
/// problem together: a document that is not JSON or not one object (then that is the only
/// problem, keyed `""`), names written twice, each name and value that breaks a rule
/// (including a number that would be stored changed), and a set over the size limit.
pub fn document(text: &str, limits: &Limits) -> DocumentCheck {
    let parsed = match ParsedDocument::parse(text) {
        Ok(parsed) => parsed,
        Err(e) => {
            return DocumentCheck {
                secrets: None,
                problems: vec![Problem::new("", e.report().why.clone())],
                size: 0,
            };
        }
    };
    let mut problems = Vec::new();
    // At most one number problem per name (its first number); it replaces the value's rules.
    // One per name: put in the order of names and searched by halves (a map of problems
    // would bring another copy of the map's code into the wasm builds).
    let mut number_problems = parsed.number_problems;
    sort_problems(&mut number_problems);
    for (name, value) in parsed.secrets.iter() {
        problems.extend(secret_name_problem(name));
        let number = number_problems
            .binary_search_by(|p| problem_order(&p.key).cmp(&problem_order(name)))
            .ok()
            .and_then(|i| number_problems.get(i).cloned());
        problems.extend(number.or_else(|| value_problem(name, value.expose())));
    }
    problems.extend(
        parsed
            .repeated
            .iter()
            .map(|name| Problem::new(name.as_str(), REPEATED_NAME)),
    );
    let size = json_size(&parsed.secrets);
    problems.extend(size_problem(size, limits));
    sort_problems(&mut problems);
    DocumentCheck {
        secrets: parsed.repeated.is_empty().then_some(parsed.secrets),
        problems,
        size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{
        DEFAULT_MAX_SET_BYTES, MAX_SECRET_NAME_CHARS, NESTED_TOO_DEEP, converted_set,
        converted_set_problems,
    };
    use serde_json::{Value, json};

    #[test]
    fn a_document_check_reports_every_problem_together() {
        let text = "{\"a b\": 1, \"ok\": \"x\", \"dup\": 1, \"dup\": 2,\n \
                    \"big\": 1e30, \"bad name\": 18446744073709551616}";
        let check = document(text, &Limits { max_set_bytes: 10 });
        assert!(check.secrets.is_none(), "a name is written twice");
        let found = crate::error::key_message_pairs(&check.problems);
        let size = check.size;
        // "dup" is 1 and 2: either is as long.
        let compact = serde_json::from_str::<Value>(text).unwrap().to_string();
        assert_eq!(size, compact.len());
        assert_eq!(found.len(), 6, "{found:?}");
        assert_eq!(found[0].0, "a b");
        assert!(found[0].1.contains("whitespace"));
        assert_eq!(found[1].0, "bad name");
        assert!(found[1].1.contains("whitespace"));
        assert_eq!(found[2].0, "bad name");
        assert!(
            found[2]
                .1
                .contains("beyond the 64-bit range at line 2 column 27")
        );
        assert_eq!(found[3].0, "big");
        assert!(
            found[3]
                .1
                .contains("beyond the 64-bit range at line 2 column 9")
        );
        assert_eq!(found[4], ("dup", REPEATED_NAME));
        assert_eq!(found[5].0, "");
        assert!(found[5].1.contains(&format!("the set is {size} bytes")));
        assert!(found[5].1.contains("the limit is 10 bytes"));
        // Nothing in any message is a value.
        assert!(check.problems.iter().all(|p| !p.message.contains("1e30")));
    }

    #[test]
    fn document_problems_are_those_of_reading_then_checking_the_set() {
        let limits = Limits { max_set_bytes: 60 };
        for text in [
            r#"{"a": 1, "b": "x", "c": [1.5, {"d": null}]}"#,
            r#"{"a": {"k1": 1, "k\u0031": 2}, "b\u0020c": "\"q\" \\ \u0001"}"#,
            "{\"a\": \"x\ty\"}",
            r#"{"b": 1, "a": "x"}"#,
            r#"{"a b": 1, "c": true, "ok": "a long value that takes the set over the limit"}"#,
            r#"{"z y": 1, "a": [[[[1]]]], "": 2}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": 1e400}"#,
            r#"{"a": 1e30, "b c": 1}"#,
            r#"{"a": [0.1, 2.5e3, -0], "b": {"c": 1.50, "d": -0.0}}"#,
            r#"{"a": 1.5e-300, "b": 1}"#,
            r#"{"a": 18446744073709551616}"#,
            r#"{"a": 1.00000000000000000001}"#,
            r#"{"a": {"k": "v", "k\u0031": "w"}, "b": "x\tyé"}"#,
            r#"{"a": {"k": 1, "k": "a longer value"}, "b": "\u00e9\n"}"#,
            r#"[1]"#,
            r#"{"a": "#,
            "{}",
        ] {
            let expected = match Secrets::from_json_document(text) {
                Ok(set) => secrets_problems(&set, &limits),
                Err(e) if e.problems().is_empty() => {
                    vec![Problem::new("", e.report().why.clone())]
                }
                Err(e) => e.problems().to_vec(),
            };
            assert_eq!(document_problems(text, &limits), expected, "{text}");
        }
        // Values nested as deep as the rule allows, and one level deeper.
        let mut deep = json!(1);
        for _ in 0..MAX_VALUE_DEPTH {
            deep = json!({ "k": deep });
        }
        let text = format!(r#"{{"a": {deep}, "b": 1}}"#);
        assert!(document_problems(&text, &Limits::default()).is_empty());
        let text = format!(r#"{{"a": [{deep}], "b": 1}}"#);
        let problems = document_problems(&text, &Limits::default());
        assert_eq!(problems, [Problem::new("a", NESTED_TOO_DEEP)]);
        let text = format!(r#"{{"a": {{"b": {deep}}}, "b c": 1}}"#);
        let problems = document_problems(&text, &Limits::default());
        assert_eq!(problems[0], Problem::new("a", NESTED_TOO_DEEP));
        assert_eq!(problems[1].key, "b c");
    }

    #[test]
    fn a_document_check_agrees_with_the_set_rules_and_keeps_the_set() {
        let text = r#"{"b": {"deep": [[[1]]]}, "a": "x", "c d": true}"#;
        let check = document(text, &Limits::default());
        let set = Secrets::from_json_document(text).unwrap();
        assert_eq!(check.problems, secrets_problems(&set, &Limits::default()));
        assert_eq!(check.size, json_size(&set));
        assert_eq!(check.secrets, Some(set));
        let fine = document(r#"{"k": "v"}"#, &Limits::default());
        assert!(fine.problems.is_empty());
        assert_eq!(fine.size, 9);
    }

    #[test]
    fn a_document_that_cannot_be_read_is_one_problem_and_no_set() {
        for (text, why) in [
            (
                "{\"a\": ",
                "not valid JSON (unexpected end at line 1 column 6)",
            ),
            ("[1, 2]", "must be one JSON object"),
            ("\"secret text\"", "must be one JSON object"),
            ("{} {}", "not valid JSON (syntax error at line 1 column 4)"),
        ] {
            let check = document(text, &Limits::default());
            assert_eq!(check.secrets, None, "{text}");
            assert_eq!(check.size, 0);
            assert_eq!(check.problems.len(), 1, "{text}");
            assert_eq!(check.problems[0].key, "");
            assert!(
                check.problems[0].message.contains(why),
                "{text}: {:?}",
                check.problems
            );
            assert!(!check.problems[0].message.contains("secret text"));
        }
    }

    /// The members of JSON text of one object as a binding converts a set of plain JSON data
    /// member by member: each value as it reads.
    fn converted(text: &str) -> Vec<(String, Result<SecretValue, Problem>)> {
        crate::secrets::object_members(text)
            .expect("one object")
            .into_iter()
            .map(|(name, value)| (name, Ok(SecretValue::new(value))))
            .collect()
    }

    #[test]
    fn a_plain_sets_text_has_the_problems_of_its_members_converted_one_by_one() {
        let long = "n".repeat(MAX_SECRET_NAME_CHARS + 1);
        let escaped = r"\u00e9".repeat(MAX_SECRET_NAME_CHARS + 1);
        let mut deep = json!("leaf");
        for _ in 0..MAX_VALUE_DEPTH {
            deep = json!([deep]);
        }
        // Each text, and whether it is checked without keeping its values (else it is read
        // into values and checked as a converted set). No name is written twice: a JS object,
        // whose text the npm module checks, cannot hold one.
        let cases = [
            (
                r#"{"api_key": "zq7", "db": {"port": 5432}, "tags": [1, "a", null, true]}"#
                    .to_string(),
                true,
            ),
            ("{}".to_string(), true),
            (format!(r#"{{"{long}": 1, "ok": 2}}"#), true),
            (format!(r#"{{"a": "x", "{escaped}": "y"}}"#), true),
            (
                r#"{"a b": 1, "tab\there": 2, "bell\u0007": 3, "nbsp\u00a0x": 4, "ok": 5}"#
                    .to_string(),
                true,
            ),
            (r#"{"": 1, "b": 2}"#.to_string(), true),
            (format!(r#"{{"a": {deep}, "b": 1}}"#), true),
            (format!(r#"{{"a": [{deep}], "b c": 1}}"#), false),
            (r#"{"a": 18446744073709551616, "b": 1}"#.to_string(), false),
            (r#"{"a": -1e19}"#.to_string(), false),
            // Read as a value, this is the float -2^63, in range (what a document's check
            // refuses is the text, which would be stored changed).
            (r#"{"a": -9223372036854775809}"#.to_string(), true),
            (r#"{"a": {"n": [1e30]}, "b c": 1}"#.to_string(), false),
            (
                r#"{"max": 18446744073709551615, "min": -9223372036854775808}"#.to_string(),
                true,
            ),
            (
                r#"{"a": 0.1, "b": [2.5e3, -0.0, -0, 1.5e-300], "c": {"d": 1.50}}"#.to_string(),
                true,
            ),
            (
                r#"{"k\u00e9y": "v\n\"q\"", "\u0041": "\ud83d\ude00", "t\tb": "\u0000"}"#
                    .to_string(),
                true,
            ),
            (
                r#"{"esc\"aped\\": "\\ \/", "\u00e9\u0301": "\u2028"}"#.to_string(),
                true,
            ),
            (r#"{"b": 1, "a": "x", "c d": true, "": null}"#.to_string(), true),
            (
                r#"{"z y": [1.5], "a": 1e30, "m": "a value that takes the set over a small limit"}"#
                    .to_string(),
                false,
            ),
        ];
        for (text, checked) in &cases {
            let size = json_size(&converted_set(converted(text)).0);
            for max_set_bytes in [DEFAULT_MAX_SET_BYTES, size, size - 1, text.len() / 2] {
                let limits = Limits { max_set_bytes };
                let read_without_values = checked_text_problems(text, false, &limits).is_some();
                assert_eq!(read_without_values, *checked, "{text}");
                let problems = text_set_problems(text, &limits).expect("one object");
                assert_eq!(
                    problems,
                    converted_set_problems(converted(text), &limits),
                    "{text} at most {max_set_bytes} bytes"
                );
                let over = problems
                    .last()
                    .filter(|p| p.message.starts_with("the set is"));
                assert_eq!(over.is_some(), size > max_set_bytes, "{text}");
            }
        }
        // Text that is not one object is no set: the binding converts the value itself.
        for text in ["[1]", r#"{"a": "#, "1", r#"{"a": 1e400}"#, "{} {}"] {
            assert_eq!(text_set_problems(text, &Limits::default()), None, "{text}");
        }
    }
}
