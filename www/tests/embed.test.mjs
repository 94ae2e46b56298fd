// <vdk-job-secrets> in a host page of its own: two instances side by side, host styles that
// would break the page if they reached into it, the token as a property only, and the
// loaded / saved / conflict events.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  largeSet,
  openPage,
  pageHtml,
  readSecrets,
  TEAM,
  UI_URL,
  uniqueJob,
  writeSecrets,
  sharedBrowser,
} from "./helpers.mjs";

const HOST_URL = `${UI_URL}/embedding-host.html`;

/** A host page with hostile styles and two elements, served in place of a page of the server's. */
function hostPage(jobA, jobB) {
  return `<!doctype html>
<html lang="en">
<head>
  <title>Host</title>
  <style>
    * { color: rgb(255, 0, 0) !important; font-family: serif !important; letter-spacing: 5px; }
    button, table, input { display: none !important; }
    .card, .hint { border: 7px dotted rgb(0, 128, 0); }
    :root { --text: rgb(255, 0, 0); --surface: rgb(0, 0, 255); }
    vdk-job-secrets { margin: 1rem 0; }
  </style>
</head>
<body>
  <main>
    <h1>Host application</h1>
    <p class="hint" id="host-hint">The host's own text.</p>
    <vdk-job-secrets id="first" team="${TEAM}" job="${jobA}"></vdk-job-secrets>
    <vdk-job-secrets id="second" team="${TEAM}" job="${jobB}"></vdk-job-secrets>
  </main>
  <script type="module">
    import "/element.js";
    window.events = [];
    for (const type of ["loading", "loaded", "saved", "conflict"]) {
      document.addEventListener(type, (event) => window.events.push({ type, id: event.target.id, detail: event.detail }));
    }
    window.hostReady = true;
  </script>
</body>
</html>`;
}

const events = (page, type) => page.evaluate((t) => window.events.filter((e) => e.type === t), type);

describe("embedding <vdk-job-secrets> in a host page", () => {
  const browser = sharedBrowser();

  it("runs two instances, untouched by the host's styles, with events and a token property", async () => {
    const jobA = uniqueJob("embed-a");
    const jobB = uniqueJob("embed-b");
    await writeSecrets(jobA, { a_only: "value-a-zq1" });
    await writeSecrets(jobB, { b_only: "value-b-zq2", shared: 1 });
    const { context, page } = await openPage(browser);
    await page.route(HOST_URL, (route) =>
      route.fulfill({ status: 200, contentType: "text/html", body: hostPage(jobA, jobB) }),
    );
    await page.goto(HOST_URL);
    await page.waitForFunction(() => window.hostReady === true);

    // The token goes in as a property: not an attribute, not readable back, not in the markup.
    const token = "embed-token-zq3";
    await page.evaluate((t) => {
      document.getElementById("first").token = t;
    }, token);
    const tokenSeen = await page.evaluate(() => ({
      attribute: document.getElementById("first").getAttribute("token"),
      property: document.getElementById("first").token,
    }));
    assert.deepEqual(tokenSeen, { attribute: null, property: undefined });
    assert.ok(!(await pageHtml(page)).includes(token), "the token is in no markup");

    // Each instance loads its own job.
    const loaded = await page.evaluate(() =>
      Promise.all([document.getElementById("first").load(), document.getElementById("second").load()]),
    );
    assert.deepEqual(loaded, [true, true]);
    assert.deepEqual(await page.$$eval("#first #rows tr", (rows) => rows.map((r) => r.dataset.name)), ["a_only"]);
    assert.deepEqual(await page.$$eval("#second #rows tr", (rows) => rows.map((r) => r.dataset.name)), [
      "b_only",
      "shared",
    ]);
    const loadedEvents = await events(page, "loaded");
    assert.deepEqual(loadedEvents.map((e) => [e.id, e.detail.job, e.detail.count]).sort(), [
      ["first", jobA, 1],
      ["second", jobB, 2],
    ]);
    assert.ok(!(await pageHtml(page)).match(/zq[12]/), "values stay masked in both");

    // The host's styles do not reach in...
    const inside = await page.evaluate(() => {
      const root = document.getElementById("first").shadowRoot;
      const name = root.querySelector("#rows .name");
      const button = root.querySelector("#save");
      const card = root.querySelector(".card");
      return {
        nameColor: getComputedStyle(name).color,
        nameFont: getComputedStyle(name).fontFamily,
        letterSpacing: getComputedStyle(root.querySelector("#job-label")).letterSpacing,
        button: getComputedStyle(button).display,
        table: getComputedStyle(root.querySelector("#secrets-table")).display,
        cardBorder: getComputedStyle(card).borderTopStyle,
        cardBackground: getComputedStyle(card).backgroundColor,
      };
    });
    assert.notEqual(inside.nameColor, "rgb(255, 0, 0)");
    assert.doesNotMatch(inside.nameFont, /^serif$/);
    assert.equal(inside.letterSpacing, "normal");
    assert.notEqual(inside.button, "none");
    assert.equal(inside.table, "table");
    assert.equal(inside.cardBorder, "solid");
    assert.notEqual(inside.cardBackground, "rgb(0, 0, 255)");
    // ...and the page's styles do not leak out.
    const outside = await page.evaluate(() => {
      const hint = document.getElementById("host-hint");
      return { border: getComputedStyle(hint).borderTopStyle, color: getComputedStyle(hint).color };
    });
    assert.deepEqual(outside, { border: "dotted", color: "rgb(255, 0, 0)" });

    // Saving in one raises `saved` on it; the other is untouched.
    await page.click("#first #rows button[data-action=edit]");
    await page.locator("#first #edit-dialog[open]").waitFor();
    await page.fill("#first #edit-value", "changed-a");
    await page.click("#first #edit-ok");
    await page.click("#first #save");
    await page.waitForFunction(() => window.events.some((e) => e.type === "saved"));
    const [saved] = await events(page, "saved");
    assert.equal(saved.id, "first");
    assert.deepEqual(saved.detail.changed, ["a_only"]);
    assert.equal((await readSecrets(jobA)).secrets.a_only, "changed-a");
    assert.match(await page.locator("#second #changes-summary").textContent(), /^None/);

    // Someone else saves the second job first: its Save raises `conflict` and saves nothing.
    await writeSecrets(jobB, { b_only: "theirs", shared: 1 });
    await page.click("#second #rows tr[data-name=shared] button[data-action=delete]");
    await page.click("#second #confirm-ok");
    await page.click("#second #save");
    await page.waitForFunction(() => window.events.some((e) => e.type === "conflict"));
    const [conflict] = await events(page, "conflict");
    assert.equal(conflict.id, "second");
    assert.deepEqual(conflict.detail.changed, ["b_only"]);
    assert.ok(!JSON.stringify(await page.evaluate(() => window.events)).includes("theirs"), "events carry no values");
    assert.deepEqual((await readSecrets(jobB)).secrets, { b_only: "theirs", shared: 1 });
    page.assertNoErrors();
    await context.close();
  });

  it("follows the document's scrolling only while in it, also after being moved", async () => {
    const job = uniqueJob("embed-move");
    await writeSecrets(job, largeSet(300).text());
    const { context, page } = await openPage(browser);
    const host = `<!doctype html><html lang="en"><head><title>Host</title></head><body>
      <div id="here"><vdk-job-secrets id="only" team="${TEAM}" job="${job}"></vdk-job-secrets></div>
      <div id="there"></div>
      <script type="module">import "/element.js"; window.hostReady = true;</script></body></html>`;
    await page.route(HOST_URL, (route) => route.fulfill({ status: 200, contentType: "text/html", body: host }));
    await page.goto(HOST_URL);
    await page.waitForFunction(() => window.hostReady === true);
    assert.equal(await page.evaluate(() => document.getElementById("only").load()), true);
    const cdp = await context.newCDPSession(page);
    /** The listeners of `type` on the document. */
    const listeners = async (type) => {
      const { result } = await cdp.send("Runtime.evaluate", { expression: "document" });
      const { listeners: all } = await cdp.send("DOMDebugger.getEventListeners", { objectId: result.objectId });
      return all.filter((l) => l.type === type).length;
    };
    assert.equal(await listeners("scroll"), 1);
    assert.equal(await listeners("visibilitychange"), 1);

    // Moved elsewhere in the document, it still builds the rows where the view is.
    await page.evaluate(() => document.getElementById("there").append(document.getElementById("only")));
    assert.equal(await listeners("scroll"), 1, "listening once, not twice");
    await page.waitForFunction(() => {
      window.scrollTo(0, document.documentElement.scrollHeight);
      return document.getElementById("only").shadowRoot.querySelector('#rows tr[data-name="secret_0290"]') != null;
    });

    // Removed, it no longer listens to the document, and can be collected.
    await page.evaluate(() => document.getElementById("only").remove());
    assert.equal(await listeners("scroll"), 0);
    assert.equal(await listeners("visibilitychange"), 0);
    page.assertNoErrors();
    await context.close();
  });
});
