use super::*;

#[test]
fn integers_beyond_64_bits_are_refused_rather_than_stored_rounded() {
    let document = "{\"ok\": [-9223372036854775808, 18446744073709551615, 2.5e-3],\n \
                    \"id\": {\"n\": 18446744073709551616}}";
    let e = Secrets::from_json_document(document).unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
    assert_eq!(e.problems().len(), 1);
    assert_eq!(e.problems()[0].key, "id");
    assert!(
        e.to_string()
            .contains("`id` has an integer beyond the 64-bit range at line 2 column 14"),
        "{e}"
    );
    let e = SecretValue::from_json("id", "[-9223372036854775809]").unwrap_err();
    assert_eq!(e.problems()[0].key, "id");
    assert!(e.problems()[0].message.contains("write it as a string"));
    // Without a fractional part a number is an integer, however it is written.
    for refused in [
        "1e30",
        "-1.0E19",
        "18446744073709551616.0",
        "-9223372036854775809.0",
        "-9.223372036854775809e18",
    ] {
        let e = SecretValue::from_json("k", refused).unwrap_err();
        assert!(e.to_string().contains("64-bit range"), "{refused}: {e}");
    }
    for kept in [
        "1.5",
        "1e3",
        "1.5e19",
        "2.5e-3",
        "-0.0e99999999999999999999",
    ] {
        assert!(SecretValue::from_json("k", kept).is_ok(), "{kept}");
    }
}

#[test]
fn numbers_are_stored_as_written_or_refused_by_name() {
    let document = "{\"a\": 1.00000000000000000001, \"b\": [1e-400],\n\"c\": 0.1, \
                    \"d\": {\"x\": 1.50, \"y\": 2.5e3, \"z\": 1.5e19}, \
                    \"e\": [123456789012345678.5, 0.30000000000000000001]}";
    let e = Secrets::from_json_document(document).unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
    let problems = crate::error::key_message_pairs(e.problems());
    assert_eq!(
        problems,
        [
            (
                "a",
                "has a number at line 1 column 7 with more precision than a 64-bit float \
                 holds, which would be stored rounded; write it as a string to keep it exact"
            ),
            (
                "b",
                "has a number at line 1 column 37 too close to zero for a 64-bit float (it \
                 underflows), which would be stored as 0; write it as a string to keep it \
                 exact"
            ),
            (
                "e",
                "has a number at line 2 column 60 with more precision than a 64-bit float \
                 holds, which would be stored rounded; write it as a string to keep it exact"
            ),
        ]
    );
    assert!(
        e.to_string().contains("3 problems: `a` has a number"),
        "{e}"
    );

    let kept = r#"{"c": 0.1, "d": {"x": 1.50, "y": 2.5e3, "z": 1.5e19}, "n": -0.0}"#;
    let set = Secrets::from_json_document(kept).unwrap();
    assert_eq!(
        set.to_json(),
        r#"{"c":0.1,"d":{"x":1.5,"y":2500.0,"z":1.5e+19},"n":-0.0}"#
    );
    assert_eq!(Secrets::from_json_document(&set.to_json()).unwrap(), set);

    let e = SecretValue::from_json("k", "[1, 1e-400]").unwrap_err();
    assert_eq!(e.problems()[0].key, "k");
    assert!(
        e.problems()[0]
            .message
            .contains("column 5 too close to zero")
    );
    assert!(SecretValue::from_json("k", "1.00000000000000000001").is_err());
    assert!(SecretValue::from_json("k", "[0.25, 1e-5]").is_ok());
}

#[test]
fn a_set_taken_apart_gives_its_secrets_in_name_order_from_either_end() {
    let set = Secrets::from_server_body(br#"{"b": 2, "a": "x", "c": [true], "b": 3}"#).unwrap();
    assert_eq!(set.names().collect::<Vec<_>>(), ["a", "b", "c"]);
    // As serde_json reads an object, the last value of a name written twice is kept.
    assert_eq!(set.get("b").unwrap().to_json(), "3");
    let mut taken = set.clone().into_iter();
    assert_eq!(taken.len(), 3);
    let (first, value) = taken.next().unwrap();
    assert_eq!((first.as_str(), value.to_json().as_str()), ("a", "\"x\""));
    assert_eq!(taken.next_back().unwrap().0, "c");
    assert_eq!(taken.len(), 1);
    // Dropped with a secret left in it, as a caller that stops early does.
    drop(taken);
    let mut changed = set;
    assert_eq!(
        changed
            .insert("a", serde_json::json!(1))
            .map(|v| v.to_json()),
        Some("\"x\"".into())
    );
    assert_eq!(
        changed.remove("c").map(|v| v.to_json()),
        Some("[true]".into())
    );
    assert_eq!(changed.to_json(), r#"{"a":1,"b":3}"#);
    assert_eq!(format!("{changed:?}"), r#"Secrets { names: ["a", "b"] }"#);
}

#[test]
fn names_are_kept_in_name_order_however_they_arrive() {
    let mut set = Secrets::new();
    for name in ["b", "c", "a"] {
        set.insert(name, "v");
    }
    set.remove("b");
    set.insert("b", "w");
    assert_eq!(set.names().collect::<Vec<_>>(), ["a", "b", "c"]);
    let read = Secrets::from_json_document(r#"{"a": 1, "b": 2, "c": 3}"#).unwrap();
    assert_eq!(read.names().collect::<Vec<_>>(), ["a", "b", "c"]);
    let read = Secrets::from_json_document(r#"{"c": 1, "a": 2, "b": 3}"#).unwrap();
    assert_eq!(read.to_json(), r#"{"a":2,"b":3,"c":1}"#);
}

#[test]
fn serde_reads_a_set_only_from_an_object() {
    let set: Secrets = serde_json::from_str(r#"{"b": [1], "a": "x", "b": true}"#).unwrap();
    assert_eq!(set.to_json(), r#"{"a":"x","b":true}"#);
    for refused in [
        "null",
        "[]",
        "\"s3cret\"",
        "true",
        "-12345",
        "1.5",
        r#"{"a": 1"#,
    ] {
        let e = serde_json::from_str::<Secrets>(refused)
            .unwrap_err()
            .to_string();
        for value in ["s3cret", "12345", "1.5", "true"] {
            assert!(!e.contains(value), "{refused}: {e}");
        }
    }
    let e = serde_json::from_str::<Secrets>("[]")
        .unwrap_err()
        .to_string();
    assert!(e.contains("an object of secret names and values"), "{e}");
}

#[test]
fn a_name_in_the_document_twice_with_bad_numbers_is_named_once() {
    let e =
        Secrets::from_json_document(r#"{"a": 1e-400, "a": [1e-400, 0.1, 2e-999]}"#).unwrap_err();
    assert_eq!(e.problems().len(), 1, "{e}");
    assert_eq!(e.problems()[0].key, "a");
}

#[test]
fn many_problems_are_found_without_comparing_each_with_every_other() {
    let twice: Vec<String> = (0..20_000)
        .map(|i| format!("\"k{i}\": 1, \"k{i}\": 2"))
        .collect();
    let e = Secrets::from_json_document(&format!("{{{}}}", twice.join(", "))).unwrap_err();
    assert_eq!(e.problems().len(), 20_000);
    let numbers: Vec<String> = (0..20_000).map(|i| format!("\"k{i}\": [1e-400]")).collect();
    let e = Secrets::from_json_document(&format!("{{{}}}", numbers.join(", "))).unwrap_err();
    assert_eq!(e.problems().len(), 20_000);
    assert_eq!(e.problems()[19_999].key, "k19999");
}

#[test]
fn digits_inside_strings_and_escapes_are_not_numbers() {
    let document = r#"{"a\"99999999999999999999": "99999999999999999999", "b": 1.5e-3}"#;
    assert_eq!(Secrets::from_json_document(document).unwrap().len(), 2);
    assert!(SecretValue::from_json("k", r#""\\" "#).is_ok());
    let document = r#"{"a\"1e30 \\": "\"1e-400", "b": [1.5e30]}"#;
    let e = Secrets::from_json_document(document).unwrap_err();
    assert_eq!(e.problems()[0].key, "b", "{e}");
    assert!(e.to_string().contains("column 34"), "{e}");
    assert!(SecretValue::from_json("k", "18446744073709551615").is_ok());
}
