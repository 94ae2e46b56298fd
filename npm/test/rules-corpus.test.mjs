// The shared corpus of inputs and verdicts (tests/rules_corpus.json), through the npm
// package in Node: the same verdicts, keys and words as the native client
// (tests/rules_corpus.rs). Uses the package built in pkg/ by scripts/build-npm.sh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const root = resolve(import.meta.dirname, "../..");
const corpus = JSON.parse(readFileSync(resolve(root, "tests/rules_corpus.json"), "utf8"));
const api = await import(pathToFileURL(resolve(root, "pkg/index.js")).href);

/** `key` and then the message, as the native test shows a problem. */
const shown = ({ key, message }) => {
  if (key === "") return message;
  const escaped = [...key]
    .slice(0, 81)
    .map((c, i) => (i === 80 ? "…" : /\p{Cc}/u.test(c) ? `\\u{${c.codePointAt(0).toString(16)}}` : c))
    .join("");
  return `\`${escaped}\` ${message}`;
};

function check(name, problems, kase) {
  assert.equal(problems.length === 0, kase.valid, `${name}: ${JSON.stringify(problems)}`);
  assert.deepEqual(
    problems.map((p) => p.key),
    kase.keys ?? [],
    name,
  );
  if (kase.problems) {
    assert.deepEqual(
      problems.map((p) => [p.key, p.message]),
      kase.problems,
      name,
    );
  }
  const texts = problems.map(shown);
  for (const mention of kase.mentions ?? []) {
    assert.ok(
      texts.some((t) => t.includes(mention)),
      `${name}: ${JSON.stringify(mention)} not in ${JSON.stringify(texts)}`,
    );
  }
}

test("job references get the corpus verdicts", () => {
  assert.ok(corpus.jobs.length > 0);
  for (const kase of corpus.jobs) {
    check(JSON.stringify([kase.team, kase.job]), api.validateJob(kase.team, kase.job), kase);
  }
});

test("secrets documents get the corpus verdicts, and the document check agrees", () => {
  assert.ok(corpus.documents.length > 0);
  for (const kase of corpus.documents) {
    const name = JSON.stringify(kase.document).slice(0, 80);
    check(name, api.validateSecretsDocument(kase.document), kase);
    const checked = api.checkSecretsDocument(kase.document);
    assert.equal(checked.problems.length === 0, kase.valid, name);
  }
});
