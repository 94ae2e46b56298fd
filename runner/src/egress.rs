//! The egress allow-list: the secrets component may reach the Control Service's authority
//! and nothing else.

use std::future::Future;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// Hooks that refuse every request to another authority than the allowed one.
pub struct EgressHooks {
    allowed: String,
}

impl EgressHooks {
    /// Allows only the scheme, host and port of `base_url`.
    pub fn allowing(base_url: &str) -> Result<EgressHooks, String> {
        let allowed = authority_of(base_url)
            .ok_or_else(|| format!("the Control Service URL `{base_url}` has no host"))?;
        Ok(EgressHooks { allowed })
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
        let target = authority_of(&request.uri().to_string());
        if target.as_deref() != Some(self.allowed.as_str()) {
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        wasmtime_wasi_http::default_hooks().send_request(request, options, fut)
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
