// The shared corpus of inputs and verdicts (tests/rules_corpus.json and the cases taken from
// fuzzing, tests/corpus/fuzz-documents.jsonl), through the npm package in Node: the same
// verdicts and the very same words as the native code (tests/rules_corpus.rs). Uses the
// package built in pkg/ by scripts/build-npm.sh, loaded by its Node entry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { answer, assertAgreement, inputs, loadCorpus, root } from "../../tests/corpus/corpus.mjs";

const corpus = loadCorpus();

test("the corpus holds hand-written cases and cases from fuzzing, valid and invalid", () => {
  assert.ok(corpus.jobs.length > 0 && corpus.documents.length > 0);
  assert.ok(corpus.fuzz.some((kase) => kase.from.startsWith("fuzz/regressions/")));
  assert.ok(corpus.fuzz.filter((kase) => kase.valid).length > 10);
  assert.ok(corpus.fuzz.filter((kase) => !kase.valid).length > 10);
});

test("every case gets the native verdict and words", async () => {
  // The entry Node resolves the package to (the "node" condition of package.json).
  const pkgDir = process.env.VDK_SECRETS_PKG_DIR ?? resolve(root, "pkg");
  const api = await import(pathToFileURL(resolve(pkgDir, "node.js")).href);
  const answers = answer(api, inputs(corpus));
  assert.equal(answers.documents.length, corpus.documents.length + corpus.fuzz.length);
  // Most sets also go in as JS objects (JSON.parse keeps them as the package reads them).
  assert.ok(answers.documents.filter((a) => Array.isArray(a.object)).length > 50);
  assertAgreement(corpus, answers);
});
