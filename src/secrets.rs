//! The secret set of a job and the values in it.
//!
//! [`SecretValue`] holds one JSON value and redacts it in `Debug`; [`Secrets`] maps names to
//! values and shows only names. Both wipe their strings from memory when dropped.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Unexpected, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::map::{self, Entry};
use serde_json::{Map, Value};

use crate::error::{Error, Problem, Report};
use crate::numbers::{self, Found};
use crate::text::{at_line_column, concat};

use wipe::wipe;
pub(crate) use wipe::{Pending, Wipeable};

/// Comparing and wiping bytes, and the npm module's allocator (see the module).
#[path = "memory.rs"]
pub(crate) mod memory;
mod wipe;

/// Reading and printing JSON text (see the module).
#[doc(hidden)]
#[path = "json/mod.rs"]
pub mod json;

/// One secret's value: a JSON string, number, boolean, list, object or null.
///
/// `Debug` prints only the value's type. Read the value itself with [`SecretValue::expose`],
/// which makes every place that handles plain text easy to find.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
#[repr(transparent)]
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
    /// `name` is the secret the value is for; errors name it and never quote the text. A
    /// number that would be stored other than as written is refused, as in
    /// [`Secrets::from_json_document`].
    pub fn from_json(name: &str, json: &str) -> Result<Self, Error> {
        SecretValue::parse(name, json).map_err(|p| Error::invalid("The secret value", vec![p]))
    }

    /// As [`SecretValue::from_json`], with the one problem alone.
    pub fn parse(name: &str, json: &str) -> Result<Self, Problem> {
        match json::from_str(json) {
            Ok(value) => match number_changes(json, std::iter::once(&value)).first() {
                None => Ok(SecretValue(value)),
                Some(found) => Err(Problem::new(name, found.message())),
            },
            Err(e) => Err(Problem::new(
                name,
                concat(&["is not valid JSON (", &json_error_position(&e), ")"]),
            )),
        }
    }

    /// The value itself. Every call site is a place where a secret is in plain view.
    pub fn expose(&self) -> &Value {
        &self.0
    }

    /// The value as JSON text, e.g. `"\"s3cret\""`.
    pub fn to_json(&self) -> String {
        json::to_string(&self.0)
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

    /// A value held in a set, seen as the secret value it is.
    fn of(value: &Value) -> &SecretValue {
        // SAFETY: `SecretValue` is `repr(transparent)` over `Value`, so the two have one
        // layout, and the reference keeps the lifetime it was given.
        unsafe { &*std::ptr::from_ref(value).cast::<SecretValue>() }
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

/// All secrets of one job: names mapped to values, in name order.
///
/// The values are held as plain JSON values, in the map type JSON objects use, so that the
/// wasm builds carry one copy of the map's code; the set wipes them when dropped, and hands
/// each out as a [`SecretValue`]. Name order is that map's order: a build that turns on
/// serde_json's `preserve_order` feature (which keeps objects in insertion order) is not
/// supported, as it would also change how every object value is printed.
#[derive(Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Secrets(Map<String, Value>);

/// Read as one map of names to values, each put in the set as it is read: a value replaced
/// by a later one of the same name, and the values read before an error, are wiped like any
/// other.
impl<'de> Deserialize<'de> for Secrets {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;

        impl<'de> Visitor<'de> for Members {
            type Value = Secrets;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of secret names and values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Secrets, A::Error> {
                let mut set = Secrets::new();
                while let Some((name, value)) = members.next_entry::<String, SecretValue>()? {
                    set.insert(name, value);
                }
                Ok(set)
            }

            // Anything else is refused by its type alone: serde's own messages would quote it.
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Secrets, E> {
                Err(E::invalid_type(Unexpected::Other("a string"), &self))
            }
            fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Secrets, E> {
                Err(E::invalid_type(Unexpected::Other("bytes"), &self))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secrets, E> {
                Err(E::invalid_type(Unexpected::Other("a boolean"), &self))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secrets, E> {
                Err(E::invalid_type(Unexpected::Other("a number"), &self))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secrets, E> {
                Err(E::invalid_type(Unexpected::Other("a number"), &self))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secrets, E> {
                Err(E::invalid_type(Unexpected::Other("a number"), &self))
            }
        }

        // `any`, so that a value of another type reaches the visitor, whose error names its type
        // only (serde_json words a refused map with the value it found).
        deserializer.deserialize_any(Members)
    }
}

impl Drop for Secrets {
    fn drop(&mut self) {
        self.0.wipe_all();
    }
}

impl Secrets {
    /// An empty set.
    pub fn new() -> Self {
        Secrets::default()
    }

    /// Parses a whole set from a JSON document such as an exported secrets file.
    ///
    /// The document must be one JSON object. A name that appears twice is an error rather than
    /// a silent "last one wins". So is a number that would be stored other than as written
    /// (an integer beyond 64 bits, or a fraction or exponent that a 64-bit float does not hold
    /// exactly, such as `1.00000000000000000001` or `1e-400`): once parsed, the set no longer shows what was written, so
    /// only here can it be caught. Every such number's secret is named, with the number's
    /// line and column. Beyond that only syntax is checked here; [`crate::validate::secrets`]
    /// checks the rules.
    pub fn from_json_document(document: &str) -> Result<Self, Error> {
        let parsed = ParsedDocument::parse(document)?;
        if !parsed.number_problems.is_empty() {
            return Err(Error::invalid(
                "The secrets document",
                parsed.number_problems,
            ));
        }
        if !parsed.repeated.is_empty() {
            let problems = parsed
                .repeated
                .into_iter()
                .map(|name| Problem::new(name, REPEATED_NAME))
                .collect();
            return Err(Error::invalid("The secrets document", problems));
        }
        Ok(parsed.secrets)
    }

    /// Parses a set that came from a server: one JSON object. Errors never quote the body.
    pub(crate) fn from_server_body(body: &[u8]) -> Result<Self, String> {
        match json::from_slice(body) {
            // The object's map is the set's: nothing is copied or sorted again.
            Ok(Value::Object(map)) => Ok(Secrets(map)),
            Ok(other) => {
                let found = type_name(&other);
                drop(SecretValue(other));
                Err(concat(&[
                    "the body is a JSON ",
                    found,
                    ", not an object of secrets",
                ]))
            }
            Err(e) => Err(concat(&[
                "the body is not valid JSON (",
                &json_error_position(&e),
                ")",
            ])),
        }
    }

    /// The value of secret `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<&SecretValue> {
        self.0.get(name).map(SecretValue::of)
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
        let value = value.into().into_inner();
        self.0.insert(name.into(), value).map(SecretValue)
    }

    /// Adds secret `name` if it is not in the set yet, with one search; otherwise gives the
    /// name back.
    pub(crate) fn insert_new(&mut self, name: String, value: SecretValue) -> Result<(), String> {
        match self.0.entry(name) {
            Entry::Vacant(slot) => {
                slot.insert(value.into_inner());
                Ok(())
            }
            Entry::Occupied(given) => Err(given.key().clone()),
        }
    }

    /// Removes secret `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<SecretValue> {
        self.0.remove(name).map(SecretValue)
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
        self.0.iter().map(|(k, v)| (k.as_str(), SecretValue::of(v)))
    }

    /// The names and values themselves, for printing.
    pub(crate) fn entries(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The whole set as compact JSON, the form the Secrets API takes.
    pub fn to_json(&self) -> String {
        json::set_to_string(&self.0)
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
        // Inserted one by one, the last value of a name kept, as `collect` into a map would,
        // without its sort (see `from_server_body`).
        let mut set = Secrets::new();
        for (name, value) in iter {
            set.insert(name, value);
        }
        set
    }
}

impl IntoIterator for Secrets {
    type Item = (String, SecretValue);
    type IntoIter = IntoIter;

    fn into_iter(mut self) -> IntoIter {
        IntoIter(std::mem::take(&mut self.0).into_iter())
    }
}

/// The names and values of a set, taken out of it in name order. Values not taken are
/// wiped when it is dropped, as the set's would be.
pub struct IntoIter(map::IntoIter);

impl Iterator for IntoIter {
    type Item = (String, SecretValue);

    fn next(&mut self) -> Option<Self::Item> {
        self.0
            .next()
            .map(|(name, value)| (name, SecretValue(value)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for IntoIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0
            .next_back()
            .map(|(name, value)| (name, SecretValue(value)))
    }
}

impl ExactSizeIterator for IntoIter {}

impl std::iter::FusedIterator for IntoIter {}

impl Drop for IntoIter {
    fn drop(&mut self) {
        self.0.by_ref().for_each(|(_, mut value)| wipe(&mut value));
    }
}

impl fmt::Debug for IntoIter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("left", &self.0.len())
            .finish()
    }
}

/// Where a JSON parse failed, without quoting any of the input (serde_json's own messages can
/// include the text it choked on).
pub(crate) fn json_error_position(e: &impl json::ErrorPosition) -> String {
    let e = e.json_error();
    let what = match e.category {
        json::Category::Eof => "unexpected end",
        json::Category::Syntax => "syntax error",
        json::Category::Data => "unexpected shape",
    };
    at_line_column(what, e.line, e.column)
}

/// The numbers in `json`, parsed into `values`, that would be stored changed (see the
/// `numbers` module). The text is scanned only when a parsed value holds a float.
fn number_changes<'a>(json: &str, mut values: impl Iterator<Item = &'a Value>) -> Vec<Found> {
    if values.any(numbers::holds_float) {
        numbers::changes_in(json)
    } else {
        Vec::new()
    }
}

/// Whether the names are in strictly ascending order, as in every document this crate and
/// most tools write (names in order). Such entries are best put into a map from the last: a
/// map searches each node from its smallest key, so a name smaller than all takes one
/// comparison per level, where a name larger than all is compared with every key on its path
/// (a few dozen). Comparing names is most of building a set in the npm module.
pub(crate) fn strictly_ascending<T>(entries: &[(String, T)]) -> bool {
    entries.windows(2).all(|pair| pair[0].0 < pair[1].0)
}

/// A set of names held as a map of the set's own type: the wasm builds then have one copy of
/// the map's code for both, not a second one for a `BTreeSet<String>`.
pub(crate) struct NameSet(Map<String, Value>);

impl NameSet {
    pub(crate) fn new() -> Self {
        NameSet(Map::new())
    }

    /// Adds `name`; whether it was not in the set yet.
    pub(crate) fn insert(&mut self, name: String) -> bool {
        self.0.insert(name, Value::Null).is_none()
    }
}

/// The problem of a name written twice in a document.
pub(crate) const REPEATED_NAME: &str = "appears more than once in the document; keep one";

/// A secrets document read once, with what reading it found: the set (the first value of a
/// name written twice), the names written more than once, and one problem for each secret
/// holding a number that would be stored changed.
pub(crate) struct ParsedDocument {
    pub secrets: Secrets,
    /// Names written more than once, in the order they first repeat.
    pub repeated: Vec<String>,
    /// For each secret, its first number that would be stored changed, in document order.
    pub number_problems: Vec<Problem>,
}

impl ParsedDocument {
    /// Reads `document`, which must be one JSON object; the error (syntax, or not an
    /// object) names where, never what, and has no problems listed.
    pub(crate) fn parse(document: &str) -> Result<Self, Error> {
        let entries = match json::object_members(document) {
            Ok(entries) => entries,
            Err(e) => {
                let why = if e.is_data() {
                    "the document must be one JSON object whose keys are secret names".to_string()
                } else {
                    concat(&[
                        "the document is not valid JSON (",
                        &json_error_position(&e),
                        ")",
                    ])
                };
                return Err(Error::InvalidInput(Report::new(
                    "The secrets document cannot be read",
                    why,
                    "Provide a JSON object such as {\"db_password\": \"...\"}; nothing was changed.",
                )));
            }
        };
        let mut number_problems: Vec<Problem> = Vec::new();
        // One problem for each secret, even one named twice: its first number that would change.
        let mut named = NameSet::new();
        for found in number_changes(document, entries.iter().map(|(_, v)| v)) {
            let name = entries
                .get(found.member)
                .map_or("", |(name, _)| name.as_str());
            if named.insert(name.to_string()) {
                number_problems.push(Problem::new(name, found.message()));
            }
        }
        let mut secrets = Map::new();
        if strictly_ascending(&entries) {
            // No name twice, and built from the last name (see `strictly_ascending`).
            for (name, value) in entries.into_iter().rev() {
                secrets.insert(name, value);
            }
            return Ok(ParsedDocument {
                secrets: Secrets(secrets),
                repeated: Vec::new(),
                number_problems,
            });
        }
        let mut repeated = Vec::new();
        let mut seen_repeated = NameSet::new();
        for (name, value) in entries {
            // One search per name: comparing names is most of building the set in wasm.
            match secrets.entry(name) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(first) => {
                    // The set keeps the first value; the later one goes, wiped.
                    drop(SecretValue(value));
                    if seen_repeated.insert(first.key().clone()) {
                        repeated.push(first.key().clone());
                    }
                }
            }
        }
        Ok(ParsedDocument {
            secrets: Secrets(secrets),
            repeated,
            number_problems,
        })
    }
}

/// The members of JSON text that is one object, in document order, names written twice
/// included; `None` for any other text. Errors are not described: for text known to be JSON.
#[cfg_attr(not(feature = "js"), allow(dead_code))]
pub(crate) fn object_members(text: &str) -> Option<Vec<(String, Value)>> {
    json::object_members(text).ok()
}

#[cfg(test)]
mod tests;
