import { z } from 'zod';
import { config, registerSecret } from '../../config/index.js';
import { SECRET_KEY_RE } from '../../config/redact.js';
import { DestinationConfigError, InvalidOptionsError } from '../../errors.js';
import { quoteIdentifierStandard, quoteStringLiteralStandard } from '../sql/dialect.js';

/*
 * DuckDB settings, pragmas, extensions and time zone a user asks for, as dlt's DuckDB
 * credentials take them (global_config, local_config, pragmas, extensions, session_timezone):
 * checked when the destination is made, read from config when its client is made, applied
 * when DuckDB opens.
 */

export type DuckDBSettingValue = string | number | boolean;

export interface DuckDBUserConfig {
  /** `SET GLOBAL name = value` once, when this process opens the database file. */
  globalConfig?: Record<string, DuckDBSettingValue>;
  /** `SET SESSION name = value` on each connection haul opens. */
  localConfig?: Record<string, DuckDBSettingValue>;
  /** `PRAGMA name` on each connection haul opens (pragmas without arguments). */
  pragmas?: string[];
  /** `LOAD name` once, before `globalConfig`: extensions already installed or built in. */
  extensions?: string[];
  /**
   * dlt's `session_timezone`: DuckDB's `TimeZone`, set once when the file opens, before
   * `globalConfig`. Default `'UTC'` (as dlt), so timestamps read as text or truncated in SQL
   * are in UTC whatever the process's TZ; `null` keeps DuckDB's default, the process's time zone.
   */
  sessionTimezone?: string | null;
}

/** dlt's DuckDB default for `session_timezone`. */
export const DEFAULT_SESSION_TIMEZONE = 'UTC';

/** Runs one statement on a DuckDB connection. */
export type RunStatement = (sql: string) => Promise<unknown>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Settings haul sets and raises itself (duckdb({ memoryLimit, maxMemoryLimit })). */
const OWNED_SETTINGS: Record<string, string> = { memory_limit: 'memoryLimit', max_memory: 'memoryLimit' };

const DLT_KEYS = { globalConfig: 'global_config', localConfig: 'local_config', pragmas: 'pragmas', extensions: 'extensions', sessionTimezone: 'session_timezone' } as const;

/**
 * Throws InvalidOptionsError for what cannot be applied: a name that is not a plain
 * identifier, a value that is not a string, number or boolean, a setting haul owns, or (unless
 * `secretsAllowed`: read from config, not given in code) a setting that looks like a secret,
 * because destination options are stored in state.json and sent in workflow inputs.
 */
export function checkUserConfig(c: DuckDBUserConfig, secretsAllowed = false): void {
  const fail = (details: string) => {
    throw new InvalidOptionsError('duckdb destination', details);
  };
  for (const key of ['globalConfig', 'localConfig'] as const) {
    const settings = c[key];
    if (settings === undefined) continue;
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) fail(`\`${key}\` must be an object of DuckDB settings, e.g. { threads: 2 }`);
    for (const [name, value] of Object.entries(settings)) {
      if (!NAME.test(name)) fail(`\`${key}\`: "${name}" is not a DuckDB setting name (letters, digits and _; see duckdb_settings())`);
      const owned = OWNED_SETTINGS[name.toLowerCase()];
      if (owned) fail(`\`${key}.${name}\`: haul sets DuckDB's ${name.toLowerCase()} itself; use duckdb({ ${owned}: '1GB' })`);
      if (!['string', 'number', 'boolean'].includes(typeof value)) fail(`\`${key}.${name}\` must be a string, number or boolean`);
      if (!secretsAllowed && SECRET_KEY_RE.test(name)) {
        fail(
          `\`${key}.${name}\` looks like a secret, and destination options are kept in state.json and workflow inputs. ` +
            `Put it in .dlt/secrets.toml under [destination.duckdb.credentials.${DLT_KEYS[key]}] or in env DESTINATION__DUCKDB__CREDENTIALS__${DLT_KEYS[key].toUpperCase()} (JSON)`,
        );
      }
    }
  }
  const tz = c.sessionTimezone;
  if (tz !== undefined && tz !== null && (typeof tz !== 'string' || tz.trim() === '')) {
    fail('`sessionTimezone` must be a time zone name such as "UTC" or "Europe/Berlin", or null for the process\'s time zone');
  }
  for (const key of ['pragmas', 'extensions'] as const) {
    const names = c[key];
    if (names === undefined) continue;
    if (!Array.isArray(names)) fail(`\`${key}\` must be a list of names`);
    for (const name of names) {
      if (typeof name !== 'string' || !NAME.test(name)) {
        fail(`\`${key}\`: ${JSON.stringify(name)} is not ${key === 'pragmas' ? 'a pragma' : 'an extension'} name${key === 'pragmas' ? ' (a pragma that takes a value is a setting: put it in localConfig)' : ''}`);
      }
    }
  }
}

/** The parts of `c` that were given, for a factory's stored options. */
export function storedUserConfig(c: DuckDBUserConfig): DuckDBUserConfig {
  return Object.fromEntries(
    Object.entries({ globalConfig: c.globalConfig, localConfig: c.localConfig, pragmas: c.pragmas, extensions: c.extensions, sessionTimezone: c.sessionTimezone }).filter(([, v]) => v !== undefined),
  );
}

const settingsSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const namesSchema = z.array(z.string());

/**
 * The user config from `[destination.duckdb.credentials]` (env
 * DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG as JSON, .dlt/secrets.toml, .dlt/config.toml)
 * under what was given in code: a setting given in code wins, a list given in code replaces
 * the configured one. Configured settings that look like secrets are redacted from then on.
 */
export function withConfiguredUserConfig(code: DuckDBUserConfig, pipelineName: string): DuckDBUserConfig {
  const read = <T>(key: keyof typeof DLT_KEYS, schema: z.ZodType<T>) => config.getOptional(`destination.duckdb.credentials.${DLT_KEYS[key]}`, schema, { pipelineName });
  const merged: DuckDBUserConfig = {};
  for (const key of ['globalConfig', 'localConfig'] as const) {
    const configured = read(key, settingsSchema) ?? {};
    for (const [name, value] of Object.entries(configured)) if (SECRET_KEY_RE.test(name) && typeof value === 'string') registerSecret(value);
    const settings = { ...configured, ...code[key] };
    if (Object.keys(settings).length > 0) merged[key] = settings;
  }
  for (const key of ['pragmas', 'extensions'] as const) {
    const names = code[key] ?? read(key, namesSchema);
    if (names !== undefined) merged[key] = names;
  }
  const tz = code.sessionTimezone !== undefined ? code.sessionTimezone : read('sessionTimezone', z.string());
  if (tz !== undefined) merged.sessionTimezone = tz;
  // code's settings were checked when the destination was made; config's may be secrets (redacted above)
  checkUserConfig(merged, true);
  return merged;
}

/** Loads the extensions, sets the time zone and the global settings: once per database opened in this process. */
export async function applyGlobalConfig(run: RunStatement, c: DuckDBUserConfig, where: string): Promise<void> {
  for (const name of c.extensions ?? []) await step(run, `LOAD ${quoteIdentifierStandard(name)}`, where, 'extensions', `"${name}"`);
  const tz = sessionTimezoneOf(c);
  if (tz !== null) await step(run, setStatement('GLOBAL', 'TimeZone', tz), where, 'sessionTimezone', JSON.stringify(tz));
  for (const [name, value] of Object.entries(c.globalConfig ?? {})) await step(run, setStatement('GLOBAL', name, value), where, 'globalConfig', name);
}

/** Runs the pragmas and sets the session settings on one connection. */
export async function applyLocalConfig(run: RunStatement, c: DuckDBUserConfig, where: string): Promise<void> {
  for (const name of c.pragmas ?? []) await step(run, `PRAGMA ${quoteIdentifierStandard(name)}`, where, 'pragmas', `"${name}"`);
  for (const [name, value] of Object.entries(c.localConfig ?? {})) await step(run, setStatement('SESSION', name, value), where, 'localConfig', name);
}

export function hasGlobalConfig(c: DuckDBUserConfig): boolean {
  return sessionTimezoneOf(c) !== null || (c.extensions?.length ?? 0) > 0 || Object.keys(c.globalConfig ?? {}).length > 0;
}

function sessionTimezoneOf(c: DuckDBUserConfig): string | null {
  return c.sessionTimezone === undefined ? DEFAULT_SESSION_TIMEZONE : c.sessionTimezone;
}

export function hasLocalConfig(c: DuckDBUserConfig): boolean {
  return (c.pragmas?.length ?? 0) > 0 || Object.keys(c.localConfig ?? {}).length > 0;
}

// DuckDB casts the string literal to the setting's type, as it does for the settings haul sets.
function setStatement(scope: 'GLOBAL' | 'SESSION', name: string, value: DuckDBSettingValue): string {
  return `SET ${scope} ${quoteIdentifierStandard(name)} = ${quoteStringLiteralStandard(String(value))}`;
}

async function step(run: RunStatement, sql: string, where: string, key: keyof typeof DLT_KEYS, item: string): Promise<void> {
  try {
    await run(sql);
  } catch (err) {
    const what = key === 'pragmas' || key === 'extensions' ? `${item} in \`${key}\`` : key === 'sessionTimezone' ? `\`sessionTimezone\` ${item}` : `\`${key}.${item}\``;
    throw new DestinationConfigError('duckdb', where, err, `Fix or remove ${what}: in code duckdb({ ${key} }), in config ${DLT_KEYS[key]} under [destination.duckdb.credentials]`);
  }
}
