// Where secrets and the token may be: in the page's memory, and in the DOM only while a value
// is revealed or edited. Never in localStorage, sessionStorage, cookies, other browser storage
// or the address.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  addSecret,
  connect,
  openPage,
  row,
  rowButton,
  save,
  startServer,
  tokensFile,
  uniqueJob,
  waitForText,
  writeSecrets,
  sharedBrowser,
  pageHtml,
} from "./helpers.mjs";

const TEAM = "ui-private";
const SET = {
  password: "pw-marker-7f3a",
  login: { user: "login-marker-91bc", key: "key-marker-c4d2" },
  port: 48213,
};
const ADDED = "added-marker-5e61";

/** Everything the browser keeps about the page outside its memory, as one string. */
async function storedEverywhere(page) {
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
      referrer: document.referrer,
    });
  });
  const cookies = JSON.stringify(await page.context().cookies());
  return `${inPage} ${cookies} ${page.url()}`;
}

describe("privacy of values and the token", () => {
  const browser = sharedBrowser();
  let server;
  const token = `privacy-token-${Date.now()}-b8e0`;
  before(async () => {
    server = await startServer(["--tokens-file", tokensFile([{ token, teams: [TEAM] }])]);
  });
  after(() => server.stop());

  it("keeps values out of the DOM until revealed, and out of every browser store", async () => {
    const job = uniqueJob("privacy");
    await writeSecrets(job, SET, { team: TEAM, base: server.url, token });
    const { context, page } = await openPage(browser, { base: server.url });
    await connect(page, { team: TEAM, job, token, base: server.url });
    const markers = ["pw-marker", "login-marker", "key-marker", "48213"];
    const domHas = async (text) => (await pageHtml(page)).includes(text);

    for (const marker of [...markers, token]) assert.ok(!(await domHas(marker)), `${marker} is not in the DOM`);

    await rowButton(page, "password", "reveal").click();
    await row(page, "password").locator("pre.value").waitFor();
    assert.ok(await domHas(SET.password), "a revealed value is in the DOM");
    for (const marker of ["login-marker", "key-marker", "48213"]) assert.ok(!(await domHas(marker)));
    await rowButton(page, "password", "reveal").click();
    await page.locator("#rows pre.value").waitFor({ state: "detached" });
    assert.ok(!(await domHas(SET.password)), "hiding takes it out again");

    // Use every feature that touches values, then look everywhere.
    await rowButton(page, "login", "copy").click();
    await waitForText(page, "#status", "Copied");
    await rowButton(page, "port", "edit").click();
    await page.locator("#edit-dialog[open]").waitFor();
    await page.fill("#edit-value", "48214");
    await page.click("#edit-ok");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    assert.equal(await page.inputValue("#edit-value"), "", "the editor forgets the value when closed");
    await addSecret(page, { name: "extra", value: ADDED });
    await save(page);
    await page.setInputFiles("#file-input", {
      name: "set.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify({ password: "file-marker-0d9e" })),
    });
    await page.locator("#file-dialog[open]").waitFor();
    await page.click("#file-cancel");
    await page.reload();
    await page.locator("#connect:not([disabled])").waitFor();

    const stored = await storedEverywhere(page);
    for (const marker of [...markers, "48214", ADDED, "file-marker", token]) {
      assert.ok(!stored.includes(marker), `${marker} is not stored anywhere (${stored})`);
    }
    assert.equal(await page.inputValue("#token"), "", "a reload forgets the token");
    const address = new URL(page.url());
    assert.deepEqual([...address.searchParams.keys()].sort(), ["job", "team"]);
    page.assertNoErrors();
    await context.close();
  });
});
