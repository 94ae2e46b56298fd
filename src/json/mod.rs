//! Reading and printing JSON text: the one place the crate does either.
//!
//! Values are serde_json's [`Value`]. Natively, on the server and in the WASI component, the
//! functions here are serde_json's own reader and compact printer. The npm package runs where
//! `JSON.parse` and `JSON.stringify` exist, and its size matters, so there the same functions
//! are a small reader and printer of this crate ([`read`], [`print`]) that give the same
//! values, the same text and the same error positions, and serde_json's `Deserializer` and
//! `Serializer` are not in the module. Native tests and the fuzz target compare the two.

use serde_json::Value;

mod print;
mod read;

pub(crate) use read::special_byte;

/// For the server, which prints a set straight into the escaped text of its record.
pub use print::escape_into;

/// Comparisons of the crate's reader and printer with serde_json's (native builds).
#[cfg(not(target_arch = "wasm32"))]
pub mod check;

/// Items for the builds that read and print with serde_json.
macro_rules! serde {
    ($($item:item)*) => { $(#[cfg(not(all(target_arch = "wasm32", feature = "js")))] $item)* };
}

/// The npm module reads and prints with the crate's own code.
#[cfg(all(target_arch = "wasm32", feature = "js"))]
pub use own::{
    entry_len, from_slice, from_str, object_members, read_float, set_len, set_to_string, to_string,
    write_f64,
};

/// What [`checked_members`] found in text that is one object, whose values it did not keep.
/// Its `Debug` shows the names and the size, never the floats (pieces of values).
#[derive(PartialEq)]
pub struct Checked<'a> {
    /// The members' names in document order, borrowed from the text when not escaped.
    pub names: Vec<std::borrow::Cow<'a, str>>,
    /// The bytes the members take printed as one compact object, names written twice
    /// included.
    pub size: usize,
    /// The floats in the values, in document order.
    pub floats: Vec<f64>,
}

impl std::fmt::Debug for Checked<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked")
            .field("names", &self.names)
            .field("size", &self.size)
            .field("floats", &format_args!("{} redacted", self.floats.len()))
            .finish()
    }
}

/// Reads text that is one object without keeping its values: its members' names, the
/// floats in its values and the bytes the members take printed, when no value nests lists or
/// objects more than `levels` deep or holds an object that writes a name twice (or escaped,
/// or has many names); `None` for that and for anything [`object_members`] refuses. The
/// crate's own reader in every build.
pub fn checked_members(text: &str, levels: usize) -> Option<Checked<'_>> {
    read::Reader::from_str(text).checked_object_members(u32::try_from(levels).ok()?)
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
    use serde_json::Map;

    /// One JSON value from text (all of it, whitespace around allowed), as
    /// `serde_json::from_str::<Value>` reads it.
    pub fn from_str(text: &str) -> Result<Value, Error> {
        whole_value(serde_json::Deserializer::from_str(text))
    }

    /// One JSON value from bytes, which must be UTF-8, as `serde_json::from_slice::<Value>`.
    pub fn from_slice(bytes: &[u8]) -> Result<Value, Error> {
        whole_value(serde_json::Deserializer::from_slice(bytes))
    }

    /// As serde_json's `from_str` and `from_slice` read a value, with the value wiped when
    /// text follows it.
    fn whole_value<'de, R: serde_json::de::Read<'de>>(
        mut de: serde_json::Deserializer<R>,
    ) -> Result<Value, Error> {
        use serde::Deserialize;
        let value = crate::secrets::SecretValue::new(Value::deserialize(&mut de)?);
        de.end()?;
        Ok(value.into_inner())
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
    pub fn set_to_string(set: &Map<String, Value>) -> String {
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
    pub fn set_len(set: &Map<String, Value>) -> usize {
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

/// The crate's own reader and printer, which the npm module uses. Compiled in every build,
/// so that native tests and the fuzz target compare them with serde_json.
pub mod own {
    use serde_json::{Map, Value};

    use super::read::Reader;
    use super::{Error, FloatText, print};

    /// As `serde_json::from_str::<Value>`.
    pub fn from_str(text: &str) -> Result<Value, Error> {
        Reader::from_str(text).whole_value()
    }

    /// As `serde_json::from_slice::<Value>`.
    pub fn from_slice(bytes: &[u8]) -> Result<Value, Error> {
        Reader::from_slice(bytes).whole_value()
    }

    /// As [`super::object_members`] with serde_json.
    pub fn object_members(text: &str) -> Result<Vec<(String, Value)>, Error> {
        Reader::from_str(text).whole_object_members()
    }

    /// The float a number token reads as (see [`super::read_float`]).
    pub fn read_float(token: &str) -> Option<f64> {
        match from_str(token) {
            Ok(Value::Number(n)) => n.as_f64(),
            _ => None,
        }
    }

    /// As `serde_json::to_string`.
    pub fn to_string(value: &Value) -> String {
        let mut out = String::new();
        print::value(&mut out, value);
        out
    }

    /// A set as one compact JSON object.
    pub fn set_to_string(set: &Map<String, Value>) -> String {
        let mut out = String::new();
        print::object(&mut out, set);
        out
    }

    /// The bytes of `"name":value` in compact JSON.
    pub fn entry_len(name: &str, value: &Value) -> usize {
        print::string_len(name) + 1 + print::value_len(value)
    }

    /// The bytes of a set's compact JSON text.
    pub fn set_len(set: &Map<String, Value>) -> usize {
        print::object_len(set)
    }

    /// Appends the text serde_json prints for a finite float; false for one not finite.
    pub fn write_f64(out: &mut impl std::fmt::Write, n: f64) -> bool {
        let mut text = FloatText::default();
        text.print(n) && out.write_str(text.as_str()).is_ok()
    }
}

/// A float's JSON text, on the stack.
#[derive(Default)]
pub(crate) struct FloatText {
    bytes: [u8; 32],
    len: usize,
}

impl FloatText {
    /// Prints `n` as serde_json does; false if it cannot (a float that is not finite).
    pub(crate) fn print(&mut self, n: f64) -> bool {
        self.len = 0;
        if !n.is_finite() {
            return false;
        }
        let mut digits = [0u8; 17];
        let (count, exponent) = shortest_digits(n.abs(), &mut digits);
        print::float_layout(self, n.is_sign_negative(), &digits[..count], exponent);
        true
    }

    fn push(&mut self, bytes: &[u8]) {
        let end = (self.len + bytes.len()).min(self.bytes.len());
        let room = &mut self.bytes[self.len..end];
        room.copy_from_slice(&bytes[..room.len()]);
        self.len = end;
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// The shortest digits that read back as finite float `n` ≥ 0, and the exponent of the
/// first (see [`print::shortest_from_text`]).
fn shortest_digits(n: f64, digits: &mut [u8; 17]) -> (usize, i32) {
    // An integer below 2^53: its own digits (any shorter text is another integer).
    if n.fract() == 0.0 && n < 9_007_199_254_740_992.0 {
        let mut text = String::new();
        print::value(&mut text, &Value::from(n as u64));
        return print::shortest_from_text(text.as_bytes(), digits);
    }
    print::shortest_from_text(shortest_text(n).as_bytes(), digits)
}

/// A decimal text of `n` with its shortest digits: JavaScript's `String(n)`.
#[cfg(all(target_arch = "wasm32", feature = "js"))]
fn shortest_text(n: f64) -> String {
    js::shortest(n)
}

/// A decimal text of `n` with its shortest digits: Rust's `{:e}`, except that when two
/// shortest texts are equally near `n`, the one with an even last digit, as JavaScript (and
/// serde_json) choose.
#[cfg(not(all(target_arch = "wasm32", feature = "js")))]
fn shortest_text(n: f64) -> String {
    let shortest = format!("{n:e}");
    let length = shortest.find('e').unwrap_or(shortest.len()) - usize::from(shortest.contains('.'));
    // One more digit than the shortest, and then many: `n` lies halfway between two texts of
    // that length when the longer text ends in 5 and nothing follows it.
    let longer = format!("{n:.length$e}");
    let exact = format!("{n:.width$e}", width = length + 40);
    let (digits, exponent) = longer.split_once('e').unwrap_or((&longer, "0"));
    let digits: Vec<u8> = digits.bytes().filter(u8::is_ascii_digit).collect();
    let tail_zero = exact
        .split_once('e')
        .map_or("", |(d, _)| d)
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip(length + 1)
        .all(|b| b == b'0');
    if digits.last() != Some(&b'5') || !tail_zero {
        return shortest;
    }
    let mut lower = digits[..length].to_vec();
    if lower.last().is_some_and(|d| d % 2 == 1) {
        // The upper one is even: add one in the last place.
        let mut at = lower.len();
        loop {
            if at == 0 {
                lower.insert(0, b'1');
                break;
            }
            at -= 1;
            if lower[at] == b'9' {
                lower[at] = b'0';
            } else {
                lower[at] += 1;
                break;
            }
        }
    }
    let exponent: i32 = exponent.parse().unwrap_or(0);
    format!(
        "{}e{}",
        String::from_utf8(lower).unwrap_or_default(),
        exponent - length as i32 + 1
    )
}

/// Powers of ten that a float holds exactly.
const EXACT_POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The correctly rounded float of JSON number text (infinite beyond the largest float);
/// `None` if the text is not a number.
fn float_of_token(token: &[u8]) -> Option<f64> {
    // Digits that make an integer below 2^53 and a power of ten within ±22 are both exact
    // as floats, so one multiplication or division rounds once, correctly.
    let (negative, unsigned) = match token.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, token),
    };
    let mut mantissa: u64 = 0;
    let mut power: i64 = 0;
    let mut exact = true;
    let mut in_fraction = false;
    let mut i = 0;
    while let Some(&b) = unsigned.get(i) {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                if mantissa >= 1 << 53 {
                    exact = false;
                    break;
                }
                power -= i64::from(in_fraction);
            }
            b'.' => in_fraction = true,
            _ => break,
        }
        i += 1;
    }
    if exact {
        if let Some((b'e' | b'E', exponent)) = unsigned[i..].split_first() {
            let (sign, digits) = match exponent.split_first() {
                Some((b'-', rest)) => (-1, rest),
                Some((b'+', rest)) => (1, rest),
                _ => (1, exponent),
            };
            // Capped far beyond any text's length, so that a capped exponent leaves the
            // power outside the exact range whatever the fraction's length.
            let mut value: i64 = 0;
            for &d in digits {
                value = (value * 10 + i64::from(d.wrapping_sub(b'0'))).min(1 << 40);
            }
            power += sign * value;
        }
        if let Some(&scale) = EXACT_POWERS.get(power.unsigned_abs() as usize) {
            let magnitude = if power < 0 {
                mantissa as f64 / scale
            } else {
                mantissa as f64 * scale
            };
            return Some(if negative { -magnitude } else { magnitude });
        }
    }
    float_of_text(std::str::from_utf8(token).ok()?)
}

/// The correctly rounded float of number text: JavaScript's `parseFloat`.
#[cfg(all(target_arch = "wasm32", feature = "js"))]
fn float_of_text(text: &str) -> Option<f64> {
    Some(js::parse_float(text))
}

/// The correctly rounded float of number text: Rust's `parse`.
#[cfg(not(all(target_arch = "wasm32", feature = "js")))]
fn float_of_text(text: &str) -> Option<f64> {
    text.parse().ok()
}

#[cfg(all(target_arch = "wasm32", feature = "js"))]
mod js {
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen]
    extern "C" {
        /// `parseFloat`, correctly rounded for every JSON number.
        #[wasm_bindgen(js_name = parseFloat)]
        pub fn parse_float(text: &str) -> f64;

        /// `String(n)`: the shortest digits that read back as `n`.
        #[wasm_bindgen(js_name = String)]
        pub fn shortest(n: f64) -> String;
    }
}

serde! {
    /// A document's members through serde's visitor, which keeps names written twice.
    mod serde_members {
        use std::fmt;

        use serde::de::{Deserializer, MapAccess, Visitor};
        use serde_json::Value;

        use crate::secrets::Pending;

        pub fn read(text: &str) -> Result<Vec<(String, Value)>, serde_json::Error> {
            let mut de = serde_json::Deserializer::from_str(text);
            let members = Pending(de.deserialize_any(EntriesVisitor)?);
            de.end()?;
            Ok(members.into_inner())
        }

        /// Collects a top-level JSON object's entries in document order, duplicates included.
        struct EntriesVisitor;

        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Vec<(String, Value)>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of secrets")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // Wiped if a later member cannot be read.
                let mut entries = Pending(Vec::with_capacity(map.size_hint().unwrap_or(0)));
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.0.push(entry);
                }
                Ok(entries.into_inner())
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

/// Against serde_json, natively (the comparisons are native-only).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
