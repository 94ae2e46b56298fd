// Times the package's client on a 1 MiB set, in Node and in headless Chromium (see
// scripts/bench-client.sh, which starts the server and lays out the packages):
//   node npm/bench/client.mjs SERVER_URL ROUNDS LABEL=DIR...
// Each DIR is a built package served by the server under /LABEL/. Every round seeds the set
// again and runs each package once in Node and once in Chromium, in turn; prints the medians
// (and min–max) of each figure per package and environment as a Markdown table.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { largeSetText, round } from "./client-run.mjs";

const [baseUrl, roundsArg = "5", ...dirs] = process.argv.slice(2);
const packages = Object.fromEntries(dirs.map((d) => d.split("=")));
const team = "bench-team";
const job = `client-${Date.now()}`;
const text = largeSetText();
const seed = async () => {
  const url = `${baseUrl}/data-jobs/for-team/${team}/jobs/${job}/deployments/TODO/secrets`;
  const response = await fetch(url, { method: "PUT", body: text, headers: { "content-type": "application/json" } });
  if (!response.ok) throw new Error(`seeding failed: ${response.status} ${await response.text()}`);
};

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
});
const page = await browser.newPage();
await page.goto(`${baseUrl}/index.html`);

const samples = {};
const keep = (env, results) => {
  for (const [label, figures] of Object.entries(results)) {
    for (const [name, value] of Object.entries(figures)) {
      ((samples[`${env}: ${label}`] ??= {})[name] ??= []).push(value);
    }
  }
};
for (let i = 0; i < Number(roundsArg); i += 1) {
  await seed();
  const nodePackages = Object.fromEntries(
    Object.entries(packages).map(([label, dir]) => [label, `${pathToFileURL(resolve(dir)).href}/`]),
  );
  keep("Node", await round({ packages: nodePackages, baseUrl, team, job }));
  await seed();
  const browserPackages = Object.fromEntries(Object.keys(packages).map((label) => [label, `${baseUrl}/${label}/`]));
  keep(
    "Chromium",
    await page.evaluate(async (args) => (await import(`${args.baseUrl}/client-run.mjs`)).round(args), {
      packages: browserPackages,
      baseUrl,
      team,
      job,
    }),
  );
}
await browser.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cell = (xs) => {
  if (xs.some((x) => x === null)) return "–";
  const d = xs.every((x) => x > 20) ? 0 : 2;
  return `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;
};
const columns = Object.keys(samples);
const rows = Object.keys(samples[columns[0]]);
console.log(`Medians of ${roundsArg} rounds (min–max); 4,500 secrets, ${text.length} bytes.\n`);
console.log(`| figure | ${columns.join(" | ")} |`);
console.log(`|---|${columns.map(() => "---").join("|")}|`);
for (const row of rows) console.log(`| ${row} | ${columns.map((c) => cell(samples[c][row])).join(" | ")} |`);
