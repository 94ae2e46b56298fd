// Times validating a secrets document in WebAssembly under Node (see scripts/bench-wasm.sh).
//   node npm/bench/validate.mjs DOCUMENT.json [iterations] [package directory, default pkg/]
// Prints two medians in milliseconds: the document path (validateSecretsDocument, which
// checks the text as it reads it when names and size are all that can break a rule; the
// native timing reads the set and checks it, as the server does) and the JS-object path
// (validateSecrets on JSON.parse'd input).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [path, n = "200", dir = resolve(import.meta.dirname, "../../pkg")] = process.argv.slice(2);
const { validateSecretsDocument, validateSecrets } = await import(pathToFileURL(resolve(dir, "index.js")).href);
const text = readFileSync(path, "utf8");
const object = JSON.parse(text);
const median = (f) => {
  const times = [];
  for (let i = 0; i < Number(n); i++) {
    const start = process.hrtime.bigint();
    const problems = f();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (problems.length !== 0) throw new Error(`unexpected problems: ${JSON.stringify(problems)}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
};
median(() => validateSecretsDocument(text)); // warm up
console.log(median(() => validateSecretsDocument(text)).toFixed(3), median(() => validateSecrets(object)).toFixed(3));
