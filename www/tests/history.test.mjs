// The History panel: a broken secret is put back from an older version, a restore that meets
// someone else's save is refused without losing anything, values stay masked until shown and
// are never stored, and a server without history says so.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  UI_URL,
  addSecret,
  answerConfirm,
  browserStores,
  checkState,
  compareVersion,
  connect,
  diffRevealButton,
  fillEditor,
  listVersions,
  listedVersions,
  openHistory,
  openPage,
  readSecrets,
  row,
  rowButton,
  rowNames,
  save,
  sharedBrowser,
  textOf,
  uniqueJob,
  versionItem,
  waitForText,
  writeSecrets,
  writeSecretsInVault,
  pageHtml,
} from "./helpers.mjs";

async function editValue(page, name, value) {
  await rowButton(page, name, "edit").click();
  await page.locator("#edit-dialog[open]").waitFor();
  await fillEditor(page, { value });
  await page.click("#edit-ok");
  await page.locator("#edit-dialog").waitFor({ state: "hidden" });
}

const focused = (page) =>
  page.evaluate(() => window.pageRoot().activeElement.id || window.pageRoot().activeElement.dataset.focusKey);

/** The comparison's groups as {"Would change (1)": ["db_password"], ...}. */
function diffGroups(page) {
  return page.$$eval("#history-diff .diff-group", (groups) =>
    Object.fromEntries(
      groups.map((g) => [
        g.querySelector("h5").textContent,
        [...g.querySelectorAll("li[data-name]")].map((li) => li.dataset.name),
      ]),
    ),
  );
}

/** Presses Tab until the focused element matches `selector`; fails if it never does. */
async function tabTo(page, selector, limit = 80) {
  for (let i = 0; i < limit; i += 1) {
    if (await page.evaluate((s) => window.pageRoot().activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press("Tab");
  }
  assert.fail(`Tab never reached ${selector}`);
}

describe("version history", () => {
  const browser = sharedBrowser();

  it("lists who changed which names, compares with masked values, and restores a broken secret", async () => {
    const job = uniqueJob("history-restore");
    const RIGHT = "right-pw-marker-3c71";
    const WRONG = "wrong-pw-marker-a9e2";
    const OLD = "old-key-marker-66d0";
    const original = { db_password: RIGHT, old_key: OLD, port: 5432 };
    await writeSecrets(job, original);
    const { context, page } = await openPage(browser);
    await connect(page, { job });

    // Break it: a wrong password and a deleted secret, saved from the page.
    await editValue(page, "db_password", WRONG);
    await rowButton(page, "old_key", "delete").click();
    await answerConfirm(page, true);
    await save(page);
    const broken = await listVersions(job);
    const [first, second] = [broken.current - 1, broken.current];

    await openHistory(page);
    await waitForText(page, "#status", "Loaded the history");
    assert.equal(await page.getAttribute("#history-toggle", "aria-expanded"), "true");
    assert.deepEqual(await listedVersions(page), [second, first]);
    const newest = await versionItem(page, second).innerText();
    assert.match(newest, new RegExp(`Version ${second}`));
    assert.match(newest, /current/);
    assert.match(newest, /by dev/, "the writer's name");
    assert.match(newest, /Changed: db_password/);
    assert.match(newest, /Removed: old_key/);
    assert.match(await versionItem(page, first).innerText(), /Added: db_password, old_key, port/);
    const datetime = await versionItem(page, second).locator("time").getAttribute("datetime");
    assert.ok(Math.abs(Date.parse(datetime) - Date.now()) < 10 * 60_000, `a recent time (${datetime})`);
    let html = await pageHtml(page);
    for (const marker of [RIGHT, WRONG, OLD]) assert.ok(!html.includes(marker), `${marker} is not in the DOM`);

    // What restoring the first version would change, values masked.
    await compareVersion(page, first);
    assert.equal(await focused(page), "history-diff-heading");
    assert.equal(await versionItem(page, first).locator("button[data-compare]").getAttribute("aria-pressed"), "true");
    assert.deepEqual(await diffGroups(page), {
      "Would be added (1)": ["old_key"],
      "Would change (1)": ["db_password"],
    });
    assert.equal(await page.locator("#history-diff .masked").count(), 3);
    html = await pageHtml(page);
    for (const marker of [RIGHT, WRONG, OLD]) assert.ok(!html.includes(marker), `${marker} is not in the DOM`);

    // Show reveals one value at a time; Hide takes it out of the DOM again.
    await diffRevealButton(page, "version", "db_password").click();
    await page.locator("#history-diff pre.value").waitFor();
    assert.equal(await page.locator("#history-diff pre.value").innerText(), RIGHT);
    assert.equal(await focused(page), "reveal:version:db_password", "focus stays on the button");
    html = await pageHtml(page);
    assert.ok(!html.includes(WRONG) && !html.includes(OLD));
    await diffRevealButton(page, "loaded", "db_password").click();
    await waitForText(page, "#history-diff pre.value", WRONG);
    assert.equal(await page.locator("#history-diff pre.value").count(), 1, "one value at a time");
    assert.ok(!(await pageHtml(page)).includes(RIGHT));
    // Showing a value in the list hides the one shown in the comparison, and the other way round.
    await rowButton(page, "port", "reveal").click();
    await row(page, "port").locator("pre.value").waitFor();
    assert.equal(await page.locator("#history-diff pre.value").count(), 0);
    await diffRevealButton(page, "version", "old_key").click();
    await waitForText(page, "#history-diff pre.value", OLD);
    assert.equal(await page.locator("#rows pre.value").count(), 0);
    await checkState(page, "history-compare");
    await diffRevealButton(page, "version", "old_key").click();
    await page.locator("#history-diff pre.value").waitFor({ state: "detached" });
    html = await pageHtml(page);
    for (const marker of [RIGHT, WRONG, OLD]) assert.ok(!html.includes(marker), `${marker} is out of the DOM again`);

    // Restore, after a confirmation that names exactly what changes.
    await page.click("#history-restore");
    await page.locator("#confirm-dialog[open]").waitFor();
    assert.equal(await textOf(page, "#confirm-title"), `Restore version ${first}?`);
    const listedInDialog = await page.$$eval("#confirm-body li", (items) => items.map((i) => i.textContent));
    assert.deepEqual(listedInDialog, ["old_key", "db_password"]);
    assert.match(await textOf(page, "#confirm-body"), /Added \(1\)[\s\S]*Changed \(1\)/);
    assert.ok(!(await pageHtml(page)).includes(RIGHT));
    await checkState(page, "history-restore-confirm");
    await page.click("#confirm-ok");
    await waitForText(page, "#status", `Restored version ${first} as version ${second + 1}`);
    assert.deepEqual((await readSecrets(job)).secrets, original);
    assert.deepEqual(await rowNames(page), ["db_password", "old_key", "port"]);
    assert.match(await textOf(page, "#version-text"), new RegExp(`Server version ${second + 1}\\b`));
    await page.locator("#history-diff").waitFor({ state: "hidden" });
    await waitForText(page, "#history-list", `Version ${second + 1}`);
    const restored = await versionItem(page, second + 1).innerText();
    assert.match(restored, new RegExp(`restored from version ${first}`));
    assert.match(restored, /Added: old_key/);
    assert.match(restored, /Changed: db_password/);
    const listed = await listVersions(job);
    assert.equal(listed.versions[0].restoredFrom, first);
    await checkState(page, "history-restored");

    // A fresh page reads the restored secrets.
    await page.reload();
    await connect(page, { job });
    assert.deepEqual(await rowNames(page), ["db_password", "old_key", "port"]);
    await rowButton(page, "db_password", "reveal").click();
    await waitForText(page, "#rows pre.value", RIGHT);
    page.assertNoErrors();
    await context.close();
  });

  it("refuses a restore after someone else saved, shows their version, and loses nothing", async () => {
    const job = uniqueJob("history-conflict");
    await writeSecrets(job, { a: "1", b: "2" });
    await writeSecrets(job, { a: "broken" });
    const start = (await listVersions(job)).current;
    const mine = await openPage(browser);
    const theirs = await openPage(browser);
    await connect(mine.page, { job });
    await connect(theirs.page, { job });
    const page = mine.page;
    await openHistory(page);
    await compareVersion(page, start - 1);
    assert.deepEqual(await diffGroups(page), { "Would be added (1)": ["b"], "Would change (1)": ["a"] });

    // Another tab saves meanwhile.
    await addSecret(theirs.page, { name: "c", value: "their-c" });
    await save(theirs.page);
    const theirSet = { a: "broken", c: "their-c" };

    await page.click("#history-restore");
    await answerConfirm(page, true);
    await waitForText(page, "#alert", `Not restored: someone saved version ${start + 1} meanwhile`);
    await waitForText(page, "#status", "Not restored");
    assert.match(await textOf(page, "#alert"), /Nothing was restored and nothing was lost/);
    assert.match(await textOf(page, "#alert"), /On the server meanwhile: added c\./);
    assert.deepEqual((await readSecrets(job)).secrets, theirSet, "their save stands");
    // The page now holds their version, and compares against it.
    assert.deepEqual(await rowNames(page), ["a", "c"]);
    assert.match(await textOf(page, "#changes-summary"), /^None/);
    await waitForText(page, "#history-list", `Version ${start + 1}`);
    assert.deepEqual(await diffGroups(page), {
      "Would be added (1)": ["b"],
      "Would change (1)": ["a"],
      "Would be removed (1)": ["c"],
    });
    assert.equal(await focused(page), "history-diff-heading");
    assert.match(await textOf(page, "#history-diff-notice"), /Not restored: someone saved version \d+ meanwhile/);
    await checkState(page, "history-conflict");

    // A direct API write meanwhile is refused the same way.
    await writeSecrets(job, { ...theirSet, d: "api-d" });
    await page.click("#history-restore");
    await answerConfirm(page, true);
    await waitForText(page, "#alert", `Not restored: someone saved version ${start + 2} meanwhile`);
    assert.deepEqual(await rowNames(page), ["a", "c", "d"]);
    assert.deepEqual((await readSecrets(job)).secrets, { ...theirSet, d: "api-d" });

    // Restoring again, now against the latest version, goes through; their versions stay listed.
    await page.click("#history-restore");
    await answerConfirm(page, true);
    await waitForText(page, "#status", `Restored version ${start - 1} as version ${start + 3}`);
    assert.equal(await textOf(page, "#alert"), "");
    assert.deepEqual((await readSecrets(job)).secrets, { a: "1", b: "2" });
    await waitForText(page, "#history-list", `Version ${start + 3}`);
    const versions = (await listVersions(job)).versions.map((v) => v.version);
    for (const v of [start + 1, start + 2]) assert.ok(versions.includes(v), `version ${v} is kept`);
    mine.page.assertNoErrors();
    theirs.page.assertNoErrors();
    await mine.context.close();
    await theirs.context.close();
  });

  it("keeps restore unavailable while there are unsaved edits", async () => {
    const job = uniqueJob("history-dirty");
    await writeSecrets(job, { x: "1" });
    await writeSecrets(job, { x: "2" });
    const start = (await listVersions(job)).current;
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    await addSecret(page, { name: "y", value: "unsaved" });
    await openHistory(page);
    await compareVersion(page, start - 1);
    assert.deepEqual(await diffGroups(page), { "Would change (1)": ["x"] }, "compared with the loaded secrets");
    assert.equal(await page.getAttribute("#history-restore", "aria-disabled"), "true");
    assert.match(await textOf(page, "#history-restore-note"), /unsaved changes: save or discard them first/);
    // aria-disabled keeps it focusable; pressing it says why nothing happens.
    await page.focus("#history-restore");
    await page.keyboard.press("Enter");
    await waitForText(page, "#status", "Restore is unavailable while this page has unsaved changes");
    assert.equal(await page.locator("#confirm-dialog[open]").count(), 0, "no dialog");
    await checkState(page, "history-dirty");

    await page.click("#discard");
    await answerConfirm(page, true);
    await page.waitForFunction(
      () => !window.pageRoot().querySelector("#history-restore").hasAttribute("aria-disabled"),
    );
    assert.match(await textOf(page, "#history-restore-note"), /saves these secrets as a new version/);

    // Saving elsewhere in the page moves the comparison to the new loaded version.
    await addSecret(page, { name: "y", value: "saved" });
    await save(page);
    await waitForText(page, "#history-list", `Version ${start + 1}`);
    assert.deepEqual(await listedVersions(page), [start + 1, start, start - 1]);
    await waitForText(page, "#history-diff-heading", `(version ${start + 1})`);
    assert.deepEqual(await diffGroups(page), { "Would change (1)": ["x"], "Would be removed (1)": ["y"] });
    assert.equal(await page.getAttribute("#history-restore", "aria-disabled"), null);
    page.assertNoErrors();
    await context.close();
  });

  it("never stores a value, and keeps it out of the DOM until shown", async () => {
    const job = uniqueJob("history-privacy");
    const PLANTED = "planted-marker-0e5b7c";
    await writeSecrets(job, { token: PLANTED, user: "app" });
    await writeSecrets(job, { token: "rotated", user: "app" });
    const start = (await listVersions(job)).current;
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    await openHistory(page);
    await compareVersion(page, start - 1);
    const domHas = async (text) => (await pageHtml(page)).includes(text);
    assert.ok(!(await domHas(PLANTED)), "masked in the comparison");

    await diffRevealButton(page, "version", "token").click();
    await waitForText(page, "#history-diff pre.value", PLANTED);
    assert.ok(!(await browserStores(page)).includes(PLANTED), "not stored while shown");
    await diffRevealButton(page, "version", "token").click();
    await page.locator("#history-diff pre.value").waitFor({ state: "detached" });
    assert.ok(!(await domHas(PLANTED)), "hiding takes it out again");

    // Leaving the tab hides a shown value, as the list does.
    await diffRevealButton(page, "version", "token").click();
    await waitForText(page, "#history-diff pre.value", PLANTED);
    await page.evaluate(() => {
      Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await page.locator("#history-diff pre.value").waitFor({ state: "detached" });
    await page.evaluate(() => delete document.hidden);

    // Closing the comparison, hiding the panel or reloading leaves nothing behind.
    await page.click("#history-diff-close");
    assert.equal(await focused(page), `compare:${start - 1}`);
    await page.click("#history-toggle");
    assert.equal(await page.getAttribute("#history-toggle", "aria-expanded"), "false");
    assert.ok(!(await domHas(PLANTED)));
    await page.reload();
    await page.locator("#connect:not([disabled])").waitFor();
    const stored = await browserStores(page);
    assert.ok(!stored.includes(PLANTED), `the value is not stored anywhere (${stored})`);
    assert.deepEqual([...new URL(page.url()).searchParams.keys()].sort(), ["job", "team"]);
    page.assertNoErrors();
    await context.close();
  });

  it("says so when the server keeps no history", async () => {
    const job = uniqueJob("history-none");
    await writeSecrets(job, { k: "v" });
    const { context, page } = await openPage(browser);
    // As the upstream Control Service answers: no such route.
    await page.route(/\/secrets\/versions(\/|$|\?)/, (route) =>
      route.fulfill({
        status: 404,
        contentType: "application/json",
        body: JSON.stringify({ what: "Not found", why: "no such route", countermeasures: "Check the URL." }),
      }),
    );
    await connect(page, { job });
    await openHistory(page);
    await waitForText(page, "#history-note", "Version history is not available on this server");
    await waitForText(page, "#status", "Version history is not available on this server");
    assert.equal(await textOf(page, "#alert"), "", "not an error");
    assert.equal(await page.locator("#history-list li").count(), 0);
    await checkState(page, "history-not-supported");
    page.assertNoErrors();
    await context.close();
  });

  it("works by keyboard, and has no serious axe violation at 360 px, light and dark", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const job = uniqueJob(`history-axe-${colorScheme}`);
      await writeSecrets(job, {
        a_rather_long_secret_name_that_has_to_wrap_on_a_phone: "value",
        cert: "-----BEGIN FAKE-----\nAAAA\n-----END FAKE-----",
      });
      // Another writer of the shared Vault: the server cannot name it.
      await writeSecretsInVault(job, JSON.stringify({ cert: "other", port: 1 }));
      const start = (await listVersions(job)).current;
      const { context, page } = await openPage(browser, { width: 360, height: 740, colorScheme });
      await page.goto(`${UI_URL}/?team=ui-tests&job=${job}`);
      await page.locator("#connect:not([disabled])").waitFor();
      await tabTo(page, "#connect");
      await page.keyboard.press("Enter");
      await waitForText(page, "#status", "Loaded 2 secrets");

      await tabTo(page, "#history-toggle");
      await page.keyboard.press("Enter");
      await waitForText(page, "#status", "Loaded the history");
      assert.match(await versionItem(page, start).innerText(), /by unknown writer/);
      assert.match(await versionItem(page, start - 1).innerText(), /by dev\b/);
      await tabTo(page, `[data-focus-key="compare:${start - 1}"]`);
      await page.keyboard.press("Enter");
      await waitForText(page, "#history-diff-heading", `Version ${start - 1} compared`);
      assert.equal(await focused(page), "history-diff-heading");
      await tabTo(page, '[data-focus-key="reveal:version:cert"]');
      await page.keyboard.press("Space");
      await page.locator("#history-diff pre.value").waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no sideways scrolling (${overflow} px too wide)`);
      await checkState(page, `history-360-${colorScheme}`);

      await tabTo(page, "#history-restore");
      await page.keyboard.press("Enter");
      await page.locator("#confirm-dialog[open]").waitFor();
      assert.equal(await focused(page), "confirm-cancel");
      await checkState(page, `history-360-${colorScheme}-confirm`);
      await page.keyboard.press("Escape");
      await page.locator("#confirm-dialog").waitFor({ state: "hidden" });
      assert.equal(await focused(page), "history-restore", "focus returns to Restore");
      assert.equal((await listVersions(job)).current, start, "nothing restored");

      await tabTo(page, "#history-diff-close");
      await page.keyboard.press("Enter");
      assert.equal(await focused(page), `compare:${start - 1}`);
      page.assertNoErrors();
      await context.close();
    }
  });
});
