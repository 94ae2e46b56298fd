//! How a set's problems are gathered, ordered and sized: every check, in every binding,
//! reports them the same way, by name with the problems of the set as a whole last.

use serde_json::Value;

use super::{Limits, secret_name_problem, value_problem};
use crate::error::Problem;
use crate::secrets::{SecretValue, Secrets, json, strictly_ascending};
use crate::text::{concat, decimal};

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
pub(super) fn size_problem(size: usize, limits: &Limits) -> Option<Problem> {
    (size > limits.max_set_bytes).then(|| {
        Problem::new(
            "",
            concat(&[
                "the set is ",
                &decimal(size as u64),
                " bytes as JSON and the limit is ",
                &decimal(limits.max_set_bytes as u64),
                " bytes; remove or shorten secrets until it fits",
            ]),
        )
    })
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
pub(super) fn converted_entries_problems(entries: Converted, limits: &Limits) -> Vec<Problem> {
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

/// Where a problem keyed `key` goes in every check's report: by name, the problems keyed `""`
/// (an empty name, the set as a whole) last.
pub(super) fn problem_order(key: &str) -> (bool, &str) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::secrets;
    use serde_json::json;

    fn set(value: Value) -> Secrets {
        serde_json::from_value(value).unwrap()
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
}
