// Two people edit one job in two browser contexts; the second save meets a conflict, sees
// what changed on the server, and either reloads or reapplies.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  addSecret,
  answerConfirm,
  checkState,
  connect,
  fillEditor,
  openPage,
  readSecrets,
  rowButton,
  rowNames,
  save,
  textOf,
  uniqueJob,
  waitForText,
  writeSecrets,
  sharedBrowser,
} from "./helpers.mjs";

async function editValue(page, name, value) {
  await rowButton(page, name, "edit").click();
  await page.locator("#edit-dialog[open]").waitFor();
  await fillEditor(page, { value });
  await page.click("#edit-ok");
  await page.locator("#edit-dialog").waitFor({ state: "hidden" });
}

/** Both load; "theirs" changes b, removes c, adds d and saves; "mine" edits a and b. */
async function collide(browser, job) {
  await writeSecrets(job, { a: "1", b: "2", c: "3" });
  const mine = await openPage(browser);
  const theirs = await openPage(browser);
  await connect(mine.page, { job });
  await connect(theirs.page, { job });

  await editValue(theirs.page, "b", "their-b");
  await rowButton(theirs.page, "c", "delete").click();
  await answerConfirm(theirs.page, true);
  await addSecret(theirs.page, { name: "d", value: "their-d" });
  await save(theirs.page);

  await editValue(mine.page, "a", "my-a");
  await editValue(mine.page, "b", "my-b");
  await mine.page.click("#save");
  await mine.page.locator("#conflict:not([hidden])").waitFor();
  return { mine, theirs };
}

describe("a conflict between two editors", () => {
  const browser = sharedBrowser();

  it("shows what changed on the server, then reapplies my edits on the new version", async () => {
    const job = uniqueJob("conflict-reapply");
    const { mine, theirs } = await collide(browser, job);
    const page = mine.page;

    const listed = await page.$$eval("#conflict-list li", (items) => items.map((i) => i.textContent));
    assert.deepEqual(listed, ["Added: d", "Changed: b", "Removed: c"]);
    assert.match(await textOf(page, "#conflict-overlap"), /You changed b too/);
    assert.match(await textOf(page, "#alert"), /Why: /);
    assert.match(await textOf(page, "#alert"), /What to do: /);
    assert.equal(await page.evaluate(() => window.pageRoot().activeElement.id), "conflict-heading");
    assert.equal(await page.getAttribute("#save", "aria-disabled"), "true", "no blind retry");
    assert.deepEqual((await readSecrets(job)).secrets, { a: "1", b: "their-b", d: "their-d" });
    await checkState(page, "conflict");

    await page.click("#conflict-reapply");
    await page.locator("#conflict").waitFor({ state: "hidden" });
    assert.deepEqual(await rowNames(page), ["a", "b", "d"]);
    assert.match(await textOf(page, "#changes-list"), /Changed: a, b/);
    await save(page);
    assert.deepEqual((await readSecrets(job)).secrets, { a: "my-a", b: "my-b", d: "their-d" });
    mine.page.assertNoErrors();
    theirs.page.assertNoErrors();
    await mine.context.close();
    await theirs.context.close();
  });

  it("reloads the server's version, discarding my edits", async () => {
    const job = uniqueJob("conflict-reload");
    const { mine, theirs } = await collide(browser, job);
    const page = mine.page;
    await page.click("#conflict-reload");
    await page.locator("#conflict").waitFor({ state: "hidden" });
    await waitForText(page, "#status", "your edits were discarded");
    assert.deepEqual(await rowNames(page), ["a", "b", "d"]);
    assert.match(await textOf(page, "#changes-summary"), /^None/);
    assert.equal(await textOf(page, "#alert"), "");

    // The page is now at the server's version: the next save goes through.
    await editValue(page, "a", "after-reload");
    await save(page);
    assert.deepEqual((await readSecrets(job)).secrets, { a: "after-reload", b: "their-b", d: "their-d" });
    mine.page.assertNoErrors();
    await mine.context.close();
    await theirs.context.close();
  });
});
