export {
  SecretsClient,
  validateSecretName,
  validateSecretValue,
  validateSecrets,
  validateSecretsDocument,
  validateJob,
  secretsSize,
  parseSecretsDocument,
  limits,
} from "./vdk_secrets.js";
export type {
  JsonValue,
  Secrets,
  ClientConfig,
  Problem,
  ErrorCode,
  SecretsError,
  Versioned,
  VersionInfo,
  History,
  Limits,
} from "./vdk_secrets.js";
