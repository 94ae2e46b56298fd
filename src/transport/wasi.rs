//! The WASI transport: wasi:http's outgoing handler, through wstd.

use std::time::Duration;

use http_body_util::BodyExt;
use wstd::http::{Body, Client, Method as WasiMethod, Request};

use super::{CONNECT_TIMEOUT, EXCHANGE_TIMEOUT, keeps_header, too_large, too_large_error};
use crate::http::{HttpRequest, HttpResponse, Method, TransportError};

/// Sends requests with wasi:http (WASI 0.2 components).
#[derive(Clone, Copy, Debug, Default)]
pub struct WasiTransport;

impl crate::Transport for WasiTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = match request.method {
            Method::Get => WasiMethod::GET,
            Method::Put => WasiMethod::PUT,
            Method::Post => WasiMethod::POST,
        };
        let mut builder = Request::builder().method(method).uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        let body = match request.body {
            Some(bytes) => Body::from(bytes),
            // wstd's empty body writes a zero-length chunk, which turns a refused request into
            // a misleading "connection reset"; a truly empty body does not.
            None => Body::from_http_body(http_body_util::Empty::<bytes::Bytes>::new()),
        };
        let outgoing = builder
            .body(body)
            .map_err(|e| TransportError::not_sent(format!("cannot build the request: {e}")))?;
        // wasi:http bounds each wait rather than the whole exchange: the connection, the
        // first byte, and each wait between bytes.
        let mut client = Client::new();
        client.set_connect_timeout(CONNECT_TIMEOUT);
        client.set_first_byte_timeout(EXCHANGE_TIMEOUT);
        client.set_between_bytes_timeout(EXCHANGE_TIMEOUT);
        let response = client.send(outgoing).await.map_err(send_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter(|(name, _)| keeps_header(name.as_str()))
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let incoming = response.into_body();
        if incoming.content_length().is_some_and(too_large) {
            return Err(too_large_error());
        }
        let mut stream = incoming.into_boxed_body();
        let mut body = Vec::new();
        while let Some(frame) = stream.frame().await {
            let frame = frame.map_err(|e| TransportError::maybe_sent(e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                if too_large((body.len() + data.len()) as u64) {
                    return Err(too_large_error());
                }
                body.extend_from_slice(&data);
            }
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    async fn sleep(&self, duration: Duration) {
        wstd::task::sleep(duration.into()).await;
    }
}

/// Names the wasi:http failures a person can act on; the rest keep wasi:http's wording.
fn send_error(e: wstd::http::Error) -> TransportError {
    use wstd::http::error::ErrorCode;
    match e.downcast_ref::<ErrorCode>() {
        Some(ErrorCode::HttpRequestDenied) => TransportError::refused(
            "the host running this component denied the request; it allows only the \
             Control Service's address",
        ),
        Some(ErrorCode::ConnectionRefused) => TransportError::not_sent("connection refused"),
        Some(ErrorCode::ConnectionTimeout) => super::timed_out_error(false),
        Some(ErrorCode::ConnectionReadTimeout) => super::timed_out_error(true),
        _ => TransportError::maybe_sent(e.to_string()),
    }
}
