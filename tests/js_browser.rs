//! The JS binding in headless Chromium (wasm-bindgen-test), against the reference server
//! through CORS.
#![cfg(all(target_arch = "wasm32", feature = "js"))]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod js;
