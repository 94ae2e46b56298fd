//! The browser and Node transport: the global `fetch`, through gloo-net.

use std::time::Duration;

use gloo_net::http::{Method as FetchMethod, RequestBuilder};
use wasm_bindgen::{JsCast, JsValue};

use crate::http::{HttpRequest, HttpResponse, Method, TransportError};

/// Sends requests with `fetch` (browsers, Node 18+, Deno, workers).
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchTransport;

impl crate::Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = match request.method {
            Method::Get => FetchMethod::GET,
            Method::Put => FetchMethod::PUT,
            Method::Post => FetchMethod::POST,
        };
        let mut builder = RequestBuilder::new(&request.url).method(method);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let built = match request.body {
            // The body is the JSON the core serialized: valid UTF-8 by construction.
            Some(body) => builder.body(String::from_utf8_lossy(&body).into_owned()),
            None => builder.build(),
        }
        .map_err(|e| TransportError::not_sent(e.to_string()))?;
        // fetch rejects only when nothing came back (network, CORS, DNS); the request may
        // still have reached the server.
        let response = built
            .send()
            .await
            .map_err(|e| TransportError::maybe_sent(describe(e)))?;
        let status = response.status();
        let headers = ["etag", "content-type"]
            .into_iter()
            .filter_map(|name| {
                response
                    .headers()
                    .get(name)
                    .map(|value| (name.to_string(), value))
            })
            .collect();
        let body = response
            .binary()
            .await
            .map_err(|e| TransportError::maybe_sent(describe(e)))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    async fn sleep(&self, duration: Duration) {
        let millis = duration.as_millis().min(i32::MAX as u128) as i32;
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            let set_timeout = js_sys::Reflect::get(&js_sys::global(), &"setTimeout".into())
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
            match set_timeout {
                Some(set_timeout) => {
                    let _ = set_timeout.call2(&JsValue::UNDEFINED, &resolve, &millis.into());
                }
                // No timers in this environment: go on at once rather than hang.
                None => {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

/// fetch's own message ("Failed to fetch", "fetch failed: ECONNREFUSED"), with a hint.
fn describe(error: gloo_net::Error) -> String {
    format!(
        "{error} (network error, refused connection, or a cross-origin request the server \
         does not allow)"
    )
}
