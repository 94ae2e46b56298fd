//! Any bytes as a secrets document: parsing and validation never panic, accepted sets
//! survive a round trip, and no error quotes a string value of the document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vdk_secrets::validate::{self, Limits};
use vdk_secrets::{SecretValue, Secrets};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = SecretValue::from_json("name", text);
    match Secrets::from_json_document(text) {
        Ok(set) => {
            let limits = Limits { max_set_bytes: 4096 };
            match validate::secrets(&set, &limits) {
                Ok(()) => {
                    let again = Secrets::from_json_document(&set.to_json()).unwrap();
                    assert_eq!(again, set);
                }
                Err(e) => {
                    let shown = e.to_string();
                    for (_, value) in set.iter() {
                        if let Some(s) = value.expose().as_str() {
                            // Short strings can appear by chance (in a name or a number).
                            if s.len() >= 12 {
                                assert!(!shown.contains(s), "a value leaked into an error");
                            }
                        }
                    }
                }
            }
        }
        Err(e) => assert!(!e.report().what.is_empty()),
    }
});
