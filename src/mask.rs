//! Masking secret values in text a job prints: the rules every host applies, so the runner,
//! the component and the Python plugin hide the same forms of the same values.
//!
//! A [`Masker`] holds the values of one job run. For each value the job obtained it
//! registers every string leaf of the JSON value and each line of a multi-line string
//! ([`Masker::add_json`]); numbers, booleans and null are not secrets. A text shorter than
//! [`MIN_MASKED_CHARS`] characters is not masked: hiding every `on` or `123` would make
//! output unreadable while protecting nothing.
//!
//! [`Masker::mask`] replaces with [`MASK`] each registered text wherever it appears
//! - as it is, or escaped one character at a time in any mix: JSON (`\"`, `\n`, `\u00e9`,
//!   surrogate pairs), Python `repr` (`\'`, `\x41`, `\U0001f600`), URL percent-encoding
//!   (either hex case, `+` for a space);
//! - as hex of its UTF-8 bytes, lower or upper case;
//! - as base64, standard or URL alphabet, at each of the three byte alignments, so also
//!   inside a longer encoded text such as a Basic auth header's `user:password`. Only the
//!   characters that depend on the text alone are matched: the first and last characters of
//!   an encoded text also carry bits of its neighbours (GitHub Actions masks this way).
//!
//! Overlapping occurrences are hidden together, as one [`MASK`].

use serde_json::Value;

/// Texts shorter than this many characters are left visible.
pub const MIN_MASKED_CHARS: usize = 4;

/// What replaces a masked value.
pub const MASK: &str = "***";

/// The most bytes one character of a text can take in output: `\uD83D\uDE00`, or four
/// percent-encoded bytes.
const MAX_BYTES_PER_CHAR: usize = 12;

/// One form of a registered text, as matched in output.
#[derive(Clone, PartialEq, Eq)]
enum Pattern {
    /// The characters of a text, each as it is or escaped.
    Text(Vec<char>),
    /// Hex of the text's bytes (lower case here; matched in either case).
    Hex(Vec<u8>),
    /// A stable run of a base64 encoding of the text, matched exactly.
    Base64(Vec<u8>),
}

impl Pattern {
    /// The most bytes this pattern can match.
    fn max_len(&self) -> usize {
        match self {
            Pattern::Text(chars) => chars.len() * MAX_BYTES_PER_CHAR,
            Pattern::Hex(bytes) | Pattern::Base64(bytes) => bytes.len(),
        }
    }

    /// Whether a match can begin with `byte`.
    fn may_start_with(&self, byte: u8) -> bool {
        match self {
            Pattern::Text(chars) => {
                let first = chars[0];
                let mut utf8 = [0u8; 4];
                first.encode_utf8(&mut utf8)[..].as_bytes()[0] == byte
                    || byte == b'\\'
                    || byte == b'%'
                    || (first == ' ' && byte == b'+')
            }
            Pattern::Hex(hex) => hex[0] == byte.to_ascii_lowercase(),
            Pattern::Base64(b64) => b64[0] == byte,
        }
    }

    /// The length of the longest match of this pattern at the start of `s`.
    fn match_len(&self, s: &[u8]) -> Option<usize> {
        match self {
            Pattern::Text(chars) => match_text(chars, s),
            Pattern::Hex(hex) => (s.len() >= hex.len()
                && s[..hex.len()]
                    .iter()
                    .zip(hex)
                    .all(|(a, b)| a.to_ascii_lowercase() == *b))
            .then_some(hex.len()),
            Pattern::Base64(b64) => s.starts_with(b64).then_some(b64.len()),
        }
    }
}

/// The longest match of `chars` at the start of `s`, each character as it is or escaped.
/// Several forms of one character can match (`\` and `\\` both begin with a backslash), so
/// every reachable end is followed, as a set, rather than the first form that fits.
fn match_text(chars: &[char], s: &[u8]) -> Option<usize> {
    let mut ends = vec![0usize];
    let mut next = Vec::new();
    for &c in chars {
        next.clear();
        for &at in &ends {
            char_forms(c, &s[at..], |len| {
                if !next.contains(&(at + len)) {
                    next.push(at + len);
                }
            });
        }
        if next.is_empty() {
            return None;
        }
        std::mem::swap(&mut ends, &mut next);
    }
    ends.into_iter().max()
}

/// Calls `found` with the length of each form of `c` that `s` begins with.
fn char_forms(c: char, s: &[u8], mut found: impl FnMut(usize)) {
    let mut utf8 = [0u8; 4];
    let literal = c.encode_utf8(&mut utf8).as_bytes();
    if s.starts_with(literal) {
        found(literal.len());
    }
    match s.first() {
        Some(b'\\') => {
            let short = match c {
                '"' | '\\' | '/' | '\'' => Some(c as u8),
                '\n' => Some(b'n'),
                '\r' => Some(b'r'),
                '\t' => Some(b't'),
                '\u{8}' => Some(b'b'),
                '\u{c}' => Some(b'f'),
                _ => None,
            };
            if short.is_some() && s.get(1).copied() == short {
                found(2);
            }
            let code = c as u32;
            match s.get(1) {
                Some(b'u') => {
                    if hex_at(s, 2, 4) == Some(code) {
                        found(6);
                    } else if code > 0xFFFF {
                        // A surrogate pair, as JSON writes characters beyond the BMP.
                        let v = code - 0x1_0000;
                        if hex_at(s, 2, 4) == Some(0xD800 + (v >> 10))
                            && s.get(6..8) == Some(b"\\u")
                            && hex_at(s, 8, 4) == Some(0xDC00 + (v & 0x3FF))
                        {
                            found(12);
                        }
                    }
                }
                Some(b'x') if hex_at(s, 2, 2) == Some(code) => found(4),
                Some(b'U') if hex_at(s, 2, 8) == Some(code) => found(10),
                _ => {}
            }
        }
        Some(b'%') => {
            let encoded = literal.iter().enumerate().all(|(k, b)| {
                s.get(3 * k) == Some(&b'%') && hex_at(s, 3 * k + 1, 2) == Some(*b as u32)
            });
            if encoded {
                found(3 * literal.len());
            }
        }
        Some(b'+') if c == ' ' => found(1),
        _ => {}
    }
}

/// The value of the `digits` hex digits (either case) at `s[at..]`.
fn hex_at(s: &[u8], at: usize, digits: usize) -> Option<u32> {
    let text = s.get(at..at + digits)?;
    text.iter().try_fold(0u32, |acc, b| {
        let d = (*b as char).to_digit(16)?;
        Some(acc * 16 + d)
    })
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 of `bytes`, padded with `=`.
fn base64(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                BASE64[((v >> (18 - 6 * i)) & 0x3F) as usize]
            } else {
                b'='
            });
        }
    }
    out
}

/// The base64 forms of `bytes` placed `offset` bytes into a 3-byte group: the characters
/// whose six bits all come from `bytes` (what shows wherever the encoded text goes on), and
/// those followed by the rest of the encoding when `bytes` end the encoded text (the last
/// character's spare bits are then zero, and `=` pads it).
fn base64_forms(bytes: &[u8], offset: usize) -> [Vec<u8>; 2] {
    let mut shifted = vec![0u8; offset];
    shifted.extend_from_slice(bytes);
    let encoded = base64(&shifted);
    let first = (offset * 8).div_ceil(6);
    let stable_end = shifted.len() * 8 / 6;
    [
        encoded[first..stable_end].to_vec(),
        encoded[first..].to_vec(),
    ]
}

/// The values of one job run, and the forms in which each is hidden.
#[derive(Clone, Default)]
pub struct Masker {
    /// The registered texts, to tell a repeated registration.
    texts: Vec<String>,
    /// Every form of every text.
    patterns: Vec<Pattern>,
    /// For each first byte, the patterns that can begin with it.
    by_first: Vec<Vec<usize>>,
    /// The most bytes any pattern can match.
    longest: usize,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the values.
        f.debug_struct("Masker")
            .field("texts", &self.texts.len())
            .finish_non_exhaustive()
    }
}

impl Masker {
    /// A masker with nothing registered.
    pub fn new() -> Self {
        Masker::default()
    }

    /// Whether nothing is registered (output then passes unchanged).
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// Registers a value the job obtained, given as JSON text: every string leaf, and each
    /// line of a multi-line string. Text that is not JSON is registered as it is.
    pub fn add_json(&mut self, json: &str) {
        match crate::secrets::json::from_str(json) {
            Ok(value) => self.add_value(&value),
            Err(_) => self.add_text(json),
        }
    }

    /// Registers the string leaves of a JSON value.
    pub fn add_value(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.add_text(s),
            Value::Array(items) => items.iter().for_each(|v| self.add_value(v)),
            Value::Object(map) => map.values().for_each(|v| self.add_value(v)),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Registers a text: whole, and each of its lines.
    pub fn add_text(&mut self, text: &str) {
        self.add_one(text);
        if text.contains('\n') {
            for line in text.split('\n') {
                self.add_one(line);
            }
        }
    }

    fn add_one(&mut self, text: &str) {
        let text = text.trim_end_matches('\r');
        if text.chars().count() < MIN_MASKED_CHARS || self.texts.iter().any(|t| t == text) {
            return;
        }
        self.texts.push(text.to_string());
        let bytes = text.as_bytes();
        let mut forms = vec![
            Pattern::Text(text.chars().collect()),
            Pattern::Hex(
                bytes
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
                    .into(),
            ),
        ];
        for standard in (0..3).flat_map(|offset| base64_forms(bytes, offset)) {
            if standard.len() < MIN_MASKED_CHARS {
                continue;
            }
            let url: Vec<u8> = standard
                .iter()
                .map(|b| match b {
                    b'+' => b'-',
                    b'/' => b'_',
                    other => *other,
                })
                .collect();
            if url != standard {
                forms.push(Pattern::Base64(url));
            }
            forms.push(Pattern::Base64(standard));
        }
        if self.by_first.is_empty() {
            self.by_first = vec![Vec::new(); 256];
        }
        for form in forms {
            if self.patterns.contains(&form) {
                continue;
            }
            let index = self.patterns.len();
            for byte in 0..=255u8 {
                if form.may_start_with(byte) {
                    self.by_first[usize::from(byte)].push(index);
                }
            }
            self.longest = self.longest.max(form.max_len());
            self.patterns.push(form);
        }
    }

    /// The longest match of any pattern at `s[at..]`.
    fn match_at(&self, s: &[u8], at: usize) -> Option<usize> {
        let candidates = self.by_first.get(usize::from(s[at]))?;
        candidates
            .iter()
            .filter_map(|&i| self.patterns[i].match_len(&s[at..]))
            .max()
    }

    /// The byte ranges of `s` that hold a registered text in some form, merged where they
    /// overlap or touch, in order.
    fn hidden_ranges(&self, s: &[u8]) -> Vec<(usize, usize)> {
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        if self.is_empty() {
            return ranges;
        }
        for at in 0..s.len() {
            if let Some(len) = self.match_at(s, at) {
                let end = at + len;
                match ranges.last_mut() {
                    Some((_, last_end)) if at <= *last_end => *last_end = (*last_end).max(end),
                    _ => ranges.push((at, end)),
                }
            }
        }
        ranges
    }

    /// `s` with every registered text, in every form, replaced by [`MASK`].
    pub fn mask_bytes(&self, s: &[u8]) -> Vec<u8> {
        let ranges = self.hidden_ranges(s);
        if ranges.is_empty() {
            return s.to_vec();
        }
        let mut out = Vec::with_capacity(s.len());
        let mut from = 0;
        for (start, end) in ranges {
            out.extend_from_slice(&s[from..start]);
            out.extend_from_slice(MASK.as_bytes());
            from = end;
        }
        out.extend_from_slice(&s[from..]);
        out
    }

    /// `text` with every registered text, in every form, replaced by [`MASK`].
    pub fn mask(&self, text: &str) -> String {
        // Matches begin and end at character boundaries: each form is ASCII or whole
        // characters.
        String::from_utf8(self.mask_bytes(text.as_bytes()))
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// The most bytes one masked text can span in output.
    pub fn longest_match(&self) -> usize {
        self.longest
    }

    /// Where a partial line `buffer` may be cut so that `buffer[..cut]` can be masked and
    /// passed on while `buffer[cut..]` waits for more: the kept tail is as long as the
    /// longest form of any text (it may be the start of one), and the cut is moved back
    /// until no form occurs across it. None when that would move it back more than a few
    /// forms' length: only texts that overlap themselves (`aaaa`, `abab`) chain that far,
    /// in output repeating them.
    pub fn safe_cut(&self, buffer: &[u8]) -> Option<usize> {
        let longest = self.longest;
        let mut cut = buffer.len() - longest.min(buffer.len());
        let lowest = cut.saturating_sub(4 * longest).max(1);
        loop {
            let first = cut.saturating_sub(longest.saturating_sub(1));
            let across = (first..cut).find(|&start| {
                self.match_at(buffer, start)
                    .is_some_and(|len| start + len > cut)
            });
            match across {
                Some(start) if start < lowest => return None,
                Some(start) => cut = start,
                None => return Some(cut),
            }
        }
    }

    /// Splits a partial line into a masked head to pass on now and an unmasked tail to keep
    /// for the next write (see [`Masker::safe_cut`]); when no safe cut is near, all of it is
    /// masked and passed on.
    pub fn mask_partial(&self, text: &str) -> (String, String) {
        let mut cut = self.safe_cut(text.as_bytes()).unwrap_or(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        (self.mask(&text[..cut]), text[cut..].to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker(values: &[&str]) -> Masker {
        let mut m = Masker::new();
        for v in values {
            m.add_json(v);
        }
        m
    }

    fn b64(bytes: &[u8]) -> String {
        String::from_utf8(base64(bytes)).unwrap()
    }

    #[test]
    fn masks_string_leaves_of_json_and_each_line_of_multi_line_values() {
        let m = masker(&[
            r#"{"user": "admin-user", "password": "hunter2!", "port": 5432}"#,
            r#""-----BEGIN KEY-----\nMIIEabc123\n-----END KEY-----""#,
        ]);
        assert_eq!(
            m.mask("login admin-user/hunter2! port 5432 MIIEabc123"),
            "login ***/*** port 5432 ***"
        );
    }

    #[test]
    fn short_values_are_the_documented_exception() {
        let m = masker(&[r#""abc""#, "true", "12345"]);
        assert!(m.is_empty());
        assert_eq!(m.mask("abc true 12345"), "abc true 12345");
    }

    #[test]
    fn text_that_is_not_json_is_registered_as_it_is() {
        let m = masker(&["plain-secret\nsecond-line"]);
        assert_eq!(m.mask("plain-secret and second-line"), "*** and ***");
    }

    #[test]
    fn json_escaped_forms_are_masked_too() {
        let m = masker(&[r#""pa\"ss\\word""#]);
        assert_eq!(m.mask(r#"{"pw":"pa\"ss\\word"}"#), r#"{"pw":"***"}"#);
    }

    #[test]
    fn each_line_of_a_multi_line_value_is_masked_in_its_json_escaped_form() {
        let m = masker(&[r#""user=\"ops\"\npath=C:\\keys""#]);
        assert_eq!(
            m.mask(r#"{"a":"user=\"ops\"","b":"path=C:\\keys"}"#),
            r#"{"a":"***","b":"***"}"#
        );
        // The whole value as JSON prints it, newline escaped.
        assert_eq!(
            m.mask(r#"{"k":"user=\"ops\"\npath=C:\\keys"}"#),
            r#"{"k":"***"}"#
        );
    }

    #[test]
    fn unicode_escapes_in_any_case_and_mix_are_masked() {
        let m = masker(&[r#""pässwörd-😀""#, r#""letters""#]);
        // Python's json.dumps (ensure_ascii), upper-case hex, and a surrogate pair.
        assert_eq!(m.mask(r#""p\u00e4ssw\u00F6rd-\ud83d\ude00""#), r#""***""#);
        // Every letter escaped, as some encoders do.
        assert_eq!(
            m.mask(r#"\u006c\u0065\u0074\u0074\u0065\u0072\u0073"#),
            "***"
        );
        // Python repr forms.
        assert_eq!(m.mask(r"'p\xe4ssw\xf6rd-\U0001f600'"), "'***'");
    }

    #[test]
    fn hex_in_either_case_is_masked() {
        let m = masker(&[r#""hunter2!""#]);
        let lower: String = b"hunter2!".iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(m.mask(&format!("hex {lower} end")), "hex *** end");
        assert_eq!(m.mask(&format!("HEX {}", lower.to_uppercase())), "HEX ***");
    }

    #[test]
    fn url_encoded_values_are_masked() {
        let m = masker(&[r#""p@ss/w0rd &more=ü""#]);
        assert_eq!(
            m.mask("https://h/?pw=p%40ss%2Fw0rd%20%26more%3D%C3%BC&x=1"),
            "https://h/?pw=***&x=1"
        );
        assert_eq!(
            m.mask("pw=p%40ss%2fw0rd+%26more%3d%c3%bc"),
            "pw=***",
            "lower-case hex, + for a space"
        );
    }

    #[test]
    fn base64_at_every_offset_is_masked() {
        let secret = "correct-horse-battery";
        let m = masker(&[&format!("\"{secret}\"")]);
        for prefix in ["", "a", "ab", "abc", "user:", "x:"] {
            let encoded = b64(format!("{prefix}{secret}").as_bytes());
            let masked = m.mask(&encoded);
            assert!(masked.contains(MASK), "prefix {prefix:?}: {masked}");
            // What is left is only characters that carry bits of the prefix or padding.
            assert!(
                masked.len() <= MASK.len() + prefix.len().div_ceil(3) * 4 + 4,
                "prefix {prefix:?}: {encoded} -> {masked}"
            );
        }
    }

    #[test]
    fn a_basic_auth_header_is_masked() {
        let m = masker(&[r#"{"user": "svc-user", "password": "hunter2-password"}"#]);
        let header = format!("Authorization: Basic {}", b64(b"svc-user:hunter2-password"));
        let masked = m.mask(&header);
        assert!(masked.starts_with("Authorization: Basic "), "{masked}");
        // Both halves are hidden; at most a character at each edge or between them stays.
        let rest = masked.trim_start_matches("Authorization: Basic ");
        assert_eq!(rest.matches(MASK).count(), 2, "{header} -> {masked}");
        let visible = rest.replace(MASK, "");
        assert!(
            visible.trim_end_matches('=').len() <= 3,
            "{header} -> {masked}"
        );
    }

    #[test]
    fn a_whole_base64_text_is_masked_with_its_padding() {
        for secret in [
            "hunter2-e2e-password",
            "hunter2-e2e-passwor",
            "hunter2-e2e-passwo",
        ] {
            let m = masker(&[&format!("\"{secret}\"")]);
            assert_eq!(m.mask(&b64(secret.as_bytes())), "***", "{secret}");
            // At the end of a longer encoded text too: only the prefix's characters show.
            let basic = b64(format!("svc:{secret}").as_bytes());
            let masked = m.mask(&basic);
            assert!(
                masked.ends_with("***") && masked.len() <= 6 + 3,
                "{basic} -> {masked}"
            );
        }
    }

    #[test]
    fn base64_url_alphabet_is_masked() {
        // Bytes whose standard base64 has + and /.
        let secret = "??>>??>>??>>";
        let m = masker(&[&serde_json::to_string(secret).unwrap()]);
        let standard = b64(secret.as_bytes());
        assert!(standard.contains('/') || standard.contains('+'));
        let url = standard.replace('+', "-").replace('/', "_");
        assert_eq!(m.mask(&standard), "***");
        assert_eq!(m.mask(&url), "***");
    }

    #[test]
    fn overlapping_values_are_hidden_whole() {
        let m = masker(&[r#""abcdef""#, r#""defghi""#]);
        assert_eq!(m.mask("x abcdefghi y"), "x *** y");
    }

    #[test]
    fn debug_output_shows_no_value() {
        let m = masker(&[r#""hunter2-secret""#]);
        assert!(!format!("{m:?}").contains("hunter2"));
    }

    #[test]
    fn a_partial_line_is_never_cut_through_a_value() {
        let secret = "correct-horse-battery";
        let m = masker(&[&format!("\"{secret}\"")]);
        // Every offset of the value around the point where the line is cut.
        for shift in 0..m.longest_match() + 2 {
            let text = format!("{}{secret}{}", "x".repeat(400), "y".repeat(shift));
            let (head, tail) = m.mask_partial(&text);
            assert!(!head.contains("horse"), "shift {shift}: {head}");
            assert!(
                text.ends_with(&tail),
                "shift {shift}: the tail is the raw end"
            );
            assert_eq!(
                format!("{head}{}", m.mask(&tail)),
                m.mask(&text),
                "shift {shift}: passing on early changes nothing"
            );
        }
    }
}
