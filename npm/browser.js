// The entry bundlers pick for browsers (the "browser" condition of package.json). It has no
// top-level await, so it builds for any target: call `await init()` once, before anything
// else. The module's URL is written as `new URL("...", import.meta.url)` so that bundlers
// (Vite, webpack, Rollup, esbuild with a plugin, Parcel) emit the .wasm file as an asset.
import load from "./vdk_secrets.js";

export * from "./vdk_secrets.js";

/**
 * Fetches and instantiates the WebAssembly module; resolves when every function is ready.
 * Calling it again returns the same promise; after a failure, a new call tries again.
 * `source` replaces the bundled file: a URL, a `Response`, the bytes or a compiled module.
 */
export function init(source) {
  const module_or_path = source === undefined ? new URL("./vdk_secrets_bg.wasm", import.meta.url) : source;
  return load({ module_or_path }).then(() => undefined);
}
