// The shared corpus of inputs and verdicts for the npm package's harnesses: Node
// (npm/test/rules-corpus.test.mjs) and headless Chromium (www/tests/rules-corpus.test.mjs).
// Both run every case through `answer` and compare with `disagreements`; the native code's
// verdicts are the expectations (tests/rules_corpus.rs checks them).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export const root = resolve(import.meta.dirname, "../..");

/**
 * The hand-written cases of tests/rules_corpus.json (`jobs`, `documents`) and the cases taken
 * from fuzzing in tests/corpus/fuzz-documents.jsonl (`fuzz`).
 */
export function loadCorpus() {
  const { jobs, documents } = JSON.parse(readFileSync(resolve(root, "tests/rules_corpus.json"), "utf8"));
  const fuzz = readFileSync(resolve(root, "tests/corpus/fuzz-documents.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
  return { jobs, documents, fuzz };
}

/**
 * What the package answers for every case: `validateJob` for a job, `validateSecretsDocument`
 * and `checkSecretsDocument` for a document. Self-contained, so that it can run inside a page
 * as well: it uses nothing but its arguments, and returns plain data.
 */
export function answer(api, { jobs, documents }) {
  const pairs = (problems) => problems.map((p) => [p.key, p.message]);
  const guarded = (run) => {
    try {
      return run();
    } catch (error) {
      return { threw: String(error) };
    }
  };
  // Whether two JSON-like values are equal (a BigInt equals no number).
  const equal = (a, b) => {
    if (typeof a !== typeof b) return false;
    if (a === null || b === null || typeof a !== "object") return a === b;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  };
  // The JS-object path, `validateSecrets(JSON.parse(document))`, when JSON.parse gives the very
  // set the package reads from the text (not so for a big integer or a repeated name); else null.
  const asObject = (document) => {
    let parsed;
    try {
      parsed = JSON.parse(document);
    } catch {
      return null;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
    const { secrets } = api.checkSecretsDocument(document);
    return equal(secrets, parsed) ? pairs(api.validateSecrets(parsed)) : null;
  };
  return {
    jobs: jobs.map(({ team, job }) => guarded(() => pairs(api.validateJob(team, job)))),
    documents: documents.map((document) => ({
      validate: guarded(() => pairs(api.validateSecretsDocument(document))),
      check: guarded(() => {
        const checked = api.checkSecretsDocument(document);
        return { problems: pairs(checked.problems), size: checked.size };
      }),
      object: guarded(() => asObject(document)),
    })),
  };
}

/** The inputs `answer` takes, from a corpus: the job pairs and every document, hand-written first. */
export function inputs(corpus) {
  return {
    jobs: corpus.jobs.map(({ team, job }) => ({ team, job })),
    documents: [...corpus.documents, ...corpus.fuzz].map((kase) => kase.document),
  };
}

/** `key` and then the message, as the native code shows a problem (for `mentions`). */
const shown = ([key, message]) => {
  if (key === "") return message;
  const escaped = [...key]
    .slice(0, 81)
    .map((c, i) => (i === 80 ? "…" : /\p{Cc}/u.test(c) ? `\\u{${c.codePointAt(0).toString(16)}}` : c))
    .join("");
  return `\`${escaped}\` ${message}`;
};

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** How a hand-written case's expectation and what was found differ; empty when they agree. */
function handWritten(kase, found) {
  if (!Array.isArray(found)) return [`threw ${found.threw}`];
  const wrong = [];
  if ((found.length === 0) !== kase.valid) wrong.push(`valid should be ${kase.valid}`);
  if (
    !same(
      found.map(([key]) => key),
      kase.keys ?? [],
    )
  )
    wrong.push(`keys should be ${JSON.stringify(kase.keys ?? [])}`);
  if (kase.problems && !same(found, kase.problems)) wrong.push(`problems should be ${JSON.stringify(kase.problems)}`);
  const texts = found.map(shown);
  for (const mention of kase.mentions ?? []) {
    if (!texts.some((t) => t.includes(mention))) wrong.push(`no problem mentions ${JSON.stringify(mention)}`);
  }
  return wrong;
}

/**
 * Every disagreement between the corpus and `answers` (what `answer` returned for
 * `inputs(corpus)`), each naming the case, the call, what was wrong and what was found.
 */
export function disagreements(corpus, answers) {
  const out = [];
  const report = (name, call, wrong, found) => {
    for (const what of wrong) out.push({ case: name, call, what, found });
  };
  corpus.jobs.forEach((kase, i) => {
    const name = JSON.stringify([kase.team, kase.job]);
    report(name, "validateJob", handWritten(kase, answers.jobs[i]), answers.jobs[i]);
  });
  corpus.documents.forEach((kase, i) => {
    const name = JSON.stringify(kase.document).slice(0, 80);
    const { validate, check } = answers.documents[i];
    report(name, "validateSecretsDocument", handWritten(kase, validate), validate);
    const verdict = check.problems && (check.problems.length === 0) === kase.valid;
    report(name, "checkSecretsDocument", verdict ? [] : [`valid should be ${kase.valid}`], check);
  });
  corpus.fuzz.forEach((kase, i) => {
    const { validate, check, object } = answers.documents[corpus.documents.length + i];
    if (!same(validate, kase.problems)) {
      report(kase.from, "validateSecretsDocument", [`should be ${JSON.stringify(kase.problems)}`], validate);
    }
    if (!same(check, kase.check)) {
      report(kase.from, "checkSecretsDocument", [`should be ${JSON.stringify(kase.check)}`], check);
    }
    // A set read whole from the text is the same set as an object: the same problems.
    if (kase.whole && object !== null && !same(object, kase.problems)) {
      const call = "validateSecrets(JSON.parse(document))";
      report(kase.from, call, [`should be ${JSON.stringify(kase.problems)}`], object);
    }
  });
  return out;
}

/** Fails, listing every disagreement, unless `answers` agree with the corpus everywhere. */
export function assertAgreement(corpus, answers) {
  assert.deepEqual(disagreements(corpus, answers), []);
}
