//! Any bytes as a secrets document: parsing and validation never panic, accepted sets
//! survive a round trip, no error quotes a string value of the document, and every path to a
//! verdict agrees: the document check that reports everything at once (`validate::document`),
//! and the set given as entries, as the npm package's objects and the component's (name, JSON)
//! pairs give it (`validate::converted_set_problems`). The crate's own JSON reader and printer
//! (the npm module's) read and print the bytes exactly as serde_json does: the same values,
//! text and error positions.
//!
//! An error may quote names: secret names, and keys of objects inside values when it points
//! at a place inside one. A value can be part of a name (`{"x $abc": "$abc"}`), so every name
//! and key is taken out of the message before it is searched for values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vdk_secrets::validate::{self, Limits};
use vdk_secrets::{SecretValue, Secrets};

fuzz_target!(|data: &[u8]| {
    vdk_secrets::secrets::json::check::compare(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = SecretValue::from_json("name", text);
    let limits = Limits {
        max_set_bytes: 4096,
    };
    let check = validate::document(text, &limits);
    match Secrets::from_json_document(text) {
        Ok(set) => {
            let problems = validate::secrets_problems(&set, &limits);
            assert_eq!(
                check.problems.is_empty(),
                problems.is_empty(),
                "the document checks disagree"
            );
            // The same set as entries: as values, and each through its own JSON text.
            let values = set.iter().map(|(n, v)| (n.to_string(), Ok(v.clone())));
            assert_eq!(
                validate::converted_set_problems(values, &limits),
                problems,
                "the set as entries"
            );
            let texts = set
                .iter()
                .map(|(n, v)| (n.to_string(), SecretValue::parse(n, &v.to_json())));
            assert_eq!(
                validate::converted_set_problems(texts, &limits),
                problems,
                "the set as (name, JSON) pairs"
            );
            match validate::secrets(&set, &limits) {
                Ok(()) => {
                    let again = Secrets::from_json_document(&set.to_json()).unwrap();
                    assert_eq!(again, set);
                }
                Err(e) => {
                    let (names, values) = names_and_values(&set);
                    let mut shown = e.to_string();
                    for name in names {
                        // A separator, so that removing a name cannot join the text around it.
                        shown = shown.replace(&name, "\u{1}");
                    }
                    for value in values {
                        // Short strings can appear by chance (in a message's words or a number).
                        if value.len() >= 12 {
                            assert!(!shown.contains(value), "a value leaked into an error");
                        }
                    }
                }
            }
        }
        Err(e) => {
            assert!(!e.report().what.is_empty());
            assert!(!check.problems.is_empty(), "the document checks disagree");
        }
    }
});

/// Every name a message may quote, as it is and as messages show it, longest first; and every
/// string value at any depth.
fn names_and_values(set: &Secrets) -> (Vec<String>, Vec<&str>) {
    let mut names = Vec::new();
    let mut values = Vec::new();
    let mut stack = Vec::new();
    for (name, value) in set.iter() {
        names.push(name.to_string());
        stack.push(value.expose());
    }
    while let Some(value) = stack.pop() {
        if let Some(s) = value.as_str() {
            values.push(s);
        } else if let Some(items) = value.as_array() {
            stack.extend(items);
        } else if let Some(members) = value.as_object() {
            for (key, member) in members {
                names.push(key.clone());
                stack.push(member);
            }
        }
    }
    let shown: Vec<String> = names.iter().map(|n| as_shown(n)).collect();
    names.extend(shown);
    names.retain(|n| !n.is_empty());
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    (names, values)
}

/// A name as messages show it: control characters escaped, cut after 80 characters.
fn as_shown(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if i == 80 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
