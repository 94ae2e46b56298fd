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

use serde_json::Value;

use crate::error::{Error, Problem};
use crate::numbers;
use crate::secrets::{
    NameSet, ParsedDocument, REPEATED_NAME, SecretValue, Secrets, json, strictly_ascending,
};

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

/// Every problem in a set, in the order of [`sort_problems`]: by name, the problems keyed
/// `""` (an empty name, the size) last.
pub fn secrets_problems(set: &Secrets, limits: &Limits) -> Vec<Problem> {
    let mut members = set.iter().map(|(name, value)| (name, value.expose()));
    members_problems(&mut members, json_size(set), limits)
}

/// A set's members, in name order and no name twice, as a set holds them.
type Members<'a> = dyn Iterator<Item = (&'a str, &'a Value)> + 'a;

/// Every problem of a set given as its members and its size: what [`secrets_problems`]
/// reports. A binding that has the members of a set in name order checks them here without
/// building the set first.
fn members_problems(members: &mut Members<'_>, size: usize, limits: &Limits) -> Vec<Problem> {
    let mut problems: Vec<Problem> = members
        .filter_map(|(name, value)| {
            secret_name_problem(name).or_else(|| value_problem(name, value))
        })
        .collect();
    problems.extend(size_problem(size, limits));
    sort_problems(&mut problems);
    problems
}

/// The size of the set that holds `members`: its braces, a comma between entries, and each
/// entry (see [`entry_size`]).
fn members_size(members: &mut Members<'_>) -> usize {
    let (count, entries) = members.fold((0, 0), |(count, sum), (name, value)| {
        (count + 1, sum + json::entry_len(name, value))
    });
    1 + usize::max(count, 1) + entries
}

/// The problem of a set of `size` bytes, if that is over the limit.
fn size_problem(size: usize, limits: &Limits) -> Option<Problem> {
    (size > limits.max_set_bytes).then(|| {
        Problem::new(
            "",
            format!(
                "the set is {size} bytes as JSON and the limit is {} bytes; remove or shorten \
                 secrets until it fits",
                limits.max_set_bytes
            ),
        )
    })
}

/// Every problem [`crate::Secrets::from_json_document`] and then [`secrets_problems`] find
/// in a secrets document, in that order: a document that cannot be read (its one problem,
/// keyed `""`), else numbers that would be stored changed, else names written twice, else
/// every rule. A document whose names are in order is checked as it is read, without
/// keeping its values, when nothing but its names and size can break a rule.
pub fn document_problems(text: &str, limits: &Limits) -> Vec<Problem> {
    if let Some(problems) = checked_text_problems(text, true, limits) {
        return problems;
    }
    match Secrets::from_json_document(text) {
        Ok(set) => secrets_problems(&set, limits),
        Err(e) if e.problems().is_empty() => vec![Problem::new("", e.report().why.clone())],
        Err(e) => e.problems().to_vec(),
    }
}

/// Every problem of the set that JSON text of one object makes, when its names are in order
/// (each once) and the text can be checked without keeping its values (see
/// [`json::checked_members`]) and no value breaks a rule: nothing is nested too deep, and no
/// float has a problem (nor, in a `document`, a number that would be stored changed). Then
/// its names and size are all there is to check. `None` for any other text, which is read
/// into values and checked as a set.
fn checked_text_problems(text: &str, document: bool, limits: &Limits) -> Option<Vec<Problem>> {
    let checked = json::checked_members(text, MAX_VALUE_DEPTH)?;
    if !names_unique(&checked.names)
        || checked
            .floats
            .iter()
            .any(|&float| numbers::float_value_problem(float).is_some())
        || (document && !checked.floats.is_empty() && !numbers::changes_in(text).is_empty())
    {
        return None;
    }
    let mut problems: Vec<Problem> = checked
        .names
        .iter()
        .filter_map(|name| secret_name_problem(name))
        .collect();
    problems.extend(size_problem(checked.size, limits));
    sort_problems(&mut problems);
    Some(problems)
}

/// Whether no name is written twice: at once when they are in order (a set's own order), else
/// by putting them in a [`NameSet`] (a slice sort would bring its own code into the wasm
/// builds). The problems found are sorted afterwards, so the order of the names does not
/// matter otherwise.
fn names_unique(names: &[std::borrow::Cow<'_, str>]) -> bool {
    if names.windows(2).all(|pair| pair[0] < pair[1]) {
        return true;
    }
    let mut seen = NameSet::new();
    names.iter().all(|name| seen.insert(name.to_string()))
}

/// What [`document`] found in a secrets document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DocumentCheck {
    /// The set, when the document is one JSON object whose names are unique (even if other
    /// rules are broken: see `problems`); `None` otherwise.
    pub secrets: Option<Secrets>,
    /// Every problem, in the order [`secrets_problems`] reports them; empty when the set can
    /// be saved as it is.
    pub problems: Vec<Problem>,
    /// The set's size as compact UTF-8 JSON (the first value of a name written twice
    /// counted); 0 when the document cannot be read.
    pub size: usize,
}

/// Reads a secrets document (JSON text, such as an exported file) once and reports every
/// problem together: a document that is not JSON or not one object (then that is the only
/// problem, keyed `""`), names written twice, each name and value that breaks a rule
/// (including a number that would be stored changed), and a set over the size limit.
pub fn document(text: &str, limits: &Limits) -> DocumentCheck {
    let parsed = match ParsedDocument::parse(text) {
        Ok(parsed) => parsed,
        Err(e) => {
            return DocumentCheck {
                secrets: None,
                problems: vec![Problem::new("", e.report().why.clone())],
                size: 0,
            };
        }
    };
    let mut problems = Vec::new();
    // At most one number problem per name (its first number); it replaces the value's rules.
    // One per name: put in the order of names and searched by halves (a map of problems
    // would bring another copy of the map's code into the wasm builds).
    let mut number_problems = parsed.number_problems;
    sort_problems(&mut number_problems);
    for (name, value) in parsed.secrets.iter() {
        problems.extend(secret_name_problem(name));
        let number = number_problems
            .binary_search_by(|p| problem_order(&p.key).cmp(&problem_order(name)))
            .ok()
            .and_then(|i| number_problems.get(i).cloned());
        problems.extend(number.or_else(|| value_problem(name, value.expose())));
    }
    problems.extend(
        parsed
            .repeated
            .iter()
            .map(|name| Problem::new(name.as_str(), REPEATED_NAME)),
    );
    let size = json_size(&parsed.secrets);
    problems.extend(size_problem(size, limits));
    sort_problems(&mut problems);
    DocumentCheck {
        secrets: parsed.repeated.is_empty().then_some(parsed.secrets),
        problems,
        size,
    }
}

/// The bytes one entry `"name":value` takes in the compact JSON of a set. A set of n ≥ 1
/// entries takes 2 + the sum of its entries' sizes + (n − 1) bytes (braces and commas), and
/// an empty set 2: that is [`json_size`].
pub fn entry_size(name: &str, value: &SecretValue) -> usize {
    json::entry_len(name, value.expose())
}

/// A set from entries a binding converted from its own form (a JS object's members, the
/// component's name and JSON pairs): the entries that converted, and the problems of the
/// others and of names given twice. As in [`secrets_problems`], a bad name is an entry's one
/// problem: its conversion's problem is reported only when the name is good.
pub fn converted_set(
    entries: impl IntoIterator<Item = (String, Result<SecretValue, Problem>)>,
) -> (Secrets, Vec<Problem>) {
    converted_entries(entries.into_iter().collect())
}

/// A binding's converted entries, as given.
type Converted = Vec<(String, Result<SecretValue, Problem>)>;

/// [`converted_set`], in one copy for every kind of iterator the bindings give.
fn converted_entries(mut entries: Converted) -> (Secrets, Vec<Problem>) {
    let mut set = Secrets::new();
    let mut problems = Vec::new();
    // Names in order are put into the set from the last (see `strictly_ascending`); the
    // problems found on the way are then put back in the entries' order.
    let from_last = strictly_ascending(&entries);
    if from_last {
        entries.reverse();
    }
    for (name, converted) in entries {
        match converted {
            Ok(value) => {
                if let Err(name) = set.insert_new(name, value) {
                    problems.push(Problem::new(name, "is given more than once; keep one"));
                }
            }
            Err(problem) => problems.push(secret_name_problem(&name).unwrap_or(problem)),
        }
    }
    if from_last {
        problems.reverse();
    }
    (set, problems)
}

/// Every problem with a set a binding converted (see [`converted_set`]): its conversions and
/// every rule, in the order of [`secrets_problems`]. What each binding's "validate a set"
/// returns.
pub fn converted_set_problems(
    entries: impl IntoIterator<Item = (String, Result<SecretValue, Problem>)>,
    limits: &Limits,
) -> Vec<Problem> {
    converted_entries_problems(entries.into_iter().collect(), limits)
}

/// [`converted_set_problems`], in one copy.
fn converted_entries_problems(entries: Converted, limits: &Limits) -> Vec<Problem> {
    // Every entry converted and the names in order: the set they make holds them as they
    // are, and nothing is built to check them.
    if strictly_ascending(&entries) && entries.iter().all(|(_, converted)| converted.is_ok()) {
        let members = || {
            entries.iter().filter_map(|(name, converted)| {
                Some((name.as_str(), converted.as_ref().ok()?.expose()))
            })
        };
        let size = members_size(&mut members());
        return members_problems(&mut members(), size, limits);
    }
    let (set, mut problems) = converted_entries(entries);
    problems.extend(secrets_problems(&set, limits));
    sort_problems(&mut problems);
    problems
}

/// Every problem of the set whose members JSON text of one object holds, as a binding's
/// converted set of them is checked ([`converted_set_problems`]); `None` when the text is
/// not one object.
#[cfg_attr(not(feature = "js"), allow(dead_code))]
pub(crate) fn text_set_problems(text: &str, limits: &Limits) -> Option<Vec<Problem>> {
    if let Some(problems) = checked_text_problems(text, false, limits) {
        return Some(problems);
    }
    let entries = crate::secrets::object_members(text)?
        .into_iter()
        .map(|(name, value)| (name, Ok(SecretValue::new(value))))
        .collect();
    Some(converted_entries_problems(entries, limits))
}

/// Where a problem keyed `key` goes in every check's report: by name, the problems keyed `""`
/// (an empty name, the set as a whole) last.
fn problem_order(key: &str) -> (bool, &str) {
    (key.is_empty(), key)
}

/// Puts problems in the order every check reports them ([`problem_order`]); stable.
pub fn sort_problems(problems: &mut [Problem]) {
    // A stable merge sort written out (runs of 1, 2, 4, ... merged through a buffer holding
    // the left run), which skips runs already in order: problems mostly arrive as a few
    // sorted lists. The standard library's sorts are several kilobytes in the wasm builds.
    fn after(a: &Problem, b: &Problem) -> bool {
        problem_order(&a.key) > problem_order(&b.key)
    }
    fn take(p: &mut Problem) -> Problem {
        Problem {
            key: std::mem::take(&mut p.key),
            message: std::mem::take(&mut p.message),
        }
    }
    let n = problems.len();
    let mut left: Vec<Problem> = Vec::new();
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start + width < n {
            let mid = start + width;
            let end = (mid + width).min(n);
            if after(&problems[mid - 1], &problems[mid]) {
                left.clear();
                left.extend(problems[start..mid].iter_mut().map(take));
                // Output goes to `k`, always before the right run's next problem `j`; once
                // the left run is used up, the rest of the right run is in place.
                let (mut i, mut j, mut k) = (0, mid, start);
                while i < left.len() {
                    let next = if j < end && after(&left[i], &problems[j]) {
                        j += 1;
                        take(&mut problems[j - 1])
                    } else {
                        i += 1;
                        take(&mut left[i - 1])
                    };
                    problems[k] = next;
                    k += 1;
                }
            }
            start = end;
        }
        width *= 2;
    }
}

/// The size of a set as compact UTF-8 JSON, the measure the Secrets API limits.
pub fn json_size(set: &Secrets) -> usize {
    json::set_len(set.entries())
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
            format!(
                "is {length} characters long and the limit is {MAX_SECRET_NAME_CHARS}; use a \
                 shorter name"
            ),
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

/// The problem with a team, job or deployment name, if any.
fn path_name_problem(field: &'static str, name: &str) -> Option<Problem> {
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
            format!(
                "contains U+{:04X} ({}), which Vault refuses in a path and which makes the name \
                 look like another; type the name again without it",
                u32::from(c),
                what.description()
            ),
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
    use serde_json::json;

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
    fn set_validation_reports_every_problem() {
        let s = set(json!({"a b": 1, "": 2, "ok": 3, "c\td": 4}));
        let e = secrets(&s, &Limits::default()).unwrap_err();
        let keys: Vec<&str> = e.problems().iter().map(|p| p.key.as_str()).collect();
        // By name, the empty name's problem last, as every binding's check orders them.
        assert_eq!(keys, ["a b", "c\td", ""]);
        assert!(e.to_string().contains("3 problems"), "{e}");
        let (_, converted) = converted_set(s.iter().map(|(n, v)| (n.to_string(), Ok(v.clone()))));
        assert!(converted.is_empty());
        let entries = s.iter().map(|(n, v)| (n.to_string(), Ok(v.clone())));
        assert_eq!(
            converted_set_problems(entries, &Limits::default()),
            e.problems()
        );
    }

    #[test]
    fn set_size_is_measured_as_compact_json() {
        let s = set(json!({"k": "v"}));
        assert_eq!(json_size(&s), r#"{"k":"v"}"#.len());
        let s = set(json!({"ключ": "значение"}));
        assert_eq!(json_size(&s), r#"{"ключ":"значение"}"#.len());
    }

    #[test]
    fn rejects_set_over_the_limit_and_accepts_one_at_it() {
        let s = set(json!({"k": "v"}));
        let at = Limits {
            max_set_bytes: json_size(&s),
        };
        assert!(secrets(&s, &at).is_ok());
        let under = Limits {
            max_set_bytes: json_size(&s) - 1,
        };
        let e = secrets(&s, &under).unwrap_err();
        assert_eq!(e.problems().len(), 1);
        assert!(e.problems()[0].message.contains("9 bytes as JSON"), "{e}");
    }

    #[test]
    fn entry_sizes_add_up_to_the_set_size() {
        let s = set(json!({
            "plain": "v",
            "esc\"aped\n": "tab\there \u{1} \\ \"q\"",
            "ключ": "значение 🔑",
            "big": 18446744073709551615u64,
            "neg": i64::MIN,
            "f": 0.1,
            "nested": {"a": [1, null, true, {"b": "c"}]},
            "": "",
        }));
        let entries: usize = s.iter().map(|(n, v)| entry_size(n, v)).sum();
        assert_eq!(2 + entries + (s.len() - 1), json_size(&s));
        for (name, value) in s.iter() {
            let one: Secrets = std::iter::once((name, value.clone())).collect();
            assert_eq!(2 + entry_size(name, value), json_size(&one), "{name}");
        }
        assert_eq!(json_size(&Secrets::new()), 2);
        assert_eq!(
            entry_size("k", &SecretValue::string("v")),
            r#""k":"v""#.len()
        );
    }

    #[test]
    fn a_document_check_reports_every_problem_together() {
        let text = "{\"a b\": 1, \"ok\": \"x\", \"dup\": 1, \"dup\": 2,\n \
                    \"big\": 1e30, \"bad name\": 18446744073709551616}";
        let check = document(text, &Limits { max_set_bytes: 10 });
        assert!(check.secrets.is_none(), "a name is written twice");
        let found: Vec<(&str, &str)> = check
            .problems
            .iter()
            .map(|p| (p.key.as_str(), p.message.as_str()))
            .collect();
        let size = check.size;
        // "dup" is 1 and 2: either is as long.
        let compact = serde_json::from_str::<Value>(text).unwrap().to_string();
        assert_eq!(size, compact.len());
        assert_eq!(found.len(), 6, "{found:?}");
        assert_eq!(found[0].0, "a b");
        assert!(found[0].1.contains("whitespace"));
        assert_eq!(found[1].0, "bad name");
        assert!(found[1].1.contains("whitespace"));
        assert_eq!(found[2].0, "bad name");
        assert!(
            found[2]
                .1
                .contains("beyond the 64-bit range at line 2 column 27")
        );
        assert_eq!(found[3].0, "big");
        assert!(
            found[3]
                .1
                .contains("beyond the 64-bit range at line 2 column 9")
        );
        assert_eq!(found[4], ("dup", REPEATED_NAME));
        assert_eq!(found[5].0, "");
        assert!(found[5].1.contains(&format!("the set is {size} bytes")));
        assert!(found[5].1.contains("the limit is 10 bytes"));
        // Nothing in any message is a value.
        assert!(check.problems.iter().all(|p| !p.message.contains("1e30")));
    }

    #[test]
    fn document_problems_are_those_of_reading_then_checking_the_set() {
        let limits = Limits { max_set_bytes: 60 };
        for text in [
            r#"{"a": 1, "b": "x", "c": [1.5, {"d": null}]}"#,
            r#"{"a": {"k1": 1, "k\u0031": 2}, "b\u0020c": "\"q\" \\ \u0001"}"#,
            "{\"a\": \"x\ty\"}",
            r#"{"b": 1, "a": "x"}"#,
            r#"{"a b": 1, "c": true, "ok": "a long value that takes the set over the limit"}"#,
            r#"{"z y": 1, "a": [[[[1]]]], "": 2}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": 1e400}"#,
            r#"{"a": 1e30, "b c": 1}"#,
            r#"{"a": [0.1, 2.5e3, -0], "b": {"c": 1.50, "d": -0.0}}"#,
            r#"{"a": 1.5e-300, "b": 1}"#,
            r#"{"a": 18446744073709551616}"#,
            r#"{"a": 1.00000000000000000001}"#,
            r#"{"a": {"k": "v", "k\u0031": "w"}, "b": "x\tyé"}"#,
            r#"{"a": {"k": 1, "k": "a longer value"}, "b": "\u00e9\n"}"#,
            r#"[1]"#,
            r#"{"a": "#,
            "{}",
        ] {
            let expected = match Secrets::from_json_document(text) {
                Ok(set) => secrets_problems(&set, &limits),
                Err(e) if e.problems().is_empty() => {
                    vec![Problem::new("", e.report().why.clone())]
                }
                Err(e) => e.problems().to_vec(),
            };
            assert_eq!(document_problems(text, &limits), expected, "{text}");
        }
        // Values nested as deep as the rule allows, and one level deeper.
        let mut deep = json!(1);
        for _ in 0..MAX_VALUE_DEPTH {
            deep = json!({ "k": deep });
        }
        let text = format!(r#"{{"a": {deep}, "b": 1}}"#);
        assert!(document_problems(&text, &Limits::default()).is_empty());
        let text = format!(r#"{{"a": [{deep}], "b": 1}}"#);
        let problems = document_problems(&text, &Limits::default());
        assert_eq!(problems, [Problem::new("a", NESTED_TOO_DEEP)]);
        let text = format!(r#"{{"a": {{"b": {deep}}}, "b c": 1}}"#);
        let problems = document_problems(&text, &Limits::default());
        assert_eq!(problems[0], Problem::new("a", NESTED_TOO_DEEP));
        assert_eq!(problems[1].key, "b c");
    }

    #[test]
    fn a_document_check_agrees_with_the_set_rules_and_keeps_the_set() {
        let text = r#"{"b": {"deep": [[[1]]]}, "a": "x", "c d": true}"#;
        let check = document(text, &Limits::default());
        let set = Secrets::from_json_document(text).unwrap();
        assert_eq!(check.problems, secrets_problems(&set, &Limits::default()));
        assert_eq!(check.size, json_size(&set));
        assert_eq!(check.secrets, Some(set));
        let fine = document(r#"{"k": "v"}"#, &Limits::default());
        assert!(fine.problems.is_empty());
        assert_eq!(fine.size, 9);
    }

    #[test]
    fn a_document_that_cannot_be_read_is_one_problem_and_no_set() {
        for (text, why) in [
            (
                "{\"a\": ",
                "not valid JSON (unexpected end at line 1 column 6)",
            ),
            ("[1, 2]", "must be one JSON object"),
            ("\"secret text\"", "must be one JSON object"),
            ("{} {}", "not valid JSON (syntax error at line 1 column 4)"),
        ] {
            let check = document(text, &Limits::default());
            assert_eq!(check.secrets, None, "{text}");
            assert_eq!(check.size, 0);
            assert_eq!(check.problems.len(), 1, "{text}");
            assert_eq!(check.problems[0].key, "");
            assert!(
                check.problems[0].message.contains(why),
                "{text}: {:?}",
                check.problems
            );
            assert!(!check.problems[0].message.contains("secret text"));
        }
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

    #[test]
    fn a_bad_name_is_the_one_problem_of_an_entry_that_did_not_convert() {
        let failed = |name: &str| (name.to_string(), Err(Problem::new(name, "cannot be JSON")));
        let (set, problems) = converted_set([failed("a b"), failed("ok")]);
        assert!(set.is_empty());
        assert_eq!(
            problems,
            [
                secret_name_problem("a b").unwrap(),
                Problem::new("ok", "cannot be JSON")
            ]
        );
    }

    #[test]
    fn the_depth_problem_names_the_depth_limit() {
        assert!(NESTED_TOO_DEEP.contains(&format!(" {MAX_VALUE_DEPTH} levels")));
    }

    #[test]
    fn problems_sort_by_name_stably_with_the_set_last() {
        // Pseudo-random keys with many repeats, each problem numbered in its input order: the
        // result must equal the standard library's stable sort of the same list.
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for len in [0, 1, 2, 3, 7, 8, 9, 31, 64, 100, 1000] {
            let problems: Vec<Problem> = (0..len)
                .map(|i| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let key = match seed % 7 {
                        0 => String::new(),
                        k => format!("k{}", (seed >> 8) % (k * 3)),
                    };
                    Problem::new(key, i.to_string())
                })
                .collect();
            let mut expected = problems.clone();
            expected.sort_by(|a, b| (a.key.is_empty(), &a.key).cmp(&(b.key.is_empty(), &b.key)));
            let mut sorted = problems.clone();
            sort_problems(&mut sorted);
            assert_eq!(sorted, expected, "{len} problems");
            sort_problems(&mut expected);
            assert_eq!(sorted, expected, "sorted already");
        }
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
