// The shared corpus of inputs and verdicts (tests/rules_corpus.json and the cases taken from
// fuzzing, tests/corpus/fuzz-documents.jsonl), through the npm package in headless Chromium:
// the same verdicts and the very same words as the native code (tests/rules_corpus.rs) and
// Node (npm/test/rules-corpus.test.mjs). The built package (pkg/) is served as it is, by a
// static server this test starts on 127.0.0.1, and loaded by both of its browser entries.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { answer, disagreements, inputs, loadCorpus, root } from "../../tests/corpus/corpus.mjs";
import { sharedBrowser } from "./helpers.mjs";

const corpus = loadCorpus();

/** What the static server serves: a blank page and the package's files, from pkg/. */
const FILES = {
  "/": ["text/html", () => '<!doctype html><html lang="en"><head><title>corpus</title></head><body></body></html>'],
  "/index.js": ["text/javascript", () => readFileSync(resolve(root, "pkg/index.js"))],
  "/browser.js": ["text/javascript", () => readFileSync(resolve(root, "pkg/browser.js"))],
  "/vdk_secrets.js": ["text/javascript", () => readFileSync(resolve(root, "pkg/vdk_secrets.js"))],
  "/vdk_secrets_bg.wasm": ["application/wasm", () => readFileSync(resolve(root, "pkg/vdk_secrets_bg.wasm"))],
};

/** Loads the package in the page by `entry` and answers every case there. */
async function answerInPage(page, entry, cases) {
  return page.evaluate(
    async ({ entry, source, cases }) => {
      const api = await import(entry);
      await api.init();
      const answerCases = new Function(`return (${source});`)();
      return answerCases(api, cases);
    },
    { entry, source: answer.toString(), cases },
  );
}

describe("the rules corpus in Chromium", () => {
  const browser = sharedBrowser();
  let server;
  let base;

  before(async () => {
    server = createServer((request, response) => {
      const file = FILES[new URL(request.url, "http://x").pathname];
      if (!file) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { "content-type": file[0], "cache-control": "no-store" }).end(file[1]());
    });
    await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => new Promise((closed) => server.close(closed)));

  // browser.js: the entry bundlers pick for browsers (`await init()` first); index.js: the
  // entry a page imports by its path (top-level await loads the module).
  for (const entry of ["/browser.js", "/index.js"]) {
    it(`gives every case the native verdict and words, loaded by ${entry}`, async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const errors = [];
        page.on("pageerror", (error) => errors.push(String(error)));
        await page.goto(`${base}/`);
        const answers = await answerInPage(page, entry, inputs(corpus));
        assert.equal(answers.jobs.length, corpus.jobs.length);
        assert.equal(answers.documents.length, corpus.documents.length + corpus.fuzz.length);
        assert.deepEqual(disagreements(corpus, answers), []);
        assert.deepEqual(errors, [], "the page threw");
      } finally {
        await context.close();
      }
    });
  }
});
