/**
 * Secret redaction. Every value in a `.dlt/secrets.toml` (project and global) and every
 * value read through `secrets.get()` is a known secret (but for fields that only say where:
 * host, database, username, ...); `redact()` replaces known secrets
 * (also JSON- and URL-escaped) and credential-looking patterns (`user:pass@` in URLs,
 * `password=...`) with `***`. Used where text leaves haul: errors thrown by the Pipeline
 * facade (`redactError`), traces, the progress logger, the CLI and Temporal failures.
 */
import { join } from 'node:path';
import { configDirs, readTomlFile, stringLeaves, type ConfigDirs } from './toml-files.js';

export const REDACTED = '***';
/** Shorter values are not redacted by value: they would hide ordinary words and numbers. */
export const MIN_SECRET_LENGTH = 4;

const known = new Set<string>();
let patterns: string[] = [];
let dirty = true;

/** Treats `value` as a secret from now on (redacted in errors, logs, traces, CLI output). */
export function registerSecret(value: unknown): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || known.has(value)) return;
  known.add(value);
  dirty = true;
}

/**
 * Credential fields that say where, not how to get in (dlt's config-typed fields): kept
 * readable in messages even when they sit in secrets.toml. Masking them hid hosts,
 * database and user names, and every word that happened to equal one (`test`, `postgres`).
 */
const NOT_SECRET_KEYS = new Set(['host', 'port', 'database', 'username', 'user', 'drivername', 'sslmode', 'connect_timeout', 'dataset_name', 'bucket_url']);

/** Registers the string values of a config document or object as secrets, all but the NOT_SECRET_KEYS fields. */
export function registerSecretsIn(value: unknown): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) if (!NOT_SECRET_KEYS.has(k) || typeof v !== 'string') registerSecretsIn(v);
    return;
  }
  for (const s of stringLeaves(value)) registerSecret(s);
}

/** Loads the secrets.toml files (project, then global) so their values are known secrets. */
export function loadSecretFiles(dirs: ConfigDirs = {}): void {
  const { project, global } = configDirs(dirs);
  for (const dir of [project, global]) {
    const f = readTomlFile(join(dir, 'secrets.toml'));
    if (f.doc) registerSecretsIn(f.doc);
  }
}

function compiled(): string[] {
  if (!dirty) return patterns;
  const all = new Set<string>();
  for (const v of known) {
    all.add(v);
    const json = JSON.stringify(v).slice(1, -1);
    if (json !== v) all.add(json);
    const url = encodeURIComponent(v);
    if (url !== v) all.add(url);
  }
  // Longest first, so a secret containing another is replaced whole.
  patterns = [...all].sort((a, b) => b.length - a.length);
  dirty = false;
  return patterns;
}

const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi;
const SECRET_KEY = '[a-z0-9_]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)';
// `password=value` (any value) and `"token": "value"` / `token: 'value'` (quoted values only,
// so prose such as "password: must be a string" stays readable).
const KEY_VALUE = new RegExp(`\\b(${SECRET_KEY})(["']?\\s*=\\s*|["']?\\s*:\\s*(?=["']))("[^"]*"|'[^']*'|[^\\s;,&"'}]+)`, 'gi');
/** Object keys whose string values are always redacted (JSON output, log objects). */
export const SECRET_KEY_RE = new RegExp(`^${SECRET_KEY}$`, 'i');

/** `text` with known secrets and credential-looking fragments replaced by `***`. */
export function redact(text: string): string {
  if (typeof text !== 'string' || text.length === 0) return text;
  loadSecretFiles();
  let out = text;
  for (const p of compiled()) if (out.includes(p)) out = out.split(p).join(REDACTED);
  return out
    .replace(URL_USERINFO, `$1${REDACTED}:${REDACTED}@`)
    .replace(KEY_VALUE, (_m, k: string, sep: string, v: string) => {
      const q = v[0] === '"' || v[0] === "'" ? v[0] : '';
      return `${k}${sep}${q}${REDACTED}${q}`;
    });
}

/** A deep copy of `value` with every string redacted (for traces and JSON output). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = typeof v === 'string' && SECRET_KEY_RE.test(k) && v.length > 0 ? REDACTED : redactDeep(v);
    return out as T;
  }
  return value;
}

/**
 * Redacts an error in place before it leaves haul: its message and stack, and those of its
 * causes (a wrapped driver error may quote a credential). Returns the same error.
 */
export function redactError<E>(e: E): E {
  let cur: unknown = e;
  for (let depth = 0; depth < 10 && cur instanceof Error; depth++) {
    const clean = redact(cur.message);
    if (clean !== cur.message) cur.message = clean;
    if (cur.stack) cur.stack = redact(cur.stack);
    cur = cur.cause;
  }
  return e;
}

/** For tests: forget registered secrets. */
export function clearSecrets(): void {
  known.clear();
  dirty = true;
}

/** A short preview of a data item for an error message: secret-looking keys and values redacted, at most `max` characters. */
export function redactedPreview(item: unknown, max = 300): string {
  let text: string;
  try {
    text = JSON.stringify(redactDeep(item), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(item);
  } catch {
    text = String(item);
  }
  text = redact(text);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
