//! The plain HTTP values that pass between the sans-IO core and a transport.
//!
//! Deliberately minimal (no `http` crate): every binding converts these at its edge, and the
//! browser build stays small.

use std::fmt;

/// The methods the Secrets API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Read the set.
    Get,
    /// Replace the set.
    Put,
    /// Restore an earlier version of the set.
    Post,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
        }
    }
}

/// A request for a transport to send, exactly as built by [`crate::api::Endpoint`].
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// GET, PUT or POST.
    pub method: Method,
    /// The absolute URL; every path segment is percent-encoded.
    pub url: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body of a PUT (holds secret values); `None` for GET and POST.
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// The value of header `name` (lower case), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpRequest {
    /// Shows method, URL and header names; the token and the body are redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let shown = if *n == "authorization" {
                    "<redacted>"
                } else {
                    v.as_str()
                };
                (*n, shown)
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field(
                "body",
                &self
                    .body
                    .as_ref()
                    .map(|b| format!("<{} bytes redacted>", b.len())),
            )
            .finish()
    }
}

/// A response as received by a transport.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header names and values, names in any case.
    pub headers: Vec<(String, String)>,
    /// The whole body. For a successful read, it holds secret values.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with `status` and `body` and no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// The same response with one more header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first value of header `name`, compared without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpResponse {
    /// Shows status and headers; the body is redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &format!("<{} bytes redacted>", self.body.len()))
            .finish()
    }
}

/// Why a transport could not complete an exchange. Carries no request or response body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError {
    /// What failed, e.g. "connection refused".
    pub message: String,
    /// Whether the request may have reached the server (so a write's outcome is unknown).
    pub maybe_sent: bool,
    /// Whether sending it again cannot help, e.g. the host forbids this destination.
    pub permanent: bool,
}

impl TransportError {
    /// The connection failed before anything was sent.
    pub fn not_sent(message: impl Into<String>) -> Self {
        TransportError {
            message: message.into(),
            maybe_sent: false,
            permanent: false,
        }
    }

    /// Nothing was sent, and trying again cannot change that: a policy refused the request.
    pub fn refused(message: impl Into<String>) -> Self {
        TransportError {
            message: message.into(),
            maybe_sent: false,
            permanent: true,
        }
    }

    /// The exchange failed after the request may have been delivered.
    pub fn maybe_sent(message: impl Into<String>) -> Self {
        TransportError {
            message: message.into(),
            maybe_sent: true,
            permanent: false,
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

/// Percent-encodes one URL path segment: everything but RFC 3986's unreserved characters.
pub fn encode_path_segment(segment: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(segment.len());
    for &b in segment.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_everything_but_unreserved_characters() {
        assert_eq!(encode_path_segment("a-Z_0.~"), "a-Z_0.~");
        assert_eq!(encode_path_segment("a b/c?d#e%"), "a%20b%2Fc%3Fd%23e%25");
        assert_eq!(encode_path_segment("é"), "%C3%A9");
    }

    #[test]
    fn request_debug_redacts_token_and_body() {
        let req = HttpRequest {
            method: Method::Put,
            url: "http://h/x".into(),
            headers: vec![("authorization", "Bearer tok-123".into())],
            body: Some(b"{\"k\":\"hunter2\"}".to_vec()),
        };
        let shown = format!("{req:?}");
        assert!(
            !shown.contains("tok-123") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn response_headers_match_without_case() {
        let resp = HttpResponse::new(200, "{}").with_header("ETag", "\"3\"");
        assert_eq!(resp.header("etag"), Some("\"3\""));
        assert!(!format!("{resp:?}").contains("{}"));
    }
}
