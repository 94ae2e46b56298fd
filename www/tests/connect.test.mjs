// Connecting: what is prefilled, how team, job and URL are checked, the sample job.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  UI_URL,
  checkState,
  connect,
  openPage,
  rowNames,
  textOf,
  waitForText,
  sharedBrowser,
  pageHtml,
} from "./helpers.mjs";

describe("connecting to a job", () => {
  const browser = sharedBrowser();

  it("prefills team and job from the address and the URL from the page's origin", async () => {
    const { context, page } = await openPage(browser);
    await page.goto(`${UI_URL}/?team=some-team&job=some-job`);
    await page.locator("#connect:not([disabled])").waitFor();
    assert.equal(await page.inputValue("#team"), "some-team");
    assert.equal(await page.inputValue("#job"), "some-job");
    assert.equal(await page.inputValue("#base-url"), new URL(UI_URL).origin);
    assert.equal(await page.inputValue("#token"), "");
    assert.ok(await page.locator("#secrets-section").isHidden(), "no secrets before loading");
    await checkState(page, "connect-prefilled");
    page.assertNoErrors();
    await context.close();
  });

  it("checks team and job with the package's rules and names the key under the field", async () => {
    const { context, page } = await openPage(browser);
    await page.goto(`${UI_URL}/`);
    await page.locator("#connect:not([disabled])").waitFor();
    await page.click("#connect");
    await waitForText(page, "#team-msg", "team: ");
    assert.equal(await page.getAttribute("#team", "aria-invalid"), "true");
    assert.equal(
      await page.evaluate(() => window.pageRoot().activeElement.id),
      "team",
      "focus goes to the first wrong field",
    );
    await checkState(page, "connect-invalid");
    // Live: fixing the field clears its message without another Load.
    await page.fill("#team", "a-team");
    await page.waitForFunction(() => window.pageRoot().getElementById("team-msg").textContent === "");
    assert.equal(await page.getAttribute("#team", "aria-invalid"), null);
    assert.match(await textOf(page, "#job-msg"), /^job: /);

    await page.fill("#job", "a-job");
    await page.fill("#base-url", "ftp://files.example.invalid");
    await page.click("#connect");
    await waitForText(page, "#base-url-msg", "base_url: ");
    assert.equal(await page.evaluate(() => window.pageRoot().activeElement.id), "base-url");
    page.assertNoErrors();
    await context.close();
  });

  it("loads the job that --sample-job filled, every value masked", async () => {
    const { context, page } = await openPage(browser);
    await connect(page, { team: "sample-team", job: "sample-job" });
    const names = await rowNames(page);
    for (const name of ["api_base_url", "db_login", "db_port", "debug_logging", "tls_private_key"]) {
      assert.ok(names.includes(name), `${name} is listed`);
    }
    const types = await page.$$eval("#rows tr", (rows) =>
      Object.fromEntries(rows.map((r) => [r.dataset.name, r.querySelector(".col-type").textContent])),
    );
    assert.equal(types.db_port, "number");
    assert.equal(types.db_login, "object");
    assert.equal(types.debug_logging, "boolean");
    assert.equal(types.tls_private_key, "string");
    assert.equal(await page.locator("#rows pre.value").count(), 0, "no value is shown");
    assert.ok(!(await pageHtml(page)).includes("not-a-real-password"));
    // The address now names the job (so it can be shared), and nothing else.
    const address = new URL(page.url());
    assert.equal(address.searchParams.get("team"), "sample-team");
    assert.equal(address.searchParams.get("job"), "sample-job");
    assert.equal(await page.evaluate(() => window.pageRoot().activeElement.id), "secrets-heading");
    await checkState(page, "list-sample");
    page.assertNoErrors();
    await context.close();
  });

  it("ignores a token in the address, removes it and says so", async () => {
    const { context, page } = await openPage(browser);
    await page.goto(`${UI_URL}/?team=t&job=j&token=address-token-123`);
    await waitForText(page, "#alert", "token in the address was ignored");
    assert.ok(!page.url().includes("address-token-123"), "the token is gone from the address");
    assert.equal(await page.inputValue("#token"), "");
    assert.equal(await page.inputValue("#team"), "t");
    await checkState(page, "connect-token-in-address");
    page.assertNoErrors();
    await context.close();
  });
});
