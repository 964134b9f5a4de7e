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
 * Normalizes a table name as given by a user. Unlike a column name, a table name given as
 * a path keeps its `__` parts (e.g. `orders__items`).
 */
export function normalizeTableName(name: string): string {
  return name.split(PATH_SEPARATOR).filter((p) => p !== '').map(normalizeIdentifier).join(PATH_SEPARATOR);
}
