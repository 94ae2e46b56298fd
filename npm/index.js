// The entry for loading the package without a bundler (a browser importing this file by its
// path, or an import map) and for runtimes that match neither the "node" nor the "browser"
// condition of package.json. Top-level await loads the WebAssembly module here, so everything
// is ready to use on import: from the file in Node, by `fetch` elsewhere.
//
// The API is whatever the wasm-bindgen module exports (`export *` leaves out its default
// export, the loader), plus `init()`, which every entry has; here it has nothing left to do.
import load, { initSync } from "./vdk_secrets.js";

const wasmUrl = new URL("./vdk_secrets_bg.wasm", import.meta.url);

if (typeof process !== "undefined" && process.versions != null && process.versions.node != null) {
  const { readFile } = await import("node:fs/promises");
  initSync({ module: await readFile(wasmUrl) });
} else {
  await load({ module_or_path: wasmUrl });
}

export * from "./vdk_secrets.js";

/** Resolves at once: this entry loaded the module before it was imported. */
export function init() {
  return Promise.resolve();
}
