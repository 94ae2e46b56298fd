//! The crate's own compact JSON printer: the text serde_json's `to_string` prints, and its
//! length without printing.
//!
//! Strings escape `"`, `\` and control characters only (`\b \t \n \f \r`, others `\u00xx`);
//! integers print their digits; a float prints its shortest digits that read back as it, laid
//! out as serde_json lays them out (`1.5`, `2500.0`, `0.0001`, `1.5e+19`, `1e-7`).

use serde_json::{Map, Number, Value};

/// Appends `value`'s compact text.
pub(super) fn value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => number(out, n),
        Value::String(s) => string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                self::value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => object(out, map),
    }
}

/// Appends an object's compact text (a set's, too).
pub(super) fn object(out: &mut String, map: &Map<String, Value>) {
    out.push('{');
    for (i, (name, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, name);
        out.push(':');
        value(out, item);
    }
    out.push('}');
}

fn number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        digits(out, u, false);
    } else if let Some(i) = n.as_i64() {
        digits(out, i.unsigned_abs(), i < 0);
    } else if let Some(f) = n.as_f64() {
        let mut text = super::FloatText::default();
        if text.print(f) {
            out.push_str(text.as_str());
        } else {
            out.push_str("null");
        }
    }
}

/// The length of a number's text, printed on the stack.
pub(super) fn number_len(n: &Number) -> usize {
    let (magnitude, negative) = if let Some(u) = n.as_u64() {
        (u, false)
    } else if let Some(i) = n.as_i64() {
        (i.unsigned_abs(), true)
    } else {
        let mut text = super::FloatText::default();
        return match n.as_f64() {
            Some(f) if text.print(f) => text.as_str().len(),
            Some(_) => "null".len(),
            None => 0,
        };
    };
    let mut len = 1 + usize::from(negative);
    let mut rest = magnitude / 10;
    while rest > 0 {
        len += 1;
        rest /= 10;
    }
    len
}

/// Appends the decimal digits of `n`, after a `-` if `negative`.
fn digits(out: &mut String, n: u64, negative: bool) {
    if negative {
        out.push('-');
    }
    crate::text::push_decimal(out, n);
}

/// The bytes that follow `\` for byte `b` of a string, if it is escaped: a letter, or `u`
/// for `\u00xx`.
fn escape(b: u8) -> Option<u8> {
    Some(match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x09 => b't',
        0x0A => b'n',
        0x0C => b'f',
        0x0D => b'r',
        0..0x20 => b'u',
        _ => return None,
    })
}

/// Hex digits as serde_json writes them in `\u00xx`.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends a string in quotes, escaped.
fn string(out: &mut String, s: &str) {
    out.push('"');
    escape_runs(s.as_bytes(), |run, escape| {
        // Both ends of a run are at ASCII bytes, so on character boundaries.
        out.push_str(s.get(run).unwrap_or_default());
        escape.iter().for_each(|&c| out.push(char::from(c)));
    });
    out.push('"');
}

/// Appends `bytes` as the inside of a JSON string, escaped as [`string`] escapes a string:
/// for text printed straight into another string's text, as a stored record holds its set.
pub fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    escape_runs(bytes, |run, escape| {
        out.extend_from_slice(bytes.get(run).unwrap_or_default());
        out.extend_from_slice(escape);
    });
}

/// Walks `bytes` as a JSON string's contents: `piece` gets each run of bytes kept as they
/// are (as a range of `bytes`; its ends are ASCII bytes) with the escape that follows it
/// (`\"`, `\n`, `\u001f`; empty after the last run).
fn escape_runs(bytes: &[u8], mut piece: impl FnMut(std::ops::Range<usize>, &[u8])) {
    let mut start = 0;
    loop {
        let at = super::read::special_byte(bytes, start);
        let Some(&b) = bytes.get(at) else {
            piece(start..at, &[]);
            break;
        };
        let letter = escape(b).unwrap_or(b);
        let (high, low) = (HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]);
        let sequence = [b'\\', letter, b'0', b'0', high, low];
        piece(start..at, &sequence[..if letter == b'u' { 6 } else { 2 }]);
        start = at + 1;
    }
}

/// The length of a string's text: quotes, bytes, and what escapes add.
pub(super) fn string_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut len = 2 + bytes.len();
    let mut at = super::read::special_byte(bytes, 0);
    while let Some(&b) = bytes.get(at) {
        len += if escape(b) == Some(b'u') { 5 } else { 1 };
        at = super::read::special_byte(bytes, at + 1);
    }
    len
}

/// The length of `value`'s compact text.
pub(super) fn value_len(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => number_len(n),
        Value::String(s) => string_len(s),
        Value::Array(items) => 1 + items.len().max(1) + items.iter().map(value_len).sum::<usize>(),
        Value::Object(map) => object_len(map),
    }
}

/// The length of an object's compact text (a set's, too).
pub(super) fn object_len(map: &Map<String, Value>) -> usize {
    1 + map.len().max(1)
        + map
            .iter()
            .map(|(name, item)| string_len(name) + 1 + value_len(item))
            .sum::<usize>()
}

/// Lays out a float's shortest digits as serde_json does: `digits` (no leading or trailing
/// zeros, at least one; none for zero) times ten to the `exponent` of the first digit.
pub(super) fn float_layout(
    out: &mut super::FloatText,
    negative: bool,
    digits: &[u8],
    exponent: i32,
) {
    if negative {
        out.push(b"-");
    }
    let Some((&first, rest)) = digits.split_first() else {
        out.push(b"0.0");
        return;
    };
    let n = digits.len() as i32;
    if (-5..=15).contains(&exponent) {
        if n - 1 <= exponent {
            // 1234e7 -> 12340000000.0
            out.push(digits);
            for _ in 0..exponent - (n - 1) {
                out.push(b"0");
            }
            out.push(b".0");
        } else if exponent >= 0 {
            // 1234e-2 -> 12.34
            let (whole, fraction) = digits.split_at(exponent as usize + 1);
            out.push(whole);
            out.push(b".");
            out.push(fraction);
        } else {
            // 1234e-6 -> 0.001234
            out.push(b"0.");
            for _ in 0..-exponent - 1 {
                out.push(b"0");
            }
            out.push(digits);
        }
        return;
    }
    // 1234e30 -> 1.234e+33
    out.push(&[first]);
    if !rest.is_empty() {
        out.push(b".");
        out.push(rest);
    }
    out.push(if exponent < 0 { b"e-" } else { b"e+" });
    let mut text = String::new();
    self::digits(&mut text, u64::from(exponent.unsigned_abs()), false);
    out.push(text.as_bytes());
}

/// A float's shortest digits and the exponent of the first, from a text of it in decimal
/// (`123`, `0.000123`, `1.5e+21`, `5e-324`, as JavaScript or Rust print a float); no digits
/// for zero. At most 17 digits are kept, which is all a shortest text has.
pub(super) fn shortest_from_text(text: &[u8], digits: &mut [u8; 17]) -> (usize, i32) {
    let (mantissa, exponent) = match text.iter().position(|&b| b == b'e' || b == b'E') {
        Some(e) => (&text[..e], &text[e + 1..]),
        None => (text, &[][..]),
    };
    let mut exponent_value: i32 = 0;
    let mut negative_exponent = false;
    for &b in exponent {
        match b {
            b'-' => negative_exponent = true,
            b'0'..=b'9' => exponent_value = exponent_value * 10 + i32::from(b - b'0'),
            _ => {}
        }
    }
    if negative_exponent {
        exponent_value = -exponent_value;
    }
    let mut n = 0;
    // Digits before the point, counted from the first significant one (negative when the
    // first significant digit is after the point).
    let mut whole = 0i32;
    let mut before_point = true;
    for &b in mantissa {
        match b {
            b'.' => before_point = false,
            b'0'..=b'9' => {
                if n == 0 && b == b'0' {
                    if !before_point {
                        whole -= 1;
                    }
                    continue;
                }
                if before_point {
                    whole += 1;
                }
                if n < digits.len() {
                    digits[n] = b;
                    n += 1;
                }
            }
            _ => {}
        }
    }
    while n > 0 && digits[n - 1] == b'0' {
        n -= 1;
    }
    (n, whole - 1 + exponent_value)
}
