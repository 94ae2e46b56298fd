//! Any status, headers and body from a server: interpreting them never panics, and every
//! error has a kind, a status and a one-line message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vdk_secrets::{Endpoint, HttpResponse, JobRef};

fuzz_target!(|input: (u16, Vec<(String, String)>, Vec<u8>)| {
    let (status, headers, body) = input;
    let job = JobRef::new("team", "job").unwrap();
    let endpoint = Endpoint::new("http://127.0.0.1:1", job, None).unwrap();
    let response = HttpResponse {
        status,
        headers,
        body,
    };
    for result in [
        endpoint.read_response(&response).map(|_| ()),
        endpoint.replace_response(&response).map(|_| ()),
        endpoint.versions_response(&response).map(|_| ()),
        endpoint.version_response(3, &response).map(|_| ()),
        endpoint.restore_response(3, &response).map(|_| ()),
    ] {
        if let Err(e) = result {
            assert_eq!(e.status(), Some(status));
            assert!(!e.to_string().contains('\n'));
        }
    }
});
