// The packed npm package, installed into a fresh directory and imported by its name, as a
// user would, in Node. Talks to the reference server started by scripts/test-js.sh.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const pkgDir = resolve(import.meta.dirname, "../../pkg");
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
    "README.md", "index.d.ts", "index.js", "package.json", "vdk_secrets.d.ts",
    "vdk_secrets.js", "vdk_secrets_bg.wasm", "vdk_secrets_bg.wasm.d.ts",
  ]);
  const types = readFileSync(join(app, "node_modules", "vdk-secrets", "vdk_secrets.d.ts"), "utf8");
  assert.match(types, /getSecret\(name: string\): Promise<JsonValue \| undefined>/);
  assert.match(types, /getAllSecrets\(\): Promise<Secrets>/);
  assert.match(types, /constructor\(config: ClientConfig\)/);
  // The public API comes before wasm-bindgen's raw ABI declarations (`InitOutput`).
  const api = types.slice(0, types.indexOf("export type InitInput"));
  assert.ok(api.length > 1000);
  assert.doesNotMatch(api, /[:<(|,]\s*any\b/, "no `any` where the type is known");
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
  assert.deepEqual(result.problems.map((p) => p.key), ["a b"]);
  assert.ok(!JSON.stringify(result.problems).includes("hunter2"), "no value in a problem");
});
