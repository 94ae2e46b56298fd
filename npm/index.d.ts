// The declarations of every entry (index.js, node.js, browser.js): those wasm-bindgen writes
// for the module, re-exported as they are, and `init`.
export * from "./vdk_secrets.js";

/**
 * Resolves when the WebAssembly module is loaded and every function can be called.
 *
 * In Node, and when `index.js` is loaded without a bundler, the module is loaded on import
 * and this resolves at once. A bundled browser build (the `browser` condition) loads nothing
 * on import: await `init()` once before calling anything else. Portable code always awaits it.
 *
 * `source` replaces the bundled `.wasm` file (for example a URL on a CDN); it is used by the
 * browser entry only, by the first call that succeeds.
 */
export function init(source?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;
