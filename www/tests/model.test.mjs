// The page's pure helpers and its state, in Node: comparing sets, rebasing edits, reading editor
// text, and the working copy apart from the loaded set.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  copySet,
  diffSets,
  displayText,
  editorTypeOf,
  hasUnsafeInteger,
  jsonText,
  kindOf,
  overlap,
  parseValueText,
  rebase,
  sameValue,
  valueToText,
} from "../model.js";
import { PageState } from "../state.js";

describe("model", () => {
  it("diffs two sets by name, ignoring object key order", () => {
    const from = { a: 1, b: { x: 1, y: 2 }, c: "c", gone: null };
    const to = { a: 2, b: { y: 2, x: 1 }, c: "c", new: [1] };
    assert.deepEqual(diffSets(from, to), { added: ["new"], changed: ["a"], removed: ["gone"] });
    assert.ok(sameValue({ k: [1, { z: 1, a: 2 }] }, { k: [1, { a: 2, z: 1 }] }));
    assert.ok(!sameValue([1, 2], [2, 1]));
  });

  it("rebases my edits on the server's version, mine winning where both changed", () => {
    const base = { a: 1, b: 2, c: 3 };
    const mine = { a: 10, b: 20, d: 4 }; // changed a, b; removed c; added d
    const theirs = { a: 1, b: 200, c: 3, e: 5 }; // changed b; added e
    assert.deepEqual(rebase(base, mine, theirs), { a: 10, b: 20, d: 4, e: 5 });
    assert.deepEqual(overlap(diffSets(base, mine), diffSets(base, theirs)), ["b"]);
  });

  it("copies a set's entries, sharing the values rather than copying them", () => {
    const set = JSON.parse('{"b": {"x": [1]}, "a": "s", "__proto__": [2]}');
    const copy = copySet(set);
    assert.notEqual(copy, set);
    assert.deepEqual(Object.keys(copy), ["b", "a", "__proto__"]);
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.equal(copy.b, set.b, "the same value object, not a copy of it");
    delete copy.a;
    assert.equal(set.a, "s", "the sets themselves are separate");
  });

  it("keeps a secret named __proto__ an ordinary entry", () => {
    const base = JSON.parse('{"__proto__": 1}');
    const mine = JSON.parse('{"__proto__": 2}');
    const result = rebase(base, mine, JSON.parse('{"__proto__": 1}'));
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.deepEqual(diffSets(base, mine).changed, ["__proto__"]);
    const added = rebase({}, JSON.parse('{"__proto__": {"x": 1}}'), {});
    assert.equal(Object.getPrototypeOf(added), Object.prototype);
    assert.deepEqual(Object.keys(added), ["__proto__"]);
  });

  it("reads editor text by type, never quoting it in a message", () => {
    assert.deepEqual(parseValueText(" keep \n spaces ", "string"), { ok: true, value: " keep \n spaces " });
    assert.deepEqual(parseValueText(" 5432 ", "number"), { ok: true, value: 5432 });
    assert.deepEqual(parseValueText("-0.5e2", "number"), { ok: true, value: -50 });
    for (const text of ["0x10", "Infinity", "1e400", "", "12abc"]) {
      assert.equal(parseValueText(text, "number").ok, false, text);
    }
    assert.deepEqual(parseValueText('{"a": [true, null]}', "json"), { ok: true, value: { a: [true, null] } });
    const bad = parseValueText('{"secret-zq": ', "json");
    assert.equal(bad.ok, false);
    assert.ok(!bad.message.includes("zq"), bad.message);
    assert.match(bad.message, /^is not valid JSON/);
  });

  it("names kinds and editor types, and turns values back into editor text", () => {
    assert.deepEqual([null, [], {}, "s", 1, false].map(kindOf), [
      "null",
      "list",
      "object",
      "string",
      "number",
      "boolean",
    ]);
    assert.deepEqual([null, [], "s", 1, true].map(editorTypeOf), ["json", "json", "string", "number", "json"]);
    assert.equal(valueToText("a\nb", "string"), "a\nb");
    assert.equal(valueToText(2.5, "number"), "2.5");
    assert.equal(valueToText({ a: 1 }, "json"), '{\n  "a": 1\n}');
  });

  it("keeps integers beyond Number.MAX_SAFE_INTEGER exact, as BigInts, in editor text and JSON text", () => {
    assert.deepEqual(parseValueText("12345678901234567891", "number"), { ok: true, value: 12345678901234567891n });
    assert.deepEqual(parseValueText("9007199254740991", "number"), { ok: true, value: 9007199254740991 });
    assert.deepEqual(parseValueText("1e300", "number"), { ok: true, value: 1e300 });
    // JSON text keeps them exact where the engine passes number sources to JSON.parse's reviver
    // (Chromium does: the browser tests cover it); elsewhere such text is refused, not rounded.
    let gives = false;
    JSON.parse("1", (_k, v, context) => ((gives = Boolean(context && context.source === "1")), v));
    const parsed = parseValueText('{"id": 12345678901234567891, "n": [1.5, 2]}', "json");
    if (gives) {
      assert.deepEqual(parsed, { ok: true, value: { id: 12345678901234567891n, n: [1.5, 2] } });
    } else {
      assert.equal(parsed.ok, false);
      assert.match(parsed.message, /beyond ±9007199254740991.*cannot read exactly/);
      assert.doesNotMatch(parsed.message, /1234567890/);
    }
    assert.ok(hasUnsafeInteger({ id: [2 ** 60] }), "a rounded number is found");
    assert.ok(!hasUnsafeInteger({ id: [2 ** 52, 0.5, 12345678901234567891n, "99999999999999999999"] }));
    assert.equal(kindOf(12345678901234567891n), "number");
    assert.equal(valueToText(12345678901234567891n, "number"), "12345678901234567891");
    const value = { id: 12345678901234567891n, list: [1, "x", null, { deep: true }], empty: {}, none: [] };
    const plain = { id: 1, list: [1, "x", null, { deep: true }], empty: {}, none: [] };
    assert.equal(jsonText(plain, 2), JSON.stringify(plain, null, 2), "laid out as JSON.stringify lays it out");
    assert.equal(jsonText(plain), JSON.stringify(plain));
    assert.equal(displayText(value), JSON.stringify(plain, null, 2).replace('"id": 1', '"id": 12345678901234567891'));
    assert.ok(sameValue({ a: 12345678901234567891n }, { a: 12345678901234567891n }));
    assert.ok(!sameValue({ a: 12345678901234567891n }, { a: 12345678901234567892n }));
  });
});

describe("state", () => {
  // Sizes as compact JSON, standing in for the package's.
  const measure = {
    set: (secrets) => JSON.stringify(secrets).length,
    entry: (name, value) => JSON.stringify({ [name]: value }).length - 2,
  };

  it("never changes the loaded or saved set through an edit of the working copy", () => {
    const state = new PageState(measure, 1024);
    const loaded = { a: 1, b: "two", c: [3] };
    state.adopt(loaded, '"1"');
    state.put("a", 10);
    state.remove("b");
    assert.deepEqual(loaded, { a: 1, b: "two", c: [3] }, "the loaded set is as read");
    assert.deepEqual(state.working, { a: 10, c: [3] });
    assert.deepEqual(state.diff, { added: [], changed: ["a"], removed: ["b"] });

    state.saved('"2"');
    const saved = state.base;
    assert.deepEqual(saved, { a: 10, c: [3] });
    state.put("d", 4);
    assert.deepEqual(saved, { a: 10, c: [3] }, "the saved set is as sent");
    assert.deepEqual(state.diff, { added: ["d"], changed: [], removed: [] });

    state.discard();
    assert.deepEqual(state.working, { a: 10, c: [3] });
    assert.equal(state.size, measure.set(state.working));
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i]));
    state.adopt(many, '"3"');
    state.removeAll(Object.keys(many).slice(0, 250));
    assert.equal(Object.keys(many).length, 300, "removing many leaves the loaded set whole");
    assert.equal(state.count, 50);
    assert.equal(state.diff.removed.length, 250);
  });
});
