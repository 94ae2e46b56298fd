//! The crate's own reader and printer against serde_json: every shared corpus document,
//! mutations of them, and many random numbers and floats.

use std::path::Path;

use serde_json::Value;

use super::check::{compare, compare_printing};
use super::{FloatText, own};

/// Every document of the shared corpus, as bytes.
fn corpus() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut documents = Vec::new();
    let hand: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("rules_corpus.json")).unwrap())
            .unwrap();
    for case in hand["documents"].as_array().unwrap() {
        documents.push(case["document"].as_str().unwrap().as_bytes().to_vec());
    }
    let fuzz = std::fs::read_to_string(root.join("corpus/fuzz-documents.jsonl")).unwrap();
    for line in fuzz.lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        documents.push(case["document"].as_str().unwrap().as_bytes().to_vec());
    }
    for entry in std::fs::read_dir(root.join("corpus/inputs")).unwrap() {
        documents.push(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(documents.len() > 100, "{}", documents.len());
    documents
}

/// `n` rounds, times `VDK_JSON_TEST_SCALE` (default 1; larger for a long comparison).
fn rounds(n: usize) -> usize {
    let scale = std::env::var("VDK_JSON_TEST_SCALE").ok();
    n * scale.and_then(|s| s.parse().ok()).unwrap_or(1)
}

/// A small random number generator (xorshift), the same sequence every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn the_corpus_reads_and_prints_as_with_serde_json() {
    for document in corpus() {
        compare(&document);
    }
}

#[test]
fn mutated_corpus_documents_read_as_with_serde_json() {
    const PIECES: &[&[u8]] = &[
        b"\"",
        b"\\",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b" ",
        b"\n",
        b"\t",
        b"-",
        b"0",
        b"1",
        b"9",
        b".",
        b"e",
        b"E",
        b"+",
        b"n",
        b"t",
        b"f",
        b"null",
        b"true",
        b"1e400",
        b"1e-400",
        b"\\u",
        b"\\ud800",
        b"\\udc00",
        b"\\ud83d\\ude00",
        b"\\u00e9",
        b"\x01",
        b"\x7f",
        b"\xc3",
        b"\xa9",
        b"\xff",
        b"\xe2\x82",
        b"\xf0\x9f\x98\x80",
        b"0.1",
        b"123456789012345678901",
        b"-0",
        b"\\n",
        b"\\x",
        b"x",
        b"2147483648",
        b"e2147483647",
    ];
    let documents = corpus();
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    for _ in 0..rounds(30_000) {
        let mut document = documents[random.below(documents.len())].clone();
        for _ in 0..1 + random.below(3) {
            let at = random.below(document.len() + 1);
            match random.below(3) {
                0 => {
                    let piece = PIECES[random.below(PIECES.len())];
                    document.splice(at..at, piece.iter().copied());
                }
                1 if at < document.len() => {
                    document.remove(at);
                }
                _ => document.truncate(at),
            }
        }
        compare(&document);
    }
}

#[test]
fn nesting_stops_where_serde_json_stops() {
    for depth in [1, 126, 127, 128, 129, 300] {
        for (open, close) in [("[", "]"), ("{\"k\":", "}")] {
            let text = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            compare(text.as_bytes());
            let document = format!("{{\"a\": {}}}", &text);
            compare(document.as_bytes());
            compare(&text.as_bytes()[..text.len() / 2]);
        }
    }
}

#[test]
fn numbers_read_as_with_serde_json() {
    let mut random = Random(0x2545_F491_4F6C_DD1D);
    let digits = |random: &mut Random, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + random.below(10) as u8))
            .collect()
    };
    for _ in 0..rounds(60_000) {
        let mut token = String::new();
        if random.below(2) == 0 {
            token.push('-');
        }
        let whole = match random.below(6) {
            0 => "0".to_string(),
            1 => {
                let n = 1 + random.below(25);
                digits(&mut random, n)
            }
            _ => {
                let (first, n) = (1 + random.below(9), random.below(20));
                format!("{first}{}", digits(&mut random, n))
            }
        };
        token.push_str(&whole);
        if random.below(2) == 0 {
            token.push('.');
            let n = random.below(30);
            token.push_str(&digits(&mut random, n));
        }
        if random.below(2) == 0 {
            token.push(['e', 'E'][random.below(2)]);
            match random.below(3) {
                0 => token.push('-'),
                1 => token.push('+'),
                _ => {}
            }
            let long = random.below(50) == 0;
            let n = random.below(if long { 14 } else { 4 });
            token.push_str(&digits(&mut random, n));
        }
        compare(token.as_bytes());
        compare(format!("[{token}]").as_bytes());
        if let Some(n) = own::read_float(&token) {
            assert_eq!(
                Some(n.to_bits()),
                super::read_float(&token).map(f64::to_bits),
                "{token}"
            );
        }
    }
}

#[test]
fn long_fractions_with_large_exponents_read_as_with_serde_json() {
    // Leading zeros keep the digits' value small while the point moves far: the exponent
    // must be read in full (not capped near the text's length) for the value to be right.
    for zeros in [22, 1 << 10, (1 << 20) - 1, 1 << 20] {
        for exponent in [zeros + 1, zeros + 2, zeros + 23, (1 << 20) + 1] {
            let token = format!("0.{}1e{exponent}", "0".repeat(zeros));
            compare(format!("{{\"a\":{token}}}").as_bytes());
            assert_eq!(
                own::read_float(&token).map(f64::to_bits),
                super::read_float(&token).map(f64::to_bits),
                "0.<{zeros} zeros>1e{exponent}"
            );
        }
    }
}

#[test]
fn floats_print_as_with_serde_json() {
    let check = |n: f64| {
        let mut ours = FloatText::default();
        let theirs = serde_json::Number::from_f64(n).map(|n| n.to_string());
        assert_eq!(
            ours.print(n).then(|| ours.as_str().to_string()),
            theirs,
            "{n:e}"
        );
        let mut written = String::new();
        assert_eq!(own::write_f64(&mut written, n), theirs.is_some());
        assert_eq!(Some(written), theirs.or(Some(String::new())));
    };
    let mut random = Random(0x1234_5678_9ABC_DEF1);
    for _ in 0..rounds(40_000) {
        check(f64::from_bits(random.next()));
        // Short decimals and integers, where the layouts change.
        let n = (random.below(1 << 20) as f64)
            * [1e-9, 1e-6, 1e-3, 1.0, 1e3, 1e10, 1e15][random.below(7)];
        check(n);
        check(-n);
        check(f64::from_bits(random.below(1 << 52) as u64)); // subnormal
    }
    for n in [
        0.0,
        -0.0,
        1.0,
        0.1,
        1e15,
        1e16,
        9_999_999_999_999_998.0,
        1e-5,
        1e-6,
        1.5e-5,
        123456789012345680.0,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        9007199254740991.0,
        9007199254740992.0,
        f64::NAN,
        f64::INFINITY,
    ] {
        check(n);
    }
}

#[test]
fn strings_print_and_count_as_with_serde_json() {
    let mut random = Random(0x0F0F_1234_5555_AAAA);
    let alphabet: Vec<char> = "ab\"\\/\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f} \u{7f}é€😀\u{2028}"
        .chars()
        .collect();
    for _ in 0..rounds(20_000) {
        let n = random.below(40);
        let s: String = (0..n)
            .map(|_| alphabet[random.below(alphabet.len())])
            .collect();
        let value = Value::String(s.clone());
        compare_printing(&value);
        let text = serde_json::to_string(&value).unwrap();
        compare(text.as_bytes());
        assert_eq!(super::print::string_len(&s), text.len());
    }
}

/// The usual set (unique names, plain values) is read without its values, and what is kept
/// shows no value when printed for debugging.
#[test]
fn a_usual_set_is_checked_without_keeping_its_values() {
    let text = r#"{"api_key":"zq7-s3cret","db":{"host":"h","port":5432},"ratio":0.25,"tags":[1,"a",null,true]}"#;
    let checked = super::checked_members(text, 64).expect("read without its values");
    assert_eq!(checked.names, ["api_key", "db", "ratio", "tags"]);
    assert_eq!(checked.size, text.len());
    assert_eq!(checked.floats, [0.25]);
    let shown = format!("{checked:?}");
    assert!(!shown.contains("0.25") && !shown.contains("zq7"), "{shown}");
}
