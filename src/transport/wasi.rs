//! The WASI transport: wasi:http's outgoing handler, called through its generated bindings.
//!
//! Every wait blocks on a wasi:io pollable, so a [`WasiTransport`] future never returns
//! `Pending`: a component drives the client's futures with [`block_on`], which polls once,
//! and needs no executor, reactor or waker of its own.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, Method as WasiMethod, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme,
};
use wasip2::io::streams::{InputStream, OutputStream, StreamError};

use super::{CONNECT_TIMEOUT, EXCHANGE_TIMEOUT, RESPONSE_HEADERS, too_large, too_large_error};
use crate::http::{HttpRequest, HttpResponse, Method, TransportError};

/// Sends requests with wasi:http (WASI 0.2 components).
#[derive(Clone, Copy, Debug, Default)]
pub struct WasiTransport;

/// Runs `future` to its end on the calling thread. Made for futures that wait only by
/// blocking on wasi pollables, as [`WasiTransport`]'s do; one that returns `Pending` is
/// polled again at once.
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return value;
        }
    }
}

impl crate::Transport for WasiTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        exchange(request)
    }

    async fn sleep(&self, duration: Duration) {
        wasip2::clocks::monotonic_clock::subscribe_duration(nanos(duration)).block();
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// One request and its whole response, blocking on each wait.
fn exchange(request: HttpRequest) -> Result<HttpResponse, TransportError> {
    let outgoing = outgoing_request(&request)?;
    // The body is taken only when there is one: a request whose body is never taken goes
    // out without one (no zero-length chunk, which a refusing server would see as a reset).
    let body = match &request.body {
        Some(_) => Some(outgoing.body().map_err(|()| not_built("its body"))?),
        None => None,
    };
    // wasi:http bounds each wait rather than the whole exchange: the connection, the first
    // byte, and each wait between bytes.
    let options = RequestOptions::new();
    let bounded = options
        .set_connect_timeout(Some(nanos(CONNECT_TIMEOUT)))
        .and(options.set_first_byte_timeout(Some(nanos(EXCHANGE_TIMEOUT))))
        .and(options.set_between_bytes_timeout(Some(nanos(EXCHANGE_TIMEOUT))));
    bounded.map_err(|()| not_built("its timeouts"))?;
    let pending = outgoing_handler::handle(outgoing, Some(options)).map_err(exchange_error)?;
    if let (Some(body), Some(bytes)) = (body, &request.body) {
        // A failed write is reported with the host's reason when the response already
        // holds one (a refusal, say); otherwise as a write that may have been delivered.
        let written = write_body(&body, bytes);
        let finished = OutgoingBody::finish(body, None);
        if let Err(e) = written.and(finished.map_err(exchange_error)) {
            return Err(match pending.get() {
                Some(Ok(Err(code))) => exchange_error(code),
                _ => e,
            });
        }
    }
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(exchange_error(code)),
        // Taken already, or not ready after its pollable said so: neither happens.
        Some(Err(())) | None => return Err(TransportError::maybe_sent("no response arrived")),
    };
    drop(pending);
    let status = response.status();
    let fields = response.headers();
    let mut headers = Vec::new();
    for name in RESPONSE_HEADERS {
        for value in fields.get(name) {
            headers.push((
                name.to_string(),
                String::from_utf8_lossy(&value).into_owned(),
            ));
        }
    }
    let announced = fields.get("content-length").first().and_then(|v| {
        std::str::from_utf8(v)
            .ok()?
            .trim_ascii()
            .parse::<u64>()
            .ok()
    });
    drop(fields);
    if announced.is_some_and(too_large) {
        return Err(too_large_error());
    }
    let incoming = response
        .consume()
        .map_err(|()| TransportError::maybe_sent("the response's body could not be read"))?;
    let body = read_body(&incoming, announced)?;
    drop(IncomingBody::finish(incoming));
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// The request with its method, URL parts and headers; its body not yet taken.
fn outgoing_request(request: &HttpRequest) -> Result<OutgoingRequest, TransportError> {
    let headers = Fields::new();
    for (name, value) in &request.headers {
        headers
            .append(name, value.as_bytes())
            .map_err(|_| not_built("a header"))?;
    }
    let outgoing = OutgoingRequest::new(headers);
    let method = match request.method {
        Method::Get => WasiMethod::Get,
        Method::Put => WasiMethod::Put,
        Method::Post => WasiMethod::Post,
    };
    // The endpoint made the URL: `http://` or `https://`, an authority, then the path.
    let (scheme, rest) = match request.url.split_once("://") {
        Some(("https", rest)) => (Scheme::Https, rest),
        Some(("http", rest)) => (Scheme::Http, rest),
        _ => return Err(not_built("its URL")),
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    outgoing
        .set_method(&method)
        .and(outgoing.set_scheme(Some(&scheme)))
        .and(outgoing.set_authority(Some(authority)))
        .and(outgoing.set_path_with_query(Some(path)))
        .map_err(|()| not_built("its URL"))?;
    Ok(outgoing)
}

fn not_built(part: &str) -> TransportError {
    TransportError::not_sent(format!(
        "cannot build the request: wasi:http refused {part}"
    ))
}

/// Writes `bytes` as fast as the stream takes them, then flushes.
fn write_body(body: &OutgoingBody, bytes: &[u8]) -> Result<(), TransportError> {
    let stream: OutputStream = body.write().map_err(|()| not_built("its body"))?;
    let ready = stream.subscribe();
    let mut rest = bytes;
    while !rest.is_empty() {
        ready.block();
        let room = stream.check_write().map_err(stream_error)?;
        let n = rest.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        stream.write(&rest[..n]).map_err(stream_error)?;
        rest = &rest[n..];
    }
    stream.flush().map_err(stream_error)?;
    ready.block();
    stream.check_write().map_err(stream_error)?;
    Ok(())
}

/// How much one read asks for when the response announced no length: twice the largest set
/// (1 MiB), so that a set comes in one read; a host that sets aside what is asked before
/// reading sets aside no more.
const UNANNOUNCED_READ: u64 = 2 << 20;

/// The body, read to its end (or to the cap); `announced` is its length, if the response
/// gave one: reading stops there, without waiting to be told the stream ended.
fn read_body(incoming: &IncomingBody, announced: Option<u64>) -> Result<Vec<u8>, TransportError> {
    let stream: InputStream = incoming
        .stream()
        .map_err(|()| TransportError::maybe_sent("the response's body could not be read"))?;
    let mut body = Vec::new();
    while announced != Some(body.len() as u64) {
        // Ask for what is left of the announced length, or for a piece as large as any set.
        // The host answers with what it holds: a body it read ahead comes in one piece.
        let wanted = announced.map_or(UNANNOUNCED_READ, |n| n.saturating_sub(body.len() as u64));
        match stream.blocking_read(wanted) {
            Ok(chunk) => {
                if too_large((body.len() + chunk.len()) as u64) {
                    return Err(too_large_error());
                }
                if body.is_empty() {
                    // The first chunk is the body, uncopied; usually it is all of it.
                    body = chunk;
                } else {
                    body.extend_from_slice(&chunk);
                }
            }
            Err(StreamError::Closed) => break,
            Err(e) => return Err(stream_error(e)),
        }
    }
    Ok(body)
}

fn stream_error(e: StreamError) -> TransportError {
    match e {
        StreamError::LastOperationFailed(e) => match wasip2::http::types::http_error_code(&e) {
            Some(code) => exchange_error(code),
            None => TransportError::maybe_sent(format!(
                "the connection failed: {}",
                e.to_debug_string()
            )),
        },
        StreamError::Closed => {
            TransportError::maybe_sent("the connection closed before the exchange was complete")
        }
    }
}

/// Names the wasi:http failures in words a person can act on.
fn exchange_error(code: ErrorCode) -> TransportError {
    use TransportError as E;
    match code {
        ErrorCode::HttpRequestDenied => E::refused(
            "the host running this component denied the request; it allows only the \
             Control Service's address",
        ),
        ErrorCode::ConnectionRefused => E::not_sent("connection refused"),
        ErrorCode::ConnectionTimeout => super::timed_out_error(false),
        ErrorCode::ConnectionReadTimeout | ErrorCode::HttpResponseTimeout => {
            super::timed_out_error(true)
        }
        ErrorCode::DnsTimeout | ErrorCode::DnsError(_) | ErrorCode::DestinationNotFound => {
            E::not_sent("the server's name could not be resolved")
        }
        ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpProhibited
        | ErrorCode::DestinationIpUnroutable => E::not_sent("the server cannot be reached"),
        ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => E::not_sent(
            "the TLS handshake with the server failed; check that its certificate is trusted",
        ),
        ErrorCode::ConnectionTerminated | ErrorCode::HttpResponseIncomplete => {
            E::maybe_sent("the connection closed before the answer was complete")
        }
        ErrorCode::InternalError(Some(message)) => E::maybe_sent(message),
        _ => {
            E::maybe_sent("the HTTP exchange failed (wasi:http gave no reason a person can act on)")
        }
    }
}
