//! The rules for names: a secret's name, and the team, job and deployment names that become
//! part of an API path and a Vault path, with the table of characters such a path refuses.

use super::{MAX_PATH_NAME_CHARS, MAX_SECRET_NAME_CHARS};
use crate::error::Problem;
use crate::text::{code_point, concat, decimal};

/// The problem with a secret name, if any. Shared by every check that meets a name.
pub(crate) fn secret_name_problem(name: &str) -> Option<Problem> {
    if name.is_empty() {
        return Some(Problem::new(
            "",
            "a secret has an empty name; give every secret a name",
        ));
    }
    // Names are mostly ASCII: then one byte is one character, and only ASCII whitespace and
    // control characters can occur.
    let ascii = name.is_ascii();
    let length = if ascii {
        name.len()
    } else {
        name.chars().count()
    };
    if length > MAX_SECRET_NAME_CHARS {
        return Some(Problem::new(
            name,
            concat(&[
                "is ",
                &decimal(length as u64),
                " characters long and the limit is ",
                &decimal(MAX_SECRET_NAME_CHARS as u64),
                "; use a shorter name",
            ]),
        ));
    }
    let whitespace = if ascii {
        name.bytes().any(|b| matches!(b, b'\t'..=b'\r' | b' '))
    } else {
        name.chars().any(char::is_whitespace)
    };
    if whitespace {
        return Some(Problem::new(
            name,
            "contains whitespace; use `_` or `-` between words",
        ));
    }
    let control = if ascii {
        name.bytes().any(|b| b.is_ascii_control())
    } else {
        name.chars().any(char::is_control)
    };
    if control {
        return Some(Problem::new(
            name,
            "contains a control character; use printable characters only",
        ));
    }
    None
}

/// The problem with a team, job or deployment name, if any.
pub(super) fn path_name_problem(field: &'static str, name: &str) -> Option<Problem> {
    let message = if name.trim().is_empty() {
        "is blank; give a name"
    } else if name.chars().count() > MAX_PATH_NAME_CHARS {
        "is longer than 255 characters"
    } else if name.contains(['/', '\\']) {
        "contains `/` or `\\`, which would change the storage path"
    } else if name == "." || name == ".." {
        "is `.` or `..`, which would change the storage path"
    } else if let Some((c, what)) = name.chars().find_map(|c| Some((c, unprintable(c)?))) {
        return Some(Problem::new(
            field,
            concat(&[
                "contains ",
                &code_point(c),
                " (",
                what.description(),
                "), which Vault refuses in a path and which makes the name look like another; \
                 type the name again without it",
            ]),
        ));
    } else if name.trim() != name {
        "starts or ends with whitespace"
    } else {
        return None;
    };
    Some(Problem::new(field, message))
}

/// What a character that is not printable is, for the message that names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unprintable {
    /// General category Cc.
    Control,
    /// General category Cf, except the direction controls.
    Format,
    /// The Cf characters that set or override the direction of text.
    Direction,
    /// General category Zs, except U+0020.
    Space,
    /// General category Zl (U+2028).
    LineSeparator,
    /// General category Zp (U+2029).
    ParagraphSeparator,
    /// General category Co.
    PrivateUse,
    /// The 66 noncharacters: U+FDD0 to U+FDEF and the last two code points of every plane.
    Noncharacter,
}

impl Unprintable {
    fn description(self) -> &'static str {
        match self {
            Unprintable::Control => "a control character",
            Unprintable::Format => "an invisible format character",
            Unprintable::Direction => "an invisible character that changes the direction of text",
            Unprintable::Space => "a space other than the ASCII space",
            Unprintable::LineSeparator => "a line separator",
            Unprintable::ParagraphSeparator => "a paragraph separator",
            Unprintable::PrivateUse => "a private-use character",
            Unprintable::Noncharacter => "a Unicode noncharacter",
        }
    }
}

/// Whether a character is one that Vault refuses in a path, and which kind: Vault allows only
/// what Go's `unicode.IsPrint` allows, that is letters, marks, numbers, punctuation, symbols and
/// the ASCII space. Unassigned code points are not refused here: which ones they are depends on
/// the Unicode version of each program, and a name holding one is rare and visible as a box.
fn unprintable(c: char) -> Option<Unprintable> {
    let code = u32::from(c);
    if code & 0xFFFE == 0xFFFE || (0xFDD0..=0xFDEF).contains(&code) {
        return Some(Unprintable::Noncharacter);
    }
    let i = UNPRINTABLE.partition_point(|&(_, last, _)| last < code);
    UNPRINTABLE
        .get(i)
        .filter(|&&(first, _, _)| first <= code)
        .map(|&(_, _, kind)| kind)
}

/// The code points of general categories Cc, Cf, Zs (but U+0020), Zl, Zp and Co as sorted,
/// inclusive ranges, from Unicode 17.0 (Cf gained only U+13439 to U+1343F since Unicode 14;
/// none of the others changed).
const UNPRINTABLE: &[(u32, u32, Unprintable)] = {
    use Unprintable::*;
    &[
        (0x0000, 0x001F, Control),
        (0x007F, 0x009F, Control),
        (0x00A0, 0x00A0, Space),
        (0x00AD, 0x00AD, Format),
        (0x0600, 0x0605, Format),
        (0x061C, 0x061C, Direction),
        (0x06DD, 0x06DD, Format),
        (0x070F, 0x070F, Format),
        (0x0890, 0x0891, Format),
        (0x08E2, 0x08E2, Format),
        (0x1680, 0x1680, Space),
        (0x180E, 0x180E, Format),
        (0x2000, 0x200A, Space),
        (0x200B, 0x200D, Format),
        (0x200E, 0x200F, Direction),
        (0x2028, 0x2028, LineSeparator),
        (0x2029, 0x2029, ParagraphSeparator),
        (0x202A, 0x202E, Direction),
        (0x202F, 0x202F, Space),
        (0x205F, 0x205F, Space),
        (0x2060, 0x2064, Format),
        (0x2066, 0x2069, Direction),
        (0x206A, 0x206F, Format),
        (0x3000, 0x3000, Space),
        (0xE000, 0xF8FF, PrivateUse),
        (0xFEFF, 0xFEFF, Format),
        (0xFFF9, 0xFFFB, Format),
        (0x110BD, 0x110BD, Format),
        (0x110CD, 0x110CD, Format),
        (0x13430, 0x1343F, Format),
        (0x1BCA0, 0x1BCA3, Format),
        (0x1D173, 0x1D17A, Format),
        (0xE0001, 0xE0001, Format),
        (0xE0020, 0xE007F, Format),
        (0xF0000, 0xFFFFD, PrivateUse),
        (0x100000, 0x10FFFD, PrivateUse),
    ]
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{deployment, job, team};

    #[test]
    fn ascii_names_get_the_problems_their_characters_give() {
        for b in 0u8..128 {
            let c = char::from(b);
            let name = format!("a{c}b");
            let expected = if c.is_whitespace() {
                Some("contains whitespace; use `_` or `-` between words")
            } else if c.is_control() {
                Some("contains a control character; use printable characters only")
            } else {
                None
            };
            let found = secret_name_problem(&name);
            assert_eq!(found.as_ref().map(|p| p.message.as_str()), expected, "{b}");
            // The same character in a name that is not ASCII.
            let found = secret_name_problem(&format!("é{c}"));
            assert_eq!(found.as_ref().map(|p| p.message.as_str()), expected, "{b}");
        }
        assert!(secret_name_problem(&"a".repeat(256)).is_none());
        assert!(secret_name_problem(&"a".repeat(257)).is_some());
    }

    #[test]
    fn path_names_refuse_characters_vault_refuses_and_name_them() {
        let e = team("te\u{200B}am").unwrap_err();
        assert_eq!(e.problems()[0].key, "team");
        assert_eq!(
            e.problems()[0].message,
            "contains U+200B (an invisible format character), which Vault refuses in a path and \
             which makes the name look like another; type the name again without it"
        );
        for (name, named) in [
            (
                "evil\u{202E}gnp.exe",
                "U+202E (an invisible character that changes the direction",
            ),
            ("\u{FEFF}job", "U+FEFF (an invisible format character)"),
            ("soft\u{AD}hyphen", "U+00AD (an invisible format character)"),
            (
                "no\u{A0}break",
                "U+00A0 (a space other than the ASCII space)",
            ),
            (
                "ideographic\u{3000}space",
                "U+3000 (a space other than the ASCII space)",
            ),
            ("line\u{2028}break", "U+2028 (a line separator)"),
            ("para\u{2029}break", "U+2029 (a paragraph separator)"),
            ("private\u{E000}", "U+E000 (a private-use character)"),
            ("plane16\u{10FFFD}", "U+10FFFD (a private-use character)"),
            ("non\u{FFFF}", "U+FFFF (a Unicode noncharacter)"),
            ("non\u{FDD0}", "U+FDD0 (a Unicode noncharacter)"),
            ("non\u{1FFFE}", "U+1FFFE (a Unicode noncharacter)"),
            ("tag\u{E0041}", "U+E0041 (an invisible format character)"),
            ("a\u{0}b", "U+0000 (a control character)"),
            ("del\u{7F}", "U+007F (a control character)"),
        ] {
            for e in [
                team(name).unwrap_err(),
                job(name).unwrap_err(),
                deployment(name).unwrap_err(),
            ] {
                assert!(e.to_string().contains(named), "{name:?}: {e}");
            }
        }
        // Letters, marks, numbers, punctuation, symbols and the ASCII space are printable.
        for name in [
            "job with spaces",
            "cafe\u{301}",
            "пароль",
            "数据",
            "🔑-team",
            "a_b.c:d@e+f",
            "\u{13460}",
        ] {
            assert!(team(name).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn the_unprintable_table_holds_exactly_the_refused_categories() {
        // Every code point of general category Cf in Unicode 15, 16 and 17 (the Egyptian
        // hieroglyph format controls U+13439 to U+1343F arrived in 15), Zs but U+0020, Zl,
        // Zp, Co and Cc, listed here independently of the table.
        let format: &[(u32, u32)] = &[
            (0xAD, 0xAD),
            (0x600, 0x605),
            (0x61C, 0x61C),
            (0x6DD, 0x6DD),
            (0x70F, 0x70F),
            (0x890, 0x891),
            (0x8E2, 0x8E2),
            (0x180E, 0x180E),
            (0x200B, 0x200F),
            (0x202A, 0x202E),
            (0x2060, 0x2064),
            (0x2066, 0x206F),
            (0xFEFF, 0xFEFF),
            (0xFFF9, 0xFFFB),
            (0x110BD, 0x110BD),
            (0x110CD, 0x110CD),
            (0x13430, 0x1343F),
            (0x1BCA0, 0x1BCA3),
            (0x1D173, 0x1D17A),
            (0xE0001, 0xE0001),
            (0xE0020, 0xE007F),
        ];
        let space: &[(u32, u32)] = &[
            (0xA0, 0xA0),
            (0x1680, 0x1680),
            (0x2000, 0x200A),
            (0x202F, 0x202F),
            (0x205F, 0x205F),
            (0x3000, 0x3000),
        ];
        let private: &[(u32, u32)] = &[(0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD)];
        let control: &[(u32, u32)] = &[(0, 0x1F), (0x7F, 0x9F)];
        let within = |ranges: &[(u32, u32)], code: u32| {
            ranges
                .iter()
                .any(|&(first, last)| (first..=last).contains(&code))
        };
        let direction = [
            0x61C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
        ];
        let mut counts = [0usize; 4];
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let code = u32::from(c);
            let noncharacter = code & 0xFFFE == 0xFFFE || (0xFDD0..=0xFDEF).contains(&code);
            let expected = if within(control, code) {
                Some(Unprintable::Control)
            } else if direction.contains(&code) || (0x2066..=0x2069).contains(&code) {
                Some(Unprintable::Direction)
            } else if within(format, code) {
                Some(Unprintable::Format)
            } else if within(space, code) {
                Some(Unprintable::Space)
            } else if code == 0x2028 {
                Some(Unprintable::LineSeparator)
            } else if code == 0x2029 {
                Some(Unprintable::ParagraphSeparator)
            } else if within(private, code) {
                Some(Unprintable::PrivateUse)
            } else if noncharacter {
                Some(Unprintable::Noncharacter)
            } else {
                None
            };
            assert_eq!(unprintable(c), expected, "U+{code:04X}");
            match expected {
                Some(Unprintable::Format | Unprintable::Direction) => counts[0] += 1,
                Some(Unprintable::Noncharacter) => counts[1] += 1,
                Some(Unprintable::Space) => counts[2] += 1,
                _ => counts[3] += 1,
            }
            // Whitespace other than the ASCII space is either refused here or a control.
            if c.is_whitespace() && c != ' ' {
                assert!(unprintable(c).is_some(), "U+{code:04X}");
            }
        }
        // Cf has 170 code points in Unicode 17; there are 66 noncharacters and 16 Zs but U+0020.
        assert_eq!(counts[..3], [170, 66, 16]);
        assert!(
            UNPRINTABLE.windows(2).all(|w| w[0].1 < w[1].0),
            "sorted and apart"
        );
    }
}
