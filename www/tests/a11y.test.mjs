// Keyboard alone, visible focus, 360 px and desktop, light and dark: axe-core finds nothing
// serious or critical in any state.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import {
  ARTIFACTS,
  UI_URL,
  assertAccessible,
  checkState,
  connect,
  largeSet,
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

/** Presses Tab until the focused element matches `selector`; fails if it never does. */
async function tabTo(page, selector, limit = 80) {
  for (let i = 0; i < limit; i += 1) {
    if (await page.evaluate((s) => window.pageRoot().activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press("Tab");
  }
  assert.fail(`Tab never reached ${selector}`);
}

const focused = (page) =>
  page.evaluate(
    () =>
      window.pageRoot().activeElement.id ||
      window.pageRoot().activeElement.dataset.focusKey ||
      window.pageRoot().activeElement.tagName,
  );

describe("accessibility", () => {
  const browser = sharedBrowser();

  it("works by keyboard alone, with a visible focus ring", async () => {
    const job = uniqueJob("keyboard");
    await writeSecrets(job, { existing: "e", old: 1 });
    const { context, page } = await openPage(browser);
    await page.goto(`${UI_URL}/?team=ui-tests&job=${job}`);
    await page.locator("#connect:not([disabled])").waitFor();

    await tabTo(page, "#connect");
    const ring = await page.evaluate(() => {
      const style = getComputedStyle(window.pageRoot().activeElement);
      return `${style.outlineStyle} ${style.outlineWidth}`;
    });
    assert.equal(ring, "solid 3px", "the focused control shows a focus ring");
    await page.keyboard.press("Enter");
    await waitForText(page, "#status", "Loaded 2 secrets");
    assert.equal(await focused(page), "secrets-heading");

    // Add a string: Ctrl+Enter keeps it from the value field.
    await tabTo(page, "#add");
    await page.keyboard.press("Enter");
    await page.locator("#edit-dialog[open]").waitFor();
    assert.equal(await focused(page), "edit-name");
    await page.keyboard.type("api_key");
    await page.keyboard.press("Tab");
    assert.equal(await focused(page), "edit-type");
    await page.keyboard.press("Tab");
    assert.equal(await focused(page), "edit-value");
    await page.keyboard.type("k-123");
    await page.keyboard.press("Control+Enter");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    assert.equal(await focused(page), "add");

    // Add a number, choosing the type with the arrow keys; Enter in the name field keeps it.
    await page.keyboard.press("Enter");
    await page.locator("#edit-dialog[open]").waitFor();
    await page.keyboard.type("port");
    await page.keyboard.press("Tab");
    await page.keyboard.press("ArrowDown");
    assert.equal(await page.inputValue("#edit-type"), "number");
    await page.keyboard.press("Tab");
    await page.keyboard.type("8080");
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Enter");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });

    // Reveal with Space; focus stays on the button.
    await tabTo(page, '[data-focus-key="reveal:api_key"]');
    await page.keyboard.press("Space");
    await page.locator("#rows pre.value").waitFor();
    assert.equal(await focused(page), "reveal:api_key");

    // Select one row and delete it through the dialog.
    await tabTo(page, '[data-focus-key="select:old"]');
    await page.keyboard.press("Space");
    await waitForText(page, "#delete-selected", "Delete selected (1)");
    await tabTo(page, "#delete-selected");
    await page.keyboard.press("Enter");
    await page.locator("#confirm-dialog[open]").waitFor();
    assert.equal(await focused(page), "confirm-cancel");
    await page.keyboard.press("Tab");
    assert.equal(await focused(page), "confirm-ok");
    await page.keyboard.press("Enter");
    await page.locator("#confirm-dialog").waitFor({ state: "hidden" });
    assert.deepEqual(await rowNames(page), ["api_key", "existing", "port"]);

    await tabTo(page, "#save");
    await page.keyboard.press("Enter");
    await waitForText(page, "#status", "Saved");
    assert.equal(await focused(page), "save", "focus stays where the user was");
    assert.deepEqual((await readSecrets(job)).secrets, { api_key: "k-123", existing: "e", port: 8080 });
    page.assertNoErrors();
    await context.close();
  });

  for (const { width, colorScheme } of [
    { width: 360, colorScheme: "light" },
    { width: 360, colorScheme: "dark" },
    { width: 1280, colorScheme: "dark" },
  ]) {
    const label = `${width}-${colorScheme}`;
    it(`has no serious or critical axe violation at ${width} px, ${colorScheme} scheme`, async () => {
      const job = uniqueJob(`axe-${label}`);
      await writeSecrets(job, {
        a_rather_long_secret_name_that_has_to_wrap_on_a_phone: "value",
        cert: "-----BEGIN FAKE-----\nAAAA\n-----END FAKE-----",
        port: 1,
      });
      const { context, page } = await openPage(browser, { width, colorScheme, height: 740 });
      assert.equal(
        await page.evaluate(() => matchMedia("(prefers-color-scheme: dark)").matches),
        colorScheme === "dark",
      );
      await page.goto(`${UI_URL}/?team=ui-tests&job=${job}`);
      await page.locator("#connect:not([disabled])").waitFor();
      await checkState(page, `${label}-connect`);

      await connect(page, { job });
      await rowButton(page, "cert", "reveal").click();
      await page.locator("#rows pre.value").waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no sideways scrolling (${overflow} px too wide)`);
      await checkState(page, `${label}-list`);

      await page.click("#add");
      await page.locator("#edit-dialog[open]").waitFor();
      await page.fill("#edit-name", "bad name");
      await page.selectOption("#edit-type", "json");
      await page.fill("#edit-value", "{");
      await waitForText(page, "#edit-value-msg", "not valid JSON");
      await checkState(page, `${label}-editor`);
      await page.keyboard.press("Escape");

      await rowButton(page, "port", "delete").click();
      await page.locator("#confirm-dialog[open]").waitFor();
      await checkState(page, `${label}-confirm`);
      await page.click("#confirm-ok");
      await page.locator("#confirm-dialog").waitFor({ state: "hidden" });
      await checkState(page, `${label}-unsaved`);

      await page.setInputFiles("#file-input", {
        name: "x.json",
        mimeType: "application/json",
        buffer: Buffer.from('{"port": 2, "new": true}'),
      });
      await page.locator("#file-dialog[open]").waitFor();
      await checkState(page, `${label}-file-preview`);
      await page.click("#file-cancel");

      await page.fill("#base-url", "http://127.0.0.1:9");
      await page.click("#connect");
      await page.locator("#confirm-dialog[open]").waitFor();
      await page.click("#confirm-ok");
      await waitForText(page, "#alert", "What to do:");
      await checkState(page, `${label}-error`);
      page.assertNoErrors();
      await context.close();
    });
  }

  it("has no serious or critical axe violation with 4,500 secrets at 360 px, dark scheme", async () => {
    const job = uniqueJob("axe-large");
    const { text } = largeSet(4500);
    await writeSecrets(job, text());
    const { context, page } = await openPage(browser, { width: 360, height: 740, colorScheme: "dark" });
    context.setDefaultTimeout(30_000);
    // The page is as tall as all its rows would be: screenshots show the viewport only.
    const check = async (name) => {
      await page.screenshot({ path: join(ARTIFACTS, `large-360-dark-${name}.png`) });
      await assertAccessible(page, `large-360-dark-${name}`);
    };
    await connect(page, { job });
    await waitForText(page, "#status", "Loaded 4500 secrets");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling (${overflow} px too wide)`);
    await check("list");

    // Selected, one value shown, filtered; then rows further down, built as they scroll into view.
    await page.check("#select-all");
    await rowButton(page, "secret_0004", "reveal").click();
    await page.locator("#rows pre.value").waitFor();
    await page.fill("#filter", "secret_00");
    await waitForText(page, "#filter-count", "Showing 100 of 4500");
    await check("filtered");
    await page.fill("#filter", "");
    await page.uncheck("#select-all");
    await page.evaluate(() => window.scrollTo(0, window.innerHeight * 40));
    // Only the rows near the view are built there: a run of rows fills the viewport.
    await page.waitForFunction(() => {
      const rows = [...window.pageRoot().getElementById("rows").children];
      const inView = rows.filter((tr) => {
        const rect = tr.getBoundingClientRect();
        return rect.bottom > 0 && rect.top < window.innerHeight;
      });
      return inView.length > 0 && inView.every((tr) => tr.dataset.name && tr.dataset.name > "secret_0100");
    });
    const built = await page.locator("#rows tr[data-name]").count();
    assert.ok(built < 100, `${built} rows built`);
    await check("scrolled");

    // An edit saved: the pending change, then the saved state.
    await page.evaluate(() => window.scrollTo(0, 0));
    await rowButton(page, "secret_0001", "delete").click();
    await page.locator("#confirm-dialog[open]").waitFor();
    await page.click("#confirm-ok");
    await page.locator("#confirm-dialog").waitFor({ state: "hidden" });
    await check("unsaved");
    await save(page);
    assert.match(await textOf(page, "#status"), /^Saved: 1 removed/);
    await check("saved");
    assert.equal(Object.keys((await readSecrets(job)).secrets).length, 4499);
    page.assertNoErrors();
    await context.close();
  });
});
