//! The rules for numbers: a number in a secrets document is stored exactly as written, or
//! refused with the reason.
//!
//! Values are held as serde_json holds them: a 64-bit integer (`i64` or `u64`) or a 64-bit
//! float. JSON text has no such limits, so two kinds of number would be stored changed:
//!
//! - **An integer beyond 64 bits** (`18446744073709551616`, and `1e30` or `2.0e19` too: what
//!   counts is the value, not the notation) is refused. The reader turns it into a float,
//!   which rounds most such integers; one range for every notation keeps the rule simple to
//!   state (the server's OpenAPI schema states it so).
//! - **A number with a fraction or an exponent** becomes a float, and is printed back as the
//!   shortest text that reads as that float. It is kept only when that text has the same
//!   decimal value as the text written: `0.1`, `1.50`, `2.5e3` and `1e-7` are kept;
//!   `1.00000000000000000001` (more precision than a float holds) and `1e-400` (too close to
//!   zero, it would become 0) are refused. Values are compared, not texts: `1.50` is `1.5` and
//!   `1e2` is `100.0`.
//!
//! The reference is the float serde_json's reader makes of the text, and the text its writer
//! prints back, since those are what is stored and what is read back (in the npm module, the
//! crate's own reader and printer, which give the same floats and text: see `secrets::json`). Its default reader is
//! not always correctly rounded for numbers with more than 15 digits or with an exponent
//! beyond ±22 (it reads `1.5e-300` as the float printed `1.4999999999999998e-300`), so such a
//! number is refused too when the reader would change it: it would be stored changed all the
//! same, and the message says so rather than blaming the number's precision. serde_json's
//! `float_roundtrip` feature makes the reader correctly rounded, and these refusals go away.
//! For the same reason a float that reaches the rules as a value, not as text (built in
//! code, or a JavaScript number), must read back as itself from the text it is sent as, or a
//! server would refuse what the client accepted.
//!
//! Checking a document costs one walk of the parsed values ([`holds_float`]); only when it
//! holds a float, which only a fraction, an exponent or an integer beyond 64 bits makes, is
//! the text scanned once ([`changes_in`]), and only the number tokens with a fraction or an
//! exponent are read again.

use serde_json::{Number, Value};

use crate::secrets::json;
use crate::text::at_line_column;

/// What storing a number would change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// An integer outside −2^63 to 2^64 − 1: it would be stored rounded.
    BeyondIntegers,
    /// More precision than a 64-bit float holds: it would be stored rounded.
    Rounded,
    /// Not zero, yet too close to zero for a 64-bit float: it would be stored as 0.
    Underflows,
    /// Exactly a 64-bit float's shortest text, which the reader rounds to a neighbouring
    /// float (see the module doc): it would be stored changed.
    Misread,
}

impl Change {
    /// The problem, after the key it is about, for the number at `line` and `column`.
    pub(crate) fn message(self, line: usize, column: usize) -> String {
        let (what, rest) = match self {
            Change::BeyondIntegers => (
                "has an integer beyond the 64-bit range",
                ", which would be stored rounded; write it as a string",
            ),
            Change::Rounded => (
                "has a number",
                " with more precision than a 64-bit float holds, which would be stored \
                 rounded; write it as a string to keep it exact",
            ),
            Change::Underflows => (
                "has a number",
                " too close to zero for a 64-bit float (it underflows), which would be stored \
                 as 0; write it as a string to keep it exact",
            ),
            Change::Misread => (
                "has a number",
                " that the JSON reader rounds to a neighbouring 64-bit float, which would be \
                 stored changed; write it as a string to keep it exact",
            ),
        };
        let mut message = at_line_column(what, line, column);
        message.push_str(rest);
        message
    }
}

/// The problem with a value built in code (not read from text) that holds a float that is
/// an integer beyond 64 bits.
pub(crate) const VALUE_BEYOND_INTEGERS: &str = "holds a number without a fractional part beyond \
     the 64-bit integer range, which would be stored rounded; write it as a string";

/// The problem with a value built in code that holds a float which its JSON text does not
/// read back as.
pub(crate) const VALUE_NOT_READ_BACK: &str = "holds a number that does not read back as the \
     same 64-bit float from its JSON text, so it would be stored changed; write it as a string \
     to keep it exact";

/// −2^63 and 2^64, both exact as floats: the 64-bit integers lie in `LOWEST_64..BEYOND_64`.
const LOWEST_64: f64 = -9_223_372_036_854_775_808.0;
const BEYOND_64: f64 = 18_446_744_073_709_551_616.0;

/// An integer written in decimal digits (an optional `-`), as the number stored for it, if
/// it lies in −2^63 to 2^64 − 1: how the npm package takes a `BigInt`.
#[cfg_attr(not(feature = "js"), allow(dead_code))]
pub(crate) fn integer_from_digits(digits: &str) -> Option<Number> {
    match digits.parse::<i64>() {
        Ok(i) => Some(Number::from(i)),
        Err(_) => digits.parse::<u64>().ok().map(Number::from),
    }
}

/// The problem with an integer that [`integer_from_digits`] refuses, before ` at <path>`.
#[cfg_attr(not(feature = "js"), allow(dead_code))]
pub(crate) const BIG_INTEGER_BEYOND_64: &str = "has a BigInt outside -2^63 to 2^64 - 1";

/// The largest integer a JavaScript number (a 64-bit float) holds exactly, with all below
/// it: `Number.MAX_SAFE_INTEGER`, 2^53 − 1.
#[cfg_attr(not(feature = "js"), allow(dead_code))]
pub(crate) const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

/// What is wrong with float `n` of a value built in code, if anything: an integer beyond 64
/// bits, or a float that its JSON text does not read back as.
pub(crate) fn float_value_problem(n: f64) -> Option<&'static str> {
    if n.fract() == 0.0 && !(LOWEST_64..BEYOND_64).contains(&n) {
        Some(VALUE_BEYOND_INTEGERS)
    } else if !reads_back(n) {
        Some(VALUE_NOT_READ_BACK)
    } else {
        None
    }
}

/// Whether `value` holds a float. JSON text parses into one only for a number with a fraction
/// or an exponent, or an integer beyond 64 bits: only then is the text worth scanning.
pub(crate) fn holds_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(holds_float),
        Value::Object(map) => map.values().any(holds_float),
        _ => false,
    }
}

/// A number in JSON text that would be stored changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    /// Which member of the top-level object holds it, counted from 0 in document order (0
    /// for text that is not an object).
    pub member: usize,
    /// Where it starts: line and column, both from 1, the column in characters.
    pub line: usize,
    pub column: usize,
    /// What storing it would change.
    pub change: Change,
}

impl Found {
    /// The problem, after the key it is about.
    pub(crate) fn message(&self) -> String {
        self.change.message(self.line, self.column)
    }
}

/// For every member of the top-level object of valid JSON text `json` (or for the whole text
/// when it is not an object), the first number that would be stored changed, in document
/// order. One pass over the text, whatever it holds.
pub(crate) fn changes_in(json: &str) -> Vec<Found> {
    let bytes = json.as_bytes();
    let mut found: Vec<Found> = Vec::new();
    let mut position = Position::default();
    let mut depth = 0usize;
    // Colons seen at depth 1: one per member of the top-level object.
    let mut members = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                loop {
                    i = json::special_byte(bytes, i);
                    match bytes.get(i) {
                        Some(b'\\') => i += 2,
                        Some(0..0x20) => i += 1,
                        _ => break,
                    }
                }
                i += 1;
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b':' => {
                if depth == 1 {
                    members += 1;
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
                let member = members.saturating_sub(1);
                if found.last().is_some_and(|last| last.member == member) {
                    continue; // this member is reported already
                }
                // Number tokens are ASCII, so both ends are character boundaries.
                let token = json.get(start..i).unwrap_or_default();
                if let Some(change) = token_change(token) {
                    let (line, column) = position.advance(bytes, start);
                    found.push(Found {
                        member,
                        line,
                        column,
                        change,
                    });
                }
            }
            _ => i += 1,
        }
    }
    found
}

/// Line and column of increasing byte offsets in one text, counted as the offsets grow, so
/// that many numbers in a long line cost one pass.
struct Position {
    at: usize,
    line: usize,
    column: usize,
}

impl Default for Position {
    fn default() -> Self {
        Position {
            at: 0,
            line: 1,
            column: 1,
        }
    }
}

impl Position {
    /// The line and column of byte `to` of `bytes` (UTF-8 text), at or after the last one.
    fn advance(&mut self, bytes: &[u8], to: usize) -> (usize, usize) {
        for &b in bytes.get(self.at..to).unwrap_or_default() {
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else if b & 0xC0 != 0x80 {
                // Not a continuation byte: a character starts here.
                self.column += 1;
            }
        }
        self.at = self.at.max(to);
        (self.line, self.column)
    }
}

/// What storing the number written as `token` (JSON number text) would change, if anything.
pub(crate) fn token_change(token: &str) -> Option<Change> {
    let written = Decimal::parse(token);
    let plain_integer = !token.contains(['.', 'e', 'E']);
    if written.is_integer() && !written.fits_64_bits() {
        return Some(Change::BeyondIntegers);
    }
    if plain_integer {
        // Read as an `i64` or a `u64`, exactly.
        return None;
    }
    if written.read_exactly() {
        return None;
    }
    let Some(stored) = read_float(token) else {
        return None; // not a number after all; the parser has refused the text already
    };
    if stored == 0.0 {
        return (!written.is_zero()).then_some(Change::Underflows);
    }
    let printed_as_written = |n: f64, printed: &mut Printed| {
        printed.print(n) && Decimal::parse(printed.as_str()).same_value(&written)
    };
    let mut printed = Printed::default();
    if printed_as_written(stored, &mut printed) {
        // The text printed back must also read back as the same float, or the set would
        // change on its way back.
        return (read_float(printed.as_str()) != Some(stored)).then_some(Change::Misread);
    }
    // The reader's error is at most a few units in the last place: when a float that close is
    // printed as written, the text was exact and the reader changed it.
    let bits = stored.to_bits();
    let near = [
        bits.wrapping_sub(2),
        bits - 1,
        bits + 1,
        bits.wrapping_add(2),
    ];
    let misread = near.into_iter().map(f64::from_bits).any(|n| {
        n.is_finite()
            && n != 0.0
            && n.signum() == stored.signum()
            && printed_as_written(n, &mut printed)
    });
    Some(if misread {
        Change::Misread
    } else {
        Change::Rounded
    })
}

/// Whether float `n`, written as JSON text, reads back as `n` (true for a float that is not
/// finite, which no JSON text holds).
fn reads_back(n: f64) -> bool {
    let mut printed = Printed::default();
    !n.is_finite() || (printed.print(n) && read_float(printed.as_str()) == Some(n))
}

/// The float serde_json's reader makes of a number token, as it would inside a document.
fn read_float(token: &str) -> Option<f64> {
    json::read_float(token)
}

/// The text serde_json's writer prints for a float, on the stack.
#[derive(Default)]
struct Printed {
    bytes: [u8; 32],
    len: usize,
}

impl Printed {
    /// Prints `n` as serde_json does; false if it cannot (a float that is not finite).
    fn print(&mut self, n: f64) -> bool {
        self.len = 0;
        json::write_f64(self, n)
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl std::fmt::Write for Printed {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The decimal value of JSON number text: `0.D × 10^point`, where D are the significant
/// digits (without leading or trailing zeros) of the integer and fraction digits as written.
struct Decimal<'a> {
    negative: bool,
    whole: &'a [u8],
    fraction: &'a [u8],
    /// The significant digits are `first..end` of `whole` followed by `fraction`; none for 0.
    first: usize,
    end: usize,
    point: i64,
    /// The exponent as written (0 without one).
    exponent: i64,
}

/// Exponents are capped at this magnitude: far beyond any float, and no risk of overflow.
const EXPONENT_CAP: i64 = 1 << 40;

impl<'a> Decimal<'a> {
    fn parse(token: &'a str) -> Decimal<'a> {
        let bytes = token.as_bytes();
        let (negative, unsigned) = match bytes.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, bytes),
        };
        let (mantissa, exponent) = match unsigned.iter().position(|b| matches!(b, b'e' | b'E')) {
            Some(e) => (&unsigned[..e], &unsigned[e + 1..]),
            None => (unsigned, &[][..]),
        };
        let (whole, fraction) = match mantissa.iter().position(|&b| b == b'.') {
            Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
            None => (mantissa, &[][..]),
        };
        let mut decimal = Decimal {
            negative,
            whole,
            fraction,
            first: 0,
            end: 0,
            point: 0,
            exponent: exponent_value(exponent),
        };
        let len = whole.len() + fraction.len();
        decimal.first = (0..len).find(|&i| decimal.digit(i) != 0).unwrap_or(len);
        decimal.end = (decimal.first..len)
            .rev()
            .find(|&i| decimal.digit(i) != 0)
            .map_or(decimal.first, |i| i + 1);
        let integer_digits = whole.len() as i64 - decimal.first as i64;
        decimal.point = decimal.exponent.saturating_add(integer_digits);
        decimal
    }

    /// Digit `i` of the integer digits followed by the fraction digits.
    fn digit(&self, i: usize) -> u8 {
        let byte = match self.whole.get(i) {
            Some(&b) => b,
            None => self.fraction[i - self.whole.len()],
        };
        byte.wrapping_sub(b'0')
    }

    fn significant(&self) -> impl Iterator<Item = u8> + '_ {
        (self.first..self.end).map(|i| self.digit(i))
    }

    fn is_zero(&self) -> bool {
        self.first == self.end
    }

    /// Whether the value has no fractional part.
    fn is_integer(&self) -> bool {
        self.is_zero() || self.point >= (self.end - self.first) as i64
    }

    /// Whether an integer value lies in −2^63 to 2^64 − 1, decided exactly from its digits.
    fn fits_64_bits(&self) -> bool {
        if self.is_zero() {
            return true;
        }
        // u64::MAX has 20 digits.
        if self.point > 20 {
            return false;
        }
        let mut value: u128 = 0;
        for d in self.significant() {
            value = value * 10 + u128::from(d);
        }
        let zeros = self.point as usize - (self.end - self.first);
        value *= 10u128.pow(zeros as u32);
        if self.negative {
            value <= 1 << 63
        } else {
            value <= u128::from(u64::MAX)
        }
    }

    /// Whether the reader certainly reads this number as the float nearest to it, and that
    /// float prints back as the same value and reads back as itself, without trying: at most
    /// 15 digits from the first significant one (so the digits, as the reader collects them,
    /// make an integer below 2^53, exact as a float) and a power of ten within ±22 (exact as a
    /// float too), so the reader rounds once, correctly; and any decimal of at most 15
    /// significant digits survives the trip to a float and back. Most numbers people write
    /// pass this, and skip the reading and printing.
    fn read_exactly(&self) -> bool {
        let digits = self.whole.len() + self.fraction.len() - self.first;
        let power = self.exponent - self.fraction.len() as i64;
        digits <= 15 && (-22..=22).contains(&power)
    }

    /// Whether two numbers have the same decimal value (every zero is the same).
    fn same_value(&self, other: &Decimal<'_>) -> bool {
        if self.is_zero() || other.is_zero() {
            return self.is_zero() && other.is_zero();
        }
        self.negative == other.negative
            && self.point == other.point
            && self.end - self.first == other.end - other.first
            && self.significant().eq(other.significant())
    }
}

/// The value of an exponent's text (`+5`, `-400`, `07`), capped at ±[`EXPONENT_CAP`].
fn exponent_value(text: &[u8]) -> i64 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let mut value: i64 = 0;
    for &b in digits {
        value = (value * 10 + i64::from(b.wrapping_sub(b'0'))).min(EXPONENT_CAP);
    }
    if negative { -value } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_from_digits_are_the_64_bit_range() {
        for (digits, kept) in [
            ("-9223372036854775808", true),
            ("18446744073709551615", true),
            ("0", true),
            ("-9223372036854775809", false),
            ("18446744073709551616", false),
            ("1.5", false),
            ("", false),
        ] {
            let number = integer_from_digits(digits);
            assert_eq!(number.is_some(), kept, "{digits}");
            if let Some(n) = number {
                assert_eq!(n.to_string(), digits);
            }
        }
        assert_eq!(MAX_SAFE_INTEGER, (1 << 53) - 1);
    }

    #[test]
    fn decimal_values_are_compared_not_texts() {
        let same = |a: &str, b: &str| Decimal::parse(a).same_value(&Decimal::parse(b));
        for (a, b) in [
            ("1.50", "1.5"),
            ("1e2", "100.0"),
            ("100", "1E+2"),
            ("0.001", "1e-3"),
            ("00.0", "-0.0"),
            ("-2.5e3", "-2500"),
            ("12.34e-1", "1.234"),
        ] {
            assert!(same(a, b), "{a} == {b}");
        }
        for (a, b) in [
            ("1.5", "-1.5"),
            ("1.5", "15"),
            ("1.5", "1.51"),
            ("1e2", "1e3"),
        ] {
            assert!(!same(a, b), "{a} != {b}");
        }
    }

    #[test]
    fn numbers_are_kept_only_when_stored_as_written() {
        for kept in [
            "0.1",
            "1.5",
            "1.50",
            "2.5e3",
            "-0.0",
            "0e999",
            "5e-324",
            "1e-320",
            "123456789.123",
            "0.30000000000000004",
            "1e3",
            "42",
            "-9223372036854775808",
            "18446744073709551615",
            "1.5e19",
            "2.5e-3",
            "-273.15",
            "3.141592653589793",
        ] {
            assert_eq!(token_change(kept), None, "{kept}");
        }
        for (changed, why) in [
            ("1.00000000000000000001", Change::Rounded),
            ("0.30000000000000000001", Change::Rounded),
            ("123456789012345678.5", Change::Rounded),
            ("123456789012345678.0", Change::Rounded),
            ("9007199254740993.0", Change::Rounded),
            ("18446744073709551615.0", Change::Rounded),
            ("1e-400", Change::Underflows),
            ("-2.5e-330", Change::Underflows),
            ("1e-99999999999999999999", Change::Underflows),
            ("18446744073709551616", Change::BeyondIntegers),
            ("-9223372036854775809", Change::BeyondIntegers),
            ("1e30", Change::BeyondIntegers),
            ("1e300", Change::BeyondIntegers),
            ("1.7976931348623157e308", Change::BeyondIntegers),
            ("-1.0E19", Change::BeyondIntegers),
        ] {
            assert_eq!(token_change(changed), Some(why), "{changed}");
        }
    }

    #[test]
    fn numbers_read_exactly_without_trying_are_kept_when_tried() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        let mut shortcut = 0;
        for _ in 0..50_000 {
            let length = 1 + next(15) as u32;
            let digits = format!("{}", next(10u64.pow(length)));
            let dot = next(digits.len() as u64 + 1) as usize;
            let (whole, fraction) = digits.split_at(dot);
            let whole = if whole.is_empty() { "0" } else { whole };
            let exponent = next(50) as i64 - 25;
            let token = match (fraction.is_empty(), next(2)) {
                (true, _) => format!("{whole}e{exponent}"),
                (false, 0) => format!("{whole}.{fraction}"),
                (false, _) => format!("{whole}.{fraction}e{exponent}"),
            };
            if Decimal::parse(&token).read_exactly() {
                shortcut += 1;
                let stored = read_float(&token).unwrap();
                let mut printed = Printed::default();
                assert!(printed.print(stored), "{token}");
                let written = Decimal::parse(&token);
                assert!(
                    written.is_zero() || Decimal::parse(printed.as_str()).same_value(&written),
                    "{token} printed {}",
                    printed.as_str()
                );
                assert_eq!(read_float(printed.as_str()), Some(stored), "{token}");
            }
        }
        assert!(shortcut > 10_000, "{shortcut}");
    }

    #[test]
    fn the_reference_is_the_float_serde_json_reads() {
        // serde_json's default reader is not correctly rounded here: it would store this as
        // 1.4999999999999998e-300, so it is refused rather than stored changed.
        for (text, float) in [("1.5e-300", 1.5e-300), ("1.5e-30", 1.5e-30)] {
            if read_float(text) == Some(float) {
                assert_eq!(token_change(text), None, "a correctly rounded reader");
                assert_eq!(float_value_problem(float), None);
            } else {
                assert_eq!(token_change(text), Some(Change::Misread), "{text}");
                assert_eq!(float_value_problem(float), Some(VALUE_NOT_READ_BACK));
            }
        }
        assert_eq!(float_value_problem(0.1), None);
        assert_eq!(float_value_problem(1e30), Some(VALUE_BEYOND_INTEGERS));
        assert_eq!(float_value_problem(f64::NAN), None);
    }

    #[test]
    fn a_floats_own_text_is_never_called_too_precise() {
        // Any float printed as serde_json prints it is kept, or refused for what the reader
        // or the integer rule would do to it, never for its precision.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut counts = [0usize; 4];
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = f64::from_bits(state);
            let mut printed = Printed::default();
            if !printed.print(n) {
                continue;
            }
            let change = token_change(printed.as_str());
            let beyond = n.fract() == 0.0 && !(LOWEST_64..BEYOND_64).contains(&n);
            match change {
                None => counts[0] += 1,
                Some(Change::Misread) => counts[1] += 1,
                Some(Change::BeyondIntegers) if beyond => counts[2] += 1,
                other => panic!("{} is {other:?}", printed.as_str()),
            }
            assert_eq!(change.is_none() || beyond, reads_back(n) || beyond, "{n:e}");
        }
        assert!(counts[0] > 1000 && counts[2] > 1000, "{counts:?}");
    }

    #[test]
    fn integers_are_held_to_64_bits_by_value_in_any_notation() {
        let fits = |t: &str| Decimal::parse(t).fits_64_bits();
        for t in [
            "0",
            "-0",
            "18446744073709551615",
            "1844674407370955161.5e1",
            "-9.223372036854775808e18",
            "-0.0e99999999999999999999",
        ] {
            assert!(fits(t), "{t}");
        }
        for t in [
            "18446744073709551616",
            "1e20",
            "-9223372036854775809",
            "1e99999999999999999999",
        ] {
            assert!(!fits(t), "{t}");
        }
        assert!(!Decimal::parse("1.5").is_integer());
        assert!(!Decimal::parse("15e-1").is_integer());
        assert!(Decimal::parse("15e1").is_integer());
    }

    #[test]
    fn the_scan_skips_strings_and_names_the_member() {
        let text = "{\"a\\\"1e30 \\\\\": \"\\\"99999999999999999999\", \"b\": [1.5, {\"c\": 1e-400}],\n \
                    \"é\": [1.00000000000000000001, 1e-400], \"f\": 0.25}";
        assert_eq!(
            changes_in(text),
            [
                Found {
                    member: 1,
                    line: 1,
                    column: 59,
                    change: Change::Underflows
                },
                Found {
                    member: 2,
                    line: 2,
                    column: 8,
                    change: Change::Rounded
                },
            ]
        );
        assert!(changes_in(r#"{"k": "1e-400", "n": [0.25, 7]}"#).is_empty());
        assert_eq!(changes_in("[1, 2, 1e-400]")[0].column, 8);
    }

    #[test]
    fn strings_end_at_their_first_unescaped_quote_at_any_offset() {
        assert_eq!(json::special_byte("été\"".as_bytes(), 0), 5);
        for at in 0..20 {
            let text = format!("{}\"\\\\\\\"{}", "x".repeat(at), "y".repeat(at));
            let bytes = text.as_bytes();
            assert_eq!(json::special_byte(bytes, 0), at, "{text}");
            assert_eq!(json::special_byte(bytes, at + 1), at + 1);
            assert_eq!(json::special_byte(bytes, at + 5), bytes.len());
            // Numbers inside strings, next to escapes, are not numbers.
            let value = format!(
                "[\"{}1e-400\\\\\", \"{}1e-400\\\"1e-400\", 1e-400]",
                "é".repeat(at),
                "a".repeat(at)
            );
            let found = changes_in(&value);
            let real = value.rfind("1e-400").unwrap();
            assert_eq!(found.len(), 1, "{value}");
            assert_eq!(
                found[0].column,
                value[..real].chars().count() + 1,
                "{value}"
            );
        }
    }

    #[test]
    fn many_numbers_on_one_line_cost_one_pass() {
        let members: Vec<String> = (0..20_000)
            .map(|i| format!("\"k{i}\": [1e-400, 2e-400]"))
            .collect();
        let text = format!("{{{}}}", members.join(", "));
        let found = changes_in(&text);
        assert_eq!(found.len(), 20_000);
        assert_eq!((found[19_999].member, found[19_999].line), (19_999, 1));
        assert_eq!(
            found[1].column,
            text.match_indices("1e-400").nth(1).unwrap().0 + 1
        );
    }
}
