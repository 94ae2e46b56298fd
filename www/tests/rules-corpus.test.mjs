// The shared corpus of inputs and verdicts (tests/rules_corpus.json and the cases taken from
// fuzzing, tests/corpus/fuzz-documents.jsonl), through the npm package in headless Chromium:
// the same verdicts and the very same words as the native code (tests/rules_corpus.rs) and
// Node (npm/test/rules-corpus.test.mjs). The built package (pkg/) is served as it is, by a
// static server this test starts on 127.0.0.1, and loaded by both of its browser entries.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, resolve, sep } from "node:path";
import { after, before, describe, it } from "node:test";
import { answer, assertAgreement, inputs, loadCorpus, root } from "../../tests/corpus/corpus.mjs";
import { sharedBrowser } from "./helpers.mjs";

const corpus = loadCorpus();

const PKG = resolve(root, "pkg");
const BLANK = '<!doctype html><html lang="en"><head><title>corpus</title></head><body></body></html>';
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm" };

/** What the static server answers: a blank page at `/`, and the files of pkg/ as they are. */
function serve(request, response) {
  const path = new URL(request.url, "http://x").pathname;
  const file = resolve(PKG, `.${decodeURIComponent(path)}`);
  const type = TYPES[extname(file)];
  if (path === "/") {
    response.writeHead(200, { "content-type": "text/html" }).end(BLANK);
  } else if (file.startsWith(PKG + sep) && type && existsSync(file)) {
    response.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(readFileSync(file));
  } else {
    response.writeHead(404).end();
  }
}

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
    server = createServer(serve);
    await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(
    () =>
      new Promise((closed) => {
        server.close(closed);
        server.closeAllConnections();
      }),
  );

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
        // Most sets also go in as JS objects (JSON.parse keeps them as the package reads them).
        assert.ok(answers.documents.filter((a) => Array.isArray(a.object)).length > 50);
        assertAgreement(corpus, answers);
        assert.deepEqual(errors, [], "the page threw");
      } finally {
        await context.close();
      }
    });
  }
});
