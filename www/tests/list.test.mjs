// Listing: masked values, revealing one at a time, copying, filtering, the size meter.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  checkState,
  connect,
  openPage,
  row,
  rowButton,
  rowNames,
  secretsUrl,
  TEAM,
  textOf,
  UI_URL,
  uniqueJob,
  waitForText,
  writeSecrets,
  writeSecretsInVault,
  sharedBrowser,
  pageHtml,
} from "./helpers.mjs";

// Values carry markers that cannot appear in the page by accident.
const SET = {
  alpha: "alpha-value-zq1",
  beta: { user: "beta-user-zq2", ports: [1, 2] },
  gamma: 42.5,
  multi: "first-line-zq3\nsecond-line-zq3",
};

describe("listing a job's secrets", () => {
  const browser = sharedBrowser();
  let job;
  before(async () => {
    job = uniqueJob("list");
    await writeSecrets(job, SET);
  });

  it("masks every value, keeps it out of the DOM, and shows one value at a time", async () => {
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    assert.deepEqual(await rowNames(page), ["alpha", "beta", "gamma", "multi"]);
    const html = await pageHtml(page);
    for (const marker of ["zq1", "zq2", "zq3", "42.5"])
      assert.ok(!html.includes(marker), `${marker} is not in the DOM`);
    assert.equal(await row(page, "alpha").locator(".masked").textContent(), "••••••••");

    await rowButton(page, "multi", "reveal").click();
    await row(page, "multi").locator("pre.value").waitFor();
    assert.equal(await row(page, "multi").locator("pre.value").textContent(), SET.multi);
    assert.equal(await rowButton(page, "multi", "reveal").textContent(), "Hide multi");
    assert.equal(
      await page.evaluate(() => window.pageRoot().activeElement.dataset.focusKey),
      "reveal:multi",
      "focus stays on the button",
    );
    await checkState(page, "list-revealed");

    // Showing another hides the first.
    await rowButton(page, "beta", "reveal").click();
    await row(page, "beta").locator("pre.value").waitFor();
    const shown = JSON.parse(await row(page, "beta").locator("pre.value").textContent());
    assert.deepEqual(shown, SET.beta);
    assert.equal(await page.locator("#rows pre.value").count(), 1);
    assert.ok(!(await pageHtml(page)).includes("zq3"), "the first value left the DOM");

    await rowButton(page, "beta", "reveal").click();
    await page.locator("#rows pre.value").waitFor({ state: "detached" });
    assert.ok(!(await pageHtml(page)).includes("zq2"));
    page.assertNoErrors();
    await context.close();
  });

  it("copies a value to the clipboard without showing it", async () => {
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    await rowButton(page, "beta", "copy").click();
    await waitForText(page, "#status", "Copied the value of beta");
    assert.deepEqual(JSON.parse(await page.evaluate(() => navigator.clipboard.readText())), SET.beta);
    await rowButton(page, "multi", "copy").click();
    await waitForText(page, "#status", "Copied the value of multi");
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), SET.multi);
    assert.ok(!(await pageHtml(page)).includes("zq"), "copying reveals nothing");
    page.assertNoErrors();
    await context.close();
  });

  it("filters the rows by name", async () => {
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    assert.equal(await textOf(page, "#filter-count"), "4 secrets");
    await page.fill("#filter", "L");
    await page.waitForFunction(() => window.pageRoot().querySelectorAll("#rows tr").length === 2);
    assert.deepEqual(await rowNames(page), ["alpha", "multi"]);
    assert.equal(await textOf(page, "#filter-count"), "Showing 2 of 4");
    await checkState(page, "list-filtered");
    await page.fill("#filter", "nothing-like-this");
    await waitForText(page, "#empty-text", "No secret name contains");
    assert.ok(await page.locator("#secrets-table").isHidden());
    await page.fill("#filter", "");
    await page.waitForFunction(() => window.pageRoot().querySelectorAll("#rows tr").length === 4);
    page.assertNoErrors();
    await context.close();
  });

  it("warns when an integer beyond the 64-bit range arrived rounded", async () => {
    // The server refuses to store such an integer; another writer of the same Vault may not.
    const job = uniqueJob("huge");
    const stored = '{"exact": 12345678901234567891, "huge": 123456789012345678901234, "small": 7}';
    const refused = await fetch(secretsUrl(UI_URL, TEAM, job), { method: "PUT", body: stored });
    assert.equal(refused.status, 400);
    assert.match((await refused.json()).why, /integer beyond the 64-bit range at line 1 column 41/);
    await writeSecretsInVault(job, stored);
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    await waitForText(page, "#alert", "Some numbers cannot be kept exactly");
    const alert = await textOf(page, "#alert");
    // "holds": one name only; the 64-bit integer in `exact` is kept exactly, so it is not named.
    assert.match(alert, /Why: huge holds an integer beyond the 64-bit range/);
    page.assertNoErrors();
    await context.close();
  });

  it("measures the set against the size limit", async () => {
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    const bytes = Buffer.byteLength(JSON.stringify(SET));
    assert.equal(Number(await page.getAttribute("#size-meter", "value")), bytes);
    assert.equal(Number(await page.getAttribute("#size-meter", "max")), 1048576);
    assert.match(await textOf(page, "#size-text"), new RegExp(`^${bytes} bytes of 1\\.0 MiB`));
    page.assertNoErrors();
    await context.close();
  });
});
