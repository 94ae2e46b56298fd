// The entry Node picks (the "node" condition of package.json): reads the WebAssembly module
// from the file next to this one and instantiates it synchronously, so everything is ready on
// import without top-level await (which also lets `require("vdk-secrets")` load it).
import { readFileSync } from "node:fs";
import { initSync } from "./vdk_secrets.js";

initSync({ module: readFileSync(new URL("./vdk_secrets_bg.wasm", import.meta.url)) });

export * from "./vdk_secrets.js";

/** Resolves at once: this entry loaded the module before it was imported. */
export function init() {
  return Promise.resolve();
}
