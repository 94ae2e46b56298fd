// ESLint for the project's JavaScript: the page in www/ (a browser), its tests, the npm package's
// loader, tests and benchmark, and scripts (Node). `npx eslint .` runs it; scripts/test.sh does too.
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    // Build output, installed and vendored code (www/vendor/ is a copy of pkg/).
    ignores: [
      "**/node_modules/",
      "target/",
      "pkg/",
      "components/",
      "fuzz/",
      "www/vendor/",
      "www/tests/artifacts/",
      ".hypothesis/",
      ".schemathesis/",
    ],
  },
  js.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
    },
    // A disable comment that suppresses nothing fails the run.
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  {
    // The page: ES modules loaded by the browser.
    files: ["www/*.js"],
    languageOptions: { globals: globals.browser },
  },
  {
    // Node: the package's loader, its tests and benchmark, scripts and this file.
    files: ["npm/**/*.{js,mjs}", "scripts/**/*.{js,mjs}", "tests/**/*.{js,mjs}", "*.mjs"],
    languageOptions: { globals: globals.node },
  },
  {
    // The page's tests run in Node and drive Chromium; the functions they hand to
    // page.evaluate() and page.waitForFunction() run inside the page, hence both sets.
    files: ["www/tests/**/*.mjs"],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
];
