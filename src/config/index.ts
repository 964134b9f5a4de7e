export { config, secrets, secretValue, resolveValue, ConfigValueMissingError, ConfigValueInvalidError, ConfigValueNotSecretError, ConfigFileError } from './resolve.js';
export type { ConfigKind, ResolveOptions, ResolvedValue } from './resolve.js';
export { redact, redactDeep, registerSecret, loadSecretFiles, REDACTED } from './redact.js';
export { configDirs, type ConfigDirs } from './toml-files.js';
