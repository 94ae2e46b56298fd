// A page built by each bundler from the packed package, as a new user's app would import it.
// It waits for init() (no top-level await: the default targets of older bundlers lack it),
// validates a set, and writes and reads a secret through the server that served the page.
// The outcome goes into #result as JSON for scripts/test-bundlers.sh to read.
/* global document, location */
import { init, limits, validateSecrets, SecretsClient } from "vdk-secrets";

const result = document.getElementById("result");

init()
  .then(async () => {
    const problems = validateSecrets({ "a b": "hunter2", fine: 1 });
    const client = new SecretsClient({ baseUrl: location.origin, team: "bundlers", job: "page" });
    await client.setSecret("greeting", "hello");
    const all = await client.getAllSecrets();
    return { problems, maxSetBytes: limits().maxSetBytes, all };
  })
  .catch((error) => ({ error: `${error.name}: ${error.message}` }))
  .then((outcome) => {
    result.textContent = JSON.stringify(outcome);
  });
