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
    let problems: Vec<(&str, &str)> = e
        .problems()
        .iter()
        .map(|p| (p.key.as_str(), p.message.as_str()))
        .collect();
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
