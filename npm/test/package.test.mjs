// The packed npm package, installed into a fresh directory and imported by its name, as a
// user would, in Node. Talks to the reference server started by scripts/test-js.sh.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const pkgDir = process.env.VDK_SECRETS_PKG_DIR ?? resolve(import.meta.dirname, "../../pkg");
const url = process.env.VDK_SECRETS_TEST_URL;
const token = process.env.VDK_SECRETS_TEST_TOKEN;
let app;

before(() => {
  assert.ok(url && token, "run through scripts/test-js.sh, which starts the server");
  app = mkdtempSync(join(tmpdir(), "vdk-secrets-user-"));
  execFileSync("npm", ["pack", pkgDir, "--pack-destination", app], { stdio: "pipe" });
  const tarball = readdirSync(app).find((f) => f.endsWith(".tgz"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "user-app", private: true, type: "module" }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", `./${tarball}`], { cwd: app, stdio: "pipe" });
});

/** Runs an ES module in the user's directory and returns what it printed as JSON. */
function run(source) {
  writeFileSync(join(app, "main.mjs"), source);
  const out = execFileSync("node", ["main.mjs"], { cwd: app, env: { ...process.env }, encoding: "utf8" });
  return JSON.parse(out);
}

test("the tarball ships the module, its wasm and its types, nothing else", () => {
  const installed = readdirSync(join(app, "node_modules", "vdk-secrets")).sort();
  assert.deepEqual(installed, [
    "README.md",
    "browser.js",
    "index.d.ts",
    "index.js",
    "node.js",
    "package.json",
    "snippets",
    "vdk_secrets.d.ts",
    "vdk_secrets.js",
    "vdk_secrets_bg.wasm",
    "vdk_secrets_bg.wasm.d.ts",
  ]);
  // wasm-bindgen's files for the module's own JS: one per `inline_js` block in src/js/ and
  // in the fetch transport.
  const snippets = readdirSync(join(app, "node_modules", "vdk-secrets", "snippets"), { recursive: true });
  const srcDir = resolve(import.meta.dirname, "../../src");
  const blocks = [
    ...readdirSync(join(srcDir, "js"))
      .filter((f) => f.endsWith(".rs"))
      .map((f) => join(srcDir, "js", f)),
    join(srcDir, "transport", "fetch.rs"),
  ]
    .map((file) => readFileSync(file, "utf8").split("inline_js = ").length - 1)
    .reduce((a, b) => a + b, 0);
  assert.ok(blocks >= 1);
  assert.deepEqual(snippets.filter((f) => f.endsWith(".js")).length, blocks, snippets.join());
  const types = readFileSync(join(app, "node_modules", "vdk-secrets", "vdk_secrets.d.ts"), "utf8");
  assert.match(types, /getSecret\(name: string\): Promise<JsonValue \| undefined>/);
  assert.match(types, /getAllSecrets\(\): Promise<Secrets>/);
  assert.match(types, /constructor\(config: ClientConfig\)/);
  assert.match(types, /versions\(\): Promise<History>/);
  assert.match(types, /readVersion\(version: number\): Promise<Secrets>/);
  assert.match(types, /restoreVersion\(version: number, ifMatch: string\): Promise<string>/);
  assert.match(types, /restoredFrom: number \| null/);
  // The public API comes before wasm-bindgen's raw ABI declarations (`InitOutput`).
  const api = types.slice(0, types.indexOf("export type InitInput"));
  assert.ok(api.length > 1000);
  assert.doesNotMatch(api, /[:<(|,]\s*any\b/, "no `any` where the type is known");
});

/** The names a declaration file exports, following `export * from "./x.js"` to its siblings. */
function declaredNames(dir, file) {
  const text = readFileSync(join(dir, file), "utf8");
  const names = new Set();
  for (const [, name] of text.matchAll(
    /^export\s+(?:declare\s+)?(?:default\s+)?(?:function|class|const|let|type|interface|enum)\s+(\w+)/gm,
  )) {
    names.add(name);
  }
  for (const [, list] of text.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const item of list.split(",").filter((i) => i.trim()))
      names.add(
        item
          .trim()
          .split(/\s+as\s+/)
          .pop(),
      );
  }
  for (const [, from] of text.matchAll(/^export\s+\*\s+from\s+"\.\/([\w.]+)\.js"/gm)) {
    for (const name of declaredNames(dir, `${from}.d.ts`)) names.add(name);
  }
  return names;
}

test("every entry exports what the wasm-bindgen module exports, plus init, and declares each", () => {
  const installed = join(app, "node_modules", "vdk-secrets");
  // The generated module by itself: importing it loads nothing.
  const generated = run(`
    const m = await import(${JSON.stringify(join(installed, "vdk_secrets.js"))});
    console.log(JSON.stringify(Object.keys(m)));
  `);
  assert.ok(generated.includes("validateSecrets") && generated.includes("SecretsClient"), generated.join());
  const expected = [...generated.filter((name) => name !== "default"), "init"].sort();

  // Node resolves the package name to node.js; the other entries are loaded by path, as a
  // browser or a runtime without the "node" condition would. browser.js is given the bytes.
  const entries = run(`
    import { readFileSync } from "node:fs";
    import * as byName from "vdk-secrets";
    import * as universal from "./node_modules/vdk-secrets/index.js";
    const browser = await import("./node_modules/vdk-secrets/browser.js");
    await browser.init(readFileSync("./node_modules/vdk-secrets/vdk_secrets_bg.wasm"));
    const problems = (m) => m.validateSecrets({ "a b": 1 }).map((p) => p.key);
    console.log(JSON.stringify({
      byName: Object.keys(byName), universal: Object.keys(universal), browser: Object.keys(browser),
      works: [problems(byName), problems(universal), problems(browser)],
      ready: [await byName.init(), await universal.init(), await browser.init()].map(String),
    }));
  `);
  for (const entry of ["byName", "universal", "browser"]) {
    assert.deepEqual([...entries[entry]].sort(), expected, `the exports of ${entry}`);
  }
  assert.deepEqual(entries.works, [["a b"], ["a b"], ["a b"]]);
  assert.deepEqual(entries.ready, ["undefined", "undefined", "undefined"]);

  const declared = declaredNames(installed, "index.d.ts");
  for (const name of expected) assert.ok(declared.has(name), `index.d.ts declares ${name}`);
  for (const type of ["JsonValue", "Secrets", "ClientConfig", "Problem", "ErrorCode", "SecretsError", "History"]) {
    assert.ok(declared.has(type), `index.d.ts declares the type ${type}`);
  }
});

test("package.json points each condition at an entry it ships", () => {
  const manifest = JSON.parse(readFileSync(join(app, "node_modules", "vdk-secrets", "package.json"), "utf8"));
  const root = manifest.exports["."];
  assert.deepEqual(Object.keys(root), ["types", "node", "browser", "default"], "types first, default last");
  for (const file of Object.values(root)) assert.ok(manifest.files.includes(file.slice(2)), file);
  const browser = readFileSync(join(app, "node_modules", "vdk-secrets", "browser.js"), "utf8");
  const code = browser.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
  assert.doesNotMatch(code, /node:/, "the browser entry imports no Node module");
  assert.doesNotMatch(code, /\bawait\b/, "the browser entry has no top-level await");
  assert.match(code, /new URL\("\.\/vdk_secrets_bg\.wasm", import\.meta\.url\)/, "bundlers see the asset");
});

test("imported by name, the client reads and writes secrets on the server", () => {
  const job = `node-${Date.now()}`;
  const result = run(`
    import { SecretsClient } from "vdk-secrets";
    const c = new SecretsClient({ baseUrl: process.env.VDK_SECRETS_TEST_URL, team: "js", job: "${job}",
                                  token: process.env.VDK_SECRETS_TEST_TOKEN });
    await c.setSecret("password", "s3cret");
    await c.setSecret("conf", { host: "db", port: 5432 });
    const all = await c.getAllSecrets();
    const one = await c.getSecret("password");
    await c.deleteSecrets(["password"]);
    const after = await c.getAllSecrets();
    console.log(JSON.stringify({ all, one, after, isMap: all instanceof Map }));
  `);
  assert.deepEqual(result.all, { conf: { host: "db", port: 5432 }, password: "s3cret" });
  assert.equal(result.one, "s3cret");
  assert.deepEqual(result.after, { conf: { host: "db", port: 5432 } });
  assert.equal(result.isMap, false, "plain objects, not Maps");
});

test("errors are SecretsErrors with code, status, what, why and countermeasures", () => {
  const result = run(`
    import { SecretsClient, validateSecrets } from "vdk-secrets";
    const c = new SecretsClient({ baseUrl: process.env.VDK_SECRETS_TEST_URL, team: "js", job: "errors" });
    let error;
    try { await c.getAllSecrets(); } catch (e) { error = e; }
    console.log(JSON.stringify({
      isError: error instanceof Error, name: error.name, code: error.code, status: error.status,
      what: error.what, why: error.why, countermeasures: error.countermeasures,
      problems: validateSecrets({ "a b": "hunter2" }),
    }));
  `);
  assert.equal(result.isError, true);
  assert.equal(result.name, "SecretsError");
  assert.equal(result.code, "unauthorized");
  assert.equal(result.status, 401);
  assert.ok(result.what && result.why && result.countermeasures);
  assert.deepEqual(
    result.problems.map((p) => p.key),
    ["a b"],
  );
  assert.ok(!JSON.stringify(result.problems).includes("hunter2"), "no value in a problem");
});

/** Prints `value` as JSON from a user's module, `bigint`s as "<digits>n". */
const print = `const print = (value) => console.log(JSON.stringify(value,
  (_, v) => (typeof v === "bigint" ? \`\${v}n\` : v)));`;

test("the version history: list, read an old set exactly, restore it with its etag", () => {
  const job = `node-history-${Date.now()}`;
  const result = run(`
    import { SecretsClient } from "vdk-secrets";
    ${print}
    const c = new SecretsClient({ baseUrl: process.env.VDK_SECRETS_TEST_URL, team: "js", job: "${job}",
                                  token: process.env.VDK_SECRETS_TEST_TOKEN });
    const empty = await c.versions();
    await c.setAllSecrets({ a: 1, big: 18446744073709551615n, gone: "x" });
    await c.setAllSecrets({ a: 2, big: 18446744073709551615n, added: true });
    const list = await c.versions();
    const old = await c.readVersion(1);
    const { etag } = await c.getAllSecretsVersioned();
    const fail = async (call) => { try { await call(); } catch (e) {
      return { name: e.name, code: e.code, status: e.status, why: e.why, problems: e.problems }; } };
    const stale = await fail(() => c.restoreVersion(1, '"1"'));
    const newEtag = await c.restoreVersion(1, etag);
    const now = await c.getAllSecrets();
    const after = await c.versions();
    const missing = await fail(() => c.readVersion(99));
    const zero = await fail(() => c.readVersion(0));
    const text = await fail(() => c.readVersion("1"));
    const noTag = await fail(() => c.restoreVersion(1, null));
    print({ empty, list, old, bigIsBigint: typeof old.big === "bigint", etag, stale, newEtag, now,
            newest: after.versions[0], current: after.current, missing, zero, text, noTag });
  `);
  assert.deepEqual(result.empty, { current: 0, versions: [] });
  assert.equal(result.list.current, 2);
  assert.deepEqual(
    result.list.versions.map((v) => v.version),
    [2, 1],
    "newest first",
  );
  const [second, first] = result.list.versions;
  assert.deepEqual(
    { ...second, time: undefined },
    {
      version: 2,
      time: undefined,
      author: null,
      restoredFrom: null,
      previous: 1,
      added: ["added"],
      changed: ["a"],
      removed: ["gone"],
    },
    "a token without a name writes as an unknown author",
  );
  assert.match(second.time, /^\d{4}-\d\d-\d\dT.*Z$/);
  assert.deepEqual(first.added, ["a", "big", "gone"]);
  assert.equal(first.previous, null);
  assert.deepEqual(result.old, { a: 1, big: "18446744073709551615n", gone: "x" });
  assert.equal(result.bigIsBigint, true, "64-bit integers stay exact");
  assert.equal(result.etag, '"2"');
  assert.deepEqual([result.stale.name, result.stale.code, result.stale.status], ["SecretsError", "conflict", 412]);
  assert.equal(result.newEtag, '"3"');
  assert.deepEqual(result.now, result.old);
  assert.equal(result.current, 3);
  assert.equal(result.newest.restoredFrom, 1);
  assert.deepEqual([result.missing.code, result.missing.status], ["not-found", 404]);
  assert.match(result.missing.why, /can be read are 1-3/);
  for (const refused of [result.zero, result.text]) {
    assert.equal(refused.code, "invalid-input");
    assert.deepEqual(
      refused.problems.map((p) => p.key),
      ["version"],
    );
  }
  assert.deepEqual(
    result.noTag.problems.map((p) => p.key),
    ["ifMatch"],
  );
});

test("a server without history rejects with code not-supported", () => {
  assert.ok(process.env.VDK_SECRETS_TEST_NONE_URL, "run through scripts/test-js.sh");
  const result = run(`
    import { SecretsClient } from "vdk-secrets";
    ${print}
    const c = new SecretsClient({ baseUrl: process.env.VDK_SECRETS_TEST_NONE_URL, team: "js", job: "j" });
    const codes = [];
    for (const call of [() => c.versions(), () => c.readVersion(1), () => c.restoreVersion(1, '"1"')]) {
      try { await call(); codes.push("resolved"); } catch (e) { codes.push(e.code); }
    }
    print(codes);
  `);
  assert.deepEqual(result, ["not-supported", "not-supported", "not-supported"]);
});
