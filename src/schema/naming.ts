import { shortenIdentifier } from './shorten.js';
import { PATH_SEPARATOR } from './system.js';

/*
 * dlt's default `snake_case` naming convention: the same input gives the same table and
 * column names as dlt, so datasets are interchangeable.
 */
const REDUCE: Record<string, string> = { '+': 'x', '-': '_', '*': 'x', '@': 'a', '|': 'l' };
const RE_REDUCE = /[+\-*@|]/g;
const RE_NON_ALNUM = /[^a-zA-Z0-9_]+/g;
const RE_BREAK_1 = /([^_])([A-Z][a-z]+)/g;
const RE_BREAK_2 = /([a-z0-9])([A-Z])/g;
const RE_UNDERSCORES = /__+/g;

const cache = new Map<string, string>();

/** Normalizes one identifier (no path separators survive: `a__b` becomes `a_b`). */
export function normalizeIdentifier(identifier: string): string {
  const hit = cache.get(identifier);
  if (hit !== undefined) return hit;
  let s = identifier.trim();
  if (s === '') throw new Error('identifier is empty');
  s = s.replace(RE_REDUCE, (c) => REDUCE[c] ?? '_');
  s = s.replace(RE_NON_ALNUM, '_');
  s = s.replace(RE_BREAK_1, '$1_$2').replace(RE_BREAK_2, '$1_$2').toLowerCase();
  if (/^[0-9]/.test(s)) s = '_' + s;
  const stripped = s.replace(/_+$/, '');
  s = stripped + 'x'.repeat(s.length - stripped.length);
  s = s.replace(RE_UNDERSCORES, '_');
  if (cache.size > 100_000) cache.clear();
  cache.set(identifier, s);
  return s;
}

/** Joins normalized identifiers into a nested path (`parent__child`). */
export function makePath(...parts: string[]): string {
  return parts.join(PATH_SEPARATOR);
}

/**
 * dlt's `normalize_path`: a name split at `__`, each part normalized (and shortened to
 * `maxLength` with a tag from the part), joined again and the whole shortened with a tag
 * from the name as given. So `a__b` stays `a__b` and `__x` becomes `x`, as dlt 1.31's
 * relational normalizer names keys and tables. A name with no part left (`__`) is
 * normalized whole.
 */
function normalizePath(name: string, maxLength?: number): string {
  const parts = name.split(PATH_SEPARATOR).filter((p) => p.trim() !== '');
  if (parts.length === 0) return shortenIdentifier(normalizeIdentifier(name), name.trim(), maxLength);
  const joined = parts.map((p) => shortenIdentifier(normalizeIdentifier(p), p.trim(), maxLength)).join(PATH_SEPARATOR);
  return shortenIdentifier(joined, name, maxLength);
}

/** A table name as given by a user or made from a key: a path (`orders__items` keeps its parts). */
export function normalizeTableName(name: string, maxLength?: number): string {
  return normalizePath(name, maxLength);
}

/** A key of an item (or a column named in a hint) as a column name: a path, as dlt names it. */
export function normalizeColumnName(key: string, maxLength?: number): string {
  return normalizePath(key, maxLength);
}

/**
 * One identifier as dlt's `normalize_identifier` makes it, shortened to `maxLength` with a
 * tag from the identifier: `a__b` becomes `a_b` (the user's `pipeline.naming`).
 */
export function normalizeShortIdentifier(identifier: string, maxLength?: number): string {
  return shortenIdentifier(normalizeIdentifier(identifier), identifier.trim(), maxLength);
}

/**
 * A nested name (flattened column `a__b`, child table `t__items`, variant `c__v_text`) made
 * of normalized parts, shortened as dlt's `shorten_fragments` does: the tag comes from the
 * joined path itself.
 */
export function shortenPath(path: string, maxLength?: number): string {
  return shortenIdentifier(path, path, maxLength);
}
