// A set at the API's limit: 4,500 secrets, about 1 MiB. The page builds only the rows near the
// viewport, announces the full count, and through selecting, filtering, revealing, editing,
// deleting and saving, loses nothing and shows no value it was not asked to.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  answerConfirm,
  browserStores,
  connect,
  fillEditor,
  LARGE_BIG,
  LARGE_MARKER,
  largeSet,
  largeValue,
  openPage,
  pageHtml,
  row,
  rowButton,
  secretsUrl,
  TEAM,
  textOf,
  UI_URL,
  uniqueJob,
  waitForText,
  writeSecrets,
  sharedBrowser,
} from "./helpers.mjs";

const COUNT = 4500;

describe("a set of 4,500 secrets (about 1 MiB)", () => {
  const browser = sharedBrowser();

  it("selects, filters, reveals, edits, deletes and saves without losing or leaking anything", async () => {
    const job = uniqueJob("large");
    const { set, text: setText } = largeSet(COUNT);
    const text = setText();
    assert.ok(Buffer.byteLength(text) > 950_000 && Buffer.byteLength(text) < 1_048_576, "close to 1 MiB");
    await writeSecrets(job, text);

    const { context, page } = await openPage(browser);
    context.setDefaultTimeout(30_000);
    await connect(page, { job });
    await waitForText(page, "#status", `Loaded 4500 secrets`);

    // The count is announced for all, while only the rows near the viewport are built.
    assert.equal(await textOf(page, "#filter-count"), "4500 secrets");
    assert.equal(await page.getAttribute("#secrets-table", "aria-rowcount"), "4501");
    const built = await page.locator("#rows tr").count();
    assert.ok(built > 0 && built < 500, `${built} rows built at first`);
    assert.equal(await row(page, "secret_0000").getAttribute("aria-rowindex"), "2");
    assert.equal(Number(await page.getAttribute("#size-meter", "value")), Buffer.byteLength(text));
    assert.ok(!LARGE_MARKER.test(await pageHtml(page)), "no value is in the DOM");
    assert.ok(!(await pageHtml(page)).includes(LARGE_BIG), "nor the big integer");

    // Keyboard focus never runs out of rows: Tab from the last row built at first goes on to
    // the next row, built as focus brought it within reach.
    const lastBuilt = await page.$$eval("#rows tr", (rows) => rows[rows.length - 1].dataset.name);
    const next = `secret_${String(Number(lastBuilt.slice(7)) + 1).padStart(4, "0")}`;
    await rowButton(page, lastBuilt, "delete").focus();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => window.pageRoot().activeElement.dataset.focusKey), `select:${next}`);

    // Scrolling builds the rest; the last row knows its place in the whole table.
    await page.waitForFunction(() => {
      window.scrollTo(0, document.documentElement.scrollHeight);
      return window.pageRoot().querySelector('#rows tr[data-name="secret_4499"]') != null;
    });
    assert.equal(await row(page, "secret_4499").getAttribute("aria-rowindex"), "4501");
    assert.ok(!LARGE_MARKER.test(await pageHtml(page)), "still no value in the DOM");
    await page.evaluate(() => window.scrollTo(0, 0));

    // Select two, then all, then none.
    await row(page, "secret_0001").locator("input[type=checkbox]").check();
    await row(page, "secret_0002").locator("input[type=checkbox]").check();
    assert.equal(await textOf(page, "#delete-selected"), "Delete selected (2)");
    await page.check("#select-all");
    assert.equal(await textOf(page, "#delete-selected"), "Delete selected (4500)");
    assert.ok(await row(page, "secret_0040").locator("input[type=checkbox]").isChecked());
    await page.uncheck("#select-all");
    assert.equal(await textOf(page, "#delete-selected"), "Delete selected");

    // Filter: the count of matches for a name part, then back to all.
    const expected = Object.keys(set).filter((n) => n.includes("12")).length;
    await page.fill("#filter", "12");
    await waitForText(page, "#filter-count", `Showing ${expected} of 4500`);
    assert.equal(await page.getAttribute("#secrets-table", "aria-rowcount"), String(expected + 1));
    await page.fill("#filter", "");
    await waitForText(page, "#filter-count", "4500 secrets");

    // Reveal one: that value and only that one reaches the DOM; the big integer is exact.
    await rowButton(page, "secret_0007", "reveal").click();
    assert.equal(await row(page, "secret_0007").locator("pre.value").textContent(), LARGE_BIG);
    await rowButton(page, "secret_0004", "reveal").click();
    assert.equal(await row(page, "secret_0004").locator("pre.value").textContent(), largeValue(4));
    const shown = (await pageHtml(page)).match(new RegExp(LARGE_MARKER.source, "g"));
    assert.deepEqual(shown, ["zq4q"], "only the revealed value is in the DOM");
    await rowButton(page, "secret_0004", "reveal").click();
    await page.locator("#rows pre.value").waitFor({ state: "detached" });

    // Edit one, add one, delete one: three pending changes, the size follows each.
    await rowButton(page, "secret_0005", "edit").click();
    await page.locator("#edit-dialog[open]").waitFor();
    await fillEditor(page, { value: "edited-zq5q" });
    await page.click("#edit-ok");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    await page.click("#add");
    await page.locator("#edit-dialog[open]").waitFor();
    await fillEditor(page, { name: "secret_added", type: "number", value: "42" });
    await page.click("#edit-ok");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    await rowButton(page, "secret_0006", "delete").click();
    await answerConfirm(page, true);
    assert.match(await textOf(page, "#changes-summary"), /^3 unsaved changes/);
    set.secret_0005 = "edited-zq5q";
    set.secret_added = 42;
    delete set.secret_0006;
    const after = setText(set);
    assert.equal(Number(await page.getAttribute("#size-meter", "value")), Buffer.byteLength(after));
    assert.equal(await row(page, "secret_0005").locator(".badge").textContent(), "edited");

    // Save shows that it is busy in the click's own task, before the set is converted and
    // sent: the status says so, and Save and Discard are unavailable until it is done.
    const busy = await page.evaluate(() => {
      const root = window.pageRoot();
      root.getElementById("save").click();
      return {
        status: root.getElementById("status").textContent,
        save: root.getElementById("save").getAttribute("aria-disabled"),
        discard: root.getElementById("discard").getAttribute("aria-disabled"),
        busy: root.getElementById("secrets-section").getAttribute("aria-busy"),
      };
    });
    assert.deepEqual(busy, {
      status: `Saving the secrets of ${TEAM}/${job}…`,
      save: "true",
      discard: "true",
      busy: "true",
    });
    await waitForText(page, "#status", "Saved");
    assert.equal(await page.getAttribute("#save", "aria-disabled"), "true", "nothing left to save");
    // Nothing lost: the server holds exactly the set, the 64-bit integer digit for digit.
    const response = await fetch(secretsUrl(UI_URL, TEAM, job));
    const stored = await response.text();
    assert.ok(stored.includes(`"secret_0007":${LARGE_BIG}`), "the 64-bit integer is exact");
    assert.deepEqual(JSON.parse(stored), JSON.parse(after));
    assert.match(await textOf(page, "#changes-summary"), /^None/);
    await waitForText(page, "#status", "Saved: 1 added, 1 changed, 1 removed");

    const stores = await browserStores(page);
    assert.ok(!LARGE_MARKER.test(stores), "no value in any browser store or the address");
    page.assertNoErrors();
    await context.close();
  });
});
