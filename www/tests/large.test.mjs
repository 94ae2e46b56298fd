// A set at the API's limit: 4,500 secrets, about 1 MiB. The page builds only the rows near the
// viewport, announces the full count, and through selecting, filtering, revealing, editing,
// deleting and saving, loses nothing and shows no value it was not asked to.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  answerConfirm,
  assertAccessible,
  browserStores,
  connect,
  fillEditor,
  LARGE_BIG,
  LARGE_MARKER,
  largeName,
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
/** Rows built at most: the view (about 20 rows here), some rows around it, a few kept. */
const MAX_BUILT = 100;

/** The names of the rows built, in order. */
function builtNames(page) {
  return page.$$eval("#rows tr[data-name]", (rows) => rows.map((r) => r.dataset.name));
}

function focusKey(page) {
  return page.evaluate(() => window.pageRoot().activeElement?.dataset.focusKey);
}

/** The table's height and the height of its first row, in pixels. */
function tableGeometry(page) {
  return page.evaluate(() => {
    const body = window.pageRoot().getElementById("rows");
    return {
      height: body.getBoundingClientRect().height,
      rowHeight: body.querySelector("tr[data-name]").getBoundingClientRect().height,
    };
  });
}

/**
 * Waits until the table's part in the viewport is drawn (rows only, no spacer showing) and
 * `wanted(view)` holds for the indices of the rows in it, each row's aria-rowindex agreeing
 * with its name and the rows in a row. Returns those indices.
 */
async function waitForView(page, wanted) {
  let view = null;
  for (let tries = 0; tries < 200; tries += 1) {
    view = await page.evaluate(() => {
      const body = window.pageRoot().getElementById("rows");
      const indices = [];
      for (const tr of body.children) {
        const rect = tr.getBoundingClientRect();
        if (rect.bottom <= 0 || rect.top >= window.innerHeight) continue;
        if (!tr.dataset.name) return null; // a spacer in view: rows not built yet
        const index = Number(tr.dataset.name.slice(7));
        if (Number(tr.getAttribute("aria-rowindex")) !== index + 2) return null;
        if (indices.length && index !== indices.at(-1) + 1) return null;
        indices.push(index);
      }
      return indices;
    });
    if (view && wanted(view)) return view;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`the rows in view never came right: ${JSON.stringify(view)}`);
}

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

    // The count is announced for all, while only the rows near the view are built; hidden
    // spacers keep the table as tall as all its rows.
    assert.equal(await textOf(page, "#filter-count"), "4500 secrets");
    assert.equal(await page.getAttribute("#secrets-table", "aria-rowcount"), "4501");
    const atFirst = await builtNames(page);
    assert.ok(atFirst.length > 10 && atFirst.length <= MAX_BUILT, `${atFirst.length} rows built at first`);
    assert.equal(await row(page, "secret_0000").getAttribute("aria-rowindex"), "2");
    const table = await tableGeometry(page);
    assert.ok(
      Math.abs(table.height - COUNT * table.rowHeight) < COUNT * table.rowHeight * 0.1,
      `the table is ${table.height} px tall, as ${COUNT} rows of ${table.rowHeight} px would be`,
    );
    assert.equal(Number(await page.getAttribute("#size-meter", "value")), Buffer.byteLength(text));
    assert.ok(!LARGE_MARKER.test(await pageHtml(page)), "no value is in the DOM");
    assert.ok(!(await pageHtml(page)).includes(LARGE_BIG), "nor the big integer");

    // Keyboard focus never runs out of rows: Tab from the last row of the first window goes on
    // to the next row, built as focus came near it.
    const windowEnd = atFirst[atFirst.length - 2];
    assert.equal(atFirst[atFirst.length - 1], "secret_4499", "the last row is kept for Shift+Tab into the table");
    await rowButton(page, windowEnd, "delete").focus();
    await page.keyboard.press("Tab");
    assert.equal(await focusKey(page), `select:${largeName(Number(windowEnd.slice(7)) + 1)}`);

    // A jump to the end shows the last rows, each knowing its place in the whole table, and
    // no more rows than near the view exist; focus stays where it was, in a row kept built.
    await page.evaluate(() => window.scrollTo(0, 0));
    await waitForView(page, (view) => view.length === 0 || view[0] < 20);
    await rowButton(page, "secret_0003", "copy").focus();
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const atEnd = await waitForView(page, (view) => view.at(-1) === 4499);
    assert.ok(atEnd.length >= 5, `${atEnd.length} rows in view at the end`);
    assert.ok((await builtNames(page)).length <= MAX_BUILT, "rows far from the view are dropped");
    assert.equal(await focusKey(page), "copy:secret_0003", "focus stays on its control");
    assert.equal(await row(page, "secret_0000").count(), 1, "the first row is kept for Tab into the table");
    assert.equal(await row(page, "secret_0500").count(), 0, "a row far from the view is not built");
    assert.equal(await row(page, "secret_4499").getAttribute("aria-rowindex"), "4501");
    await assertAccessible(page, "large-end");

    // The middle, then back to the top: the rows in view are always the right ones.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight / 2));
    const middle = await waitForView(page, (view) => view[0] > 1000 && view.at(-1) < 3500);
    assert.ok((await builtNames(page)).length <= MAX_BUILT, "still few rows built in the middle");
    await page.evaluate(() => window.scrollTo(0, 0));
    await waitForView(page, (view) => view.length === 0 || view[0] < 20);
    assert.ok((await builtNames(page)).length <= MAX_BUILT, "and back at the top");
    assert.ok(!LARGE_MARKER.test(await pageHtml(page)), "still no value in the DOM");
    assert.ok(middle.length >= 5, "rows in view in the middle");

    // Tab and Shift+Tab go on row by row from the kept focus, wherever the view was.
    await page.keyboard.press("Tab");
    assert.equal(await focusKey(page), "edit:secret_0003");
    await page.focus("#history-toggle");
    for (let i = 0; i < 6; i += 1) await page.keyboard.press("Shift+Tab");
    assert.equal(await focusKey(page), "delete:secret_4498", "Shift+Tab into the table starts at its last row");
    await page.evaluate(() => window.scrollTo(0, 0));
    await waitForView(page, (view) => view.length === 0 || view[0] < 20);

    // Select two, then all, then none.
    await row(page, "secret_0001").locator("input[type=checkbox]").check();
    await row(page, "secret_0002").locator("input[type=checkbox]").check();
    assert.equal(await textOf(page, "#delete-selected"), "Delete selected (2)");
    await page.check("#select-all");
    assert.equal(await textOf(page, "#delete-selected"), "Delete selected (4500)");
    // A row built after that is ticked too.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight / 2));
    const ticked = await waitForView(page, (view) => view.length > 0 && view[0] > 1000);
    assert.ok(await row(page, largeName(ticked[0])).locator("input[type=checkbox]").isChecked());
    await page.evaluate(() => window.scrollTo(0, 0));
    await waitForView(page, (view) => view.length === 0 || view[0] < 20);
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
    // The shown value's row is kept while the view is elsewhere, and still shown on return.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await waitForView(page, (view) => view.at(-1) === 4499);
    assert.equal(await row(page, "secret_0004").locator("pre.value").textContent(), largeValue(4));
    assert.ok((await builtNames(page)).length <= MAX_BUILT);
    await page.evaluate(() => window.scrollTo(0, 0));
    await waitForView(page, (view) => view.length === 0 || view[0] < 20);
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
