//! The transports, and the policy every one of them applies, decided here once: how long an
//! exchange may take, how large an answer may be, which response headers the core reads.
//! A transport moves bytes as bytes: the request body is sent as the core built it, and the
//! response body is handed back unchanged (never decoded into text on the way).
//!
//! | transport | feature | timeouts | size cap |
//! |---|---|---|---|
//! | [`native`] (reqwest) | `native` | connect, and the whole exchange | counted per chunk |
//! | [`fetch`] (the JS `fetch`) | `js` | the whole exchange (an abort signal) | `Content-Length`, then the body |
//! | [`wasi`] (wasi:http) | `component` | connect, first byte, between bytes | `Content-Length`, then per frame |

use std::time::Duration;

use crate::http::TransportError;
use crate::text::{concat, decimal};

#[cfg(feature = "native")]
pub mod native;

#[cfg(feature = "js")]
pub mod fetch;

#[cfg(all(feature = "component", target_os = "wasi"))]
pub mod wasi;

/// The longest wait for a connection to the server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest a whole exchange may take, from sending the request to the last byte of the
/// answer. Transports that cannot bound the whole exchange bound each wait for bytes by it.
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest response body accepted. Well above any legal set, small enough that a
/// misdirected URL (a download, say) cannot exhaust memory.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The response headers the core reads; transports keep these and drop the rest.
pub const RESPONSE_HEADERS: [&str; 1] = ["etag"];

/// Whether the core reads response header `name` (any case).
pub fn keeps_header(name: &str) -> bool {
    RESPONSE_HEADERS
        .iter()
        .any(|kept| kept.eq_ignore_ascii_case(name))
}

/// Whether a body of `length` bytes (as announced or as received so far) is over the cap.
pub fn too_large(length: u64) -> bool {
    length > MAX_RESPONSE_BYTES as u64
}

/// The error for an answer over [`MAX_RESPONSE_BYTES`]. The request reached the server.
pub fn too_large_error() -> TransportError {
    TransportError::maybe_sent(concat(&[
        "the response is larger than ",
        &decimal(MAX_RESPONSE_BYTES as u64),
        " bytes, far more than any set of secrets; check that the URL points at the \
         Secrets API",
    ]))
}

/// The error for a request that ran out of time: `maybe_sent` when a connection was made
/// and the request may have reached the server, so the whole exchange took longer than
/// [`EXCHANGE_TIMEOUT`]; otherwise no connection was made within [`CONNECT_TIMEOUT`]. The
/// message names the limit that was reached.
pub fn timed_out_error(maybe_sent: bool) -> TransportError {
    if maybe_sent {
        TransportError::maybe_sent(concat(&[
            "the server did not answer within ",
            &decimal(EXCHANGE_TIMEOUT.as_secs()),
            " seconds",
        ]))
    } else {
        TransportError::not_sent(concat(&[
            "no connection to the server could be made within ",
            &decimal(CONNECT_TIMEOUT.as_secs()),
            " seconds",
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_keeps_the_headers_the_core_reads() {
        assert!(keeps_header("ETag") && keeps_header("etag"));
        assert!(!keeps_header("set-cookie"));
        assert!(!too_large(MAX_RESPONSE_BYTES as u64));
        assert!(too_large(MAX_RESPONSE_BYTES as u64 + 1));
        let e = too_large_error();
        assert!(e.maybe_sent && !e.permanent);
        assert!(e.message.contains("67108864 bytes"), "{}", e.message);
        // Each timeout names its own limit: the whole exchange, or making the connection.
        let exchange = timed_out_error(true);
        assert!(exchange.maybe_sent, "{}", exchange.message);
        assert!(
            exchange.message.contains(" 30 seconds"),
            "{}",
            exchange.message
        );
        let connect = timed_out_error(false);
        assert!(!connect.maybe_sent, "{}", connect.message);
        assert_eq!(
            connect.message,
            "no connection to the server could be made within 10 seconds"
        );
    }
}
