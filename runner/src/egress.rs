//! The egress allow-list: the secrets component may reach the Control Service's authority
//! and nothing else. Allowed requests go through one keep-alive connection pool per run, so a
//! job that reads its secrets many times does not pay a new TCP (and TLS) handshake each time.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

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

type Pool = Client<HttpsConnector<HttpConnector>, WasiBody>;

/// Hooks that refuse every request to another authority than the allowed one, and send the
/// allowed ones through a connection pool.
pub struct EgressHooks {
    allowed: String,
    pool: Pool,
}

impl EgressHooks {
    /// Allows only the scheme, host and port of `base_url`.
    pub fn allowing(base_url: &str) -> Result<EgressHooks, String> {
        let allowed = authority_of(base_url)
            .ok_or_else(|| format!("the Control Service URL `{base_url}` has no host"))?;
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
        let target = authority_of(&request.uri().to_string());
        if target.as_deref() != Some(self.allowed.as_str()) {
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
            let response = tokio::time::timeout(first_byte, sent)
                .await
                .map_err(|_| Error::ConnectionReadTimeout)?
                .map_err(pool_error)?;
            let response = response.map(|body| {
                TimedBody {
                    body,
                    limit: between_bytes,
                    timer: Box::pin(tokio::time::sleep(between_bytes)),
                }
                .boxed_unsync()
            });
            // The pool drives each connection on its own task; nothing is left to await here.
            Ok((response, Box::new(async { Ok(()) }) as Io))
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
