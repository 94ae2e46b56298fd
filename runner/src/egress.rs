//! The egress allow-list: the secrets component may reach the Control Service's authority
//! and nothing else. Allowed requests go through one keep-alive connection pool per run, so a
//! job that reads its secrets many times does not pay a new TCP (and TLS) handshake each time.

use std::future::Future;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// How long a connection attempt may take when the component sets no limit.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
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
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let first_byte = options.and_then(|o| o.first_byte_timeout);
        let sent = self.pool.request(request);
        Box::new(async move {
            let response = match first_byte {
                Some(limit) => tokio::time::timeout(limit, sent)
                    .await
                    .map_err(|_| Error::ConnectionReadTimeout)?,
                None => sent.await,
            }
            .map_err(pool_error)?;
            let response = response.map(|body| body.map_err(Error::from).boxed_unsync());
            // The pool drives each connection on its own task; nothing is left to await here.
            Ok((response, Box::new(async { Ok(()) }) as Io))
        })
    }
}

/// Maps the pool's error onto wasi:http's: failures to connect keep their I/O error (so the
/// component can say the service is unreachable), the rest keep their text.
fn pool_error(e: hyper_util::client::legacy::Error) -> Error {
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            let io = std::io::Error::new(io.kind(), io.to_string());
            return if e.is_connect() {
                Error::Connect(io)
            } else {
                Error::InternalError(Some(format!("{e}: {io}")))
            };
        }
        source = cause.source();
    }
    if e.is_connect() {
        Error::ConnectionRefused
    } else {
        Error::InternalError(Some(e.to_string()))
    }
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
    use super::authority_of;

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
