//! The crate's own JSON reader: serde_json's grammar, values, limits and error positions,
//! in a few kilobytes of wasm.
//!
//! It reads as serde_json's `Deserializer` does, byte by byte: the same value for every text
//! (a name written twice in an object keeps its last value; integers are `u64` or `i64` when
//! they fit, every other number the correctly rounded float, and one beyond the largest float
//! is an error), and the same error at the same line and column, which serde_json takes either
//! at the byte just read (`error`) or at the next one (`peek_error`). Native tests and the
//! fuzz target hold it to serde_json.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

use super::{Category, Error};
use crate::secrets::{Pending, SecretValue};

/// How deep lists and objects nest before the reader stops: serde_json's limit (its
/// 128th level is an error).
const DEPTH: u32 = 128;

/// What [`Reader::checked_object_members`] holds while it reads: an escaped string of a
/// value, unescaped; the names of the objects being read (where they stand in the text);
/// the floats met.
#[derive(Default)]
struct Scratch {
    text: Vec<u8>,
    names: Vec<(usize, usize)>,
    floats: Vec<f64>,
}

/// The most names [`Reader::checked_object_members`] compares in one object inside a value
/// (each with every other); an object with more is left to the reader that keeps values.
const CHECKED_NAMES: usize = 32;

/// Reads JSON text (`text` is set when the bytes are known to be UTF-8).
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    text: Option<&'a str>,
    i: usize,
    depth_left: u32,
    /// The bytes the values checked so far take printed as compact JSON (see
    /// [`Reader::checked_object_members`]).
    printed: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn from_str(text: &'a str) -> Self {
        Reader {
            bytes: text.as_bytes(),
            text: Some(text),
            i: 0,
            depth_left: DEPTH,
            printed: 0,
        }
    }

    pub(super) fn from_slice(bytes: &'a [u8]) -> Self {
        Reader {
            bytes,
            text: None,
            i: 0,
            depth_left: DEPTH,
            printed: 0,
        }
    }

    /// One value, then nothing but whitespace.
    pub(super) fn whole_value(mut self) -> Result<Value, Error> {
        let value = SecretValue::new(self.value()?);
        self.end()?;
        Ok(value.into_inner())
    }

    /// The members of one object, in order, names written twice included, then nothing but
    /// whitespace. Any other value is a [`Category::Data`] error, once read (a list at once).
    pub(super) fn whole_object_members(mut self) -> Result<Vec<(String, Value)>, Error> {
        let Some(b) = self.whitespace() else {
            return Err(self.peek_error(Category::Eof));
        };
        if b == b'{' {
            self.i += 1;
            self.depth_left -= 1;
            // Wiped if a later member, or what follows the object, cannot be read.
            let mut members = Pending(Vec::new());
            let mut first = true;
            while self.next_key(&mut first)? {
                let name = self.key()?;
                let value = self.value()?;
                members.0.push((name, value));
            }
            self.i += 1;
            self.end()?;
            return Ok(members.into_inner());
        }
        if b != b'[' {
            // Read the value for its syntax errors; a value that reads is the wrong shape.
            drop(SecretValue::new(self.value()?));
        }
        Err(self.error(Category::Data))
    }

    /// Reads text that is one object as [`Reader::whole_object_members`] reads it, keeping
    /// only its members' names (borrowed from the text when unescaped) and floats, and
    /// counting the bytes its members take printed: no value is kept, so no string is
    /// copied. `None` for anything that reader would not read, and for what needs the values
    /// kept to be judged: lists or objects nested more than `levels` deep inside a member's
    /// value, or an object inside a value with a name written twice, escaped, or after
    /// [`CHECKED_NAMES`] others.
    pub(super) fn checked_object_members(mut self, levels: u32) -> Option<super::Checked<'a>> {
        let text = self.text?;
        if self.whitespace()? != b'{' {
            return None;
        }
        self.i += 1;
        self.depth_left -= 1;
        let mut scratch = Scratch::default();
        let mut names = Vec::new();
        let mut first = true;
        let mut read = || -> Option<()> {
            while self.next_key(&mut first).ok()? {
                self.i += 1;
                let name = match self.string_bytes(&mut scratch.text).ok()? {
                    Some((start, end)) => {
                        self.printed += end - start + 2;
                        Cow::Borrowed(text.get(start..end)?)
                    }
                    None => {
                        // Text unescaped from a `str` is UTF-8.
                        let name = String::from_utf8(std::mem::take(&mut scratch.text)).ok()?;
                        self.printed += super::print::string_len(&name);
                        Cow::Owned(name)
                    }
                };
                self.colon().ok()?;
                self.skip_value(levels, &mut scratch)?;
                names.push(name);
            }
            self.i += 1;
            self.end().ok()
        };
        let done = read();
        // An escaped string of a value was unescaped here: wipe it.
        scratch.text.clear();
        crate::secrets::memory::wipe(&mut String::from_utf8(scratch.text).unwrap_or_default());
        done?;
        // The braces, a comma between members and a colon in each.
        let size = self.printed + 1 + names.len().max(1) + names.len();
        Some(super::Checked {
            names,
            size,
            floats: scratch.floats,
        })
    }

    /// Reads one value as [`Reader::value`] does, keeping nothing but its floats and
    /// counting the bytes it takes printed (see [`Reader::checked_object_members`], which
    /// says when it gives up: `None`).
    fn skip_value(&mut self, levels: u32, scratch: &mut Scratch) -> Option<()> {
        let b = self.whitespace()?;
        let start = self.i;
        match b {
            b'n' | b't' | b'f' => {
                let rest: &[u8] = match b {
                    b'n' => b"ull",
                    b't' => b"rue",
                    _ => b"alse",
                };
                self.i += 1;
                self.ident(rest).ok()?;
                self.printed += 1 + rest.len();
            }
            b'-' | b'0'..=b'9' => {
                let positive = b != b'-';
                self.i += usize::from(!positive);
                let n = self.number(positive).ok()?;
                match n.as_f64().filter(|_| n.is_f64()) {
                    Some(float) => {
                        scratch.floats.push(float);
                        self.printed += super::print::number_len(&n);
                    }
                    // An integer prints as it is written: JSON has one way to write each (no
                    // `+`, no leading zeros; `-0` reads as a float).
                    None => self.printed += self.i - start,
                }
            }
            b'"' => {
                self.i += 1;
                match self.string_bytes(&mut scratch.text).ok()? {
                    // No escapes: nothing in it is escaped when printed (a quote, a
                    // backslash or a control character cannot stand in it unescaped).
                    Some((start, end)) => self.printed += end - start + 2,
                    None => {
                        let text = std::str::from_utf8(&scratch.text).ok()?;
                        self.printed += super::print::string_len(text);
                        // A secret's text: overwritten before it is dropped or reused.
                        scratch.text.fill(0);
                        scratch.text.clear();
                    }
                }
            }
            b'[' => {
                let levels = levels.checked_sub(1)?;
                self.deeper().ok()?;
                let mut items = 0;
                let mut first = true;
                while self.next_item(&mut first).ok()? {
                    self.skip_value(levels, scratch)?;
                    items += 1;
                }
                self.i += 1;
                self.depth_left += 1;
                self.printed += 1 + usize::max(items, 1);
            }
            b'{' => {
                let levels = levels.checked_sub(1)?;
                self.deeper().ok()?;
                let outer = scratch.names.len();
                let mut first = true;
                while self.next_key(&mut first).ok()? {
                    self.i += 1;
                    let (start, end) = self.string_bytes(&mut scratch.text).ok()??;
                    self.colon().ok()?;
                    let name = &self.bytes[start..end];
                    let seen = &scratch.names[outer..];
                    if seen.len() >= CHECKED_NAMES
                        || seen.iter().any(|&(s, e)| &self.bytes[s..e] == name)
                    {
                        return None;
                    }
                    scratch.names.push((start, end));
                    self.printed += end - start + 2;
                    self.skip_value(levels, scratch)?;
                }
                let members = scratch.names.len() - outer;
                scratch.names.truncate(outer);
                self.i += 1;
                self.depth_left += 1;
                self.printed += 1 + members.max(1) + members;
            }
            _ => return None,
        }
        Some(())
    }

    /// The position of byte `at` as serde_json gives it: the line, and the bytes from the
    /// line's start to `at` (so the column of the byte before `at`, counted from 1).
    fn position(&self, at: usize, category: Category) -> Error {
        let before = self.bytes.get(..at).unwrap_or(self.bytes);
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let lines = before[..start].iter().filter(|&&b| b == b'\n').count();
        Error {
            line: 1 + lines,
            column: before.len() - start,
            category,
        }
    }

    /// An error at the byte just read.
    #[cold]
    fn error(&self, category: Category) -> Error {
        self.position(self.i, category)
    }

    /// An error at the byte to be read next.
    #[cold]
    fn peek_error(&self, category: Category) -> Error {
        self.position((self.i + 1).min(self.bytes.len()), category)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    /// Reads one byte.
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    /// Skips whitespace; the next byte, not read.
    fn whitespace(&mut self) -> Option<u8> {
        while let Some(b) = self.peek() {
            if !matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(b);
            }
            self.i += 1;
        }
        None
    }

    /// Nothing but whitespace is left.
    fn end(&mut self) -> Result<(), Error> {
        match self.whitespace() {
            Some(_) => Err(self.peek_error(Category::Syntax)),
            None => Ok(()),
        }
    }

    fn value(&mut self) -> Result<Value, Error> {
        let Some(b) = self.whitespace() else {
            return Err(self.peek_error(Category::Eof));
        };
        Ok(match b {
            b'n' => {
                self.i += 1;
                self.ident(b"ull")?;
                Value::Null
            }
            b't' => {
                self.i += 1;
                self.ident(b"rue")?;
                Value::Bool(true)
            }
            b'f' => {
                self.i += 1;
                self.ident(b"alse")?;
                Value::Bool(false)
            }
            b'-' => {
                self.i += 1;
                Value::Number(self.number(false)?)
            }
            b'0'..=b'9' => Value::Number(self.number(true)?),
            b'"' => {
                self.i += 1;
                Value::String(self.string()?)
            }
            b'[' => {
                self.deeper()?;
                // Wiped if a later item cannot be read.
                let mut items = Pending(Vec::new());
                let mut first = true;
                while self.next_item(&mut first)? {
                    items.0.push(self.value()?);
                }
                self.i += 1;
                self.depth_left += 1;
                Value::Array(items.into_inner())
            }
            b'{' => {
                self.deeper()?;
                // Wiped if a later member cannot be read.
                let mut map = Pending(Map::new());
                let mut first = true;
                while self.next_key(&mut first)? {
                    let name = self.key()?;
                    let value = self.value()?;
                    // The last value of a name kept, as serde_json keeps it; the one it
                    // replaces is wiped.
                    drop(map.0.insert(name, value).map(SecretValue::new));
                }
                self.i += 1;
                self.depth_left += 1;
                Value::Object(map.into_inner())
            }
            _ => return Err(self.peek_error(Category::Syntax)),
        })
    }

    /// Enters a list or object at the next byte.
    fn deeper(&mut self) -> Result<(), Error> {
        self.depth_left -= 1;
        if self.depth_left == 0 {
            return Err(self.peek_error(Category::Syntax));
        }
        self.i += 1;
        Ok(())
    }

    /// The rest of `null`, `true` or `false`.
    fn ident(&mut self, rest: &[u8]) -> Result<(), Error> {
        for &expected in rest {
            match self.next() {
                None => return Err(self.error(Category::Eof)),
                Some(b) if b != expected => return Err(self.error(Category::Syntax)),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Whether a list has another item; at its `]` when not.
    fn next_item(&mut self, first: &mut bool) -> Result<bool, Error> {
        let Some(b) = self.whitespace() else {
            return Err(self.peek_error(Category::Eof));
        };
        if b == b']' {
            Ok(false)
        } else if *first {
            *first = false;
            Ok(true)
        } else if b == b',' {
            self.i += 1;
            match self.whitespace() {
                Some(b']') => Err(self.peek_error(Category::Syntax)),
                Some(_) => Ok(true),
                None => Err(self.peek_error(Category::Eof)),
            }
        } else {
            Err(self.peek_error(Category::Syntax))
        }
    }

    /// Whether an object has another member, at its name's `"`; at its `}` when not.
    fn next_key(&mut self, first: &mut bool) -> Result<bool, Error> {
        let Some(b) = self.whitespace() else {
            return Err(self.peek_error(Category::Eof));
        };
        if b == b'}' {
            Ok(false)
        } else if *first {
            *first = false;
            if b == b'"' {
                Ok(true)
            } else {
                Err(self.peek_error(Category::Syntax))
            }
        } else if b == b',' {
            self.i += 1;
            match self.whitespace() {
                Some(b'"') => Ok(true),
                Some(_) => Err(self.peek_error(Category::Syntax)),
                None => Err(self.peek_error(Category::Eof)),
            }
        } else {
            Err(self.peek_error(Category::Syntax))
        }
    }

    /// A member's name from its `"`, and the `:` after it.
    fn key(&mut self) -> Result<String, Error> {
        self.i += 1;
        let name = self.string()?;
        self.colon()?;
        Ok(name)
    }

    /// The `:` after a member's name.
    fn colon(&mut self) -> Result<(), Error> {
        match self.whitespace() {
            Some(b':') => {
                self.i += 1;
                Ok(())
            }
            Some(_) => Err(self.peek_error(Category::Syntax)),
            None => Err(self.peek_error(Category::Eof)),
        }
    }

    /// A string's contents, after its opening `"`, through its closing one.
    fn string(&mut self) -> Result<String, Error> {
        let mut unescaped = Vec::new();
        match self.string_bytes(&mut unescaped)? {
            Some((start, end)) => {
                if let Some(text) = self.text {
                    // Both ends are at ASCII quotes, so on character boundaries.
                    return Ok(text.get(start..end).unwrap_or_default().to_owned());
                }
                self.utf8(self.bytes[start..end].to_vec())
            }
            None => self.utf8(unescaped),
        }
    }

    /// Reads a string after its opening `"`, through its closing one: where its contents
    /// stand in the input when it has no escape, else `None`, its contents unescaped
    /// appended to `unescaped`.
    fn string_bytes(&mut self, unescaped: &mut Vec<u8>) -> Result<Option<(usize, usize)>, Error> {
        let mut start = self.i;
        let mut escaped = false;
        loop {
            self.i = special_byte(self.bytes, self.i);
            let Some(b) = self.peek() else {
                return Err(self.error(Category::Eof));
            };
            match b {
                b'"' => {
                    let end = self.i;
                    self.i += 1;
                    if !escaped {
                        return Ok(Some((start, end)));
                    }
                    unescaped.extend_from_slice(&self.bytes[start..end]);
                    return Ok(None);
                }
                b'\\' => {
                    unescaped.extend_from_slice(&self.bytes[start..self.i]);
                    escaped = true;
                    self.i += 1;
                    self.escape(unescaped)?;
                    start = self.i;
                }
                _ => {
                    // A control character.
                    self.i += 1;
                    return Err(self.error(Category::Syntax));
                }
            }
        }
    }

    /// A string's bytes as text; not UTF-8 is an error placed as serde_json places it, back
    /// from the closing quote by the bytes from the first bad one to the end.
    fn utf8(&self, bytes: Vec<u8>) -> Result<String, Error> {
        String::from_utf8(bytes).map_err(|e| {
            let bad = e.as_bytes().len() - e.utf8_error().valid_up_to();
            let mut error = self.error(Category::Syntax);
            error.column = error.column.saturating_sub(bad);
            error
        })
    }

    /// An escape, after its `\`.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        let Some(b) = self.next() else {
            return Err(self.error(Category::Eof));
        };
        let plain = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => b'\x08',
            b'f' => b'\x0c',
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => return self.unicode_escape(out),
            _ => return Err(self.error(Category::Syntax)),
        };
        out.push(plain);
        Ok(())
    }

    /// A `\u` escape after the `u`, with the second half of a surrogate pair.
    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        let first = self.hex4()?;
        let code = match first {
            0xDC00..=0xDFFF => return Err(self.error(Category::Syntax)),
            0xD800..=0xDBFF => {
                for expected in [b'\\', b'u'] {
                    match self.peek() {
                        None => return Err(self.error(Category::Eof)),
                        Some(b) => {
                            self.i += 1;
                            if b != expected {
                                return Err(self.error(Category::Syntax));
                            }
                        }
                    }
                }
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error(Category::Syntax));
                }
                0x1_0000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00)
            }
            _ => u32::from(first),
        };
        let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        Ok(())
    }

    /// Four hex digits.
    fn hex4(&mut self) -> Result<u16, Error> {
        let Some(digits) = self.bytes.get(self.i..self.i + 4) else {
            self.i = self.bytes.len();
            return Err(self.error(Category::Eof));
        };
        self.i += 4;
        let mut value = 0u16;
        for &d in digits {
            let Some(digit) = char::from(d).to_digit(16) else {
                return Err(self.error(Category::Syntax));
            };
            value = value << 4 | digit as u16;
        }
        Ok(value)
    }

    /// A number, after its `-` if negative.
    fn number(&mut self, positive: bool) -> Result<Number, Error> {
        // The token starts at the sign.
        let start = self.i - usize::from(!positive);
        let mut integer: u64 = 0;
        let mut fits = true;
        match self.next() {
            None => return Err(self.error(Category::Eof)),
            Some(b'0') => {
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return Err(self.peek_error(Category::Syntax));
                }
            }
            Some(b @ b'1'..=b'9') => {
                integer = u64::from(b - b'0');
                while let Some(b @ b'0'..=b'9') = self.peek() {
                    self.i += 1;
                    match integer
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(b - b'0')))
                    {
                        Some(n) => integer = n,
                        None => fits = false,
                    }
                }
            }
            Some(_) => return Err(self.error(Category::Syntax)),
        }
        // Every digit of the mantissa is zero (for an exponent too large to read).
        let mut zero = integer == 0 && fits;
        let mut fraction = false;
        if self.peek() == Some(b'.') {
            self.i += 1;
            fraction = true;
            let digits = self.i;
            while let Some(b @ b'0'..=b'9') = self.peek() {
                zero &= b == b'0';
                self.i += 1;
            }
            if self.i == digits {
                let category = if self.peek().is_some() {
                    Category::Syntax
                } else {
                    Category::Eof
                };
                return Err(self.peek_error(category));
            }
        }
        let mut exponent = false;
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            exponent = true;
            let negative = match self.peek() {
                Some(b'+') => {
                    self.i += 1;
                    false
                }
                Some(b'-') => {
                    self.i += 1;
                    true
                }
                _ => false,
            };
            let mut value: i32 = match self.next() {
                None => return Err(self.error(Category::Eof)),
                Some(b @ b'0'..=b'9') => i32::from(b - b'0'),
                Some(_) => return Err(self.error(Category::Syntax)),
            };
            while let Some(b @ b'0'..=b'9') = self.peek() {
                self.i += 1;
                let digit = i32::from(b - b'0');
                if value >= i32::MAX / 10 && (value > i32::MAX / 10 || digit > i32::MAX % 10) {
                    // serde_json stops here: beyond any float unless it is 0 or tiny.
                    if !zero && !negative {
                        return Err(self.error(Category::Syntax));
                    }
                    while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                        self.i += 1;
                    }
                    return Ok(float(if positive { 0.0 } else { -0.0 }));
                }
                value = value * 10 + digit;
            }
        }
        if !fraction && !exponent && fits {
            if positive {
                return Ok(Number::from(integer));
            }
            // −0 and integers below −2^63 are floats, as serde_json reads them.
            return Ok(match 0i64.checked_sub_unsigned(integer) {
                Some(n) if n != 0 => Number::from(n),
                _ => float(-(integer as f64)),
            });
        }
        let token = self.bytes.get(start..self.i).unwrap_or_default();
        match super::float_of_token(token) {
            Some(n) if n.is_finite() => Ok(float(n)),
            _ => Err(self.error(Category::Syntax)),
        }
    }
}

/// A finite float as a number.
fn float(n: f64) -> Number {
    Number::from_f64(n).unwrap_or_else(|| Number::from(0u64))
}

/// The offset of the first `"`, `\\` or control character in `bytes` at or after `i` (or
/// the length), eight bytes at a time.
pub(crate) fn special_byte(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let quotes = word ^ (ONES * u64::from(b'"'));
        let backslashes = word ^ (ONES * u64::from(b'\\'));
        // A byte below 0x20, or a byte that was zero, sets its high bit here; the lowest set
        // is always exact.
        let found = (word.wrapping_sub(ONES * 0x20) & !word
            | quotes.wrapping_sub(ONES) & !quotes
            | backslashes.wrapping_sub(ONES) & !backslashes)
            & HIGHS;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && !matches!(bytes[i], b'"' | b'\\' | 0..0x20) {
        i += 1;
    }
    i
}
