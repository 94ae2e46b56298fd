// The secrets page's benchmark: seeds sets of 100, 1,000 and 4,500 secrets (about 1 MiB at
// 4,500) into the server at the given URL, drives headless Chromium through each interaction,
// and prints the median and spread of each, per size.
//
// Each time is taken inside the page: from just before the event is dispatched until the first
// frame that shows the result is painted (requestAnimationFrame, then a message posted from it,
// which runs once that frame is painted). A result that comes later (a dialog, the server's
// answer) is looked for at each frame's animation callback, and the frame it is found in is the
// one waited for. Playwright's own waits are not part of any figure. Save is given
// twice, until its busy state is painted and until its saved state is, with the PUT's own time
// (resource timing) apart from the page's.
//
// Memory, after a full garbage collection (DevTools protocol): the JS heap in use, the same with
// the external strings and buffers outside it (V8 keeps some strings' characters there), and the
// WebAssembly memory, on the empty page, once loaded, and after the interactions, with the
// growth per byte of the set ("copies of the set").
//
//   node www/bench/bench.mjs RUNS SIZES LABEL=URL [LABEL=URL...]
//     e.g. node www/bench/bench.mjs 5 100,1000,4500 now=http://127.0.0.1:8080 before=http://127.0.0.1:8081
// (scripts/bench-ui.sh starts the servers). With several pages, their runs alternate, and each
// figure of a later page is also given as a ratio to the first page's.
/* global console, process, fetch, performance, Buffer, URL, Event, document, window, requestAnimationFrame, MessageChannel */
import { chromium } from "playwright-core";
import { largeSetText } from "../../npm/bench/client-run.mjs";

const [runsArg, sizesArg, ...targetArgs] = process.argv.slice(2);
if (!targetArgs.length) {
  console.error("usage: node www/bench/bench.mjs RUNS SIZES LABEL=URL [LABEL=URL...]");
  process.exit(2);
}
const RUNS = Number(runsArg);
const SIZES = sizesArg.split(",").map(Number);
const TARGETS = targetArgs.map((arg) => {
  const at = arg.indexOf("=");
  return { label: arg.slice(0, at), url: arg.slice(at + 1) };
});
const TEAM = "bench";

function secretsUrl(url, job) {
  return `${url}/data-jobs/for-team/${TEAM}/jobs/${job}/deployments/TODO/secrets`;
}

async function seed(url, job, text) {
  const response = await fetch(secretsUrl(url, job), { method: "PUT", body: text });
  if (response.status !== 204) throw new Error(`seeding ${job}: HTTP ${response.status} ${await response.text()}`);
}

// ---------------------------------------------------------------------------------------
// Inside the page

/** Installs window.bench: element lookup (through the element's shadow root too) and timing. */
function installHelpers() {
  const roots = () => [document, ...[...document.querySelectorAll("vdk-job-secrets")].map((e) => e.shadowRoot)];
  const q = (selector) => {
    for (const root of roots()) {
      const found = root && root.querySelector(selector);
      if (found) return found;
    }
    return null;
  };
  const qa = (selector) => roots().flatMap((root) => (root ? [...root.querySelectorAll(selector)] : []));
  /** Calls `resolve` once the frame being made now is painted (a task posted from its callback). */
  const afterThisFrame = (resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  };
  /** Resolves once the next frame is painted. */
  const paint = () => new Promise((resolve) => requestAnimationFrame(() => afterThisFrame(resolve)));
  /**
   * Resolves once `condition` holds, just after the frame that shows it is painted. It is
   * checked at each frame's animation callback: a change made before that callback is drawn in
   * that frame, so no later frame is waited for.
   */
  const paintedWhen = (condition, what) =>
    new Promise((resolve, reject) => {
      const limit = performance.now() + 60_000;
      const check = () => {
        if (condition()) afterThisFrame(resolve);
        else if (performance.now() > limit) reject(new Error(`timed out waiting for ${what}`));
        else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    });
  const text = (selector) => (q(selector) ? q(selector).textContent : "");
  /** Runs `act`, then waits for the painted frame that shows it (and `done`, when given): milliseconds. */
  const time = async (act, done, what) => {
    const start = performance.now();
    act();
    await (done ? paintedWhen(done, what) : paint());
    return performance.now() - start;
  };
  const rowButton = (index, action) =>
    qa("#rows tr[data-name]")[index].querySelector(`button[data-action="${action}"]`);
  const rowBox = (index) => qa("#rows tr[data-name]")[index].querySelector('input[type="checkbox"]');
  const type = (selector, value) => {
    const input = q(selector);
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  };
  window.bench = { q, qa, paint, paintedWhen, text, time, rowButton, rowBox, type };
}

/** One pass through every interaction on a loaded page; returns {name: ms}. */
async function interactions(page, size) {
  return page.evaluate(async (size) => {
    const { q, qa, text, time, paintedWhen, rowButton, rowBox, type, paint } = window.bench;
    const out = {};
    const dialogOpen = (id) => () => q(`#${id}`).open;
    const dialogClosed = (id) => () => !q(`#${id}`).open;

    out["select one"] = await time(() => rowBox(2).click());
    out["select all"] = await time(() => q("#select-all").click());
    await time(() => q("#select-all").click());
    out["filter keystroke"] = await time(() => type("#filter", "7"));
    out["filter 2nd keystroke"] = await time(() => type("#filter", "77"));
    out["clear filter"] = await time(() => type("#filter", ""));
    out["Show"] = await time(() => rowButton(1, "reveal").click());
    await time(() => rowButton(1, "reveal").click());
    out["Copy"] = await time(
      () => rowButton(4, "copy").click(),
      () => text("#status").startsWith("Copied"),
      "the copy",
    );
    out["Edit (open)"] = await time(() => rowButton(5, "edit").click(), dialogOpen("edit-dialog"), "the editor");
    q("#edit-type").value = "string";
    type("#edit-value", "an edited value");
    await paint();
    out["Edit (apply)"] = await time(() => q("#edit-ok").click(), dialogClosed("edit-dialog"), "the editor to close");
    out["Delete (ask)"] = await time(() => rowButton(6, "delete").click(), dialogOpen("confirm-dialog"), "the dialog");
    out["Delete (confirm)"] = await time(
      () => q("#confirm-ok").click(),
      dialogClosed("confirm-dialog"),
      "the dialog to close",
    );
    out["Discard (ask)"] = await time(() => q("#discard").click(), dialogOpen("confirm-dialog"), "the dialog");
    out["Discard (confirm)"] = await time(
      () => q("#confirm-ok").click(),
      dialogClosed("confirm-dialog"),
      "the dialog to close",
    );
    // One edit, then Save: until the page says it saved (the request and the server included).
    rowButton(8, "edit").click();
    await paint();
    q("#edit-type").value = "string";
    type("#edit-value", `saved at ${Date.now()}`);
    q("#edit-ok").click();
    await paint();
    // Save paints its first result (the page busy, "Saving…") at once; the saved state follows
    // when the server has answered. Both are timed from the click; the PUT's own time (from the
    // request to the last byte of the answer, by resource timing) shows what of the second is
    // the network and the server, and the rest is the page's own work.
    const start = performance.now();
    q("#save").click();
    await paintedWhen(() => text("#status").startsWith("Saving"), "the save to start");
    out["Save: feedback painted"] = performance.now() - start;
    await paintedWhen(() => text("#status").startsWith("Saved"), "the save");
    const saved = performance.now() - start;
    out["Save: saved state painted"] = saved;
    let put;
    for (let tries = 0; !put && tries < 50; tries += 1) {
      put = performance
        .getEntriesByType("resource")
        .find((e) => e.name.endsWith("/secrets") && e.startTime >= start && e.initiatorType === "fetch");
      if (!put) await paint();
    }
    if (!put) throw new Error("no resource timing entry for the save's request");
    out["Save: of which the PUT"] = put.responseEnd - put.startTime;
    out["Save: of which the page"] = saved - (put.responseEnd - put.startTime);

    // A jump to the end of the list (End, or the scroll bar dragged down): until the last row
    // is in view with every row around it drawn; then a row shown and one selected there.
    const rows = () => qa("#rows tr");
    const inView = (tr) => {
      const rect = tr.getBoundingClientRect();
      return rect.bottom > 0 && rect.top < window.innerHeight;
    };
    const lastName = `secret_${String(size - 1).padStart(4, "0")}`;
    const atEnd = () => {
      const shown = rows().filter(inView);
      return shown.some((tr) => tr.dataset.name === lastName) && shown.every((tr) => tr.dataset.name);
    };
    out["End (jump to the last row)"] = await time(
      () => window.scrollTo(0, document.documentElement.scrollHeight),
      atEnd,
      "the last row",
    );
    const endRows = () => rows().filter((tr) => tr.dataset.name && inView(tr));
    out["Show (at the end)"] = await time(() => endRows()[0].querySelector('button[data-action="reveal"]').click());
    out["select one (at the end)"] = await time(() => endRows()[1].querySelector('input[type="checkbox"]').click());
    return out;
  }, size);
}

/**
 * The page's memory after a full garbage collection: the JS heap in use, and the bytes of every
 * WebAssembly memory in the page (found on the heap, wherever the package keeps it).
 */
async function memory(cdp) {
  for (let i = 0; i < 3; i += 1) await cdp.send("HeapProfiler.collectGarbage");
  // usedSize is the V8 heap; backingStorageSize the bytes outside it behind array buffers and
  // external strings (a string the package hands over may be either kind), not WebAssembly memory.
  const { usedSize, backingStorageSize } = await cdp.send("Runtime.getHeapUsage");
  const { result: proto } = await cdp.send("Runtime.evaluate", { expression: "WebAssembly.Memory.prototype" });
  const { objects } = await cdp.send("Runtime.queryObjects", { prototypeObjectId: proto.objectId });
  const { result } = await cdp.send("Runtime.callFunctionOn", {
    objectId: objects.objectId,
    functionDeclaration: "function () { return this.reduce((sum, m) => sum + m.buffer.byteLength, 0); }",
    returnByValue: true,
  });
  await cdp.send("Runtime.releaseObject", { objectId: objects.objectId });
  await cdp.send("Runtime.releaseObject", { objectId: proto.objectId });
  return { js: usedSize, outside: backingStorageSize || 0, wasm: result.value };
}

async function loadOnce(browser, url, job) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(url).origin });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.addInitScript(installHelpers);
  await page.goto(`${url}/?team=${TEAM}&job=${job}`);
  await page.waitForFunction(() => {
    const button = window.bench.q("#connect");
    return button && !button.disabled;
  });
  const cdp = await context.newCDPSession(page);
  const empty = await memory(cdp);
  const load = await page.evaluate(async () => {
    const { q, text, time, qa } = window.bench;
    return time(
      () => q("#connect").click(),
      () => text("#status").startsWith("Loaded") && qa("#rows tr[data-name]").length > 0,
      "the list",
    );
  });
  const loaded = await memory(cdp);
  return { context, page, cdp, load, errors, empty, loaded };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
const results = {}; // label -> size -> {bytes, times: {name: [ms]}}
try {
  for (const size of SIZES) {
    const text = largeSetText(size);
    const bytes = Buffer.byteLength(text);
    for (let run = 0; run < RUNS; run += 1) {
      for (const { label, url } of TARGETS) {
        results[label] ||= {};
        const sized = (results[label][size] ||= { bytes, times: {} });
        const record = (name, ms) => (sized.times[name] ||= []).push(ms);
        const job = `size-${size}-${process.pid}-${run}`;
        await seed(url, job, text);
        const { context, page, cdp, load, errors, empty, loaded } = await loadOnce(browser, url, job);
        record("Load (until the list is painted)", load);
        for (const [name, ms] of Object.entries(await interactions(page, size))) record(name, ms);
        const after = await memory(cdp);
        const mem = (sized.memory ||= {});
        const keep = (name, value) => (mem[name] ||= []).push(value);
        keep("empty page: JS heap", empty.js);
        keep("empty page: wasm memory", empty.wasm);
        keep("empty page: JS heap and external strings", empty.js + empty.outside);
        keep("loaded: JS heap", loaded.js);
        keep("loaded: wasm memory", loaded.wasm);
        keep("after the interactions and Save: JS heap", after.js);
        keep("after the interactions and Save: wasm memory", after.wasm);
        keep("loaded: JS heap and external strings", loaded.js + loaded.outside);
        keep("after the interactions and Save: JS heap and external strings", after.js + after.outside);
        keep("loaded JS heap − empty, per byte of the set", (loaded.js - empty.js) / bytes);
        keep(
          "loaded JS heap and external strings − empty, per byte of the set",
          (loaded.js + loaded.outside - empty.js - empty.outside) / bytes,
        );
        keep("loaded wasm memory − empty, per byte of the set", (loaded.wasm - empty.wasm) / bytes);
        keep("saved JS heap − empty, per byte of the set", (after.js - empty.js) / bytes);
        if (errors.length) throw new Error(`the page threw: ${errors.join("; ")}`);
        await context.close();
      }
    }
    process.stderr.write(`measured ${size} secrets (${bytes} bytes), ${RUNS} runs of each page\n`);
  }
} finally {
  await browser.close();
}

const first = TARGETS[0].label;
const names = Object.keys(results[first][SIZES[0]].times);
const ms = (m) => m.toFixed(m < 10 ? 1 : 0);
const cell = (values) => `${ms(median(values))} (${ms(Math.min(...values))}–${ms(Math.max(...values))})`;
console.log(`Median ms over ${RUNS} runs (min–max), from the event to the next painted frame.\n`);
for (const size of SIZES) {
  const bytes = results[first][size].bytes;
  const labels = TARGETS.map((t) => t.label);
  const ratios = labels.slice(1).map((l) => `${l} / ${first}`);
  console.log(`${size} secrets (${bytes} bytes):\n`);
  console.log(`| interaction | ${[...labels, ...ratios].join(" | ")} |`);
  console.log(`|---|${[...labels, ...ratios].map(() => "---").join("|")}|`);
  for (const name of names) {
    const cells = labels.map((l) => cell(results[l][size].times[name]));
    const base = median(results[first][size].times[name]);
    const ratioCells = labels.slice(1).map((l) => `${(median(results[l][size].times[name]) / base).toFixed(1)}×`);
    console.log(`| ${name} | ${[...cells, ...ratioCells].join(" | ")} |`);
  }
  console.log("");
}
console.log("Memory after a full garbage collection, median over the runs (min–max): MiB, or copies of the set.\n");
const memoryCell = (name, values) =>
  name.includes("per byte")
    ? `${median(values).toFixed(2)}× (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`
    : `${(median(values) / 1048576).toFixed(2)} (${(Math.min(...values) / 1048576).toFixed(2)}–${(Math.max(...values) / 1048576).toFixed(2)})`;
for (const { label } of TARGETS) {
  console.log(
    `| ${label} | ${SIZES.map((size) => `${size} secrets (${results[label][size].bytes} bytes)`).join(" | ")} |`,
  );
  console.log(`|---|${SIZES.map(() => "---").join("|")}|`);
  for (const name of Object.keys(results[label][SIZES[0]].memory)) {
    console.log(
      `| ${name} | ${SIZES.map((size) => memoryCell(name, results[label][size].memory[name])).join(" | ")} |`,
    );
  }
  console.log("");
}
if (process.env.VDK_SECRETS_BENCH_JSON) {
  const { writeFileSync } = await import("node:fs");
  writeFileSync(process.env.VDK_SECRETS_BENCH_JSON, JSON.stringify(results, null, 1));
}
