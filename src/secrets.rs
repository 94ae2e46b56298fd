//! The secret set of a job and the values in it.
//!
//! [`SecretValue`] holds one JSON value and redacts it in `Debug`; [`Secrets`] maps names to
//! values and shows only names. Both wipe their strings from memory when dropped.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroize;

use crate::error::{Error, Problem, Report};

/// One secret's value: a JSON string, number, boolean, list, object or null.
///
/// `Debug` prints only the value's type. Read the value itself with [`SecretValue::expose`],
/// which makes every place that handles plain text easy to find.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretValue(Value);

impl SecretValue {
    /// Wraps a JSON value.
    pub fn new(value: Value) -> Self {
        SecretValue(value)
    }

    /// A string value.
    pub fn string(text: impl Into<String>) -> Self {
        SecretValue(Value::String(text.into()))
    }

    /// Parses one value from JSON text, e.g. `"\"s3cret\""`, `42` or `{"user": "u"}`.
    ///
    /// `name` is the secret the value is for; errors name it and never quote the text.
    pub fn from_json(name: &str, json: &str) -> Result<Self, Error> {
        match serde_json::from_str::<Value>(json) {
            Ok(value) => match oversized_integer_in(json, [&value]) {
                None => Ok(SecretValue(value)),
                Some(why) => Err(Error::invalid(
                    "The secret value",
                    vec![Problem::new(name, why)],
                )),
            },
            Err(e) => Err(Error::invalid(
                "The secret value",
                vec![Problem::new(
                    name,
                    format!("is not valid JSON ({})", json_error_position(&e)),
                )],
            )),
        }
    }

    /// The value itself. Every call site is a place where a secret is in plain view.
    pub fn expose(&self) -> &Value {
        &self.0
    }

    /// The value as JSON text, e.g. `"\"s3cret\""`.
    pub fn to_json(&self) -> String {
        self.0.to_string()
    }

    /// Takes the value out; the caller is now responsible for it.
    pub fn into_inner(mut self) -> Value {
        std::mem::take(&mut self.0)
    }

    /// The name of the value's JSON type: `string`, `number`, `boolean`, `list`, `object`
    /// or `null`.
    pub fn type_name(&self) -> &'static str {
        type_name(&self.0)
    }
}

/// The user-facing name of a JSON value's type.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

impl From<Value> for SecretValue {
    fn from(value: Value) -> Self {
        SecretValue(value)
    }
}

impl From<&str> for SecretValue {
    fn from(text: &str) -> Self {
        SecretValue::string(text)
    }
}

impl From<String> for SecretValue {
    fn from(text: String) -> Self {
        SecretValue::string(text)
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(<redacted {}>)", self.type_name())
    }
}

impl Drop for SecretValue {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Overwrites every string in `value` with zeros before its memory is freed (best effort:
/// copies made earlier by serializers or transports are not reached).
fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(map) => map.values_mut().for_each(wipe),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// All secrets of one job: names mapped to values, in name order.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secrets(BTreeMap<String, SecretValue>);

impl Secrets {
    /// An empty set.
    pub fn new() -> Self {
        Secrets::default()
    }

    /// Parses a whole set from a JSON document such as an exported secrets file.
    ///
    /// The document must be one JSON object. A name that appears twice is an error rather than
    /// a silent "last one wins". Only syntax is checked here; [`crate::validate::secrets`]
    /// checks the rules.
    pub fn from_json_document(document: &str) -> Result<Self, Error> {
        let mut de = serde_json::Deserializer::from_str(document);
        let entries = match de
            .deserialize_any(EntriesVisitor)
            .and_then(|entries| de.end().map(|()| entries))
        {
            Ok(entries) => entries,
            Err(e) => {
                let why = if e.is_data() {
                    "the document must be one JSON object whose keys are secret names".to_string()
                } else {
                    format!(
                        "the document is not valid JSON ({})",
                        json_error_position(&e)
                    )
                };
                return Err(Error::InvalidInput(Report::new(
                    "The secrets document cannot be read",
                    why,
                    "Provide a JSON object such as {\"db_password\": \"...\"}; nothing was changed.",
                )));
            }
        };
        if let Some(why) = oversized_integer_in(document, entries.iter().map(|(_, v)| v)) {
            return Err(Error::InvalidInput(Report::new(
                "The secrets document cannot be read",
                format!("the document {why}"),
                "Write such numbers as strings; nothing was changed.",
            )));
        }
        let mut secrets = BTreeMap::new();
        let mut problems = Vec::new();
        for (name, value) in entries {
            if secrets.contains_key(&name) {
                if !problems.iter().any(|p: &Problem| p.key == name) {
                    problems.push(Problem::new(
                        name.clone(),
                        "appears more than once in the document; keep one",
                    ));
                }
                continue;
            }
            secrets.insert(name, SecretValue(value));
        }
        if problems.is_empty() {
            Ok(Secrets(secrets))
        } else {
            Err(Error::invalid("The secrets document", problems))
        }
    }

    /// Parses a set that came from a server: one JSON object. Errors never quote the body.
    pub(crate) fn from_server_body(body: &[u8]) -> Result<Self, String> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Secrets(
                map.into_iter().map(|(k, v)| (k, SecretValue(v))).collect(),
            )),
            Ok(other) => Err(format!(
                "the body is a JSON {}, not an object of secrets",
                type_name(&other)
            )),
            Err(e) => Err(format!(
                "the body is not valid JSON ({})",
                json_error_position(&e)
            )),
        }
    }

    /// The value of secret `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<&SecretValue> {
        self.0.get(name)
    }

    /// Whether secret `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Adds or replaces secret `name`, returning the previous value.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        value: impl Into<SecretValue>,
    ) -> Option<SecretValue> {
        self.0.insert(name.into(), value.into())
    }

    /// Removes secret `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<SecretValue> {
        self.0.remove(name)
    }

    /// The number of secrets.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no secrets.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The secret names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Names and values, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &SecretValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The whole set as compact JSON, the form the Secrets API takes.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a map with string keys always serializes")
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<N: Into<String>, V: Into<SecretValue>> FromIterator<(N, V)> for Secrets {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Secrets(
            iter.into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        )
    }
}

impl IntoIterator for Secrets {
    type Item = (String, SecretValue);
    type IntoIter = std::collections::btree_map::IntoIter<String, SecretValue>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Where a JSON parse failed, without quoting any of the input (serde_json's own messages can
/// include the text it choked on).
pub(crate) fn json_error_position(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof => "unexpected end",
        Category::Syntax => "syntax error",
        Category::Data => "unexpected shape",
        Category::Io => "read error",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// What is wrong with `json`, parsed into `values`, if it holds an integer beyond 64 bits.
/// The text is scanned only when a parsed value may come from such an integer.
fn oversized_integer_in<'a>(
    json: &str,
    values: impl IntoIterator<Item = &'a Value>,
) -> Option<String> {
    if !values
        .into_iter()
        .any(crate::validate::holds_float_of_64_bit_size)
    {
        return None;
    }
    oversized_integer(json).map(|at| oversized_integer_problem(json, at))
}

/// Where, as a byte offset, valid JSON text has its first integer (a number without a
/// fractional part, `1e30` too) outside −2^63 to 2^64 − 1. The parser would turn such an
/// integer into the nearest float, and the value would be stored changed; so it is refused.
fn oversized_integer(json: &str) -> Option<usize> {
    let bytes = json.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                // Number tokens are ASCII, so both ends are character boundaries.
                let token = json.get(start..i).unwrap_or_default();
                if !fits_64_bits(token) {
                    return Some(start);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Whether a JSON number token is a fraction or an integer a 64-bit integer holds, decided
/// exactly from its digits (a float would round `-9223372036854775809.0` to −2^63).
fn fits_64_bits(token: &str) -> bool {
    let (negative, unsigned) = match token.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, token),
    };
    let (mantissa, exponent) = unsigned.split_once(['e', 'E']).unwrap_or((unsigned, "0"));
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = format!("{whole}{fraction}");
    let digits = all_digits.trim_start_matches('0');
    if digits.is_empty() {
        return true; // zero
    }
    let Ok(exponent) = exponent.parse::<i64>() else {
        // An exponent beyond i64: tiny (a fraction) when negative, else far too large.
        return exponent.starts_with('-');
    };
    // The value is `digits` × 10^scale.
    let scale = exponent.saturating_sub(i64::try_from(fraction.len()).unwrap_or(i64::MAX));
    let integer = if scale >= 0 {
        // u64::MAX has 20 digits, and `digits` has no leading zeros.
        if scale > 20 || digits.len() + scale as usize > 20 {
            return false;
        }
        format!("{digits}{}", "0".repeat(scale as usize))
    } else {
        let dropped = usize::try_from(scale.unsigned_abs()).unwrap_or(usize::MAX);
        if dropped >= digits.len() {
            return true; // a fraction of magnitude below one
        }
        let (head, tail) = digits.split_at(digits.len() - dropped);
        if tail.bytes().any(|b| b != b'0') {
            return true; // a fraction
        }
        head.to_string()
    };
    let integer = if negative {
        format!("-{integer}")
    } else {
        integer
    };
    integer.parse::<i64>().is_ok() || integer.parse::<u64>().is_ok()
}

/// The problem with the integer at byte `at` of `json`, with its line and column.
fn oversized_integer_problem(json: &str, at: usize) -> String {
    let before = json.get(..at).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    format!(
        "has an integer beyond the 64-bit range at line {line} column {column}, which would be \
         stored rounded; write it as a string"
    )
}

/// Collects a top-level JSON object's entries in document order, duplicates included.
struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Vec<(String, Value)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of secrets")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(entry) = map.next_entry::<String, Value>()? {
            entries.push(entry);
        }
        Ok(entries)
    }

    // Anything but an object. The caller words the error itself, so these do not describe
    // the value as serde's defaults would, which saves their code in the wasm builds.
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(serde::de::Error::custom(NOT_AN_OBJECT))
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
}

const NOT_AN_OBJECT: &str = "not a JSON object";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_beyond_64_bits_are_refused_rather_than_stored_rounded() {
        let document = "{\"ok\": [-9223372036854775808, 18446744073709551615, 1.5e-300],\n \
                        \"id\": {\"n\": 18446744073709551616}}";
        let e = Secrets::from_json_document(document).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(
            e.to_string()
                .contains("integer beyond the 64-bit range at line 2 column 14"),
            "{e}"
        );
        let e = SecretValue::from_json("id", "[-9223372036854775809]").unwrap_err();
        assert_eq!(e.problems()[0].key, "id");
        assert!(e.problems()[0].message.contains("write it as a string"));
        // Without a fractional part a number is an integer, however it is written.
        for refused in [
            "1e30",
            "-1.0E19",
            "18446744073709551616.0",
            "-9223372036854775809.0",
            "-9.223372036854775809e18",
        ] {
            assert!(SecretValue::from_json("k", refused).is_err(), "{refused}");
        }
        for kept in [
            "1.5",
            "1e3",
            "-9.223372036854775808e18",
            "1.5e19",
            "2.5e-3",
            "18446744073709551615.0",
            "1844674407370955161.5e1",
            "-0.0e99999999999999999999",
            "1e-99999999999999999999",
        ] {
            assert!(SecretValue::from_json("k", kept).is_ok(), "{kept}");
        }
    }

    #[test]
    fn digits_inside_strings_and_escapes_are_not_numbers() {
        let document = r#"{"a\"99999999999999999999": "99999999999999999999", "b": 1.5e-30}"#;
        assert_eq!(Secrets::from_json_document(document).unwrap().len(), 2);
        assert!(SecretValue::from_json("k", r#""\\" "#).is_ok());
        // The scanner itself, which runs only when a parsed value holds a float of 2^63 or more.
        let text = r#"{"a\"1e30 \\": "\"99999999999999999999", "b": [1.5e30]}"#;
        assert_eq!(oversized_integer(text), text.find("1.5e30"));
        assert!(SecretValue::from_json("k", "18446744073709551615").is_ok());
    }
}
