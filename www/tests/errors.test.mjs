// Server errors reach the user as what / why / what to do in the alert region: a server that
// stops, a missing or wrong token, a set over the server's own limit.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  addSecret,
  checkState,
  connect,
  openPage,
  readSecrets,
  rowNames,
  startServer,
  textOf,
  tokensFile,
  uniqueJob,
  waitForText,
  writeSecrets,
  sharedBrowser,
} from "./helpers.mjs";

describe("server errors", () => {
  const browser = sharedBrowser();

  it("explains that the server cannot be reached once it stops, and keeps the edits", async () => {
    const server = await startServer(["--dev"]);
    try {
      const job = uniqueJob("stopped");
      await writeSecrets(job, { a: 1 }, { base: server.url });
      const { context, page } = await openPage(browser, { base: server.url });
      await connect(page, { job, base: server.url });
      await addSecret(page, { name: "b", value: "unsaved" });
      await server.kill();

      await page.click("#save");
      await waitForText(page, "#alert", "Why: ");
      const alert = await textOf(page, "#alert");
      assert.match(alert, /may or may not have been saved/);
      assert.match(alert, /Why: the request to .* failed/);
      assert.match(alert, /What to do: Read the secrets/);
      assert.equal(await textOf(page, "#status"), "", "no stale progress message");
      assert.equal(await page.getAttribute("#alert", "role"), "alert");
      assert.deepEqual(await rowNames(page), ["a", "b"], "the working copy survives");
      assert.match(await textOf(page, "#changes-summary"), /^1 unsaved change/);
      await checkState(page, "error-server-stopped");

      await page.click("#reload");
      await page.locator("#confirm-dialog[open]").waitFor();
      await page.click("#confirm-ok");
      await waitForText(page, "#alert", "could not be read");
      assert.match(await textOf(page, "#alert"), /What to do: Check the Control Service URL and the network/);
      assert.deepEqual(await rowNames(page), ["a", "b"], "a failed reload changes nothing");

      await page.click("#alert button");
      await page.waitForFunction(() => window.pageRoot().getElementById("alert").childElementCount === 0);
      page.assertNoErrors();
      await context.close();
    } finally {
      await server.stop();
    }
  });

  it("shows the server's 413 when its limit dropped after loading, and keeps the edits", async () => {
    const server = await startServer(["--dev"]);
    try {
      const job = uniqueJob("lowered");
      await writeSecrets(job, { a: "1" }, { base: server.url });
      const { context, page } = await openPage(browser, { base: server.url });
      await connect(page, { job, base: server.url });
      // The operator lowers the limit while the page is open: the page still judges by 1 MiB.
      await server.restart(["--dev", "--max-set-bytes", "100"]);
      await addSecret(page, { name: "big", value: "z".repeat(200) });
      await page.click("#save");
      await waitForText(page, "#alert", "HTTP 413");
      const alert = await textOf(page, "#alert");
      assert.match(alert, /too large/);
      assert.match(alert, /the limit is 100 bytes/);
      assert.match(alert, /What to do: Remove or shorten secrets/);
      assert.deepEqual(await rowNames(page), ["a", "big"], "the working copy survives");
      assert.match(await textOf(page, "#changes-summary"), /^1 unsaved change/);
      assert.deepEqual((await readSecrets(job, { base: server.url })).secrets, { a: "1" });
      await checkState(page, "error-413");
      page.assertNoErrors();
      await context.close();
    } finally {
      await server.stop();
    }
  });

  describe("with authentication and a small size limit", () => {
    let server;
    const token = `ui-token-${Date.now()}`;
    before(async () => {
      server = await startServer([
        "--tokens-file",
        tokensFile([{ token, teams: ["ui-auth"] }]),
        "--max-set-bytes",
        "300",
      ]);
    });
    after(() => server.stop());

    it("shows 401 without a token and loads with one", async () => {
      const job = uniqueJob("auth");
      await writeSecrets(job, { a: "1" }, { team: "ui-auth", base: server.url, token });
      const { context, page } = await openPage(browser, { base: server.url });
      await page.goto(`${server.url}/?team=ui-auth&job=${job}`);
      await page.locator("#connect:not([disabled])").waitFor();
      await page.click("#connect");
      await waitForText(page, "#alert", "HTTP 401");
      assert.match(await textOf(page, "#alert"), /What to do: /);
      assert.ok(await page.locator("#secrets-section").isHidden());
      await checkState(page, "error-unauthorized");

      await page.fill("#token", token);
      await page.click("#connect");
      await waitForText(page, "#status", "Loaded 1 secret");
      assert.equal(await textOf(page, "#alert"), "");
      assert.deepEqual(await rowNames(page), ["a"]);
      page.assertNoErrors();
      await context.close();
    });

    it("shows 403 for a team the token may not access", async () => {
      const { context, page } = await openPage(browser, { base: server.url });
      await page.goto(`${server.url}/?team=someone-else&job=theirs`);
      await page.locator("#connect:not([disabled])").waitFor();
      await page.fill("#token", token);
      await page.click("#connect");
      await waitForText(page, "#alert", "HTTP 403");
      assert.match(await textOf(page, "#alert"), /someone-else/);
      page.assertNoErrors();
      await context.close();
    });

    it("checks a set against the server's own limit, read from /health, before sending it", async () => {
      const job = uniqueJob("limit");
      const { context, page } = await openPage(browser, { base: server.url });
      await connect(page, { team: "ui-auth", job, token, base: server.url });
      assert.equal(await page.getAttribute("#size-meter", "max"), "300", "the server's 300 bytes, not 1 MiB");
      await addSecret(page, { name: "big", value: "y".repeat(400) });
      await waitForText(page, "#size-text", "over the limit");
      await page.click("#save");
      await waitForText(page, "#alert", "Not saved: the secrets break the server's rules");
      assert.match(await textOf(page, "#alert"), /the limit is 300 bytes/);
      await checkState(page, "error-too-large");
      assert.deepEqual((await readSecrets(job, { team: "ui-auth", base: server.url, token })).secrets, {});
      page.assertNoErrors();
      await context.close();
    });
  });
});
