// Overwriting all secrets from a JSON file: the preview names what changes, values stay hidden,
// a broken file is explained, and nothing is sent until Save.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  addSecret,
  checkState,
  connect,
  openPage,
  readSecrets,
  rowNames,
  save,
  textOf,
  uniqueJob,
  waitForText,
  writeSecrets,
  sharedBrowser,
  pageHtml,
} from "./helpers.mjs";

const jsonFile = (name, text) => ({ name, mimeType: "application/json", buffer: Buffer.from(text) });

describe("overwriting all from a file", () => {
  const browser = sharedBrowser();

  it("previews added, changed and removed names with values hidden, then applies", async () => {
    const job = uniqueJob("file");
    await writeSecrets(job, { keep: "same-zq1", change: "old-zq2", drop: 1 });
    const fileSet = { keep: "same-zq1", change: "new-zq3", extra: [1, "zq4"] };
    const { context, page } = await openPage(browser);
    await connect(page, { job });

    await page.setInputFiles("#file-input", jsonFile("export.json", JSON.stringify(fileSet, null, 2)));
    await page.locator("#file-dialog[open]").waitFor();
    await waitForText(page, "#file-summary", "export.json holds 3 secrets");
    const groups = await page.$$eval("#file-details .group", (nodes) =>
      nodes.map((g) => [g.querySelector("h3").textContent, [...g.querySelectorAll("li")].map((li) => li.textContent)]),
    );
    assert.deepEqual(groups, [
      ["Added (1)", ["extra"]],
      ["Changed (1)", ["change"]],
      ["Removed (1)", ["drop"]],
    ]);
    assert.match(await textOf(page, "#file-details"), /1 unchanged/);
    assert.ok(!(await pageHtml(page)).includes("zq"), "the preview shows no value");
    assert.equal(await page.evaluate(() => window.pageRoot().activeElement.id), "file-cancel");
    await checkState(page, "file-preview");

    await page.click("#file-apply");
    await page.locator("#file-dialog").waitFor({ state: "hidden" });
    assert.deepEqual(await rowNames(page), ["change", "extra", "keep"]);
    assert.equal((await readSecrets(job)).secrets.drop, 1, "nothing is sent before Save");
    await save(page);
    assert.deepEqual((await readSecrets(job)).secrets, fileSet);
    page.assertNoErrors();
    await context.close();
  });

  it("does not replace the working copy while a save is under way", async () => {
    const job = uniqueJob("file-saving");
    await writeSecrets(job, { a: 1 });
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    await addSecret(page, { name: "b", type: "number", value: "2" });

    // The preview is open when the save starts: the file was read just before Save was
    // clicked (the click is made from script, since the open dialog makes the page inert).
    await page.setInputFiles("#file-input", jsonFile("late.json", '{"c": 3}'));
    await page.locator("#file-dialog[open]").waitFor();
    let release;
    const held = new Promise((resolve) => (release = resolve));
    await page.route("**/secrets", async (route) => {
      if (route.request().method() === "PUT") await held;
      await route.continue();
    });
    await page.evaluate(() => window.pageRoot().getElementById("save").click());
    await waitForText(page, "#status", "Saving");

    await page.click("#file-apply");
    await waitForText(page, "#status", "Wait until the save has finished");
    assert.ok(await page.locator("#file-dialog[open]").isVisible(), "the preview stays open");
    assert.deepEqual(await rowNames(page), ["a", "b"], "the working copy is unchanged");

    release();
    await waitForText(page, "#status", "Saved");
    assert.deepEqual((await readSecrets(job)).secrets, { a: 1, b: 2 });
    // Once saved, the file's set replaces the working copy, as an unsaved change.
    await page.click("#file-apply");
    await page.locator("#file-dialog").waitFor({ state: "hidden" });
    assert.deepEqual(await rowNames(page), ["c"]);
    await save(page);
    assert.deepEqual((await readSecrets(job)).secrets, { c: 3 });
    page.assertNoErrors();
    await context.close();
  });

  it("changes nothing when the preview is cancelled", async () => {
    const job = uniqueJob("file-cancel");
    await writeSecrets(job, { a: 1 });
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    await page.setInputFiles("#file-input", jsonFile("other.json", '{"b": 2}'));
    await page.locator("#file-dialog[open]").waitFor();
    await page.keyboard.press("Escape");
    await page.locator("#file-dialog").waitFor({ state: "hidden" });
    assert.deepEqual(await rowNames(page), ["a"]);
    assert.match(await textOf(page, "#changes-summary"), /^None/);

    // The same file chosen again opens the preview again.
    await page.setInputFiles("#file-input", jsonFile("other.json", '{"b": 2}'));
    await page.locator("#file-dialog[open]").waitFor();
    await page.click("#file-cancel");
    await page.locator("#file-dialog").waitFor({ state: "hidden" });

    // A file equal to the working copy offers nothing to apply.
    await page.setInputFiles("#file-input", jsonFile("same.json", '{"a": 1}'));
    await page.locator("#file-dialog[open]").waitFor();
    await waitForText(page, "#file-summary", "same.json holds the same 1 secret as your working copy");
    assert.ok(await page.locator("#file-apply").isHidden());
    await page.click("#file-cancel");
    await page.locator("#file-dialog").waitFor({ state: "hidden" });
    page.assertNoErrors();
    await context.close();
  });

  it("explains a file that breaks the rules and offers no way to apply it", async () => {
    const job = uniqueJob("file-bad");
    await writeSecrets(job, { a: 1 });
    const { context, page } = await openPage(browser);
    await connect(page, { job });

    await page.setInputFiles("#file-input", jsonFile("names.json", '{"bad name": "zq5", "ok": 1}'));
    await page.locator("#file-dialog[open]").waitFor();
    assert.equal(await textOf(page, "#file-title"), "This file cannot be used");
    await waitForText(page, "#file-summary", "names.json breaks 1 rule; nothing was changed");
    assert.deepEqual(await page.$$eval("#file-details li", (items) => items.map((i) => i.textContent)), [
      "bad name: contains whitespace; use `_` or `-` between words",
    ]);
    assert.ok(await page.locator("#file-apply").isHidden());
    assert.ok(!(await pageHtml(page)).includes("zq5"));
    await checkState(page, "file-invalid");
    await page.click("#file-cancel");

    await page.setInputFiles("#file-input", jsonFile("dupes.json", '{"twice": 1, "twice": 2}'));
    await page.locator("#file-dialog[open]").waitFor();
    await waitForText(page, "#file-details", "twice: appears more than once");
    await page.click("#file-cancel");

    await page.setInputFiles("#file-input", jsonFile("broken.json", '{"a": '));
    await page.locator("#file-dialog[open]").waitFor();
    await waitForText(page, "#file-details", "document: the document is not valid JSON");
    await page.click("#file-cancel");
    assert.deepEqual(await rowNames(page), ["a"]);
    page.assertNoErrors();
    await context.close();
  });
});
