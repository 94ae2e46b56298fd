// One round of the client benchmark (scripts/bench-client.sh), the same code in Node and in
// headless Chromium: for each package, a fresh instance of its module reads a job's set of
// 4,500 secrets (about 1 MiB) with getAllSecretsVersioned and saves it back with
// setAllSecrets(set, etag). Gives, per package, in ms: the read, the save, and of the save the
// part before the request leaves the client (converting and checking the set, building the
// body), timed by wrapping the global fetch; and the bytes of the module's WebAssembly memory
// after loading, after the read and after the save.

/**
 * The set of the page's benchmark (www/bench/bench.mjs `setText`): `n` secrets of about 220
 * bytes each, mostly strings, some numbers, objects and lists, and one 64-bit integer no JS
 * number holds exactly (so the set read holds one `bigint`). 4,500 make 895,583 bytes.
 */
export function largeSetText(n = 4500) {
  const entries = [];
  for (let i = 0; i < n; i += 1) {
    const name = JSON.stringify(`secret_${String(i).padStart(4, "0")}`);
    let value;
    if (i === 7) value = "18446744073709551615";
    else if (i % 10 === 3) value = String(1000 + i * 7);
    else if (i % 50 === 9) value = JSON.stringify({ user: `user-${i}`, hosts: ["a.example", "b.example"], port: i });
    else if (i % 50 === 19) value = JSON.stringify([`item-${i}`, i, true, null, "x".repeat(150)]);
    else value = JSON.stringify(`v${i}-${"abcdefghij".repeat(20)}`);
    entries.push(`${name}:${value}`);
  }
  return `{${entries.join(",")}}`;
}

let instances = 0;

/**
 * Loads a fresh instance of the package in `dir` (a URL ending in "/"): the generated glue
 * imported under a new query, so that its module state and memory are its own.
 */
async function fresh(dir) {
  instances += 1;
  const glue = await import(`${dir}vdk_secrets.js?instance=${instances}`);
  const wasmUrl = new URL("vdk_secrets_bg.wasm", dir);
  let exports;
  if (typeof process !== "undefined" && process.versions?.node) {
    const { readFileSync } = await import("node:fs");
    exports = glue.initSync({ module: readFileSync(wasmUrl) });
  } else {
    exports = await glue.default({ module_or_path: wasmUrl });
  }
  return { api: glue, memory: () => exports.memory.buffer.byteLength };
}

/** Times `f` and also the moment the client calls fetch, if it does. */
async function timed(f) {
  const realFetch = globalThis.fetch;
  let sent;
  globalThis.fetch = (...args) => {
    sent ??= performance.now();
    return realFetch(...args);
  };
  const start = performance.now();
  try {
    const value = await f();
    const end = performance.now();
    return { value, total: end - start, beforeFetch: sent === undefined ? null : sent - start };
  } finally {
    globalThis.fetch = realFetch;
  }
}

/** One round over `packages` ({ label: dirUrl }); `baseUrl`, `team`, `job` name the seeded set. */
export async function round({ packages, baseUrl, team, job }) {
  const out = {};
  for (const [label, dir] of Object.entries(packages)) {
    const { api, memory } = await fresh(dir);
    const loaded = memory();
    const client = new api.SecretsClient({ baseUrl, team, job });
    const read = await timed(() => client.getAllSecretsVersioned());
    const afterRead = memory();
    const { secrets, etag } = read.value;
    if (Object.keys(secrets).length !== 4500 || typeof secrets.secret_0007 !== "bigint") {
      throw new Error(`${label}: the read did not give the seeded set`);
    }
    const save = await timed(() => client.setAllSecrets(secrets, etag));
    const afterSave = memory();
    client.free();
    out[label] = {
      "read (ms)": read.total,
      "save (ms)": save.total,
      "save: the client before fetch (ms)": save.beforeFetch,
      "memory: loaded (MiB)": loaded / 2 ** 20,
      "memory: after the read (MiB)": afterRead / 2 ** 20,
      "memory: after the save (MiB)": afterSave / 2 ** 20,
    };
  }
  return out;
}
