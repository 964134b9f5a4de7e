/**
 * Configuration and secrets resolution with dlt's conventions.
 *
 * A value is named by its section path, e.g. `sources.github.access_token` or
 * `destination.duckdb.credentials`. Providers, in order:
 *   1. an explicit value (the `explicit` option: what the caller passed in code)
 *   2. environment variables: `SOURCES__GITHUB__ACCESS_TOKEN`
 *   3. `.dlt/secrets.toml` in the project dir, then in `~/.dlt/`
 *   4. `.dlt/config.toml` in the project dir, then in `~/.dlt/` (config values only: like
 *      dlt, secrets are never read from config.toml)
 * As dlt does, the pipeline-scoped path (`<pipelineName>.sources...`, env
 * `<PIPELINE_NAME>__SOURCES__...`) is looked for in every provider first, then the path
 * itself; in each, sections are dropped from the end one by one
 * (`sources.github.access_token`, `sources.access_token`, `access_token`).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { HaulError } from '../errors.js';
import { redact, registerSecret, registerSecretsIn } from './redact.js';
import { configDirs, lookupPath, readTomlFile, type ConfigDirs } from './toml-files.js';

export type ConfigKind = 'config' | 'secret';

export interface ResolveOptions<T = unknown> extends ConfigDirs {
  /** Pipeline-scoped sections (`[<pipelineName>.sources.github]`) are looked at first. */
  pipelineName?: string;
  /** A value given in code; wins over every provider when not undefined. */
  explicit?: T;
  /** Returned when no provider has the value (instead of throwing). */
  default?: T;
  /** Environment to read (default: process.env). */
  env?: Record<string, string | undefined>;
  /**
   * For an object schema: resolve field by field only, never the whole value (the caller
   * reads a native form, e.g. a connection string at the same path, on its own).
   */
  fieldsOnly?: boolean;
}

/** Where a value was found. */
export interface ResolvedValue<T> {
  value: T;
  /** e.g. `explicit argument`, `env SOURCES__GITHUB__ACCESS_TOKEN`, `/p/.dlt/secrets.toml [sources.github] access_token`. */
  origin: string;
}

export class ConfigValueMissingError extends HaulError {
  constructor(readonly path: string, readonly kind: ConfigKind, readonly lookedAt: string[]) {
    const example = path.split('.');
    const key = example.pop()!;
    super(
      kind === 'secret' ? 'SecretValueMissing' : 'ConfigValueMissing',
      `missing ${kind} value ${path}; looked at (first wins):\n` +
        lookedAt.map((l) => `  - ${l}`).join('\n') +
        `\nSet ${path.split('.').join('__').toUpperCase()} in the environment or add ${example.length ? `[${example.join('.')}]\n  ${key} = ...` : `${key} = ...`} to .dlt/${kind === 'secret' ? 'secrets' : 'config'}.toml`,
    );
  }
}

export class ConfigValueInvalidError extends HaulError {
  constructor(readonly path: string, origin: string, why: string) {
    super('ConfigValueInvalid', `${path} from ${origin} is invalid: ${why}`);
  }
}

export class ConfigValueNotSecretError extends HaulError {
  constructor(readonly path: string, origin: string) {
    super('ConfigValueNotSecret', `${path} is a secret, and ${origin} is in config.toml, which cannot hold secrets (haul does not read them there, as dlt); move it to .dlt/secrets.toml or the environment (${path.split('.').join('__').toUpperCase()})`);
  }
}

export class ConfigFileError extends HaulError {
  constructor(readonly file: string, why: string) {
    super('ConfigFileError', `${file} is not valid TOML: ${why}; fix the file (haul reads it for config and secrets)`);
  }
}

interface Candidate {
  segments: string[];
}

/**
 * The paths to look at, in groups: pipeline-scoped, then unscoped; each with sections
 * dropped from the end. Every provider is asked for a group before the next group (dlt's
 * order: a pipeline-scoped value in any file beats an unscoped one in the environment).
 */
function candidates(path: string, pipelineName: string | undefined): Candidate[][] {
  const parts = path.split('.').filter((p) => p.length > 0);
  if (parts.length === 0) throw new HaulError('InvalidOptions', 'invalid config path: empty');
  const key = parts.pop()!;
  const walk = (prefix: string[]) => {
    const out: Candidate[] = [];
    for (let i = parts.length; i >= 0; i--) out.push({ segments: [...prefix, ...parts.slice(0, i), key] });
    return out;
  };
  return pipelineName ? [walk([pipelineName]), walk([])] : [walk([])];
}

function envName(segments: string[]): string {
  return segments.join('__').toUpperCase();
}

function tomlName(segments: string[]): string {
  const key = segments[segments.length - 1];
  return segments.length > 1 ? `[${segments.slice(0, -1).join('.')}] ${key}` : String(key);
}

interface Provider {
  describe(c: Candidate[]): string;
  get(c: Candidate): { value: unknown; origin: string } | undefined;
}

function tomlProvider(file: string, isSecrets: boolean): Provider {
  return {
    describe: (cs) => {
      const f = readTomlFile(file);
      const status = f.exists ? (f.error ? ' (broken, skipped)' : '') : ' (not found)';
      return `${file}${status}: ${cs.map((c) => tomlName(c.segments)).join(', ')}`;
    },
    get: (c) => {
      const f = readTomlFile(file);
      if (f.error) throw new ConfigFileError(file, f.error);
      if (!f.doc) return undefined;
      if (isSecrets) registerSecretsIn(f.doc);
      const v = lookupPath(f.doc, c.segments);
      return v === undefined ? undefined : { value: v, origin: `${file} ${tomlName(c.segments)}` };
    },
  };
}

function providers(kind: ConfigKind, opts: ResolveOptions): Provider[] {
  const env = opts.env ?? process.env;
  const { project, global } = configDirs(opts);
  const list: Provider[] = [
    {
      describe: (cs) => `environment: ${cs.map((c) => envName(c.segments)).join(', ')}`,
      get: (c) => {
        const name = envName(c.segments);
        const v = env[name];
        return v === undefined ? undefined : { value: v, origin: `env ${name}` };
      },
    },
    tomlProvider(join(project, 'secrets.toml'), true),
    tomlProvider(join(global, 'secrets.toml'), true),
  ];
  if (kind === 'config') list.push(...configTomlProviders(opts));
  return list;
}

function configTomlProviders(opts: ResolveOptions): Provider[] {
  const { project, global } = configDirs(opts);
  return [tomlProvider(join(project, 'config.toml'), false), tomlProvider(join(global, 'config.toml'), false)];
}

/**
 * A field of an object at `path` (a credentials field): the object's own path with sections
 * dropped, the object's key kept, as dlt looks up an embedded configuration's fields:
 * `destination.postgres.credentials.host`, `destination.credentials.host`, `credentials.host`.
 */
function fieldCandidates(path: string, field: string, pipelineName: string | undefined): Candidate[][] {
  return candidates(path, pipelineName).map((cs) => cs.map((c) => ({ segments: [...c.segments, field] })));
}

function lookup(path: string, kind: ConfigKind, opts: ResolveOptions, field?: string): { found?: { value: unknown; origin: string }; lookedAt: string[] } {
  const groups = field === undefined ? candidates(path, opts.pipelineName) : fieldCandidates(path, field, opts.pipelineName);
  if (field !== undefined) path = `${path}.${field}`;
  const ps = providers(kind, opts);
  for (const cs of groups) {
    for (const p of ps) {
      for (const c of cs) {
        const hit = p.get(c);
        if (hit) return { found: hit, lookedAt: [] };
      }
    }
  }
  if (kind === 'secret') refuseSecretInConfigToml(path, groups, opts);
  const lookedAt = ['explicit argument (none given)', ...groups.flatMap((cs) => ps.map((p) => p.describe(cs)))];
  if (kind === 'secret') lookedAt.push('(.dlt/config.toml is not read for secrets)');
  return { lookedAt };
}

/**
 * dlt's ValueNotSecretException: a secret written in config.toml is an error, not ignored (a
 * connection string there would otherwise read as "host missing", a password as none). A
 * table is no secret value: its fields are looked up one by one, the secret ones here again.
 */
function refuseSecretInConfigToml(path: string, groups: Candidate[][], opts: ResolveOptions): void {
  for (const p of configTomlProviders(opts)) {
    for (const c of groups.flat()) {
      const hit = p.get(c);
      if (hit && (hit.value === null || typeof hit.value !== 'object' || Array.isArray(hit.value))) throw new ConfigValueNotSecretError(path, hit.origin);
    }
  }
}

/** Env values are text; a typed schema gets them as JSON when the text alone does not fit. */
function parseWith<T>(schema: z.ZodType<T>, value: unknown, path: string, origin: string, kind: ConfigKind): T {
  let r = schema.safeParse(value);
  if (!r.success && (typeof value === 'number' || typeof value === 'boolean')) {
    // a TOML number where text is expected (an account id or key written without quotes): dlt takes it as text
    const alt = schema.safeParse(String(value));
    if (alt.success) r = alt;
  }
  if (!r.success && typeof value === 'string') {
    try {
      const alt = schema.safeParse(JSON.parse(value));
      if (alt.success) r = alt;
    } catch {
      /* not JSON: report the first error */
    }
  }
  if (r.success) return r.data;
  let why = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('; ');
  const wantsTable = r.error.issues.some((i) => i.code === 'invalid_type' && ['object', 'record', 'array'].includes(i.expected));
  if (typeof value === 'string' && wantsTable) why += ' (a table or list given as text, e.g. in an env variable, is written as JSON: {"name": "value"} or ["a", "b"])';
  throw new ConfigValueInvalidError(path, origin, kind === 'secret' ? why : redact(why));
}

function isPlainObjectSchema(s: z.ZodType): s is z.ZodObject<z.ZodRawShape> {
  return s instanceof z.ZodObject;
}

/**
 * Resolves one value and tells where it came from. An object schema (e.g. credentials) is
 * resolved field by field (`DESTINATION__POSTGRES__CREDENTIALS__PASSWORD`), else as one
 * value (e.g. JSON in an env var).
 */
export function resolveValue<T>(path: string, kind: ConfigKind, schema: z.ZodType<T>, opts: ResolveOptions<T> = {}): ResolvedValue<T> | undefined {
  if (opts.explicit !== undefined) {
    const value = parseWith(schema, opts.explicit, path, 'explicit argument', kind);
    if (kind === 'secret') registerSecretsIn(value);
    return { value, origin: 'explicit argument' };
  }
  // An object (credentials) is resolved field by field, each field with its own provider
  // order (host in config.toml, password in env), under the object's key (fieldCandidates).
  if (isPlainObjectSchema(schema)) {
    const fields: Record<string, unknown> = {};
    const origins: string[] = [];
    for (const key of Object.keys(schema.shape)) {
      const hit = lookup(path, kind, opts, key).found;
      if (hit) {
        fields[key] = hit.value;
        origins.push(hit.origin);
      }
    }
    if (origins.length) {
      const value = parseWith(schema, fields, path, [...new Set(origins)].join(', '), kind);
      if (kind === 'secret') registerSecretsIn(value);
      return { value: value as T, origin: [...new Set(origins)].join(', ') };
    }
    if (opts.fieldsOnly) return undefined;
  }
  const { found } = lookup(path, kind, opts);
  if (found) {
    const value = parseWith(schema, found.value, path, found.origin, kind);
    if (kind === 'secret') registerSecretsIn(value);
    return { value, origin: found.origin };
  }
  return undefined;
}

function getter(kind: ConfigKind, defaultSchema: z.ZodType) {
  function get<S extends z.ZodType = z.ZodType<string>>(path: string, schema?: S, opts: ResolveOptions<z.output<S>> = {}): z.output<S> {
    const s = (schema ?? defaultSchema) as z.ZodType<z.output<S>>;
    const r = resolveValue(path, kind, s, opts);
    if (r) return r.value;
    if (opts.default !== undefined) return opts.default;
    const { lookedAt } = lookup(path, kind, opts);
    throw new ConfigValueMissingError(path, kind, lookedAt);
  }
  function getOptional<S extends z.ZodType = z.ZodType<string>>(path: string, schema?: S, opts: ResolveOptions<z.output<S>> = {}): z.output<S> | undefined {
    const s = (schema ?? defaultSchema) as z.ZodType<z.output<S>>;
    return resolveValue(path, kind, s, opts)?.value ?? opts.default;
  }
  function where<S extends z.ZodType = z.ZodType<string>>(path: string, schema?: S, opts: ResolveOptions<z.output<S>> = {}): ResolvedValue<z.output<S>> | undefined {
    return resolveValue(path, kind, (schema ?? defaultSchema) as z.ZodType<z.output<S>>, opts);
  }
  return { get, getOptional, where };
}

/**
 * Typed configuration values: `config.get('sources.github.page_size', z.number())`.
 * Looks at env, secrets.toml and config.toml. Without a schema the value is a string.
 */
export const config = getter('config', z.string());

/**
 * Typed secrets: `secrets.get('sources.github.access_token')`. Looks at env and
 * secrets.toml (never config.toml); the value is redacted from errors, logs, traces and
 * CLI output from then on.
 */
export const secrets = getter('secret', z.string());

/** Marks a value as secret (redacted everywhere), e.g. a token from your own vault. */
export function secretValue<T extends string>(value: T): T {
  registerSecret(value);
  return value;
}
