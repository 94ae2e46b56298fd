// Loads the page through a dynamic import so that a missing or broken package (vendor/ not
// prepared, an old browser without WebAssembly) ends in a readable message instead of a page
// that silently does nothing.
const message = document.getElementById("boot-message");

import("./app.js")
  .then((app) => app.start())
  .then(() => message.remove())
  .catch((error) => {
    console.error(error);
    message.classList.add("notice-error");
    message.textContent =
      "The page could not start: its vdk-secrets package did not load. " +
      "Whoever serves this page must copy the package into vendor/ (see www/README.md). " +
      `Details: ${error && error.message ? error.message : error}`;
  });
