//! The egress allow-list: the secrets component may reach the Control Service's authority
//! and nothing else. Allowed requests go through one keep-alive connection pool per run, so a
//! job that reads its secrets many times does not pay a new TCP (and TLS) handshake each time.
//!
//! An answer's body is read ahead, up to [`READ_AHEAD_BYTES`], on the task that awaited its
//! head, before the component is handed the response: the connection's task and that task
//! hand it over between themselves, and the component finds the body there when it reads,
//! in one piece.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};

use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// How long a connection attempt (TCP and TLS) may take. The pool connects for every request
/// alike, so this one limit applies whatever a request's options say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the response headers, and then each piece of the body, may take when the
/// component sets no limit: a service that accepts a connection and stalls must not hang the
/// job for ever.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an idle pooled connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of a response body read before the component is handed the response: twice the
/// largest set the Secrets API holds. The rest of a longer body is read as the component
/// reads it.
pub const READ_AHEAD_BYTES: usize = 2 << 20;

type Pool = Client<HttpsConnector<HttpConnector>, WasiBody>;

/// Hooks that refuse every request to another authority than the allowed one, and send the
/// allowed ones through a connection pool.
pub struct EgressHooks {
    allowed: Allowed,
    pool: Pool,
}

/// The one scheme, host and port requests may go to, compared with a request's URI as it
/// is, without building any text.
#[derive(Debug, PartialEq)]
struct Allowed {
    https: bool,
    /// Lower-case; an IPv6 address in its brackets, as [`http::Uri::host`] gives it.
    host: String,
    port: u16,
}

impl Allowed {
    /// The authority of `base_url`, as [`authority_of`] gives it.
    fn of(base_url: &str) -> Result<Allowed, String> {
        let authority = authority_of(base_url)
            .ok_or_else(|| format!("the Control Service URL `{base_url}` has no host"))?;
        let https = match authority.split_once("://") {
            Some(("https", _)) => true,
            Some(("http", _)) => false,
            _ => {
                return Err(format!(
                    "the Control Service URL `{base_url}` is not an http:// or https:// URL"
                ));
            }
        };
        let (_, host_port) = authority.split_once("://").unwrap_or_default();
        let (host, port) = host_port.rsplit_once(':').unwrap_or_default();
        let port = port
            .parse()
            .map_err(|_| format!("the Control Service URL `{base_url}` has no valid port"))?;
        Ok(Allowed {
            https,
            host: host.to_string(),
            port,
        })
    }

    /// Whether `uri` is at the allowed scheme, host and port (a default port made explicit).
    fn admits(&self, uri: &http::Uri) -> bool {
        let https = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            _ => return false,
        };
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        https == self.https
            && port == self.port
            && uri
                .host()
                .is_some_and(|h| h.eq_ignore_ascii_case(&self.host))
    }
}

impl EgressHooks {
    /// Allows only the scheme, host and port of `base_url`.
    pub fn allowing(base_url: &str) -> Result<EgressHooks, String> {
        let allowed = Allowed::of(base_url)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let pool = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(IDLE_TIMEOUT)
            .build(connector);
        Ok(EgressHooks { allowed, pool })
    }
}

type Io = Box<dyn Future<Output = Result<(), Error>> + Send>;
type Sent = Box<dyn Future<Output = Result<(http::Response<WasiBody>, Io), Error>> + Send>;

impl WasiHttpHooks for EgressHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Io,
    ) -> Sent {
        drop(fut);
        if !self.allowed.admits(request.uri()) {
            return Box::new(async move {
                // Read the body to its end, keeping none of it, before refusing: a component
                // still writing it would otherwise see its stream closed, and could not tell
                // the refusal from a connection lost with the write perhaps delivered.
                let mut body = request.into_body();
                while let Some(Ok(_)) = body.frame().await {}
                Err(Error::HttpRequestDenied)
            });
        }
        let first_byte = options
            .and_then(|o| o.first_byte_timeout)
            .unwrap_or(READ_TIMEOUT);
        let between_bytes = options
            .and_then(|o| o.between_bytes_timeout)
            .unwrap_or(READ_TIMEOUT)
            .max(Duration::from_millis(1));
        let sent = self.pool.request(request);
        Box::new(async move {
            // One timer per exchange: first for the head, then moved to each piece of the body.
            let mut timer = Box::pin(tokio::time::sleep(first_byte));
            let response = {
                let mut sent = pin!(sent);
                std::future::poll_fn(|cx| match sent.as_mut().poll(cx) {
                    Poll::Ready(response) => Poll::Ready(Ok(response)),
                    Poll::Pending => timer.as_mut().poll(cx).map(Err),
                })
                .await
                .map_err(|()| Error::ConnectionReadTimeout)?
                .map_err(pool_error)?
            };
            let (parts, body) = response.into_parts();
            let deadline = tokio::time::Instant::now() + between_bytes;
            timer.as_mut().reset(deadline);
            let body = TimedBody {
                body,
                limit: between_bytes,
                timer,
            };
            let body = ReadAhead::read(body, READ_AHEAD_BYTES).await;
            // The pool drives each connection on its own task; nothing is left to await here.
            Ok((
                http::Response::from_parts(parts, body.boxed_unsync()),
                Box::new(async { Ok(()) }) as Io,
            ))
        })
    }
}

/// Whether a rustls error is inside `io`, however many I/O errors wrap it.
fn has_tls_cause(io: &std::io::Error) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = io
        .get_ref()
        .map(|e| e as &(dyn std::error::Error + 'static));
    while let Some(e) = current {
        if e.is::<rustls::Error>() {
            return true;
        }
        current = match e.downcast_ref::<std::io::Error>() {
            Some(inner) => inner
                .get_ref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    false
}

/// A response body that fails when the next piece takes longer than `limit`.
struct TimedBody {
    body: hyper::body::Incoming,
    limit: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for TimedBody {
    type Data = bytes::Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let deadline = tokio::time::Instant::now() + self.limit;
                self.timer.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::from(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Error::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A response body with its first part read ahead: that part's bytes in one piece, then
/// what followed it (trailers, an error, or the rest of a long body, still timed).
struct ReadAhead {
    data: Bytes,
    trailers: Option<http::HeaderMap>,
    failed: Option<Error>,
    rest: Option<TimedBody>,
}

impl ReadAhead {
    /// Reads `body` until it ends, fails, or `limit` bytes of it are read, whichever is first.
    async fn read(mut body: TimedBody, limit: usize) -> ReadAhead {
        let announced = body.size_hint().exact();
        let mut ahead = ReadAhead {
            data: Bytes::new(),
            trailers: None,
            failed: None,
            rest: None,
        };
        // A body announced longer than the limit is left to be read as the component reads.
        if announced.is_some_and(|n| n > limit as u64) {
            ahead.rest = Some(body);
            return ahead;
        }
        // The first piece is kept as it is; only a second one makes a buffer for the whole.
        let mut joined: Option<BytesMut> = None;
        loop {
            let read = joined.as_ref().map_or(ahead.data.len(), BytesMut::len);
            if read >= limit || body.is_end_stream() {
                if !body.is_end_stream() {
                    ahead.rest = Some(body);
                }
                break;
            }
            match body.frame().await {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(piece) => match &mut joined {
                        Some(buffer) => buffer.extend_from_slice(&piece),
                        None if ahead.data.is_empty() => ahead.data = piece,
                        None => {
                            let whole = announced.map_or(0, |n| n as usize);
                            let mut buffer = BytesMut::with_capacity(whole.max(read + piece.len()));
                            buffer.extend_from_slice(&std::mem::take(&mut ahead.data));
                            buffer.extend_from_slice(&piece);
                            joined = Some(buffer);
                        }
                    },
                    Err(frame) => {
                        ahead.trailers = frame.into_trailers().ok();
                        break;
                    }
                },
                Some(Err(e)) => {
                    ahead.failed = Some(e);
                    break;
                }
                None => break,
            }
        }
        if let Some(buffer) = joined {
            ahead.data = buffer.freeze();
        }
        ahead
    }
}

impl Body for ReadAhead {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        if !self.data.is_empty() {
            return Poll::Ready(Some(Ok(Frame::data(std::mem::take(&mut self.data)))));
        }
        if let Some(e) = self.failed.take() {
            return Poll::Ready(Some(Err(e)));
        }
        if let Some(trailers) = self.trailers.take() {
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        match &mut self.rest {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
            && self.failed.is_none()
            && self.trailers.is_none()
            && self.rest.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = self
            .rest
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint);
        let ahead = self.data.len() as u64;
        hint.set_lower(hint.lower() + ahead);
        if let Some(upper) = hint.upper() {
            hint.set_upper(upper + ahead);
        }
        hint
    }
}

/// Maps the pool's error onto wasi:http's, so that the component can tell a refused
/// connection from a timeout or a failed TLS handshake (an untrusted certificate, say).
fn pool_error(e: hyper_util::client::legacy::Error) -> Error {
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            let tls = has_tls_cause(io);
            let copy = std::io::Error::new(io.kind(), io.to_string());
            return match io.kind() {
                _ if tls => Error::Tls(copy),
                std::io::ErrorKind::TimedOut => Error::ConnectionTimeout,
                std::io::ErrorKind::ConnectionRefused => Error::ConnectionRefused,
                _ if e.is_connect() => Error::InternalError(Some(format!("cannot connect: {io}"))),
                _ => Error::InternalError(Some(format!("{e}: {io}"))),
            };
        }
        source = cause.source();
    }
    Error::InternalError(Some(e.to_string()))
}

/// `scheme://host:port`, lower-case, with the scheme's default port made explicit, so that
/// `https://h` and `https://h:443` compare equal.
pub fn authority_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?;
    if authority.is_empty() {
        return None;
    }
    // A port follows the last `:`, unless that colon is inside an IPv6 literal `[...]`.
    let has_port = !authority.ends_with(']')
        && authority
            .rsplit_once(':')
            .is_some_and(|(_, port)| !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()));
    let authority = authority.to_ascii_lowercase();
    let with_port = if has_port {
        authority
    } else {
        let port = if scheme == "https" { 443 } else { 80 };
        format!("{authority}:{port}")
    };
    Some(format!("{scheme}://{with_port}"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::TcpListener;

    use http_body_util::BodyExt;

    use super::*;

    /// Sends a GET to `url` through hooks that allow it; the error, if any.
    async fn failure(url: &str, options: Option<RequestOptions>) -> Option<Error> {
        let mut hooks = EgressHooks::allowing(url).unwrap();
        let body = http_body_util::Empty::<bytes::Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        let request = http::Request::get(url).body(body).unwrap();
        let sent = hooks.send_request(request, options, Box::new(async { Ok(()) }));
        Box::into_pin(sent).await.err()
    }

    /// Serves one request on a local port: writes each of `pieces` in turn, pausing `pause`
    /// between them, then keeps the connection open a while. The URL to request.
    fn serve_in_pieces(pieces: Vec<Vec<u8>>, pause: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            // The request's head, read before answering.
            let mut seen = Vec::new();
            let mut byte = [0u8; 1];
            while !seen.ends_with(b"\r\n\r\n") {
                match std::io::Read::read(&mut stream, &mut byte) {
                    Ok(1) => seen.push(byte[0]),
                    _ => return,
                }
            }
            for piece in pieces {
                if stream.write_all(&piece).is_err() {
                    return;
                }
                std::thread::sleep(pause);
            }
            std::thread::sleep(Duration::from_secs(2));
        });
        url
    }

    /// The body's data frames, or the error that ended it.
    async fn body_frames(url: &str, options: Option<RequestOptions>) -> Result<Vec<Bytes>, Error> {
        let mut hooks = EgressHooks::allowing(url).unwrap();
        let body = http_body_util::Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        let request = http::Request::get(url).body(body).unwrap();
        let sent = hooks.send_request(request, options, Box::new(async { Ok(()) }));
        let (response, _io) = Box::into_pin(sent).await?;
        let mut body = response.into_body();
        let mut frames = Vec::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                frames.push(data);
            }
        }
        Ok(frames)
    }

    #[tokio::test]
    async fn a_body_sent_in_pieces_reaches_the_component_whole_in_one_piece() {
        let url = serve_in_pieces(
            vec![
                b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n01234".to_vec(),
                b"56".to_vec(),
                b"789".to_vec(),
            ],
            Duration::from_millis(30),
        );
        let frames = body_frames(&url, None).await.unwrap();
        assert_eq!(frames, [Bytes::from_static(b"0123456789")]);
    }

    #[tokio::test]
    async fn a_body_longer_than_what_is_read_ahead_arrives_whole_and_in_order() {
        let length = READ_AHEAD_BYTES + 300_000;
        let body: Vec<u8> = (0..length).map(|i| (i % 251) as u8).collect();
        let mut pieces =
            vec![format!("HTTP/1.1 200 OK\r\ncontent-length: {length}\r\n\r\n").into_bytes()];
        pieces.extend(body.chunks(700_000).map(<[u8]>::to_vec));
        let url = serve_in_pieces(pieces, Duration::from_millis(5));
        let frames = body_frames(&url, None).await.unwrap();
        assert_eq!(frames.concat(), body);

        // Chunked, with no length announced: read ahead as far as the limit, the rest after.
        let mut pieces = vec![b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec()];
        for chunk in body.chunks(700_000) {
            let mut piece = format!("{:x}\r\n", chunk.len()).into_bytes();
            piece.extend_from_slice(chunk);
            piece.extend_from_slice(b"\r\n");
            pieces.push(piece);
        }
        pieces.push(b"0\r\n\r\n".to_vec());
        let url = serve_in_pieces(pieces, Duration::from_millis(5));
        let frames = body_frames(&url, None).await.unwrap();
        assert_eq!(frames.concat(), body);
    }

    #[tokio::test]
    async fn a_body_that_stalls_after_its_head_times_out_between_bytes() {
        let url = serve_in_pieces(
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n01234".to_vec()],
            Duration::from_secs(5),
        );
        let options = RequestOptions {
            connect_timeout: None,
            first_byte_timeout: None,
            between_bytes_timeout: Some(Duration::from_millis(300)),
        };
        let error = body_frames(&url, Some(options)).await.unwrap_err();
        assert!(matches!(error, Error::ConnectionReadTimeout), "{error:?}");
    }

    #[test]
    fn the_allow_list_admits_exactly_the_authority_of_the_control_service_url() {
        let allowed = [
            "https://CS.example.com/api",
            "http://127.0.0.1:8080",
            "http://[::1]/",
            "https://u:p@cs.example.com:8443/x",
        ];
        let requests = [
            "https://cs.example.com/data-jobs/x",
            "https://cs.example.com:443/data-jobs/x",
            "HTTPS://CS.EXAMPLE.COM/",
            "http://cs.example.com/",
            "https://cs.example.com:8443/",
            "https://cs.example.com.evil.example/",
            "https://evil.example/?cs.example.com",
            "http://127.0.0.1:8080/data-jobs",
            "http://127.0.0.1:8081/",
            "http://127.0.0.1/",
            "https://127.0.0.1:8080/",
            "http://[::1]:80/x",
            "http://[::1]:8080/",
            "http://[::2]/",
        ];
        for base in allowed {
            let rule = Allowed::of(base).unwrap();
            for url in requests {
                let uri: http::Uri = url.parse().unwrap();
                assert_eq!(
                    rule.admits(&uri),
                    authority_of(base) == authority_of(url),
                    "{url} against {base}"
                );
            }
        }
        let admitted =
            |base: &str, url: &str| Allowed::of(base).unwrap().admits(&url.parse().unwrap());
        assert!(admitted(
            "https://CS.example.com/api",
            "https://cs.example.com:443/"
        ));
        assert!(!admitted(
            "https://cs.example.com",
            "http://cs.example.com:443/"
        ));
        assert!(
            Allowed::of("ftp://files.example.com")
                .unwrap_err()
                .contains("http")
        );
        assert!(Allowed::of("no-scheme").unwrap_err().contains("no host"));
    }

    #[tokio::test]
    async fn a_closed_port_is_a_refused_connection() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = failure(&format!("http://127.0.0.1:{port}/"), None).await;
        assert!(matches!(error, Some(Error::ConnectionRefused)), "{error:?}");
    }

    #[tokio::test]
    async fn a_failed_tls_handshake_is_a_tls_error_not_a_refusal() {
        // Plain HTTP where TLS is expected: the handshake fails.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
            std::thread::sleep(Duration::from_millis(500));
        });
        let error = failure(&format!("https://127.0.0.1:{port}/"), None).await;
        assert!(matches!(error, Some(Error::Tls(_))), "{error:?}");
    }

    #[tokio::test]
    async fn a_service_that_accepts_and_stalls_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let _held = listener.accept().unwrap();
            std::thread::sleep(Duration::from_secs(5));
        });
        let options = RequestOptions {
            connect_timeout: None,
            first_byte_timeout: Some(Duration::from_millis(300)),
            between_bytes_timeout: None,
        };
        let error = failure(&format!("http://127.0.0.1:{port}/"), Some(options)).await;
        assert!(
            matches!(error, Some(Error::ConnectionReadTimeout)),
            "{error:?}"
        );
    }

    #[test]
    fn authorities_compare_with_default_ports_made_explicit() {
        assert_eq!(
            authority_of("https://CS.example.com/api").unwrap(),
            "https://cs.example.com:443"
        );
        assert_eq!(
            authority_of("https://cs.example.com:443").unwrap(),
            "https://cs.example.com:443"
        );
        assert_eq!(
            authority_of("http://127.0.0.1:8080/x?y").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(authority_of("http://[::1]/").unwrap(), "http://[::1]:80");
        assert_eq!(authority_of("http://u:p@h:1/").unwrap(), "http://h:1");
        assert_ne!(
            authority_of("http://h:8080"),
            authority_of("https://h:8080")
        );
        assert!(authority_of("no-scheme").is_none());
    }
}
