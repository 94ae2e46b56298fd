// setAllSecrets on a set at the API's limit, against the reference server started by
// scripts/test-js.sh with its default limits: what reaches the server is exactly the set, a
// bad set is refused before anything is sent with every problem listed, and no value
// appears in any error. Plain JSON data (with BigInts) is sent as one text; anything else is
// converted member by member; both must store the same set and give the same words.
import { test, before, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createServer } from "node:http";

const pkgDir = process.env.VDK_SECRETS_PKG_DIR ?? resolve(import.meta.dirname, "../../pkg");
const url = process.env.VDK_SECRETS_TEST_LARGE_URL;
let api;

before(async () => {
  assert.ok(url, "run through scripts/test-js.sh, which starts the server");
  api = await import(pathToFileURL(resolve(pkgDir, "node.js")).href);
});

// Every request the client makes, with its body as text.
const realFetch = globalThis.fetch;
let sent;
beforeEach(() => {
  sent = [];
  globalThis.fetch = async (input, init = {}) => {
    // The body is a Blob where there is one, bytes otherwise: a Response reads either.
    const body = init.body === undefined ? null : await new Response(init.body).text();
    sent.push({ method: init.method, body, blob: init.body instanceof Blob });
    return realFetch(input, init);
  };
});
afterEach(() => {
  globalThis.fetch = realFetch;
});

let jobs = 0;
const client = () => new api.SecretsClient({ baseUrl: url, team: "save", job: `set-${Date.now()}-${(jobs += 1)}` });

/** 4,500 secrets, about 1 MiB, every value marked "zq<i>q"; one a 64-bit integer only a BigInt holds. */
function largeSet() {
  const set = {};
  for (let i = 0; i < 4500; i += 1) {
    const name = `secret_${String(i).padStart(4, "0")}`;
    if (i === 7) set[name] = 18446744073709551615n;
    else if (i % 10 === 3) set[name] = 1000 + i * 7;
    else if (i % 50 === 9) set[name] = { user: `zq${i}q`, hosts: ["a.example", "b.example"], port: i, ratio: i / 7 };
    else if (i % 50 === 19) set[name] = [`zq${i}q`, i, true, null, -(2n ** 63n), 'é \u2028 "q" \\ </'];
    else set[name] = `zq${i}q-${"abcdefghij".repeat(20)}`;
  }
  return set;
}
const MARKER = /zq\d+q/;

/** The one PUT's body, read back as a set (BigInts exact), and its problems. */
function sentSet() {
  const puts = sent.filter((r) => r.method === "PUT");
  assert.equal(puts.length, 1, "one PUT");
  // Node has Blob, so the body goes out as one (the bytes copied once, at the call).
  assert.ok(puts[0].blob, "the body is a Blob");
  return api.checkSecretsDocument(puts[0].body);
}

test("a set of 4,500 secrets is sent exactly, and read back exactly", async () => {
  const c = client();
  const { etag } = await c.getAllSecretsVersioned();
  const set = largeSet();
  const newEtag = await c.setAllSecrets(set, etag);
  assert.match(newEtag, /^"\d+"$/);
  const body = sentSet();
  assert.deepEqual(body.problems, []);
  assert.deepEqual(body.secrets, set);
  assert.equal(body.size, api.secretsSize(set));
  const read = await c.getAllSecretsVersioned();
  assert.deepEqual(read, { secrets: set, etag: newEtag });
  // Without an etag: written unconditionally, and no etag reported, as before.
  assert.equal(await c.setAllSecrets(read.secrets), null);
  assert.deepEqual(await c.getAllSecrets(), set);
});

test("a bad set is refused before sending, with every problem listed and no value", async () => {
  const c = client();
  const { etag } = await c.getAllSecretsVersioned();
  const deep = (levels) => (levels === 0 ? "zq0q" : [deep(levels - 1)]);
  const set = { ...largeSet(), "bad name": "zq1q", "": "zq2q", nested: deep(65), "tab\tname": 1, too_big: 2n ** 64n };
  const expected = api.validateSecrets(set);
  assert.deepEqual(
    expected.map((p) => p.key),
    ["bad name", "nested", "tab\tname", "too_big", ""],
  );
  for (const [label, candidate] of [
    ["the set", set],
    ["the set without the BigInt beyond 64 bits", { ...set, too_big: 1 }],
    ["the set without the BigInt, over a small limit", { ...set, too_big: 1 }],
  ]) {
    const small = label.includes("small limit");
    const limited = small
      ? new api.SecretsClient({ baseUrl: url, team: "save", job: "limited", maxSetBytes: 1000 })
      : c;
    const error = await limited.setAllSecrets(candidate, etag).then(
      () => assert.fail(`${label}: saved`),
      (e) => e,
    );
    assert.equal(error.name, "SecretsError", label);
    assert.equal(error.code, "invalid-input", label);
    assert.deepEqual(error.problems, api.validateSecrets(candidate, small ? 1000 : undefined), label);
    assert.ok(error.problems.length >= 4, label);
    const words = `${error.message} ${error.stack} ${JSON.stringify(error.problems)} ${error.why}`;
    assert.doesNotMatch(words, MARKER, `${label}: no value in the error`);
    assert.equal(sent.filter((r) => r.method === "PUT").length, 0, `${label}: nothing sent`);
  }
  assert.deepEqual(await c.getAllSecretsVersioned(), { secrets: {}, etag });
});

test("edge values are stored the same as one text or member by member", async () => {
  const deep = (levels) => (levels === 0 ? "leaf" : [deep(levels - 1)]);
  // A JS number beyond 2^53 - 1 makes the set go member by member (JSON text would show it as
  // an integer; the module holds it as the float it is); the rest goes as one text.
  const sets = [
    {
      numbers: [0.1, -0, 1.5, 2.5e-3, 1e-7, 123.456, 42, -(2 ** 53 - 1)],
      big: [2n ** 53n, -(2n ** 63n), 2n ** 64n - 1n],
      text: ["", "\u0000\u001f\u007f", '🔑 \u2028 "q" \\ </', "vdk-bigint-0:1"],
      deepest: deep(64),
      __proto__: null,
    },
    JSON.parse('{"z": 1, "__proto__": {"x": 1}, "a": {"b": {"c": [[], {}, null, false]}}}'),
  ];
  // JSON has no -0: both paths store 0.
  const stored = [{ ...sets[0], numbers: [0.1, 0, ...sets[0].numbers.slice(2)] }, { ...sets[1] }];
  for (const [i, set] of sets.entries()) {
    sent = [];
    const asText = client();
    await asText.setAllSecrets(set);
    const byMember = client();
    await byMember.setAllSecrets({ ...set, forced: 2 ** 60 });
    // One text keeps the set's own order; member by member sends names sorted.
    const [first, second] = sent.map((r) => r.body);
    assert.equal(first.startsWith(i === 0 ? '{"numbers":' : '{"z":'), true, `set ${i}: as one text`);
    assert.equal(second.startsWith(i === 0 ? '{"big":' : '{"__proto__":'), true, `set ${i}: member by member`);
    const member = await byMember.getAllSecrets();
    delete member.forced;
    assert.deepEqual(await asText.getAllSecrets(), member, `set ${i}`);
    assert.deepEqual(member, stored[i], `set ${i}`);
  }
  // Lone surrogates are not JSON text the module reads: member by member, as before.
  const lone = client();
  await lone.setAllSecrets({ k: "\ud800 x" });
  assert.deepEqual(await lone.getAllSecrets(), { k: "\ufffd x" });
});

test("what only the member-by-member path can name is named as before", async () => {
  const c = client();
  const cycle = { a: 1 };
  cycle.self = cycle;
  const cases = [
    [{ k: [1, NaN] }, /NaN or Infinity\) at \[1\]/],
    [{ k: { d: new Date(0) } }, /a Date at \.d/],
    [{ k: { toJSON: () => "zq1q" } }, /a function at \.toJSON/],
    [{ k: cycle }, /nested more than 64 levels deep/],
    [{ k: undefined }, /undefined/],
    [{ k: new Array(3) }, /undefined at \[0\]/], // holes
    [{ k: 2n ** 64n }, /a BigInt outside -2\^63 to 2\^64 - 1/],
  ];
  for (const [set, words] of cases) {
    const error = await c.setAllSecrets(set).then(
      () => assert.fail("saved"),
      (e) => e,
    );
    assert.equal(error.code, "invalid-input");
    assert.equal(error.problems.length, 1);
    assert.match(error.problems[0].message, words);
    assert.doesNotMatch(JSON.stringify(error.problems), MARKER);
  }
  assert.equal(sent.length, 0, "nothing sent");
  // A toJSON anywhere up the chain is honoured by JSON.stringify, so it is never used then.
  Object.prototype.toJSON = () => "zq3q";
  try {
    await c.setAllSecrets({ k: { a: 1 } });
  } finally {
    delete Object.prototype.toJSON;
  }
  assert.deepEqual(await c.getAllSecrets(), { k: { a: 1 } });
});

test("a set read is built from the body as the server wrote it, big integers exact", async () => {
  // A server writing its own way: spaces, names out of order and twice, "__proto__" as a
  // name, big integers nested, -0 and floats; then bodies that are not a set of secrets.
  const bodies = {
    ok:
      '{ "b" : 1 ,\n "a": [18446744073709551615, {"x": -9223372036854775808, "y": 9007199254740993}],\n' +
      ' "a": {"kept": "last"}, "__proto__": {"z": [0.1, -0, 1e300, 12345678901234567890123]}, "c": "zq1q"}',
    float: '{"k": 1e400, "s": "zq1q"}',
    surrogate: '{"k": "\\ud800", "s": "zq1q"}',
    array: '["zq1q"]',
  };
  const server = createServer((request, response) => {
    const body = bodies[request.url.split("/")[5]];
    response.writeHead(200, { "content-type": "application/json", etag: '"3"' }).end(body);
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const base = `http://127.0.0.1:${server.address().port}`;
  const read = (job) => new api.SecretsClient({ baseUrl: base, team: "t", job }).getAllSecretsVersioned();
  try {
    const { secrets, etag } = await read("ok");
    assert.equal(etag, '"3"');
    const expected = JSON.parse('{"b": 1, "a": {"kept": "last"}, "c": "zq1q"}');
    Object.defineProperty(expected, "__proto__", {
      value: { z: [0.1, -0, 1e300, 1.2345678901234568e22] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    assert.deepEqual(secrets, expected);
    assert.ok(Object.hasOwn(secrets, "__proto__") && Object.getPrototypeOf(secrets) === Object.prototype);
    const again = await new api.SecretsClient({ baseUrl: base, team: "t", job: "ok" }).getAllSecrets();
    assert.deepEqual(again, expected);
    // Big integers nested in a value that is read again are exact.
    bodies.big = '{"a": [18446744073709551615, {"x": -9223372036854775808, "y": 9007199254740993}]}';
    assert.deepEqual((await read("big")).secrets, {
      a: [18446744073709551615n, { x: -9223372036854775808n, y: 9007199254740993n }],
    });
    for (const [job, words] of [
      ["float", /the body is not valid JSON \(syntax error at line 1 column \d+\)|not valid JSON/],
      ["surrogate", /not valid JSON/],
      ["array", /the body is a JSON list, not an object of secrets/],
    ]) {
      const error = await read(job).then(
        () => assert.fail(`${job}: read`),
        (e) => e,
      );
      assert.equal(error.code, "protocol", job);
      assert.match(error.why, words, job);
      assert.doesNotMatch(`${error.message} ${error.why}`, MARKER, job);
    }
  } finally {
    server.close();
  }
});
