//! The JS binding in Node 20 (wasm-bindgen-test), against the reference server.
#![cfg(all(target_arch = "wasm32", feature = "js"))]

mod js;
