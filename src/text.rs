//! Messages put together without `core::fmt`: `format!`, `write!` and `to_string()` on an
//! integer bring the formatting machinery into the npm module (some kilobytes), so messages
//! are built from their pieces ([`concat`], `push_str`) and numbers written with
//! [`decimal`].

/// The pieces one after the other in a new string, as `parts.concat()` (this one is
/// smaller in the npm module).
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// The decimal digits of `n`, as `n.to_string()` writes them.
pub(crate) fn decimal(n: u64) -> String {
    let mut out = String::new();
    push_decimal(&mut out, n);
    out
}

/// Appends the decimal digits of `n` to `out`.
pub(crate) fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// `Version n` followed by `rest`, the start of many messages about one version.
pub(crate) fn version_words(n: u64, rest: &str) -> String {
    concat(&["Version ", &decimal(n), rest])
}

/// `what` followed by ` at line L column C`.
pub(crate) fn at_line_column(what: &str, line: usize, column: usize) -> String {
    let mut out = String::from(what);
    out.push_str(" at line ");
    push_decimal(&mut out, line as u64);
    out.push_str(" column ");
    push_decimal(&mut out, column as u64);
    out
}

/// `U+` and the code point of `c` in upper-case hex, at least four digits: `U+00A0`.
pub(crate) fn code_point(c: char) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let n = u32::from(c);
    let mut out = String::from("U+");
    let digits = (8 - n.leading_zeros() as usize / 4).max(4);
    for at in (0..digits).rev() {
        out.push(char::from(HEX[(n >> (at * 4)) as usize & 15]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_writes_what_to_string_writes() {
        let mut n = 1u64;
        for _ in 0..20 {
            for k in [n - 1, n, n + 1, n.saturating_mul(7)] {
                assert_eq!(decimal(k), k.to_string());
            }
            n = n.saturating_mul(10);
        }
        assert_eq!(decimal(u64::MAX), u64::MAX.to_string());
        assert_eq!(concat(&["a", "", "bc", &decimal(7)]), "abc7");
        let mut out = String::from("HTTP ");
        push_decimal(&mut out, 404);
        assert_eq!(out, "HTTP 404");
    }

    #[test]
    fn code_point_writes_what_04x_writes() {
        for c in [
            '\0',
            '\u{7}',
            'A',
            '\u{a0}',
            '\u{fff}',
            '\u{200b}',
            '\u{1f600}',
            char::MAX,
        ] {
            assert_eq!(code_point(c), format!("U+{:04X}", u32::from(c)));
        }
    }
}
