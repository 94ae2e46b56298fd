// The calls a secrets editor needs beyond reading and writing: checking a whole document at
// once, the size of one entry, and the server's own limits. Runs against the packed package,
// installed into a fresh directory, and the servers started by scripts/test-js.sh.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const pkgDir = process.env.VDK_SECRETS_PKG_DIR ?? resolve(import.meta.dirname, "../../pkg");
const url = process.env.VDK_SECRETS_TEST_URL;
const noneUrl = process.env.VDK_SECRETS_TEST_NONE_URL;
const decoyUrl = process.env.VDK_SECRETS_TEST_DECOY_URL;
let api;
let missing; // a server without /health, as the upstream Control Service
let missingUrl;

before(async () => {
  assert.ok(url && noneUrl && decoyUrl, "run through scripts/test-js.sh, which starts the servers");
  const app = mkdtempSync(join(tmpdir(), "vdk-secrets-page-"));
  execFileSync("npm", ["pack", pkgDir, "--pack-destination", app], { stdio: "pipe" });
  const tarball = readdirSync(app).find((f) => f.endsWith(".tgz"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "page-app", private: true, type: "module" }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", `./${tarball}`], { cwd: app, stdio: "pipe" });
  api = await import(pathToFileURL(join(app, "node_modules", "vdk-secrets", "index.js")).href);
  missing = createServer((_, res) => res.writeHead(404, { "content-type": "text/plain" }).end("Not Found"));
  await new Promise((done) => missing.listen(0, "127.0.0.1", done));
  missingUrl = `http://127.0.0.1:${missing.address().port}`;
});

after(() => missing?.close());

const SECRET = "hunter2-do-not-print";

test("checkSecretsDocument reports every problem of a document together", () => {
  const text = `{"a b": "${SECRET}", "ok": "${SECRET}", "dup": 1, "dup": 2,\n "big": 1e30}`;
  const { secrets, problems, size } = api.checkSecretsDocument(text, 20);
  assert.equal(secrets, null, "a name is written twice");
  // The first value of a name written twice is counted.
  assert.equal(size, api.secretsSize({ "a b": SECRET, ok: SECRET, dup: 1, big: 1e30 }));
  assert.deepEqual(
    problems.map((p) => p.key),
    ["a b", "big", "dup", ""],
  );
  assert.match(problems[0].message, /whitespace/);
  assert.match(problems[1].message, /beyond the 64-bit range at line 2 column 9/);
  assert.match(problems[2].message, /more than once/);
  assert.match(problems[3].message, new RegExp(`the set is ${size} bytes as JSON and the limit is 20 bytes`));
  assert.ok(!JSON.stringify(problems).includes(SECRET), "no value in any message");
});

test("checkSecretsDocument keeps the set when its names are unique, big integers exact", () => {
  const text = '{"port": 5432, "id": 18446744073709551615, "conf": {"host": "db"}, "x y": true}';
  const check = api.checkSecretsDocument(text);
  assert.deepEqual(check.secrets, { conf: { host: "db" }, id: 18446744073709551615n, port: 5432, "x y": true });
  assert.equal(check.size, api.secretsSize(check.secrets));
  // The same verdict as the older call that checks a document.
  assert.deepEqual(check.problems, api.validateSecretsDocument(text));
  assert.deepEqual(api.checkSecretsDocument('{"k": "v"}'), { secrets: { k: "v" }, problems: [], size: 9 });
});

test("checkSecretsDocument never throws on text that is not a set", () => {
  for (const text of ["", "{", "null", "[]", `"${SECRET}"`, "{} {}", "[".repeat(10000), `{"k": 1e-400}`]) {
    const check = api.checkSecretsDocument(text);
    assert.ok(check.problems.length >= 1, text.slice(0, 20));
    assert.ok(!JSON.stringify(check.problems).includes(SECRET));
    if (check.secrets === null) assert.equal(check.size, 0, text.slice(0, 20));
  }
  assert.equal(api.checkSecretsDocument(`{"k": 1e-400}`).problems[0].key, "k");
});

/** A small seeded generator, so that a failure can be repeated. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test("secretEntrySize adds up to secretsSize for random sets", () => {
  const next = random(20261201);
  const pick = (items) => items[Math.floor(next() * items.length)];
  const pieces = ["a", "Z", "_", "é", "ключ", "🔑", '"', "\\", "\n", "\u0001", "\u2028", "\u007f", " ", "</"];
  const text = () => Array.from({ length: Math.floor(next() * 6) }, () => pick(pieces)).join("");
  const scalar = () =>
    pick([
      () => text(),
      () => Math.floor(next() * 1e6) - 5e5,
      () => next() * 1e3,
      () => -1.5e-7,
      () => 2 ** 53 + 2 ** 11 * Math.floor(next() * 100),
      () => 2n ** 63n + BigInt(Math.floor(next() * 1e6)),
      () => -(2n ** 63n),
      () => 18446744073709551615n,
      () => next() < 0.5,
      () => null,
    ])();
  const value = (depth) => {
    if (depth > 2 || next() < 0.5) return scalar();
    if (next() < 0.5) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, () => [text(), value(depth + 1)]));
  };
  for (let round = 0; round < 200; round += 1) {
    const set = Object.fromEntries(Array.from({ length: Math.floor(next() * 8) }, () => [text(), value(0)]));
    const entries = Object.entries(set).map(([name, v]) => api.secretEntrySize(name, v));
    const expected = entries.length === 0 ? 2 : 2 + entries.reduce((a, b) => a + b, 0) + entries.length - 1;
    assert.equal(expected, api.secretsSize(set), `round ${round}`);
  }
  assert.equal(api.secretEntrySize("k", "v"), 7);
  assert.equal(api.secretEntrySize("ключ", "é"), Buffer.byteLength('"ключ":"é"'));
});

test("validateSecrets finds the same problems in plain JSON data as member by member", () => {
  // Plain data crosses into the module as one JSON text; a set holding anything JSON text
  // cannot carry (here `undefined`) is converted member by member. Both must see the same
  // values: the same problems, and the same size to the byte (the limit of 1 makes every
  // set report it).
  const deep = (levels) => (levels === 0 ? "leaf" : [deep(levels - 1)]);
  const numbers = [
    2 ** 60,
    -(2 ** 60),
    2 ** 53 + 2,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    1e20,
    1e21,
    123456789012345680000,
    -0,
    0.1,
    5e-324,
    1.7976931348623157e308,
    1e30,
    -1e19,
    18446744073709552000,
    1.5,
    2.5e-3,
    42,
  ];
  const sets = [
    JSON.parse('{"__proto__": {"x": 1}, "ok": "v", "a b": 1, "": 2, "bell\\u0007": 3}'),
    { numbers, each: Object.fromEntries(numbers.map((n, i) => [`n${i}`, n])), big: 1e30, neg: -1e19 },
    { lone: "\ud800 and \udfff", ["key\ud83d"]: "v", emoji: '🔑 \u2028 "q" \\ </', nested: deep(63) },
    Object.fromEntries(numbers.map((n, i) => [`k${i}`, { v: [n, String(n), null, true] }])),
  ];
  for (const [i, set] of sets.entries()) {
    const plain = api.validateSecrets(set, 1);
    const converted = api
      .validateSecrets({ ...set, "zzz-undefined": undefined }, 1)
      .filter((p) => p.key !== "zzz-undefined");
    assert.deepEqual(plain, converted, `set ${i}`);
    assert.match(plain.at(-1).message, new RegExp(`^the set is ${api.secretsSize(set)} bytes`), `set ${i}`);
    assert.ok(plain.every((p) => !p.message.includes("zzz")));
  }
  // What only the member-by-member path can name is still named.
  assert.match(api.validateSecrets({ k: [1, NaN] })[0].message, /NaN or Infinity\) at \[1\]/);
  assert.match(api.validateSecrets({ k: { d: new Date(0) } })[0].message, /a Date at \.d/);
  const cycle = { a: 1 };
  cycle.self = cycle;
  for (const value of [deep(65), cycle]) {
    assert.deepEqual(api.validateSecrets({ k: value }), [
      { key: "k", message: "has a value nested more than 64 levels deep; flatten it or store it as a string" },
    ]);
  }
  assert.match(api.validateSecrets({ k: { toJSON: () => 1 } })[0].message, /a function at \.toJSON/);
});

test("long texts cross into the module as exactly as short ones", () => {
  // Past 64 characters a string crosses by TextEncoder.encode instead of a copy loop; both
  // must give the same UTF-8, a lone surrogate included (U+FFFD, as TextEncoder makes it).
  for (const value of ["é🔑\u2028 ключ", "\ud800x", "a".repeat(70) + "é", "é".repeat(70) + "\udfff"]) {
    for (const pad of [0, 100]) {
      // Written out, not by JSON.stringify, which would escape the lone surrogates.
      const text = `{"${"k".repeat(pad)}é": "${value}${"x".repeat(pad)}"}`;
      const { secrets, problems, size } = api.checkSecretsDocument(text);
      assert.deepEqual(problems, []);
      const expected = JSON.parse(text.toWellFormed());
      assert.deepEqual(secrets, expected);
      assert.equal(size, Buffer.byteLength(JSON.stringify(expected)));
    }
  }
});

test("secretEntrySize throws a SecretsError for a value JSON cannot hold", () => {
  for (const bad of [undefined, NaN, () => 1, new Date(0), 2n ** 64n]) {
    assert.throws(
      () => api.secretEntrySize("k", bad),
      (e) => e.name === "SecretsError" && e.code === "invalid-input" && e.problems[0].key === "k",
    );
  }
});

test("serverLimits reads the server's limit from /health, or null where it reports none", async () => {
  const client = (baseUrl, token) => new api.SecretsClient({ baseUrl, team: "js", job: "page", token });
  // The test server runs with --max-set-bytes 2048; no token is needed to read it.
  assert.deepEqual(await client(url).serverLimits(), { maxSetBytes: 2048 });
  const none = await client(noneUrl).serverLimits();
  assert.ok(Number.isInteger(none.maxSetBytes) && none.maxSetBytes > 0, JSON.stringify(none));
  assert.deepEqual(await client(missingUrl, "tok").serverLimits(), { maxSetBytes: null });
  assert.deepEqual(await client(decoyUrl).serverLimits(), { maxSetBytes: null });
  await assert.rejects(client("http://127.0.0.1:9").serverLimits(), (e) => {
    assert.equal(e.name, "SecretsError");
    assert.equal(e.code, "unavailable");
    return true;
  });
});
