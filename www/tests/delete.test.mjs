// Deleting one, several and all secrets: each confirmed in a dialog, each local until Save.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  answerConfirm,
  checkState,
  connect,
  openPage,
  readSecrets,
  row,
  rowButton,
  rowNames,
  save,
  textOf,
  uniqueJob,
  waitForText,
  writeSecrets,
  sharedBrowser,
} from "./helpers.mjs";

const SET = { a: "1", b: 2, c: [3], d: { four: 4 }, e: null };

describe("deleting secrets", () => {
  const browser = sharedBrowser();

  it("deletes one secret after confirmation; cancelling keeps it; discard undoes", async () => {
    const job = uniqueJob("delete-one");
    await writeSecrets(job, SET);
    const { context, page } = await openPage(browser);
    await connect(page, { job });

    await rowButton(page, "a", "delete").click();
    await page.locator("#confirm-dialog[open]").waitFor();
    assert.equal(await textOf(page, "#confirm-title"), "Delete a?");
    assert.equal(
      await page.evaluate(() => window.pageRoot().activeElement.id),
      "confirm-cancel",
      "the safe choice has focus",
    );
    assert.equal(await page.getAttribute("#confirm-dialog", "aria-labelledby"), "confirm-title");
    await checkState(page, "delete-confirm-one");
    await page.keyboard.press("Escape");
    await page.locator("#confirm-dialog").waitFor({ state: "hidden" });
    assert.deepEqual(await rowNames(page), ["a", "b", "c", "d", "e"]);
    assert.equal(
      await page.evaluate(() => window.pageRoot().activeElement.dataset.focusKey),
      "delete:a",
      "focus returns",
    );

    await rowButton(page, "a", "delete").click();
    await answerConfirm(page, true);
    assert.deepEqual(await rowNames(page), ["b", "c", "d", "e"]);
    await waitForText(page, "#status", "Deleted a (not saved yet)");
    assert.match(await textOf(page, "#changes-list"), /Removed: a/);
    assert.equal((await readSecrets(job)).secrets.a, "1", "the server keeps it until Save");

    await page.click("#discard");
    await answerConfirm(page, true);
    assert.deepEqual(await rowNames(page), ["a", "b", "c", "d", "e"]);

    await rowButton(page, "a", "delete").click();
    await answerConfirm(page, true);
    await save(page);
    assert.deepEqual(Object.keys((await readSecrets(job)).secrets).sort(), ["b", "c", "d", "e"]);
    page.assertNoErrors();
    await context.close();
  });

  it("deletes the selected secrets", async () => {
    const job = uniqueJob("delete-some");
    await writeSecrets(job, SET);
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    assert.equal(await page.getAttribute("#delete-selected", "aria-disabled"), "true");
    await row(page, "b").getByRole("checkbox", { name: "Select b" }).check();
    await row(page, "d").getByRole("checkbox", { name: "Select d" }).check();
    await waitForText(page, "#delete-selected", "Delete selected (2)");
    assert.equal(await page.getAttribute("#delete-selected", "aria-disabled"), null);
    assert.equal(await page.$eval("#select-all", (box) => box.indeterminate), true);

    await page.click("#delete-selected");
    await page.locator("#confirm-dialog[open]").waitFor();
    assert.equal(await textOf(page, "#confirm-title"), "Delete 2 selected secrets?");
    assert.deepEqual(await page.$$eval("#confirm-body li", (items) => items.map((i) => i.textContent)), ["b", "d"]);
    await checkState(page, "delete-confirm-selected");
    await page.click("#confirm-ok");
    await page.locator("#confirm-dialog").waitFor({ state: "hidden" });
    assert.deepEqual(await rowNames(page), ["a", "c", "e"]);
    await save(page);
    assert.deepEqual(Object.keys((await readSecrets(job)).secrets).sort(), ["a", "c", "e"]);

    // "Select all" selects the rows shown by the filter only.
    await page.fill("#filter", "c");
    await page.waitForFunction(() => window.pageRoot().querySelectorAll("#rows tr").length === 1);
    await page.check("#select-all");
    await page.fill("#filter", "");
    await waitForText(page, "#delete-selected", "Delete selected (1)");
    page.assertNoErrors();
    await context.close();
  });

  it("deletes all secrets", async () => {
    const job = uniqueJob("delete-all");
    await writeSecrets(job, SET);
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    await page.click("#delete-all");
    await page.locator("#confirm-dialog[open]").waitFor();
    assert.equal(await textOf(page, "#confirm-title"), `Delete all 5 secrets of ui-tests/${job}?`);
    await answerConfirm(page, true);
    await waitForText(page, "#empty-text", "This job has no secrets");
    assert.equal(await page.getAttribute("#delete-all", "aria-disabled"), "true");
    await checkState(page, "delete-all-unsaved");
    await save(page);
    const after = await readSecrets(job);
    assert.deepEqual(after.secrets, {});
    assert.equal(after.etag, '"2"', "an empty set is a new version, not a missing job");
    page.assertNoErrors();
    await context.close();
  });
});
