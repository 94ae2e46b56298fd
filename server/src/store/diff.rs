//! Which secret names a write added, changed and removed: names only, never a value.
//!
//! A stored set is JSON text. Naming what changed reads that text once, member by member,
//! without building the set: names are borrowed from the text (unless escaped) and values are
//! kept as the slices of text they are. Between two texts (a history listing), values are
//! compared as text first, and only two that differ as text are parsed; against a set held
//! in memory (a PUT's), a string without escapes is compared as text and any other value is
//! parsed. What is parsed is wiped when dropped. On 4,500 secrets (1 MiB) this took a PUT's
//! server CPU from about 19 to 17 ms and a listing of 10 versions from 28 to 18 reads' worth
//! (docs/BENCHMARKS.md).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use vdk_secrets::{SecretValue, Secrets};

/// The secret names that differ between two sets. Names only, never a value.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct NameDiff {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl NameDiff {
    /// What changed from `before` to `after`, each list sorted.
    pub fn between(before: &Secrets, after: &Secrets) -> Self {
        Self::merge(&Members::of(before), &Members::of(after))
    }

    /// What changed from the set whose JSON text is `before` to `after`; None when `before`
    /// is not a JSON object.
    pub fn from_text(before: &str, after: &Secrets) -> Option<Self> {
        Some(Self::merge(&Members::read(before)?, &Members::of(after)))
    }

    /// What changed between two sets given as JSON text; None when either is not a JSON
    /// object.
    pub fn between_texts(before: &str, after: &str) -> Option<Self> {
        Some(Self::merge(&Members::read(before)?, &Members::read(after)?))
    }

    /// Walks two member lists sorted by name side by side.
    fn merge(before: &Members<'_>, after: &Members<'_>) -> Self {
        let mut diff = NameDiff::default();
        let (old, new) = (&before.0, &after.0);
        let (mut i, mut j) = (0, 0);
        loop {
            match (old.get(i), new.get(j)) {
                (None, None) => break,
                (Some((a, x)), Some((b, y))) if a == b => {
                    if !x.same_as(*y) {
                        diff.changed.push(a.to_string());
                    }
                    (i, j) = (i + 1, j + 1);
                }
                (Some((a, _)), Some((b, _))) if a < b => {
                    diff.removed.push(a.to_string());
                    i += 1;
                }
                (Some((a, _)), None) => {
                    diff.removed.push(a.to_string());
                    i += 1;
                }
                (_, Some((b, _))) => {
                    diff.added.push(b.to_string());
                    j += 1;
                }
            }
        }
        diff
    }
}

/// A set's members in name order.
struct Members<'a>(Vec<(Cow<'a, str>, Member<'a>)>);

/// One member's value: as text from a stored set, or as held by a [`Secrets`].
#[derive(Clone, Copy)]
enum Member<'a> {
    Text(&'a RawValue),
    Held(&'a Value),
}

impl<'a> Members<'a> {
    fn of(set: &'a Secrets) -> Self {
        // A set iterates in name order already.
        Members(
            set.iter()
                .map(|(name, value)| (Cow::Borrowed(name), Member::Held(value.expose())))
                .collect(),
        )
    }

    /// The members of the JSON object `text`, sorted by name; a name written twice (which no
    /// write through the API can store, but another writer of a Vault path could) keeps its
    /// last value. None when `text` is not an object.
    fn read(text: &'a str) -> Option<Self> {
        let mut de = serde_json::Deserializer::from_str(text);
        let mut members = de.deserialize_map(MembersVisitor).ok()?;
        de.end().ok()?;
        if !members.windows(2).all(|w| w[0].0 < w[1].0) {
            // Stable, so that of a name written twice the last stays last.
            members.sort_by(|a, b| a.0.cmp(&b.0));
            members.reverse();
            members.dedup_by(|later, earlier| later.0 == earlier.0);
            members.reverse();
        }
        Some(Members(members))
    }
}

impl Member<'_> {
    /// Whether two values are the same JSON value.
    fn same_as(self, other: Member<'_>) -> bool {
        match (self, other) {
            (Member::Held(a), Member::Held(b)) => same_value(a, b),
            (Member::Text(a), Member::Text(b)) => {
                a.get() == b.get()
                    || parsed(a)
                        .zip(parsed(b))
                        .is_some_and(|(a, b)| same_value(a.expose(), b.expose()))
            }
            (Member::Text(raw), Member::Held(value)) | (Member::Held(value), Member::Text(raw)) => {
                match (string_contents(raw.get()), value) {
                    // Text without escapes is what it holds: equal bytes are equal strings.
                    (Some(text), Value::String(s)) if text == s && !text.contains('\\') => true,
                    (Some(text), Value::String(_)) if !text.contains('\\') => false,
                    _ => parsed(raw).is_some_and(|parsed| same_value(parsed.expose(), value)),
                }
            }
        }
    }
}

/// Whether two values are the same JSON value, as stored: unlike `==`, `-0.0` is not `0.0`
/// (the set keeps the sign as written, so changing it is a change).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.is_f64(), y.is_f64()) {
            (true, true) => x.as_f64().map(f64::to_bits) == y.as_f64().map(f64::to_bits),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(name, x)| y.get(name).is_some_and(|y| same_value(x, y)))
        }
        _ => a == b,
    }
}

/// A value read from its text, wiped when dropped; None only for text that is not JSON, which
/// a member read by serde_json cannot be.
fn parsed(raw: &RawValue) -> Option<SecretValue> {
    serde_json::from_str(raw.get()).ok().map(SecretValue::new)
}

/// What is between the quotes of a JSON string's text, escapes as written (`"a\"b"` gives
/// `a\"b`); None for any other JSON text.
fn string_contents(text: &str) -> Option<&str> {
    text.strip_prefix('"')?.strip_suffix('"')
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Vec<(Cow<'de, str>, Member<'de>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of secrets")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(Name(name)) = map.next_key()? {
            let value: &'de RawValue = map.next_value()?;
            members.push((name, Member::Text(value)));
        }
        Ok(members)
    }
}

/// A member's name, borrowed from the text unless it has escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret name")
            }
            fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(name)))
            }
            fn visit_str<E>(self, name: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(name.to_string())))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(value: Value) -> Secrets {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn name_diffs_list_names_only_sorted() {
        let before = set(json!({"keep": 1, "change": "old-value", "drop": true}));
        let after = set(json!({"keep": 1, "change": "new-value", "b_new": 2, "a_new": 3}));
        let diff = NameDiff::between(&before, &after);
        assert_eq!(diff.added, ["a_new", "b_new"]);
        assert_eq!(diff.changed, ["change"]);
        assert_eq!(diff.removed, ["drop"]);
        let text = serde_json::to_string(&diff).unwrap();
        assert!(!text.contains("old-value") && !text.contains("new-value"));
    }

    /// Every way of giving the two sets names the same changes.
    fn all_ways(before: Value, after: Value) -> NameDiff {
        let (before_text, after_text) = (before.to_string(), after.to_string());
        let (before, after) = (set(before), set(after));
        let diff = NameDiff::between(&before, &after);
        assert_eq!(
            NameDiff::from_text(&before_text, &after),
            Some(diff.clone())
        );
        assert_eq!(
            NameDiff::from_text(&before.to_json(), &after),
            Some(diff.clone())
        );
        assert_eq!(
            NameDiff::between_texts(&before_text, &after_text),
            Some(diff.clone())
        );
        diff
    }

    #[test]
    fn values_written_differently_but_equal_are_unchanged() {
        let diff = all_ways(
            json!({"a": "\u{e9}t\u{e9}", "b": {"x": [1, 2], "y": null}, "c": 1.5, "d": "q\"uote"}),
            json!({"a": "\u{e9}t\u{e9}", "b": {"y": null, "x": [1, 2]}, "c": 1.5, "d": "q\"uote"}),
        );
        assert_eq!(diff, NameDiff::default());
        // The same values, written with escapes, spaces and members in another order.
        let before = r#" { "d" : "q\u0022uote", "c": 15e-1, "b": {"y":null,"x":[1,2]}, "a": "\u00e9t\u00e9" } "#;
        let after = set(
            json!({"a": "\u{e9}t\u{e9}", "b": {"x": [1, 2], "y": null}, "c": 1.5, "d": "q\"uote"}),
        );
        assert_eq!(
            NameDiff::from_text(before, &after),
            Some(NameDiff::default())
        );
    }

    #[test]
    fn every_kind_of_change_is_named() {
        let diff = all_ways(
            json!({"s": "a", "n": 1, "f": 1.0, "o": {"k": "v"}, "l": [1], "t": true, "gone": "x", "same": "y"}),
            json!({"s": "b", "n": 2, "f": 1, "o": {"k": "w"}, "l": [1, 2], "t": "true", "new": "x", "same": "y"}),
        );
        assert_eq!(diff.added, ["new"]);
        assert_eq!(diff.changed, ["f", "l", "n", "o", "s", "t"]);
        assert_eq!(diff.removed, ["gone"]);
    }

    #[test]
    fn a_zero_that_changes_sign_is_changed() {
        let diff = all_ways(
            json!({"z": 0.0, "l": [0.0], "o": {"k": -0.0}, "same": -0.0}),
            json!({"z": -0.0, "l": [-0.0], "o": {"k": 0.0}, "same": -0.0}),
        );
        assert_eq!(diff.changed, ["l", "o", "z"]);
    }

    #[test]
    fn names_out_of_order_or_escaped_are_matched() {
        let before = r#"{"z": 1, "\u0061": 2, "m": 3}"#;
        let after = set(json!({"a": 2, "m": 4, "b": 5}));
        let diff = NameDiff::from_text(before, &after).unwrap();
        assert_eq!(diff.added, ["b"]);
        assert_eq!(diff.changed, ["m"]);
        assert_eq!(diff.removed, ["z"]);
    }

    #[test]
    fn a_name_written_twice_keeps_its_last_value() {
        let after = set(json!({"a": 2}));
        assert_eq!(
            NameDiff::from_text(r#"{"a": 1, "a": 2}"#, &after),
            Some(NameDiff::default())
        );
        let diff = NameDiff::from_text(r#"{"a": 2, "a": 1}"#, &after).unwrap();
        assert_eq!(diff.changed, ["a"]);
    }

    #[test]
    fn text_that_is_not_an_object_gives_no_diff() {
        let after = set(json!({"a": 1}));
        for text in ["", "[]", "\"a\"", "{\"a\": 1", "{\"a\": 1} x", "{1: 2}"] {
            assert_eq!(NameDiff::from_text(text, &after), None, "{text:?}");
        }
    }
}
