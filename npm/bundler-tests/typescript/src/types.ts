// Type-checked by `tsc` against the packed package (scripts/test-bundlers.sh), once with Node's
// module resolution and once with bundlers': the declarations resolve through the "types"
// condition, and typed code using the API compiles. Each @ts-expect-error line must fail to
// compile, which proves the declarations are not `any`.
import {
  init,
  limits,
  SecretsClient,
  validateSecretName,
  validateSecrets,
  validateSecretsDocument,
  type ClientConfig,
  type JsonValue,
  type Problem,
  type Secrets,
  type SecretsError,
} from "vdk-secrets";

await init();
await init(new URL("https://cdn.example.com/vdk_secrets_bg.wasm"));

const set: Secrets = { password: "s3cret", port: 5432, big: 18446744073709551615n, list: [true, null, { a: "b" }] };
const problems: Problem[] = [...validateSecrets(set, 2048), ...validateSecretsDocument("{}")];
const keys: string[] = problems.map((problem) => problem.key);
const maxSetBytes: number = limits().maxSetBytes;

const config: ClientConfig = { baseUrl: "https://cs.example.com", team: "t", job: "j", token: "token" };
const client = new SecretsClient(config);
const all: Secrets = await client.getAllSecrets();
const one: JsonValue | undefined = await client.getSecret("password");
const { secrets, etag } = await client.getAllSecretsVersioned();
await client.setAllSecrets({ ...secrets, port: 5433 }, etag);
const { current, versions } = await client.versions();

try {
  await client.deleteSecrets(["old"]);
} catch (error) {
  const e = error as SecretsError;
  const code: "conflict" | "not-found" | string = e.code;
  console.log(code, e.status, e.what, e.problems.length);
}

// @ts-expect-error a secret name is a string
validateSecretName(1);
// @ts-expect-error a value JSON cannot hold
validateSecrets({ when: new Date() });
// @ts-expect-error the configuration needs a team and a job
new SecretsClient({ baseUrl: "https://cs.example.com" });
// @ts-expect-error init() resolves to nothing
const wrong: number = await init();

console.log(keys, maxSetBytes, all, one, current, versions, wrong);
