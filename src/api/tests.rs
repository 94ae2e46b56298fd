use super::history::{describe_versions, listed_versions};
use super::*;
use crate::secrets::SecretValue;
use serde_json::json;

fn endpoint(token: Option<&str>) -> Endpoint {
    let job = JobRef::new("data team", "job-1").unwrap();
    Endpoint::new(
        "https://cs.example.com/api/",
        job,
        token.map(|t| Token::new(t).unwrap()),
    )
    .unwrap()
}

fn secrets(value: serde_json::Value) -> Secrets {
    serde_json::from_value(value).unwrap()
}

#[test]
fn read_request_targets_the_job_with_every_segment_encoded() {
    let job = JobRef::new("data team", "jöb")
        .unwrap()
        .with_deployment("dep#1")
        .unwrap();
    let ep = Endpoint::new("http://h:8080/", job, None).unwrap();
    let req = ep.read_request();
    assert_eq!(req.method, Method::Get);
    assert_eq!(
        req.url,
        "http://h:8080/data-jobs/for-team/data%20team/jobs/j%C3%B6b/deployments/dep%231/secrets"
    );
    assert_eq!(req.header("accept"), Some("application/json"));
    assert_eq!(req.header("authorization"), None);
    assert!(req.body.is_none());
}

#[test]
fn requests_carry_the_bearer_token() {
    let req = endpoint(Some("abc.def")).read_request();
    assert_eq!(req.header("authorization"), Some("Bearer abc.def"));
}

#[test]
fn replace_request_sends_json_and_if_match_when_known() {
    let ep = endpoint(None);
    let set = secrets(json!({"b": 2, "a": "x"}));
    let etag = ETag::new("\"7\"");
    let req = ep
        .replace_request(&set, Some(&etag), &Limits::default())
        .unwrap();
    assert_eq!(req.method, Method::Put);
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("if-match"), Some("\"7\""));
    assert_eq!(req.body.as_deref(), Some(&br#"{"a":"x","b":2}"#[..]));

    let req = ep.replace_request(&set, None, &Limits::default()).unwrap();
    assert_eq!(req.header("if-match"), None);
}

#[test]
fn replace_request_refuses_an_invalid_set_before_sending() {
    let set = secrets(json!({"bad name": "hunter2", "ok": 1}));
    let e = endpoint(None)
        .replace_request(&set, None, &Limits::default())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(e.problems()[0].key, "bad name");
    assert!(!e.to_string().contains("hunter2"));
}

#[test]
fn rejects_base_urls_that_are_not_http() {
    for bad in [
        "",
        "cs.example.com",
        "ftp://x",
        "http://",
        "http://h/?q=1",
        "http://h/#f",
        "http://a b",
    ] {
        let job = JobRef::new("t", "j").unwrap();
        let e = Endpoint::new(bad, job, None).unwrap_err();
        assert_eq!(e.problems()[0].key, "base_url", "{bad}");
    }
}

#[test]
fn base_url_keeps_its_path_and_loses_trailing_slashes() {
    assert_eq!(endpoint(None).base_url(), "https://cs.example.com/api");
    assert!(
        endpoint(None)
            .url()
            .starts_with("https://cs.example.com/api/data-jobs/")
    );
}

#[test]
fn token_must_be_printable_ascii() {
    assert!(Token::new("").is_err());
    assert!(Token::new("a b").is_err());
    assert!(Token::new("tök").is_err());
    assert_eq!(Token::new("  abc \n").unwrap().expose(), "abc");
    assert_eq!(
        format!("{:?}", Token::new("abc").unwrap()),
        "Token(<redacted>)"
    );
}

#[test]
fn read_200_with_object_returns_secrets_and_etag() {
    let resp =
        HttpResponse::new(200, r#"{"a": 1, "b": {"c": [true]}}"#).with_header("ETag", "\"4\"");
    let v = endpoint(None).read_response(&resp).unwrap();
    assert_eq!(v.secrets.len(), 2);
    assert_eq!(v.secrets.get("b").unwrap().expose(), &json!({"c": [true]}));
    assert_eq!(v.etag, Some(ETag::new("\"4\"")));
}

#[test]
fn read_200_empty_object_is_an_empty_set_without_etag() {
    let v = endpoint(None)
        .read_response(&HttpResponse::new(200, "{}"))
        .unwrap();
    assert!(v.secrets.is_empty());
    assert_eq!(v.etag, None);
}

#[test]
fn read_200_with_non_json_or_non_object_is_a_protocol_error() {
    for (body, needle) in [
        ("<html>login</html>", "not valid JSON"),
        ("", "not valid JSON"),
        (r#"["hunter2"]"#, "JSON list"),
        (r#""hunter2""#, "JSON string"),
        ("null", "JSON null"),
        (r#"{"a": "hunter2""#, "not valid JSON"),
    ] {
        let e = endpoint(None)
            .read_response(&HttpResponse::new(200, body))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{body}");
        assert!(e.to_string().contains(needle), "{body}: {e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}

#[test]
fn replace_accepts_any_2xx() {
    for status in [200, 201, 202, 204] {
        let resp = HttpResponse::new(status, "");
        assert_eq!(endpoint(None).replace_response(&resp), Ok(None), "{status}");
    }
    let resp = HttpResponse::new(204, "").with_header("etag", "\"9\"");
    assert_eq!(
        endpoint(None).replace_response(&resp),
        Ok(Some(ETag::new("\"9\"")))
    );
}

#[test]
fn every_error_status_maps_to_its_kind() {
    use ErrorKind::*;
    let cases = [
        (400, InvalidInput),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (405, Protocol),
        (408, Unavailable),
        (409, Conflict),
        (412, Conflict),
        (413, TooLarge),
        (415, Protocol),
        (429, Unavailable),
        (500, Unavailable),
        (501, NotConfigured),
        (502, Unavailable),
        (503, Unavailable),
        (504, Unavailable),
        (302, Protocol),
        (100, Protocol),
    ];
    for (status, kind) in cases {
        let resp = HttpResponse::new(status, "");
        let read = endpoint(None).read_response(&resp).unwrap_err();
        assert_eq!(read.kind(), kind, "read {status}");
        assert_eq!(read.status(), Some(status));
        assert!(read.to_string().contains(&format!("HTTP {status}")));
        let write = endpoint(None).replace_response(&resp).unwrap_err();
        assert_eq!(write.kind(), kind, "write {status}");
        assert!(write.to_string().contains("could not be saved"));
    }
}

#[test]
fn read_of_200_status_only_succeeds_for_200() {
    let e = endpoint(None)
        .read_response(&HttpResponse::new(204, ""))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
}

#[test]
fn upstream_error_body_supplies_why_and_countermeasures() {
    let body = json!({
        "what": "Secrets too large",
        "why": "The secrets exceed 1048576 bytes",
        "consequences": "The secrets were not saved",
        "countermeasures": "Store fewer secrets",
        "requestedUrl": "/x"
    });
    let e = endpoint(None)
        .replace_response(&HttpResponse::new(413, body.to_string()))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    let r = e.report();
    assert_eq!(
        r.what,
        "The secrets of job `data team/job-1` could not be saved"
    );
    assert_eq!(
        r.why,
        "Secrets too large: The secrets exceed 1048576 bytes; The secrets were not saved"
    );
    assert_eq!(r.countermeasures, "Store fewer secrets");
}

#[test]
fn partial_or_foreign_error_bodies_fall_back_to_our_explanation() {
    let e = endpoint(None)
        .read_response(&HttpResponse::new(403, r#"{"why": "team mismatch"}"#))
        .unwrap_err();
    assert_eq!(e.report().why, "team mismatch");
    assert!(e.report().countermeasures.contains("access"));

    for body in ["<h1>Forbidden</h1>", "{}", r#"{"error": "x"}"#, "[1]"] {
        let e = endpoint(None)
            .read_response(&HttpResponse::new(403, body))
            .unwrap_err();
        assert!(e.report().why.contains("not allowed"), "{body}: {e}");
    }
}

#[test]
fn server_text_is_clipped_and_cannot_forge_log_lines() {
    let body = json!({"what": "x\nINFO forged line", "why": "y".repeat(5000)});
    let e = endpoint(None)
        .read_response(&HttpResponse::new(500, body.to_string()))
        .unwrap_err();
    let shown = e.to_string();
    assert!(!shown.contains('\n'), "{shown}");
    assert!(shown.len() < 1500, "{}", shown.len());
}

#[test]
fn bad_request_from_server_lists_the_server_reason_as_a_problem() {
    let body = json!({"what": "Invalid job name", "why": "blank"});
    let e = endpoint(None)
        .replace_response(&HttpResponse::new(400, body.to_string()))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(e.problems().len(), 1);
    assert!(e.problems()[0].message.contains("Invalid job name"));
}

#[test]
fn bad_request_keeps_the_servers_problem_for_each_key() {
    let body = json!({
        "what": "The secrets are not valid",
        "why": "2 problems",
        "problems": [
            {"key": "a b", "message": "contains whitespace"},
            {"key": "", "message": "the set is 2000 bytes and the limit is 1024 bytes"},
            {"key": "skipped", "message": 7},
            "not an object",
        ],
    });
    let e = endpoint(None)
        .replace_response(&HttpResponse::new(400, body.to_string()))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let problems = crate::error::key_message_pairs(e.problems());
    assert_eq!(
        problems,
        [
            ("a b", "contains whitespace"),
            ("", "the set is 2000 bytes and the limit is 1024 bytes"),
        ]
    );
    // A malformed list costs nothing else.
    let body = json!({"what": "Invalid", "problems": {"not": "a list"}});
    let e = endpoint(None)
        .replace_response(&HttpResponse::new(400, body.to_string()))
        .unwrap_err();
    assert_eq!(e.problems().len(), 1);
    assert!(e.problems()[0].message.contains("Invalid"));
    // A field of the wrong type counts as absent; the others still speak.
    let body = json!({"what": 5, "why": "the name is blank"});
    let e = endpoint(None)
        .replace_response(&HttpResponse::new(400, body.to_string()))
        .unwrap_err();
    assert_eq!(e.problems()[0].message, "the name is blank");
}

#[test]
fn debug_and_display_never_show_a_secret_value() {
    const SECRET: &str = "hunter2-do-not-print";
    let value = SecretValue::new(json!({"nested": [SECRET]}));
    let set = secrets(json!({"pw": SECRET, "bad name": SECRET, "obj": {"k": SECRET}}));
    let versioned = Versioned {
        secrets: set.clone(),
        etag: None,
    };
    let ep = endpoint(Some("tok-not-for-print"));
    let request = Endpoint::replace_request(
        &ep,
        &secrets(json!({"pw": SECRET})),
        None,
        &Limits::default(),
    )
    .unwrap();
    let errors = [
        ep.replace_request(&set, None, &Limits::default())
            .unwrap_err(),
        ep.replace_request(&set, None, &Limits { max_set_bytes: 10 })
            .unwrap_err(),
        ep.read_response(&HttpResponse::new(200, format!("[\"{SECRET}\"]")))
            .unwrap_err(),
        ep.read_response(&HttpResponse::new(200, format!("\"{SECRET}")))
            .unwrap_err(),
        SecretValue::from_json("pw", &format!("\"{SECRET}")).unwrap_err(),
        Secrets::from_json_document(&format!("[\"{SECRET}\"]")).unwrap_err(),
        Secrets::from_json_document(&format!("{{\"a\": \"{SECRET}\", \"a\": 1}}")).unwrap_err(),
        crate::client::keep_type(
            "n",
            Some(&SecretValue::new(json!(1))),
            SecretValue::string(SECRET),
        )
        .unwrap_err(),
    ];
    let mut shown = vec![
        format!("{value:?}"),
        format!("{set:?}"),
        format!("{versioned:?}"),
        format!("{ep:?}"),
        format!("{request:?}"),
    ];
    for e in &errors {
        shown.push(format!("{e}"));
        shown.push(format!("{e:?}"));
        shown.push(format!("{:?}", e.report()));
    }
    for text in shown {
        assert!(!text.contains(SECRET), "leaked in: {text}");
        assert!(
            !text.contains("tok-not-for-print"),
            "token leaked in: {text}"
        );
    }
}

// Version history

fn history_body() -> serde_json::Value {
    json!({
        "current": 7,
        "versions": [
            {"version": 7, "time": "2026-12-01T03:04:05Z", "author": "alice", "restoredFrom": 5,
             "previous": 6, "added": ["new_key"], "changed": ["db_password"], "removed": ["old_key"]},
            {"version": 6, "time": "2026-11-30T00:00:00Z", "author": null, "restoredFrom": null,
             "previous": null, "added": ["a", "b"], "changed": [], "removed": []}
        ]
    })
}

#[test]
fn history_requests_hang_off_the_secrets_path() {
    let ep = endpoint(Some("tok"));
    let list = ep.versions_request();
    assert_eq!(list.method, Method::Get);
    assert_eq!(
        list.url,
        "https://cs.example.com/api/data-jobs/for-team/data%20team/jobs/job-1/deployments/TODO/secrets/versions"
    );
    assert_eq!(list.header("authorization"), Some("Bearer tok"));
    let one = ep.version_request(3).unwrap();
    assert_eq!(one.method, Method::Get);
    assert!(one.url.ends_with("/secrets/versions/3"), "{}", one.url);
    assert!(one.body.is_none());
}

#[test]
fn restore_request_posts_with_if_match_and_no_body() {
    let req = endpoint(None)
        .restore_request(5, &ETag::new("\"7\""))
        .unwrap();
    assert_eq!(req.method, Method::Post);
    assert!(
        req.url.ends_with("/secrets/versions/5/restore"),
        "{}",
        req.url
    );
    assert_eq!(req.header("if-match"), Some("\"7\""));
    assert!(req.body.is_none());
}

#[test]
fn version_zero_and_a_broken_etag_are_refused_before_sending() {
    let ep = endpoint(None);
    for e in [
        ep.version_request(0).unwrap_err(),
        ep.restore_request(0, &ETag::new("\"7\"")).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(e.problems()[0].key, "version");
    }
    for tag in ["", "  ", "\"7\"\r\nx: y"] {
        let e = ep.restore_request(1, &ETag::new(tag)).unwrap_err();
        assert_eq!(e.problems()[0].key, "etag", "{tag:?}");
    }
}

#[test]
fn version_list_is_parsed_newest_first_with_unknown_authors() {
    let resp = HttpResponse::new(200, history_body().to_string());
    let history = endpoint(None).versions_response(&resp).unwrap();
    assert_eq!(history.current, 7);
    assert_eq!(
        history.versions,
        [
            VersionInfo {
                version: 7,
                time: "2026-12-01T03:04:05Z".into(),
                author: Some("alice".into()),
                restored_from: Some(5),
                previous: Some(6),
                added: vec!["new_key".into()],
                changed: vec!["db_password".into()],
                removed: vec!["old_key".into()],
            },
            VersionInfo {
                version: 6,
                time: "2026-11-30T00:00:00Z".into(),
                author: None,
                restored_from: None,
                previous: None,
                added: vec!["a".into(), "b".into()],
                changed: vec![],
                removed: vec![],
            },
        ]
    );
}

#[test]
fn version_list_of_a_job_never_written_is_empty_and_optional_fields_may_be_absent() {
    let resp = HttpResponse::new(200, r#"{"current": 0, "versions": []}"#);
    let history = endpoint(None).versions_response(&resp).unwrap();
    assert_eq!(history, History::default());

    let body = r#"{"current": 2, "versions": [{"version": 2, "time": "t"}], "extra": 1}"#;
    let history = endpoint(None)
        .versions_response(&HttpResponse::new(200, body))
        .unwrap();
    let v = &history.versions[0];
    assert_eq!(
        (v.version, v.author.as_deref(), v.previous),
        (2, None, None)
    );
    assert!(v.added.is_empty() && v.changed.is_empty() && v.removed.is_empty());
}

#[test]
fn malformed_version_list_is_a_protocol_error_naming_what_is_wrong() {
    let entry = |patch: serde_json::Value| {
        let mut e = history_body()["versions"][0].clone();
        for (k, v) in patch.as_object().unwrap() {
            e[k] = v.clone();
        }
        json!({"current": 7, "versions": [history_body()["versions"][1], e]}).to_string()
    };
    let cases = [
        ("<html>login</html>".to_string(), "not valid JSON"),
        (String::new(), "not valid JSON"),
        ("[]".into(), "JSON list, not an object"),
        ("{}".into(), "no `current`"),
        (r#"{"current": -1, "versions": []}"#.into(), "no `current`"),
        (r#"{"current": 1.5, "versions": []}"#.into(), "no `current`"),
        (r#"{"current": 1}"#.into(), "no `versions` list"),
        (
            r#"{"current": 1, "versions": {}}"#.into(),
            "no `versions` list",
        ),
        (r#"{"current": 1, "versions": [7]}"#.into(), "entry 1"),
        (
            entry(json!({"version": null})),
            "entry 2 of the version list, `version` is missing",
        ),
        (
            entry(json!({"version": "7"})),
            "`version` is not a version number",
        ),
        (entry(json!({"time": 5})), "`time` is missing or not text"),
        (
            entry(json!({"author": ["x"]})),
            "`author` is neither text nor null",
        ),
        (entry(json!({"restoredFrom": -5})), "`restoredFrom` is not"),
        (entry(json!({"previous": "6"})), "`previous` is not"),
        (
            entry(json!({"added": "x"})),
            "`added` is not a list of names",
        ),
        (
            entry(json!({"changed": [1]})),
            "`changed` holds something other than names",
        ),
        (
            entry(json!({"removed": {}})),
            "`removed` is not a list of names",
        ),
        ("[".repeat(100_000), "not valid JSON"),
    ];
    for (body, needle) in cases {
        let e = endpoint(None)
            .versions_response(&HttpResponse::new(200, body.clone()))
            .unwrap_err();
        let short = &body[..body.len().min(60)];
        assert_eq!(e.kind(), ErrorKind::Protocol, "{short}");
        assert_eq!(e.status(), Some(200));
        assert!(e.to_string().contains(needle), "{short}: {e}");
        assert!(e.to_string().contains("version history"), "{e}");
    }
}

#[test]
fn a_server_without_history_is_not_supported() {
    let ep = endpoint(None);
    // Upstream answers its usual error body, or none, where the history would be.
    let upstream = json!({"what": "Not found", "why": "no such path"}).to_string();
    for status in [404, 405, 501] {
        for body in [
            upstream.as_str(),
            "",
            "<html></html>",
            r#"{"versions": "x"}"#,
        ] {
            let resp = HttpResponse::new(status, body);
            let errors = [
                ep.versions_response(&resp).unwrap_err(),
                ep.version_response(3, &resp).unwrap_err(),
                ep.restore_response(3, &resp).unwrap_err(),
            ];
            for e in errors {
                assert_eq!(e.kind(), ErrorKind::NotSupported, "{status} {body}");
                assert_eq!(e.kind().code(), "not-supported");
                assert_eq!(e.status(), Some(status));
                assert!(e.to_string().contains("keeps no version history"), "{e}");
            }
        }
    }
    // The server's own words, when it sent some, say more about why.
    let resp = HttpResponse::new(
        501,
        json!({"what": "No storage", "why": "backend none"}).to_string(),
    );
    let e = ep.versions_response(&resp).unwrap_err();
    assert!(
        e.report().why.ends_with("(No storage: backend none)"),
        "{e}"
    );
    // Other failures keep their usual kinds.
    for (status, kind) in [
        (401, ErrorKind::Unauthorized),
        (503, ErrorKind::Unavailable),
    ] {
        let e = ep
            .versions_response(&HttpResponse::new(status, ""))
            .unwrap_err();
        assert_eq!(e.kind(), kind);
        assert!(e.to_string().contains("version history"), "{e}");
    }
}

#[test]
fn a_missing_version_is_not_found_naming_the_versions_that_exist() {
    let ep = endpoint(None);
    let body = json!({"what": "No such version", "why": "version 9 is not kept",
                      "versions": [3, 4, 5, 6, 7]})
    .to_string();
    let resp = HttpResponse::new(404, body);
    for e in [
        ep.version_response(9, &resp).unwrap_err(),
        ep.restore_response(9, &resp).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.status(), Some(404));
        assert!(e.to_string().contains("Version 9"), "{e}");
        assert!(e.report().why.contains("can be read are 3-7"), "{e}");
    }
    let e = ep
        .version_response(2, &HttpResponse::new(404, r#"{"versions": []}"#))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.report().why.contains("no version can be read"), "{e}");
}

#[test]
fn listed_versions_are_shown_short() {
    assert_eq!(describe_versions(vec![1, 3, 4, 5, 9, 10]), "1, 3-5, 9, 10");
    assert_eq!(
        describe_versions(vec![u64::MAX - 1, u64::MAX]),
        format!("{}, {}", u64::MAX - 1, u64::MAX)
    );
    let many: Vec<u64> = (1..=100).map(|n| n * 2).collect();
    let shown = describe_versions(many);
    assert!(shown.ends_with("… (100 versions in all)"), "{shown}");
    assert_eq!(
        listed_versions(br#"{"versions": [5, 3, 3, "x", -1, 4]}"#),
        Some(vec![3, 4, 5])
    );
    assert_eq!(listed_versions(br#"{"why": "x"}"#), None);
    // In order either way, repeats dropped, whatever order the server lists them in.
    for listed in ["[1, 2, 2, 7]", "[7, 2, 2, 1]", "[2, 7, 1, 2]", "[7]"] {
        let body = format!(r#"{{"versions": {listed}}}"#);
        let want = if listed == "[7]" {
            vec![7]
        } else {
            vec![1, 2, 7]
        };
        assert_eq!(listed_versions(body.as_bytes()), Some(want), "{listed}");
    }
    assert_eq!(listed_versions(br#"{"versions": []}"#), Some(vec![]));
    // A long list newest first, as servers send it, is read without reordering one by one.
    let newest_first: Vec<String> = (1..=200_000).rev().map(|n| n.to_string()).collect();
    let body = format!(r#"{{"versions": [{}]}}"#, newest_first.join(","));
    let read = listed_versions(body.as_bytes()).unwrap();
    assert_eq!((read.len(), read[0], read[199_999]), (200_000, 1, 200_000));
    // A long list in no order is put in order for its first 10,000 versions only: inserting
    // one by one costs n² moves, and no error message needs more.
    let shuffled: Vec<String> = (0..50_000u64)
        .map(|n| (n * 7_919 % 50_000).to_string())
        .collect();
    let body = format!(r#"{{"versions": [{}]}}"#, shuffled.join(","));
    let read = listed_versions(body.as_bytes()).unwrap();
    assert_eq!(read.len(), 10_000);
    assert!(read.windows(2).all(|pair| pair[0] < pair[1]));
}

#[test]
fn version_response_returns_the_old_set() {
    let resp = HttpResponse::new(200, r#"{"a": 1, "b": [true]}"#);
    let set = endpoint(None).version_response(4, &resp).unwrap();
    assert_eq!(set.len(), 2);
    assert_eq!(set.get("b").unwrap().expose(), &json!([true]));
    let e = endpoint(None)
        .version_response(4, &HttpResponse::new(200, r#"["hunter2"]"#))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(!e.to_string().contains("hunter2"));
    assert!(e.to_string().contains("Version 4"), "{e}");
}

#[test]
fn restore_returns_the_new_etag_and_a_stale_one_is_a_conflict() {
    let ep = endpoint(None);
    let ok = HttpResponse::new(204, "").with_header("ETag", "\"8\"");
    assert_eq!(ep.restore_response(5, &ok), Ok(ETag::new("\"8\"")));

    let stale = HttpResponse::new(
        412,
        json!({"what": "Stale", "why": "the set is at 9"}).to_string(),
    );
    let e = ep.restore_response(5, &stale).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(e.status(), Some(412));
    assert!(e.to_string().contains("could not be restored"), "{e}");

    let bad = HttpResponse::new(400, json!({"what": "Invalid version"}).to_string());
    assert_eq!(
        ep.restore_response(5, &bad).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );

    // A success without the new version's tag: restored, but the caller must read to go on.
    let e = ep
        .restore_response(5, &HttpResponse::new(204, ""))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(e.to_string().contains("was restored"), "{e}");
}

#[test]
fn health_request_goes_to_the_base_url_without_credentials() {
    let req = endpoint(Some("abc.def")).health_request();
    assert_eq!(req.method, Method::Get);
    assert_eq!(req.url, "https://cs.example.com/api/health");
    assert_eq!(req.header("authorization"), None);
    assert_eq!(req.header("accept"), Some("application/json"));
}

#[test]
fn health_response_gives_the_reported_limit_or_none() {
    let ep = endpoint(None);
    let limit = |status, body: &str| ep.health_response(&HttpResponse::new(status, body));
    let reported = r#"{"status":"ok","maxSetBytes":2048}"#;
    assert_eq!(limit(200, reported).unwrap().max_set_bytes, Some(2048));
    // The reference server reports its limit while its backend is down too.
    let down = r#"{"status":"unavailable","reachable":false,"maxSetBytes":4096}"#;
    assert_eq!(limit(503, down).unwrap().max_set_bytes, Some(4096));
    for (status, body) in [
        (200, "{}"),
        (200, "<html>login</html>"),
        (200, r#"{"maxSetBytes":0}"#),
        (200, r#"{"maxSetBytes":-1}"#),
        (200, r#"{"maxSetBytes":1.5}"#),
        (200, r#"[{"maxSetBytes":10}]"#),
        (404, ""),
        (405, ""),
        (501, ""),
    ] {
        assert_eq!(
            limit(status, body).unwrap().max_set_bytes,
            None,
            "{status} {body}"
        );
    }
    for (status, kind) in [
        (401, ErrorKind::Unauthorized),
        (403, ErrorKind::Forbidden),
        (503, ErrorKind::Unavailable),
        (302, ErrorKind::Protocol),
    ] {
        let e = limit(status, "").unwrap_err();
        assert_eq!(e.kind(), kind, "{status}");
        assert_eq!(e.status(), Some(status));
        assert!(
            e.to_string().starts_with(
                "The limits of the server at https://cs.example.com/api could not be read"
            ),
            "{e}"
        );
    }
}

#[test]
fn operation_names_are_their_debug_text() {
    for op in [
        Operation::Read,
        Operation::Replace,
        Operation::ListVersions,
        Operation::ReadVersion(0),
        Operation::ReadVersion(u64::MAX),
        Operation::RestoreVersion(17),
        Operation::ReadLimits,
    ] {
        assert_eq!(op.name(), format!("{op:?}"));
    }
}
