//! The native transport: reqwest over tokio, with rustls for TLS.

use std::time::Duration;

use super::{CONNECT_TIMEOUT, EXCHANGE_TIMEOUT, keeps_header, too_large, too_large_error};
use crate::error::{Error, Report};
use crate::http::{HttpRequest, HttpResponse, Method, TransportError};

pub use super::MAX_RESPONSE_BYTES;

/// Sends requests with reqwest. Cheap to clone; clones share connections.
#[derive(Clone, Debug)]
pub struct NativeTransport {
    client: reqwest::Client,
}

impl NativeTransport {
    /// A transport with the core's timeouts ([`CONNECT_TIMEOUT`], [`EXCHANGE_TIMEOUT`]).
    pub fn new() -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(EXCHANGE_TIMEOUT)
            .build()
            .map_err(|e| {
                Error::Unavailable(Report::new(
                    "The HTTP client could not start",
                    describe(&e),
                    "Check the system's TLS configuration.",
                ))
            })?;
        Ok(NativeTransport { client })
    }

    /// A transport over a reqwest client configured by the caller (proxies, CA certificates,
    /// its own timeouts); the size cap and the headers kept are the core's still.
    pub fn with_client(client: reqwest::Client) -> Self {
        NativeTransport { client }
    }
}

impl crate::Transport for NativeTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Put => reqwest::Method::PUT,
            Method::Post => reqwest::Method::POST,
        };
        let mut builder = self.client.request(method, &request.url);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let mut response = builder.send().await.map_err(|e| {
            if e.is_timeout() {
                super::timed_out_error(!e.is_connect())
            } else if e.is_connect() {
                TransportError::not_sent(describe(&e))
            } else {
                TransportError::maybe_sent(describe(&e))
            }
        })?;
        let status = response.status().as_u16();
        if response.content_length().is_some_and(too_large) {
            return Err(too_large_error());
        }
        let headers = response
            .headers()
            .iter()
            .filter(|(n, _)| keeps_header(n.as_str()))
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| TransportError::maybe_sent(describe(&e)))?
        {
            if too_large((body.len() + chunk.len()) as u64) {
                return Err(too_large_error());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// The error and its causes in one line ("error sending request: connection refused").
/// reqwest's messages name the URL, which holds no secret; never a header or a body.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
