// Loads the WebAssembly module once, then exposes the API. Top-level await makes
// `import { SecretsClient } from "vdk-secrets"` ready to use in Node 20+ and in browsers,
// with or without a bundler.
import init, { initSync } from "./vdk_secrets.js";

const wasmUrl = new URL("./vdk_secrets_bg.wasm", import.meta.url);

if (typeof process !== "undefined" && process.versions != null && process.versions.node != null) {
  const { readFile } = await import("node:fs/promises");
  initSync({ module: await readFile(wasmUrl) });
} else {
  await init({ module_or_path: wasmUrl });
}

export {
  SecretsClient,
  validateSecretName,
  validateSecretValue,
  validateSecrets,
  validateSecretsDocument,
  validateJob,
  secretsSize,
  parseSecretsDocument,
  limits,
} from "./vdk_secrets.js";
