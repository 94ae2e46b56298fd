//! The rules of a valid request: names of teams, jobs, deployments and secrets, secret values,
//! and the size of the whole set.
//!
//! The server, the browser package and the WASI component all call these same functions, so a
//! user sees the server's verdict before anything is sent. Every problem names the key it is
//! about and never quotes a secret value.
//!
//! | what | rule |
//! |---|---|
//! | secret name | 1 to [`MAX_SECRET_NAME_CHARS`] characters; no whitespace; no control characters |
//! | secret value | any JSON value, booleans included, nested at most [`MAX_VALUE_DEPTH`] deep |
//! | number in a value | stored exactly as written, or refused: an integer (a number without a fractional part, in any notation) lies in −2^63 to 2^64 − 1; a number with a fraction or exponent is one a 64-bit float holds as written (`0.1`, `1.50`, `2.5e3`; not `1.00000000000000000001`, nor `1e-400`, which would become 0) |
//! | the set | at most [`Limits::max_set_bytes`] bytes as compact UTF-8 JSON (default [`DEFAULT_MAX_SET_BYTES`]) |
//! | team, job, deployment | 1 to [`MAX_PATH_NAME_CHARS`] characters; not blank; no `/` or `\`; not `.` or `..`; printable characters only (no control, format, private-use or noncharacter code points, no space but the ASCII space, no line or paragraph separator); no leading or trailing whitespace |
//!
//! Why these choices:
//! - **Booleans are accepted.** The data job SDK documents strings, numbers, lists, objects
//!   and null, but the upstream server stores any JSON and hands booleans back. Refusing them
//!   would make a set that a job already holds impossible to write back unchanged.
//! - **Job names are not held to upstream's creation rule** (`^[a-z][a-z0-9-]{5,49}$`): jobs
//!   created before that rule exist, and their secrets must stay reachable. The client only
//!   refuses what cannot work at all: a name that would change the URL path or the Vault path
//!   `{team}/{job}` (a `/`, `.` or `..`), that is blank, or that Vault refuses in a path
//!   (below). [`upstream_job_name`] checks the
//!   creation rule for tools that create jobs.
//! - **Team, job and deployment names are printable**: OpenBao and Vault refuse an API path
//!   holding a character that Go's `unicode.IsPrint` rejects (with a bare 400 that does not
//!   say why), so such a name could never be stored, and only a check before the backend can
//!   say which name is wrong. The deployment id is held to the same rule as the others. Those
//!   characters are also the ones that hide: U+200B (zero width space) or U+FEFF make a name
//!   that looks like another, and U+202E (right-to-left override) shows a name backwards.
//!   The message names the character by code point and kind, since it cannot be seen. The
//!   table of ranges is small and written out here (no Unicode crate: the npm module's size
//!   matters); a test checks it against every code point.
//! - **Secret names keep their rule** (no whitespace, no control characters) and may hold
//!   format characters such as U+200B. A secret name is a key inside the stored JSON, not part
//!   of a Vault path, so nothing refuses it downstream; U+200C and U+200D (zero width
//!   non-joiner and joiner) are needed to spell words in Persian and Indic scripts and emoji
//!   such as 👩‍💻; and a set a job already holds, written by another client, must stay
//!   writable back unchanged, which a new refusal of its names would break.
//! - **Secret names have no whitespace** (the data job SDK's rule) and no control characters,
//!   which are invisible in every UI and log. 256 characters is far above any real credential
//!   name and keeps error messages and UIs readable. Lengths count characters (Unicode code
//!   points), as JSON Schema's `maxLength` and people do, not bytes.
//! - **Numbers are stored as written or refused**, never changed on the way: a secret is
//!   often an identifier or a setting, and a silently rounded one is wrong in a way nobody
//!   sees until it fails. JSON text is checked when it is read (`Secrets::from_json_document`
//!   and `SecretValue::from_json`, which the server, the clients and the component all use),
//!   since the parsed value no longer shows what was written; values built in code are held
//!   to the same range and must read back from their JSON text as themselves. A number that
//!   cannot be held exactly can always be stored as a string.
//! - **Depth is capped at 64**: JSON parsers, ours included, stop at a nesting depth around
//!   128, and a set that cannot be parsed back is a set that is lost.

// The rules' code: names and the characters a path refuses in `names`; how a set's problems
// are gathered, ordered and sized in `report`; the check of a set's JSON text in `text`.
mod names;
mod report;
mod text;

pub(crate) use names::secret_name_problem;
pub use report::{
    converted_set, converted_set_problems, entry_size, json_size, secrets_problems, sort_problems,
};
#[cfg_attr(not(feature = "js"), allow(unused_imports))]
pub(crate) use text::text_set_problems;
pub use text::{DocumentCheck, document, document_problems};

use serde_json::Value;

use crate::error::{Error, Problem};
use crate::numbers;
use crate::secrets::{SecretValue, Secrets};
use names::path_name_problem;

/// The longest secret name accepted, in characters.
pub const MAX_SECRET_NAME_CHARS: usize = 256;

/// The longest team, job or deployment name accepted, in characters.
pub const MAX_PATH_NAME_CHARS: usize = 255;

/// The deepest nesting of lists and objects accepted inside one secret value.
pub const MAX_VALUE_DEPTH: usize = 64;

/// The upstream Control Service's default limit for a job's whole secret set.
pub const DEFAULT_MAX_SET_BYTES: usize = 1_048_576;

/// Limits that a server may configure differently from the defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest set accepted, in bytes of compact UTF-8 JSON.
    pub max_set_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_set_bytes: DEFAULT_MAX_SET_BYTES,
        }
    }
}

/// Checks one secret name.
pub fn secret_name(name: &str) -> Result<(), Error> {
    secret_name_problem(name).map_or(Ok(()), |p| Err(Error::invalid("The secret name", vec![p])))
}

/// Checks one secret value for the secret called `name`.
pub fn secret_value(name: &str, value: &SecretValue) -> Result<(), Error> {
    value_problem(name, value.expose())
        .map_or(Ok(()), |p| Err(Error::invalid("The secret value", vec![p])))
}

/// Checks a whole set: every name, every value and the total size, reporting every problem.
pub fn secrets(set: &Secrets, limits: &Limits) -> Result<(), Error> {
    let problems = secrets_problems(set, limits);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid("The set of secrets", problems))
    }
}

/// Checks a team name (the `{team}` of the API path).
pub fn team(name: &str) -> Result<(), Error> {
    path_name_problem("team", name).map_or(Ok(()), |p| Err(Error::invalid("The team", vec![p])))
}

/// Checks a job name (the `{job}` of the API path), accepting names older than upstream's
/// creation rule.
pub fn job(name: &str) -> Result<(), Error> {
    path_name_problem("job", name).map_or(Ok(()), |p| Err(Error::invalid("The job", vec![p])))
}

/// Checks a deployment id (the `{deployment_id}` of the API path).
pub fn deployment(id: &str) -> Result<(), Error> {
    path_name_problem("deployment", id).map_or(Ok(()), |p| {
        Err(Error::invalid("The deployment id", vec![p]))
    })
}

/// Checks upstream's rule for *new* job names: `^[a-z][a-z0-9-]{5,49}$`.
pub fn upstream_job_name(name: &str) -> Result<(), Error> {
    let bytes = name.as_bytes();
    let ok = (6..=50).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "The new job name",
            vec![Problem::new(
                "job",
                "must be 6 to 50 characters of a-z, 0-9 and -, starting with a letter",
            )],
        ))
    }
}

/// The problem with a value nested more than [`MAX_VALUE_DEPTH`] levels deep, whichever
/// binding finds it.
pub(crate) const NESTED_TOO_DEEP: &str =
    "has a value nested more than 64 levels deep; flatten it or store it as a string";

/// The problem with a value, if any.
fn value_problem(name: &str, value: &Value) -> Option<Problem> {
    let mut number = None;
    if walk(value, MAX_VALUE_DEPTH, &mut number) {
        return Some(Problem::new(name, NESTED_TOO_DEEP));
    }
    number.map(|why| Problem::new(name, why))
}

/// One walk of a value: whether it nests lists or objects more than `levels` deep (a scalar
/// is level 0; the walk goes no deeper, so an absurdly deep value costs no more than a legal
/// one), and in `number` the first problem with a float in it: an integer beyond 64 bits, or
/// a float that its JSON text does not read back as. A value built in code may hold one, and
/// so may a set read from a server (reads are not checked, so that such a set can still be
/// loaded); `Secrets::from_json_document` refuses JSON text with one.
fn walk(value: &Value, levels: usize, number: &mut Option<&'static str>) -> bool {
    match value {
        Value::Number(n) => {
            if number.is_none() && n.is_f64() {
                *number = n.as_f64().and_then(numbers::float_value_problem);
            }
            false
        }
        Value::Array(_) | Value::Object(_) if levels == 0 => true,
        Value::Array(items) => items.iter().any(|item| walk(item, levels - 1, number)),
        Value::Object(map) => map.values().any(|item| walk(item, levels - 1, number)),
        _ => false,
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
    fn accepts_ordinary_secret_names() {
        for name in ["db_password", "API-KEY", "a", "x.y:z", "пароль", "🔑"] {
            assert!(secret_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn rejects_empty_secret_name() {
        let e = secret_name("").unwrap_err();
        assert!(e.to_string().contains("empty name"), "{e}");
    }

    #[test]
    fn rejects_name_with_whitespace() {
        for name in [
            "a b",
            "tab\there",
            "line\nbreak",
            "nbsp\u{a0}x",
            " lead",
            "trail ",
        ] {
            let e = secret_name(name).unwrap_err();
            assert_eq!(e.problems()[0].key, name);
            assert!(
                e.problems()[0].message.contains("whitespace"),
                "{name}: {e}"
            );
        }
    }

    #[test]
    fn rejects_name_with_control_character() {
        let e = secret_name("bell\u{7}").unwrap_err();
        assert!(e.problems()[0].message.contains("control character"));
        assert!(
            e.to_string().contains("bell\\u{7}"),
            "escaped in messages: {e}"
        );
    }

    #[test]
    fn secret_name_length_limit_is_in_characters() {
        assert!(secret_name(&"a".repeat(MAX_SECRET_NAME_CHARS)).is_ok());
        let e = secret_name(&"a".repeat(MAX_SECRET_NAME_CHARS + 1)).unwrap_err();
        assert!(e.to_string().contains("257 characters"), "{e}");
        // 256 two-byte characters are 512 bytes, and still one name of 256 characters.
        assert!(secret_name(&"é".repeat(256)).is_ok());
        assert!(secret_name(&"é".repeat(257)).is_err());
    }

    #[test]
    fn accepts_every_json_type_as_a_value() {
        let s = set(json!({
            "s": "text", "n": 1.5, "i": -3, "b": true, "l": [1, "x"], "o": {"k": "v"}, "z": null
        }));
        assert!(secrets(&s, &Limits::default()).is_ok());
    }

    #[test]
    fn rejects_value_nested_too_deep() {
        let mut deep = json!("leaf");
        for _ in 0..MAX_VALUE_DEPTH {
            deep = json!([deep]);
        }
        assert!(secret_value("ok", &SecretValue::new(deep.clone())).is_ok());
        let e = secret_value("deep", &SecretValue::new(json!([deep]))).unwrap_err();
        assert_eq!(e.problems()[0].key, "deep");
        assert!(e.to_string().contains("nested"));
    }

    #[test]
    fn rejects_a_float_that_is_an_integer_beyond_64_bits() {
        for (value, ok) in [
            (json!({"n": [1e30]}), false),
            (json!(-1e19), false),
            (json!(18446744073709551615u64), true),
            (json!(i64::MIN), true),
            (json!(1.844_674_407_370_955e19), true),
            (json!(2.5e30 + 0.5), false),
            (json!(1.5), true),
            (json!(2.5e-3), true),
        ] {
            let result = secret_value("n", &SecretValue::new(value.clone()));
            assert_eq!(result.is_ok(), ok, "{value}");
            if let Err(e) = result {
                assert!(e.to_string().contains("write it as a string"), "{e}");
            }
        }
    }

    #[test]
    fn the_depth_problem_names_the_depth_limit() {
        assert!(NESTED_TOO_DEEP.contains(&format!(" {MAX_VALUE_DEPTH} levels")));
    }

    #[test]
    fn path_names_accept_old_style_job_names() {
        for name in ["Old_Job", "x", "job with spaces", "TODO", "team-1"] {
            assert!(job(name).is_ok(), "{name}");
            assert!(team(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn path_names_reject_what_would_change_the_path() {
        for (name, needle) in [
            ("", "blank"),
            ("   ", "blank"),
            ("a/b", "`/`"),
            ("a\\b", "`/`"),
            (".", "`.`"),
            ("..", "`.`"),
            ("a\u{0}b", "control"),
            ("\u{200B}", "U+200B"),
            (" padded", "whitespace"),
        ] {
            let e = job(name).unwrap_err();
            assert_eq!(e.problems()[0].key, "job");
            assert!(e.to_string().contains(needle), "{name:?}: {e}");
        }
        assert!(team(&"t".repeat(256)).is_err());
        assert!(team(&"т".repeat(255)).is_ok());
        assert!(deployment("").is_err());
    }

    #[test]
    fn upstream_rule_for_new_job_names() {
        assert!(upstream_job_name("my-job1").is_ok());
        assert!(upstream_job_name(&format!("a{}", "b".repeat(49))).is_ok());
        for bad in [
            "short",
            "1starts-digit",
            "Upper-case",
            "under_score",
            &"a".repeat(51),
        ] {
            assert!(upstream_job_name(bad).is_err(), "{bad}");
        }
    }
}
