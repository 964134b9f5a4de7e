/**
 * Finds a page's items in an answer: the `dataSelector` JSONPath when given, else the list
 * dlt 1.31's detector picks on the first answer (see detectDataPath).
 */
import { findValues, pathOf } from './jsonpath.js';

/** Names under which dlt's detector expects the records (exact, case-sensitive). */
const RECORD_KEYS = new Set(['data', 'items', 'results', 'entries', 'records', 'rows', 'entities', 'payload', 'content', 'objects', 'values']);
/** dlt looks for lists in objects down to this depth (a list at most three keys deep). */
const MAX_OBJECT_DEPTH = 2;

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Every list in `obj` with its key path, depth first in the answer's key order (dlt's find_all_lists). */
function allLists(obj: Record<string, unknown>, path: string[], out: string[][]): string[][] {
  if (path.length > MAX_OBJECT_DEPTH) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (Array.isArray(v)) out.push([...path, k]);
    else if (isObject(v)) allLists(v, [...path, k], out);
  }
  return out;
}

/**
 * The path of the item list in a (first) answer, as dlt 1.31 detects it: `$` for a list
 * (or a scalar) body; else the first list, depth first in the answer's order, under a record
 * name (`data`, `items`, `results`, ...); else the first list at all; undefined (the answer
 * is one item) when the answer holds no list.
 */
export function detectDataPath(body: unknown): string | undefined {
  if (!isObject(body)) return '$';
  const lists = allLists(body, [], []).filter((keys) => pathOf(keys) !== undefined);
  const pick = lists.find((keys) => RECORD_KEYS.has(keys[keys.length - 1]!)) ?? lists[0];
  return pick === undefined ? undefined : pathOf(pick);
}

/** The items of one answer as a list (a single object becomes a list of one, nothing an empty list). */
export function selectItems(body: unknown, path: string | undefined): unknown[] {
  if (body === undefined || body === null || body === '') return [];
  let v: unknown;
  if (path === undefined) v = body;
  else if (path === '$') v = body;
  else {
    const found = findValues(path, body);
    v = found.length === 1 ? found[0] : found;
  }
  if (Array.isArray(v)) return v;
  return v === undefined || v === null ? [] : [v];
}
