// Shared by the browser tests: Chromium, pages, the API seen from Node, extra servers,
// screenshots and axe-core scans. scripts/test-ui.sh sets the environment this reads.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);

export const UI_URL = process.env.VDK_SECRETS_UI_URL;
if (!UI_URL) throw new Error("VDK_SECRETS_UI_URL is not set; run the tests with scripts/test-ui.sh");
export const SERVER_BIN = process.env.VDK_SECRETS_SERVER_BIN;
export const ARTIFACTS =
  process.env.VDK_SECRETS_UI_ARTIFACTS || fileURLToPath(new URL("./artifacts/", import.meta.url));
const WWW = fileURLToPath(new URL("../", import.meta.url));
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const TEAM = "ui-tests";

// The flags every Chromium of this project runs with; playwright's launch gives each browser
// a fresh, temporary user data directory.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function launchBrowser() {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/**
 * One Chromium for the tests of the `describe` block that calls this: launched before the
 * first test, closed after the last. Pass it to `openPage`, or call `newContext` on it.
 */
export function sharedBrowser() {
  let launched;
  before(async () => {
    launched = await launchBrowser();
  });
  after(() => launched?.close());
  return { newContext: (options) => launched.newContext(options) };
}

let counter = 0;
/** A job name no other test (or earlier run on the same OpenBao) uses. */
export function uniqueJob(prefix) {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${process.pid}-${counter}`;
}

/**
 * A new browser context and page. Page errors are collected: `page.assertNoErrors()` fails the
 * test if the page threw.
 */
export async function openPage(browser, { width = 1280, height = 900, colorScheme = "light", base = UI_URL } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme });
  // Every wait is for a condition; a condition not met in 10 s is a failure, not slowness.
  context.setDefaultTimeout(10_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(base).origin });
  // The page lives in the shadow root of its <vdk-job-secrets> element; code the tests run in
  // the page finds its elements through window.pageRoot().
  await context.addInitScript(installPageRoot);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  page.assertNoErrors = () => assert.deepEqual(errors.map(String), [], "the page threw");
  return { context, page };
}

/** Defines window.pageRoot(): the shadow root of the page's first <vdk-job-secrets>, or the document. */
function installPageRoot() {
  window.pageRoot = () => {
    const element = document.querySelector("vdk-job-secrets");
    return (element && element.shadowRoot) || document;
  };
}

/**
 * The page's markup as one string: the document and every <vdk-job-secrets> shadow root in it
 * (page.content() leaves shadow roots out). Input values are not markup, as in page.content().
 */
export function pageHtml(page) {
  return page.evaluate(() => {
    const shadows = [...document.querySelectorAll("vdk-job-secrets")].map((e) =>
      e.shadowRoot ? e.shadowRoot.innerHTML : "",
    );
    return [document.documentElement.outerHTML, ...shadows].join("\n");
  });
}

/** Opens the page for a job and loads it, the way a user would. */
export async function connect(page, { team = TEAM, job, token, base = UI_URL } = {}) {
  await page.goto(`${base}/?team=${encodeURIComponent(team)}&job=${encodeURIComponent(job)}`);
  await page.locator("#connect:not([disabled])").waitFor();
  if (token) await page.fill("#token", token);
  await page.click("#connect");
  await waitForText(page, "#status", "Loaded");
}

/** Waits until the element's text contains `text`. */
export async function waitForText(page, selector, text) {
  await page.waitForFunction(
    ([s, t]) => {
      const node = window.pageRoot().querySelector(s);
      return node != null && node.textContent.includes(t);
    },
    [selector, text],
  );
}

export function textOf(page, selector) {
  return page.locator(selector).innerText();
}

/** Secret names of the rows shown, in order. */
export function rowNames(page) {
  return page.$$eval("#rows tr[data-name]", (rows) => rows.map((r) => r.dataset.name));
}

export function row(page, name) {
  return page.locator(`#rows tr[data-name="${name}"]`);
}

export function rowButton(page, name, action) {
  return page.locator(`#rows tr[data-name="${name}"] button[data-action="${action}"]`);
}

/** Fills and keeps the editor (already open). */
export async function fillEditor(page, { name, type, value }) {
  if (name !== undefined) await page.fill("#edit-name", name);
  if (type !== undefined) await page.selectOption("#edit-type", type);
  if (value !== undefined) await page.fill("#edit-value", value);
}

export async function addSecret(page, secret) {
  await page.click("#add");
  await page.locator("#edit-dialog[open]").waitFor();
  await fillEditor(page, secret);
  await page.click("#edit-ok");
  await page.locator("#edit-dialog").waitFor({ state: "hidden" });
}

/** Answers the open confirmation dialog. */
export async function answerConfirm(page, ok) {
  await page.locator("#confirm-dialog[open]").waitFor();
  await page.click(ok ? "#confirm-ok" : "#confirm-cancel");
  await page.locator("#confirm-dialog").waitFor({ state: "hidden" });
}

export async function save(page) {
  await page.click("#save");
  await waitForText(page, "#status", "Saved");
}

// ---------------------------------------------------------------------------------------
// The API, from Node: to set up jobs and to check what the page really saved.

export function secretsUrl(base, team, job) {
  return `${base}/data-jobs/for-team/${encodeURIComponent(team)}/jobs/${encodeURIComponent(job)}/deployments/TODO/secrets`;
}

function headers(token) {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export async function readSecrets(job, { team = TEAM, base = UI_URL, token } = {}) {
  const response = await fetch(secretsUrl(base, team, job), { headers: headers(token) });
  assert.equal(response.status, 200, `GET ${team}/${job}`);
  return { secrets: await response.json(), etag: response.headers.get("etag") };
}

export async function writeSecrets(job, secrets, { team = TEAM, base = UI_URL, token } = {}) {
  const response = await fetch(secretsUrl(base, team, job), {
    method: "PUT",
    headers: { "content-type": "application/json", ...headers(token) },
    // A string is sent as it is (for JSON that JavaScript cannot produce, such as big integers).
    body: typeof secrets === "string" ? secrets : JSON.stringify(secrets),
  });
  assert.equal(response.status, 204, `PUT ${team}/${job}: ${await response.text()}`);
  return response.headers.get("etag");
}

/**
 * A set at the API's limit: `count` secrets (4,500 make about 1 MiB), named secret_0000 on.
 * Every value carries a marker ("zq<i>q", matched by LARGE_MARKER) that cannot appear in the
 * page by accident; secret_0007 holds LARGE_BIG, a 64-bit integer only a BigInt holds exactly.
 * Returns the set (secret_0007 as the placeholder "BIG") and `text(set)`, its JSON with the
 * integer written out, for this set or a changed copy of it.
 */
export function largeSet(count = 4500) {
  const set = {};
  for (let i = 0; i < count; i += 1) set[largeName(i)] = i === 7 ? "BIG" : largeValue(i);
  return {
    set,
    text: (changed = set) => JSON.stringify(changed).replace('"secret_0007":"BIG"', `"secret_0007":${LARGE_BIG}`),
  };
}

export const LARGE_BIG = "18446744073709551615";
export const LARGE_MARKER = /zq\d+q/;

export function largeName(i) {
  return `secret_${String(i).padStart(4, "0")}`;
}

/** The value of secret `i` of `largeSet`: mostly strings, some numbers and objects. */
export function largeValue(i) {
  if (i % 10 === 3) return 100000 + i;
  if (i % 50 === 9) return { user: `user-zq${i}q`, port: i, hosts: ["a.example", "b.example"] };
  return `zq${i}q-${"abcdefghij".repeat(22)}`;
}

/**
 * Stores a job's secrets straight in OpenBao, in the record layout the server's Vault backend
 * reads, as another writer sharing the Vault would: for JSON the server itself refuses.
 */
export async function writeSecretsInVault(job, secretsJson, { team = TEAM } = {}) {
  const { VDK_SECRETS_TEST_BAO_URL: bao, VDK_SECRETS_TEST_BAO_TOKEN: token } = process.env;
  if (!bao || !token) throw new Error("the OpenBao address and token are not set; run scripts/test-ui.sh");
  const response = await fetch(`${bao}/v1/secret/data/${team}/${job}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-vault-token": token },
    body: JSON.stringify({ data: { jobName: `${team}/${job}`, secretsJson } }),
  });
  assert.equal(response.status, 200, `OpenBao write of ${team}/${job}: ${await response.text()}`);
}

// ---------------------------------------------------------------------------------------
// Extra servers, for the tests that need authentication, a small limit, or a server to stop.

/**
 * Starts a reference server on the embedded store that serves www/; `stop()` ends it, and
 * `restart(args)` starts it again on the same address and data with other arguments.
 */
export async function startServer(args = []) {
  assert.ok(SERVER_BIN, "VDK_SECRETS_SERVER_BIN is not set");
  const dir = mkdtempSync(join(tmpdir(), "vdk-secrets-ui-"));
  let current = await spawnServer(dir, "127.0.0.1:0", args);
  const url = current.url;
  return {
    url,
    dir,
    /** Ends the server abruptly, as a crash or a network cut would look to the page. */
    kill: () => current.kill(),
    async restart(newArgs) {
      await current.kill();
      current = await spawnServer(dir, new URL(url).host, newArgs);
    },
    async stop() {
      await current.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One server process on `listen` with its data in `dir`: its URL and a way to end it. */
async function spawnServer(dir, listen, args) {
  const child = spawn(
    SERVER_BIN,
    ["serve", "--listen", listen, "--data-dir", join(dir, "data"), "--ui-dir", WWW, ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stderr.on("data", (chunk) => {
    log += chunk;
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${log}`)), 20_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}):\n${log}`));
    });
  });
  return {
    url,
    async kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Writes a tokens file (in a new temporary directory) granting each token its teams. */
export function tokensFile(entries) {
  const dir = mkdtempSync(join(tmpdir(), "vdk-secrets-ui-tokens-"));
  const lines = entries.map(({ token, teams }) => {
    const result = spawnSync(SERVER_BIN, ["hash-token", ...teams], { input: token, encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim();
  });
  const path = join(dir, "tokens");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

// ---------------------------------------------------------------------------------------
// Screenshots and accessibility

/** Saves a screenshot as ARTIFACTS/<name>.png: the whole page, or the viewport under a dialog. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dialogOpen = (await page.locator("dialog[open]").count()) > 0;
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: !dialogOpen });
}

/** Runs axe-core on the page as it is and fails on any serious or critical violation. */
export async function assertAccessible(page, name) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE_SOURCE);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  assert.deepEqual(bad, [], `axe-core violations in state "${name}"`);
}

/** Text that leaked from a missing value: a lone "null" or "undefined" outside a value or type. */
async function assertNoStrayText(page, name) {
  const stray = await page.evaluate(() => {
    const found = [];
    const roots = [document.body, ...[...document.querySelectorAll("vdk-job-secrets")].map((e) => e.shadowRoot)];
    for (const root of roots.filter(Boolean)) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent.trim();
        if ((text === "null" || text === "undefined") && !node.parentElement.closest("pre, option, .col-type")) {
          found.push(node.parentElement.id || node.parentElement.tagName);
        }
      }
    }
    return found;
  });
  assert.deepEqual(stray, [], `stray text in state "${name}"`);
}

/** Screenshot, axe scan and a check for stray text, of one state of the page. */
export async function checkState(page, name) {
  await screenshot(page, name);
  await assertNoStrayText(page, name);
  await assertAccessible(page, name);
}

// ---------------------------------------------------------------------------------------
// Version history: the panel, and the history API seen from Node.

/** The job's versions as the server lists them: {current, versions}, newest first. */
export async function listVersions(job, { team = TEAM, base = UI_URL, token } = {}) {
  const response = await fetch(`${secretsUrl(base, team, job)}/versions`, { headers: headers(token) });
  assert.equal(response.status, 200, `GET ${team}/${job} versions`);
  return response.json();
}

/** The History panel's entry of version `n`. */
export function versionItem(page, n) {
  return page.locator(`#history-list li[data-version="${n}"]`);
}

/** Version numbers the History panel lists, in order. */
export function listedVersions(page) {
  return page.$$eval("#history-list li[data-version]", (items) => items.map((i) => Number(i.dataset.version)));
}

/** Opens the History panel and waits for its list (or its note when there is none). */
export async function openHistory(page) {
  await page.click("#history-toggle");
  await page.locator("#history-body").waitFor();
  await page.waitForFunction(() => !window.pageRoot().querySelector("#history-note").textContent.startsWith("Loading"));
}

/** Compares version `n` with the loaded secrets and waits for the difference. */
export async function compareVersion(page, n) {
  await versionItem(page, n).locator("button[data-compare]").click();
  await waitForText(page, "#history-diff-heading", `Version ${n} compared`);
}

/** The Show/Hide button of one value in the comparison: side "loaded" or "version". */
export function diffRevealButton(page, side, name) {
  return page.locator(`#history-diff button[data-reveal="${side}:${name}"]`);
}

/** Everything the browser keeps about the page outside its memory, and its address, as one string. */
export async function browserStores(page) {
  const inPage = await page.evaluate(async () => {
    const dump = (storage) => Object.keys(storage).map((k) => `${k}=${storage.getItem(k)}`);
    const databases = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [];
    const caches = self.caches ? await self.caches.keys() : [];
    return JSON.stringify({
      local: dump(localStorage),
      session: dump(sessionStorage),
      cookie: document.cookie,
      databases,
      caches,
      url: location.href,
      history: history.state,
    });
  });
  const cookies = JSON.stringify(await page.context().cookies());
  return `${inPage} ${cookies} ${page.url()}`;
}
