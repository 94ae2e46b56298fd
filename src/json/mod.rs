//! Reading and printing JSON text: the one place the crate does either.
//!
//! Values are serde_json's [`Value`]. Natively, on the server and in the WASI component, the
//! functions here are serde_json's own reader and compact printer. The npm package runs where
//! `JSON.parse` and `JSON.stringify` exist, and its size matters, so there the same functions
//! are a small reader and printer of this crate ([`read`], [`print`]) that give the same
//! values, the same text and the same error positions, and serde_json's `Deserializer` and
//! `Serializer` are not in the module. Native tests and the fuzz target compare the two.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::secrets::SecretValue;

/// Items for the builds that read and print with serde_json.
macro_rules! serde {
    ($($item:item)*) => { $($item)* };
}

/// What kind of error a read met, as serde_json classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// The text ended inside a value.
    Eof,
    /// Not JSON at this point.
    Syntax,
    /// JSON, but not of the shape asked for (a document that is not one object).
    Data,
}

/// Where and why JSON text could not be read. It holds no part of the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    /// Line, from 1.
    pub line: usize,
    /// Column in bytes from 1 (0 just after a line feed), as serde_json counts.
    pub column: usize,
    pub category: Category,
}

impl Error {
    /// Whether the text was JSON of another shape than asked for.
    pub fn is_data(&self) -> bool {
        self.category == Category::Data
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        e.json_error()
    }
}

/// Anything that says where JSON reading failed: [`Error`], and serde_json's error.
pub trait ErrorPosition {
    fn json_error(&self) -> Error;
}

impl ErrorPosition for Error {
    fn json_error(&self) -> Error {
        *self
    }
}

impl ErrorPosition for serde_json::Error {
    fn json_error(&self) -> Error {
        use serde_json::error::Category as C;
        Error {
            line: self.line(),
            column: self.column(),
            category: match self.classify() {
                C::Eof => Category::Eof,
                C::Data => Category::Data,
                C::Syntax | C::Io => Category::Syntax,
            },
        }
    }
}

serde! {
    /// One JSON value from text (all of it, whitespace around allowed), as
    /// `serde_json::from_str::<Value>` reads it.
    pub fn from_str(text: &str) -> Result<Value, Error> {
        serde_json::from_str(text).map_err(Error::from)
    }

    /// One JSON value from bytes, which must be UTF-8, as `serde_json::from_slice::<Value>`.
    pub fn from_slice(bytes: &[u8]) -> Result<Value, Error> {
        serde_json::from_slice(bytes).map_err(Error::from)
    }

    /// The members of text that is one JSON object, in document order, names written twice
    /// included. Text that is JSON but not an object is a [`Category::Data`] error.
    pub fn object_members(text: &str) -> Result<Vec<(String, Value)>, Error> {
        serde_members::read(text).map_err(Error::from)
    }

    /// The float a number token (JSON number text) reads as, correctly rounded; `None` for
    /// text that is not one number or that is beyond the largest float.
    pub fn read_float(token: &str) -> Option<f64> {
        match serde_json::from_str::<Value>(token) {
            Ok(Value::Number(n)) => n.as_f64(),
            _ => None,
        }
    }

    /// A value as compact JSON text.
    pub fn to_string(value: &Value) -> String {
        serde_json::to_string(value).unwrap_or_default()
    }

    /// A set (names to values) as one compact JSON object.
    pub fn set_to_string(set: &BTreeMap<String, SecretValue>) -> String {
        serde_json::to_string(set).unwrap_or_default()
    }

    /// The bytes of `"name":value` in compact JSON.
    pub fn entry_len(name: &str, value: &Value) -> usize {
        let mut counter = Counter(0);
        let _ = serde_json::to_writer(&mut counter, name);
        let _ = serde_json::to_writer(&mut counter, value);
        counter.0 + 1
    }

    /// The bytes of a set's compact JSON text.
    pub fn set_len(set: &BTreeMap<String, SecretValue>) -> usize {
        let mut counter = Counter(0);
        let _ = serde_json::to_writer(&mut counter, set);
        counter.0
    }

    /// Appends the text serde_json prints for a finite float to `out`; false (and nothing
    /// appended) for a float that is not finite.
    pub fn write_f64(out: &mut impl std::fmt::Write, n: f64) -> bool {
        serde_json::Number::from_f64(n).is_some_and(|number| write!(out, "{number}").is_ok())
    }

    /// Counts the bytes written to it.
    struct Counter(usize);

    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}

serde! {
    /// A document's members through serde's visitor, which keeps names written twice.
    mod serde_members {
        use std::fmt;

        use serde::de::{Deserializer, MapAccess, Visitor};
        use serde_json::Value;

        pub fn read(text: &str) -> Result<Vec<(String, Value)>, serde_json::Error> {
            let mut de = serde_json::Deserializer::from_str(text);
            let members = de.deserialize_any(EntriesVisitor)?;
            de.end()?;
            Ok(members)
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

            // Anything but an object. The caller words the error itself.
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
    }
}
