//! What every request and answer passes through, whichever route or fallback serves it:
//!
//! - a dev server (no authentication) answers only loopback host names (and its own listen
//!   address), so that a web page whose name an attacker points at 127.0.0.1 (DNS rebinding)
//!   can neither read nor write secrets: anything else gets 421;
//! - every error answer is in the API's JSON shape, whatever produced it;
//! - every answer carries `X-Content-Type-Options: nosniff`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Access;
use crate::error::ApiError;
use crate::routes::AppState;

/// The host names a dev server answers: loopback names (`localhost`, `127.x.y.z`, `[::1]`) on
/// any port, and, when the operator forced dev mode onto another address, that address.
///
/// `*.localhost` is not accepted: only some resolvers keep those names on the machine (RFC
/// 6761 asks them to; others send them to DNS, where anyone may answer).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DevHosts {
    /// The listen address when it is not loopback; unspecified (`0.0.0.0`, `::`) means any
    /// of the machine's addresses, so then any IP address literal is accepted. DNS rebinding
    /// needs a name, so no address literal can be one.
    listen: Option<IpAddr>,
}

impl DevHosts {
    /// The host names a dev server listening on `ip` answers.
    pub fn listening_on(ip: IpAddr) -> Self {
        DevHosts {
            listen: (!ip.is_loopback()).then_some(ip),
        }
    }

    /// Whether `request` names this server by an accepted name: its request target's
    /// authority (absolute form, or HTTP/2's `:authority`) and every `Host` line, at least one
    /// of them present.
    pub fn allows(&self, request: &Request) -> bool {
        let mut named = false;
        if let Some(authority) = request.uri().authority() {
            named = true;
            if !self.allows_authority(authority.as_str()) {
                return false;
            }
        }
        for host in request.headers().get_all(header::HOST) {
            named = true;
            let allowed = host.to_str().is_ok_and(|h| self.allows_authority(h));
            if !allowed {
                return false;
            }
        }
        named
    }

    /// Whether `authority` (`host[:port]`) is an accepted name on any port.
    fn allows_authority(&self, authority: &str) -> bool {
        let (host, port) = match authority.rsplit_once(':') {
            // An IPv6 literal's colons are inside the brackets.
            Some((host, port)) if !port.contains(']') => (host, port),
            _ => (authority, ""),
        };
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        let ip = if let Some(inner) = host.strip_prefix('[') {
            match inner.strip_suffix(']').map(str::parse::<Ipv6Addr>) {
                Some(Ok(ip)) => IpAddr::V6(ip),
                _ => return false,
            }
        } else if host.eq_ignore_ascii_case("localhost") {
            return true;
        } else {
            // Four decimal parts only: `127.1` and the like are not accepted.
            match host.parse::<Ipv4Addr>() {
                Ok(ip) => IpAddr::V4(ip),
                Err(_) => return false,
            }
        };
        ip.is_loopback()
            || self
                .listen
                .is_some_and(|listen| listen.is_unspecified() || listen == ip)
    }
}

/// The middleware: the dev-mode host check, JSON error bodies, `nosniff`.
pub async fn guard(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let open = matches!(app.access, Access::Open);
    let mut response = if open && !app.dev_hosts.allows(&request) {
        ApiError::misdirected().into_response()
    } else {
        json_errors(next.run(request).await)
    };
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// An error answer that is not JSON (one the framework made) gets a body in the API's shape;
/// its status and headers (`Allow`, CORS) stay.
fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let reason = status.canonical_reason().unwrap_or("error");
    let (json_parts, body) = ApiError::new(
        status,
        format!("The request failed: {reason}"),
        format!("the server answered HTTP {}", status.as_u16()),
        "The request was not carried out.",
        "Check the request against the API document at /openapi.json.",
    )
    .into_response()
    .into_parts();
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &json_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(hosts: &DevHosts, host: &str) -> bool {
        hosts.allows_authority(host)
    }

    #[test]
    fn loopback_names_on_any_port() {
        let hosts = DevHosts::listening_on(Ipv4Addr::LOCALHOST.into());
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "localhost:",
            "127.0.0.1",
            "127.255.0.9:1",
            "[::1]",
            "[::1]:8080",
        ] {
            assert!(allowed(&hosts, host), "{host}");
        }
        for host in [
            "",
            "attacker.example",
            "localhost.attacker.example",
            "sub.localhost",
            "localhost.",
            "127.1",
            "127.0.0.1.nip.io",
            "0x7f.0.0.1",
            "10.0.0.1",
            "[::2]",
            "[::ffff:127.0.0.1]",
            "::1",
            "[::1",
            "localhost:80a",
            "user@localhost",
            "localhost:8080:1",
        ] {
            assert!(!allowed(&hosts, host), "{host}");
        }
    }

    #[test]
    fn a_forced_listen_address_is_accepted_too() {
        let hosts = DevHosts::listening_on("192.0.2.7".parse().unwrap());
        assert!(allowed(&hosts, "192.0.2.7:8080"));
        assert!(allowed(&hosts, "localhost"));
        assert!(!allowed(&hosts, "192.0.2.8"));
        assert!(!allowed(&hosts, "host.example"));
        let hosts = DevHosts::listening_on("2001:db8::7".parse().unwrap());
        assert!(allowed(&hosts, "[2001:db8::7]:80"));
        assert!(!allowed(&hosts, "[2001:db8::8]"));
    }

    #[test]
    fn an_unspecified_listen_address_accepts_address_literals_not_names() {
        let hosts = DevHosts::listening_on(Ipv4Addr::UNSPECIFIED.into());
        assert!(allowed(&hosts, "192.0.2.7:8080"));
        assert!(allowed(&hosts, "[2001:db8::7]"));
        assert!(!allowed(&hosts, "host.example"));
        assert!(!allowed(&hosts, "192.0.2.7.nip.io"));
    }

    #[test]
    fn requests_need_an_accepted_name_in_every_place() {
        let hosts = DevHosts::default();
        let request = |uri: &str, host: &[&str]| {
            let mut builder = Request::builder().uri(uri);
            for h in host {
                builder = builder.header(header::HOST, *h);
            }
            builder.body(axum::body::Body::empty()).unwrap()
        };
        assert!(hosts.allows(&request("/health", &["localhost:1"])));
        assert!(!hosts.allows(&request("/health", &[])));
        assert!(!hosts.allows(&request("/health", &["localhost", "evil.example"])));
        assert!(hosts.allows(&request("http://localhost/health", &[])));
        assert!(!hosts.allows(&request("http://evil.example/health", &["localhost"])));
    }
}
