//! The browser and Node transport: the global `fetch`, called directly through `js-sys`.
//!
//! The request body goes out as the bytes the core built (a `Blob` of them, or a `Uint8Array`
//! where there is no `Blob`) and the response body comes back as bytes (`arrayBuffer()`),
//! never decoded into text on the way. The exchange is bounded by `AbortSignal.timeout` where
//! the environment has it.

use std::time::Duration;

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{EXCHANGE_TIMEOUT, RESPONSE_HEADERS, too_large, too_large_error};
use crate::http::{HttpRequest, HttpResponse, TransportError};

/// Sends requests with `fetch` (browsers, Node 18+, Deno, workers).
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchTransport;

impl crate::Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let fetch = global_function("fetch").ok_or_else(|| {
            TransportError::refused(
                "this JavaScript environment has no fetch; use a browser or Node 20 or later",
            )
        })?;
        let init = Object::new();
        set(&init, "method", &request.method.as_str().into());
        let headers = Object::new();
        for (name, value) in &request.headers {
            set(&headers, name, &value.as_str().into());
        }
        set(&init, "headers", &headers);
        if let Some(body) = &request.body {
            set(&init, "body", &request_body(body));
        }
        if let Some(signal) = timeout_signal() {
            set(&init, "signal", &signal);
        }
        // fetch throws at once only for a request it cannot make (a malformed URL); nothing
        // was sent then.
        let pending = fetch
            .call2(&JsValue::UNDEFINED, &request.url.as_str().into(), &init)
            .map_err(|e| TransportError::not_sent(describe(&e)))?;
        // It rejects only when nothing came back (network, CORS, DNS, the timeout); the
        // request may still have reached the server.
        let response = JsFuture::from(Promise::resolve(&pending))
            .await
            .map_err(|e| failed(&e))?;
        let status = Reflect::get(&response, &"status".into())
            .ok()
            .and_then(|s| s.as_f64())
            .unwrap_or(0.0) as u16;
        let response_headers = Reflect::get(&response, &"headers".into()).unwrap_or_default();
        let header = |name: &str| {
            method(&response_headers, "get")?
                .call1(&response_headers, &name.into())
                .ok()?
                .as_string()
        };
        let announced = header("content-length").and_then(|n| n.trim().parse::<u64>().ok());
        if announced.is_some_and(too_large) {
            return Err(too_large_error());
        }
        let headers = RESPONSE_HEADERS
            .iter()
            .filter_map(|&name| Some((name.to_string(), header(name)?)))
            .collect();
        let reading = method(&response, "arrayBuffer")
            .and_then(|read| read.call0(&response).ok())
            .ok_or_else(|| TransportError::maybe_sent("the response body cannot be read"))?;
        let buffer = JsFuture::from(Promise::resolve(&reading))
            .await
            .map_err(|e| failed(&e))?;
        let bytes = Uint8Array::new(&buffer);
        if too_large(u64::from(bytes.length())) {
            return Err(too_large_error());
        }
        Ok(HttpResponse {
            status,
            headers,
            body: bytes.to_vec(),
        })
    }

    async fn sleep(&self, duration: Duration) {
        let millis = duration.as_millis().min(i32::MAX as u128) as i32;
        let promise = Promise::new(
            &mut |resolve, _reject| match global_function("setTimeout") {
                Some(set_timeout) => {
                    let _ = set_timeout.call2(&JsValue::UNDEFINED, &resolve, &millis.into());
                }
                // No timers in this environment: go on at once rather than hang.
                None => {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            },
        );
        let _ = JsFuture::from(promise).await;
    }
}

#[wasm_bindgen(inline_js = r#"
export function requestBody(bytes) {
  return typeof Blob === "function" ? new Blob([bytes]) : bytes.slice();
}
"#)]
extern "C" {
    /// The request body for fetch: a `Blob` of the bytes where the environment has `Blob`,
    /// else a `Uint8Array` copy. Chromium takes a `Blob` body at the call in about 1 ms
    /// against 8 ms for a 1 MiB `Uint8Array`. The glue views the bytes in the module's memory
    /// just before the call and `Blob` copies them at once: one copy.
    #[wasm_bindgen(js_name = requestBody)]
    fn request_body(bytes: &[u8]) -> JsValue;
}

/// `AbortSignal.timeout(EXCHANGE_TIMEOUT)`, where the environment has it.
fn timeout_signal() -> Option<JsValue> {
    let abort_signal = Reflect::get(&js_sys::global(), &"AbortSignal".into()).ok()?;
    let millis = EXCHANGE_TIMEOUT.as_millis() as f64;
    method(&abort_signal, "timeout")?
        .call1(&abort_signal, &millis.into())
        .ok()
}

fn global_function(name: &str) -> Option<Function> {
    method(&js_sys::global(), name)
}

fn method(target: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(target, &name.into()).ok()?.dyn_into().ok()
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(target, &key.into(), value);
}

/// A rejected fetch or body read: the timeout, or what fetch said.
fn failed(error: &JsValue) -> TransportError {
    let name = Reflect::get(error, &"name".into())
        .ok()
        .and_then(|n| n.as_string());
    if name.as_deref() == Some("TimeoutError") {
        return super::timed_out_error(true);
    }
    TransportError::maybe_sent(describe(error))
}

/// fetch's own message ("TypeError: Failed to fetch", "TypeError: fetch failed" with Node's
/// cause, "connect ECONNREFUSED …"), with a hint.
fn describe(error: &JsValue) -> String {
    let text = |value: &JsValue| match value.dyn_ref::<js_sys::Error>() {
        Some(e) => String::from(e.to_string()),
        None => value.as_string().unwrap_or_else(|| "unknown error".into()),
    };
    let mut message = text(error);
    if let Some(cause) = Reflect::get(error, &"cause".into())
        .ok()
        .filter(|c| !c.is_undefined() && !c.is_null())
    {
        message.push_str(": ");
        message.push_str(&text(&cause));
    }
    message.push_str(
        " (network error, refused connection, or a cross-origin request the server does not \
         allow)",
    );
    message
}
