// Opens each given page in headless Chromium and checks what the page wrote into #result:
// the package initialised, validated a set with the server's rules and reached the server.
//   node npm/bundler-tests/check.mjs NAME=URL...
/* global document -- the function given to page.waitForFunction() runs in the page */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
let failed = false;
try {
  for (const [name, url] of process.argv.slice(2).map((arg) => arg.split(/=(.*)/s))) {
    const page = await browser.newPage();
    const logs = [];
    page.on("console", (message) => logs.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => logs.push(`page error: ${error.message}`));
    const wasm = [];
    page.on("response", (response) => {
      if (response.url().endsWith(".wasm")) wasm.push(response.headers()["content-type"]);
    });
    try {
      await page.goto(url);
      await page.waitForFunction(() => document.getElementById("result").textContent !== "", null, {
        timeout: 20_000,
      });
      const outcome = JSON.parse(await page.textContent("#result"));
      assert.equal(outcome.error, undefined, "the page reports no error");
      assert.deepEqual(
        outcome.problems.map((p) => p.key),
        ["a b"],
        "the bad name, and only it, is a problem",
      );
      assert.match(outcome.problems[0].message, /whitespace/);
      assert.ok(!JSON.stringify(outcome.problems).includes("hunter2"), "no value in a problem");
      assert.ok(outcome.maxSetBytes > 0);
      assert.equal(outcome.all.greeting, "hello", "the secret written through the server reads back");
      assert.deepEqual(wasm, ["application/wasm"], "the module was fetched once, as a separate asset");
      assert.deepEqual(
        logs.filter((line) => !line.startsWith("debug")),
        [],
        "nothing on the console",
      );
      console.log(`ok: ${name}: ${JSON.stringify(outcome.problems)}`);
    } catch (error) {
      failed = true;
      console.error(`FAILED: ${name} at ${url}\n${error.stack}\nconsole:\n${logs.join("\n")}`);
    } finally {
      await page.close();
    }
  }
} finally {
  await browser.close();
}
process.exitCode = failed ? 1 : 0;
