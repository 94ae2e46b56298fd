// Adding and editing: every type, live validation, local edits until Save, the leave guard,
// and the size limit.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  addSecret,
  checkState,
  connect,
  fillEditor,
  openPage,
  readSecrets,
  row,
  rowButton,
  rowNames,
  save,
  secretsUrl,
  TEAM,
  textOf,
  UI_URL,
  uniqueJob,
  waitForText,
  writeSecrets,
  writeSecretsInVault,
  sharedBrowser,
} from "./helpers.mjs";

describe("adding and editing secrets", () => {
  const browser = sharedBrowser();

  it("adds a string, a number and JSON values; nothing is sent until Save", async () => {
    const job = uniqueJob("add");
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    await waitForText(page, "#empty-text", "This job has no secrets");

    await page.click("#add");
    await page.locator("#edit-dialog[open]").waitFor();
    assert.equal(await page.evaluate(() => window.pageRoot().activeElement.id), "edit-name");
    await fillEditor(page, { name: "pem", type: "string", value: "line one\nline two\n" });
    await checkState(page, "edit-add-dialog");
    await page.click("#edit-ok");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    assert.equal(await page.evaluate(() => window.pageRoot().activeElement.id), "add", "focus returns to Add");

    await addSecret(page, { name: "port", type: "number", value: "5432" });
    await addSecret(page, { name: "ratio", type: "number", value: "-0.25e1" });
    await addSecret(page, { name: "login", type: "json", value: '{"user": "app", "roles": ["r", "w"]}' });
    await addSecret(page, { name: "hosts", type: "json", value: '["a.example", "b.example"]' });
    await addSecret(page, { name: "enabled", type: "json", value: "true" });
    await addSecret(page, { name: "nothing", type: "json", value: "null" });

    const types = await page.$$eval("#rows tr", (rows) =>
      Object.fromEntries(rows.map((r) => [r.dataset.name, r.querySelector(".col-type").textContent])),
    );
    assert.deepEqual(types, {
      enabled: "boolean",
      hosts: "list",
      login: "object",
      nothing: "null",
      pem: "string",
      port: "number",
      ratio: "number",
    });
    assert.equal(await row(page, "port").locator(".badge").textContent(), "new");
    assert.match(await textOf(page, "#changes-summary"), /^7 unsaved changes/);
    assert.equal(await page.getAttribute("#save", "aria-disabled"), null);
    // Local until Save: the server still has nothing.
    assert.deepEqual((await readSecrets(job)).secrets, {});
    await checkState(page, "edit-unsaved-changes");

    await save(page);
    const saved = await readSecrets(job);
    assert.deepEqual(saved.secrets, {
      enabled: true,
      hosts: ["a.example", "b.example"],
      login: { user: "app", roles: ["r", "w"] },
      nothing: null,
      pem: "line one\nline two\n",
      port: 5432,
      ratio: -2.5,
    });
    assert.match(await textOf(page, "#status"), /Saved: 7 added\. Server version \d+\./);
    assert.match(await textOf(page, "#changes-summary"), /^None/);
    assert.equal(await page.getAttribute("#save", "aria-disabled"), "true");
    assert.equal(await page.locator("#rows .badge").count(), 0);
    page.assertNoErrors();
    await context.close();
  });

  it("validates while typing, naming the key under the field, without quoting the value", async () => {
    const job = uniqueJob("validate");
    await writeSecrets(job, { taken: 1 });
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    await page.click("#add");
    await page.locator("#edit-dialog[open]").waitFor();

    await page.fill("#edit-name", "bad name");
    await waitForText(page, "#edit-name-msg", "bad name: contains whitespace");
    assert.equal(await page.getAttribute("#edit-name", "aria-invalid"), "true");
    await page.fill("#edit-name", "taken");
    await waitForText(page, "#edit-name-msg", "taken: already exists");
    await page.fill("#edit-name", "port");
    await page.waitForFunction(() => window.pageRoot().getElementById("edit-name-msg").textContent === "");

    await page.selectOption("#edit-type", "number");
    await page.fill("#edit-value", "12abc-secretish");
    await waitForText(page, "#edit-value-msg", "port: is not a number");
    await page.selectOption("#edit-type", "json");
    await page.fill("#edit-value", '{"token": "hush-zq9"');
    await waitForText(page, "#edit-value-msg", "port: is not valid JSON");
    assert.ok(!(await textOf(page, "#edit-value-msg")).includes("zq9"), "messages never quote the value");
    await checkState(page, "edit-invalid");

    // Keeping an invalid secret is refused and focus goes to the field to fix.
    await page.click("#edit-ok");
    assert.ok(await page.locator("#edit-dialog[open]").isVisible());
    assert.equal(await page.evaluate(() => window.pageRoot().activeElement.id), "edit-value");

    await page.fill("#edit-value", '{"token": "hush-zq9"}');
    await page.waitForFunction(() => window.pageRoot().getElementById("edit-value-msg").textContent === "");
    await page.click("#edit-ok");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    assert.deepEqual(await rowNames(page), ["port", "taken"]);
    // Closing the editor takes the value out of the page.
    assert.equal(await page.inputValue("#edit-value"), "");

    // Escape cancels.
    await page.click("#add");
    await page.locator("#edit-dialog[open]").waitFor();
    await page.fill("#edit-name", "never");
    await page.keyboard.press("Escape");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    assert.deepEqual(await rowNames(page), ["port", "taken"]);
    page.assertNoErrors();
    await context.close();
  });

  it("edits, retypes and renames secrets, then saves the whole set", async () => {
    const job = uniqueJob("edit");
    await writeSecrets(job, { port: 5432, user: "app", flags: ["x"] });
    const { context, page } = await openPage(browser);
    await connect(page, { job });

    await rowButton(page, "port", "edit").click();
    await page.locator("#edit-dialog[open]").waitFor();
    assert.equal(await page.inputValue("#edit-type"), "number");
    assert.equal(await page.inputValue("#edit-value"), "5432");
    assert.equal(await page.evaluate(() => window.pageRoot().activeElement.id), "edit-value");
    assert.equal(await textOf(page, "#edit-title"), "Edit port");
    await page.fill("#edit-value", "6543");
    await page.click("#edit-ok");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    assert.equal(await page.evaluate(() => window.pageRoot().activeElement.dataset.focusKey), "edit:port");
    assert.equal(await row(page, "port").locator(".badge").textContent(), "edited");

    // A list becomes a string.
    await rowButton(page, "flags", "edit").click();
    await page.locator("#edit-dialog[open]").waitFor();
    assert.equal(await page.inputValue("#edit-type"), "json");
    await fillEditor(page, { type: "string", value: "x,y" });
    await page.click("#edit-ok");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    assert.equal(await row(page, "flags").locator(".col-type").textContent(), "string");

    // Renaming is a removal and an addition.
    await rowButton(page, "user", "edit").click();
    await page.locator("#edit-dialog[open]").waitFor();
    await page.fill("#edit-name", "db_user");
    await page.click("#edit-ok");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    assert.deepEqual(await rowNames(page), ["db_user", "flags", "port"]);
    const changes = await textOf(page, "#changes-list");
    assert.match(changes, /Added: db_user/);
    assert.match(changes, /Changed: flags, port/);
    assert.match(changes, /Removed: user/);

    await save(page);
    assert.deepEqual((await readSecrets(job)).secrets, { db_user: "app", flags: "x,y", port: 6543 });
    page.assertNoErrors();
    await context.close();
  });

  it("keeps integers beyond what a JS number holds exact through edits and a save", async () => {
    const job = uniqueJob("bigint");
    await writeSecrets(job, '{"account_id": 12345678901234567891, "small": 7, "nested": {"id": -9223372036854775808}}');
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    assert.equal(await row(page, "account_id").locator(".col-type").textContent(), "number");

    await rowButton(page, "account_id", "edit").click();
    await page.locator("#edit-dialog[open]").waitFor();
    assert.equal(await page.inputValue("#edit-value"), "12345678901234567891", "the editor shows every digit");
    await page.click("#edit-cancel");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });

    await rowButton(page, "small", "edit").click();
    await page.locator("#edit-dialog[open]").waitFor();
    await page.fill("#edit-value", "8");
    await page.click("#edit-ok");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    await addSecret(page, { name: "typed", type: "number", value: "18446744073709551615" });
    await addSecret(page, { name: "typed_json", type: "json", value: '{"big": 12345678901234567892}' });
    const changes = await textOf(page, "#changes-list");
    assert.match(changes, /Changed: small/);
    assert.doesNotMatch(changes, /account_id|nested/, "reading them changed nothing");

    await save(page);
    // The raw text: response.json() in this test would round the numbers itself.
    const stored = await (await fetch(secretsUrl(UI_URL, TEAM, job))).text();
    assert.equal(
      stored,
      '{"account_id":12345678901234567891,"nested":{"id":-9223372036854775808},"small":8,' +
        '"typed":18446744073709551615,"typed_json":{"big":12345678901234567892}}',
    );
    page.assertNoErrors();
    await context.close();
  });

  it("asks before leaving with unsaved changes, and not after saving", async () => {
    const job = uniqueJob("leave");
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    await addSecret(page, { name: "pending", value: "v" });

    const dialog = page.waitForEvent("dialog");
    await page.close({ runBeforeUnload: true });
    const prompt = await dialog;
    assert.equal(prompt.type(), "beforeunload");
    await prompt.dismiss();
    assert.ok(!page.isClosed(), "dismissing keeps the page");

    await save(page);
    const prompts = [];
    page.on("dialog", (d) => {
      prompts.push(d.type());
      d.accept();
    });
    await page.goto("about:blank");
    assert.deepEqual(prompts, [], "a saved page leaves without asking");
    await context.close();
  });

  it("shows the size against the limit and refuses to save a set over it", async () => {
    const job = uniqueJob("size");
    await writeSecrets(job, { small: "s" });
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    await page.click("#add");
    await page.locator("#edit-dialog[open]").waitFor();
    await fillEditor(page, { name: "huge", value: "x".repeat(1_100_000) });
    await page.click("#edit-ok");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    await waitForText(page, "#size-text", "over the limit");
    assert.equal(await page.getAttribute("#size-meter", "value"), "1048576");
    await page.click("#save");
    await waitForText(page, "#alert", "Not saved: the secrets break the server's rules");
    assert.match(await textOf(page, "#alert"), /the set is \d+ bytes as JSON and the limit is 1048576 bytes/);
    await checkState(page, "size-over-limit");
    assert.deepEqual((await readSecrets(job)).secrets, { small: "s" }, "nothing was sent");
    page.assertNoErrors();
    await context.close();
  });

  it("lists every problem of the set on Save, those of secrets it did not touch too", async () => {
    // Another writer of the shared Vault stored a name the rules refuse; this page's edit
    // then takes the set over the limit. Save names both and sends nothing.
    const job = uniqueJob("problems");
    const stored = '{"bad name":"zq1","fine":"zq2"}';
    await writeSecretsInVault(job, stored);
    const { context, page } = await openPage(browser);
    await connect(page, { job });
    await waitForText(page, "#status", "Loaded 2 secrets");
    await rowButton(page, "fine", "edit").click();
    await page.locator("#edit-dialog[open]").waitFor();
    await fillEditor(page, { value: "y".repeat(1_100_000) });
    await page.click("#edit-ok");
    await page.locator("#edit-dialog").waitFor({ state: "hidden" });
    await page.click("#save");
    await waitForText(page, "#alert", "Not saved: the secrets break the server's rules");
    const alert = await textOf(page, "#alert");
    assert.match(alert, /2 problems were found before sending anything/);
    const problems = await page.locator("#alert .problems li").allTextContents();
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0], /^bad name: /);
    assert.match(problems[1], /the limit is 1048576 bytes/);
    assert.equal(await textOf(page, "#changes-summary"), "1 unsaved change. Nothing is sent until you save.");
    assert.equal(await page.getAttribute("#save", "aria-disabled"), null, "Save is available again");
    const response = await fetch(secretsUrl(UI_URL, TEAM, job));
    assert.equal(await response.text(), stored, "nothing was sent");
    page.assertNoErrors();
    await context.close();
  });
});
