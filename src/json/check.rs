//! The crate's own reader and printer held to serde_json, for tests and the fuzz target.

use serde_json::Value;

use super::{Category, Error, ErrorPosition, own};
use crate::secrets::SecretValue;

/// Compares one reading: the same value, or the same error (a [`Category::Data`] error's
/// position is never shown, so only its category).
fn same<T: PartialEq + std::fmt::Debug>(
    text: &[u8],
    ours: Result<T, Error>,
    theirs: Result<T, serde_json::Error>,
) {
    match (ours, theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{:?}", String::from_utf8_lossy(text)),
        (Err(a), Err(b)) => {
            let b = b.json_error();
            if b.category == Category::Data {
                assert_eq!(
                    a.category,
                    b.category,
                    "{:?}",
                    String::from_utf8_lossy(text)
                );
            } else {
                assert_eq!(a, b, "{:?}", String::from_utf8_lossy(text));
            }
        }
        (a, b) => panic!(
            "{:?}: ours {a:?}, serde_json {b:?}",
            String::from_utf8_lossy(text)
        ),
    }
}

/// The float bits of every number in a value, so that `-0.0` and `0.0` differ.
fn bits(value: &Value, out: &mut Vec<u64>) {
    match value {
        Value::Number(n) => out.push(n.as_f64().map_or(0, f64::to_bits)),
        Value::Array(items) => items.iter().for_each(|v| bits(v, out)),
        Value::Object(map) => map.values().for_each(|v| bits(v, out)),
        _ => {}
    }
}

/// Reads `bytes` every way there is, ours and serde_json's, and prints what reads; panics
/// where the two differ.
pub fn compare(bytes: &[u8]) {
    let theirs = serde_json::from_slice::<Value>(bytes);
    let ours = own::from_slice(bytes);
    if let (Ok(a), Ok(b)) = (&ours, &theirs) {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        bits(a, &mut x);
        bits(b, &mut y);
        assert_eq!(x, y, "{:?}", String::from_utf8_lossy(bytes));
        compare_printing(a);
    }
    same(bytes, ours, theirs);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    same(
        bytes,
        own::from_str(text),
        serde_json::from_str::<Value>(text),
    );
    same(
        bytes,
        own::object_members(text),
        super::serde_members::read(text),
    );
    // Checking without keeping values sees the names, floats and printed size that reading
    // sees, and gives up on exactly what would need the values: deep nesting, a name
    // written twice (or escaped) in a value.
    let checked = super::checked_members(text, 3);
    match own::object_members(text) {
        Ok(members) => {
            let simple = members.iter().all(|(_, value)| within(value, 3));
            if let Some(checked) = &checked {
                let names: Vec<&str> = members.iter().map(|(name, _)| name.as_str()).collect();
                assert_eq!(checked.names, names, "{:?}", String::from_utf8_lossy(bytes));
                let mut floats = Vec::new();
                members
                    .iter()
                    .for_each(|(_, value)| float_values(value, &mut floats));
                // Both in some order: a map's values are in the order of its names.
                let bits = |f: &[f64]| {
                    let mut bits: Vec<u64> = f.iter().map(|f| f.to_bits()).collect();
                    bits.sort_unstable();
                    bits
                };
                assert_eq!(
                    bits(&checked.floats),
                    bits(&floats),
                    "{:?}",
                    String::from_utf8_lossy(bytes)
                );
                let printed: usize = members
                    .iter()
                    .map(|(name, value)| {
                        serde_json::to_string(name).unwrap().len()
                            + 1
                            + serde_json::to_string(value).unwrap().len()
                    })
                    .sum();
                assert_eq!(
                    checked.size,
                    1 + members.len().max(1) + printed,
                    "{:?}",
                    String::from_utf8_lossy(bytes)
                );
                assert!(simple, "{:?}", String::from_utf8_lossy(bytes));
            }
        }
        Err(_) => assert_eq!(checked, None, "{:?}", String::from_utf8_lossy(bytes)),
    }
    // A document's problems are the same whether its text is checked without keeping values
    // or read into a set and checked (natively the set is read by serde_json).
    for max_set_bytes in [crate::validate::DEFAULT_MAX_SET_BYTES, text.len() / 2] {
        let limits = crate::validate::Limits { max_set_bytes };
        let read = match crate::Secrets::from_json_document(text) {
            Ok(set) => crate::validate::secrets_problems(&set, &limits),
            Err(e) if e.problems().is_empty() => {
                vec![crate::error::Problem::new("", e.report().why.clone())]
            }
            Err(e) => e.problems().to_vec(),
        };
        assert_eq!(
            crate::validate::document_problems(text, &limits),
            read,
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
        // A plain set's text (what the npm module's Save checks whole) has the problems of its
        // members converted one by one; text that is not one object has no set to check.
        let converted = crate::secrets::object_members(text).map(|members| {
            let entries = members
                .into_iter()
                .map(|(name, value)| (name, Ok(SecretValue::new(value))));
            crate::validate::converted_set_problems(entries, &limits)
        });
        assert_eq!(
            crate::validate::text_set_problems(text, &limits),
            converted,
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

/// The floats in `value`.
fn float_values(value: &Value, out: &mut Vec<f64>) {
    match value {
        Value::Number(n) if n.is_f64() => out.extend(n.as_f64()),
        Value::Array(items) => items.iter().for_each(|v| float_values(v, out)),
        Value::Object(map) => map.values().for_each(|v| float_values(v, out)),
        _ => {}
    }
}

/// Whether `value` nests lists and objects at most `levels` deep, with at most 32 names in
/// each object: what [`super::checked_members`] checks without keeping values.
fn within(value: &Value, levels: usize) -> bool {
    match value {
        Value::Array(_) | Value::Object(_) if levels == 0 => false,
        Value::Array(items) => items.iter().all(|item| within(item, levels - 1)),
        Value::Object(map) => map.len() <= 32 && map.values().all(|item| within(item, levels - 1)),
        _ => true,
    }
}

/// The printed text and its length, ours and serde_json's.
pub fn compare_printing(value: &Value) {
    let text = serde_json::to_string(value).unwrap();
    assert_eq!(own::to_string(value), text);
    assert_eq!(
        own::entry_len("k\n\"", value),
        super::entry_len("k\n\"", value)
    );
    if let Value::String(s) = value {
        let mut inside = b"\"".to_vec();
        super::escape_into(&mut inside, s.as_bytes());
        inside.push(b'"');
        assert_eq!(String::from_utf8(inside).unwrap(), text);
    }
    if let Value::Object(set) = value {
        assert_eq!(own::set_to_string(set), super::set_to_string(set));
        assert_eq!(own::set_len(set), super::set_len(set));
    }
}
