/**
 * Finds a page's items in an answer: the `dataSelector` JSONPath when given, else the
 * answer itself when it is a list, else the first list under a usual name (`data`,
 * `items`, `results`, ...) one or two levels down, else the answer as one item.
 */
import { findValues } from './jsonpath.js';

const USUAL_NAMES = ['data', 'items', 'results', 'result', 'entries', 'records', 'rows', 'entities', 'objects', 'values', 'content', 'payload', 'list', 'hits'];

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The path of the item list in a (first) answer; `$` for a list body, undefined for a single object. */
export function detectDataPath(body: unknown): string | undefined {
  if (Array.isArray(body)) return '$';
  if (!isObject(body)) return undefined;
  for (const n of USUAL_NAMES) if (Array.isArray(body[n])) return n;
  for (const n of USUAL_NAMES) {
    const inner = body[n];
    if (isObject(inner)) for (const m of USUAL_NAMES) if (Array.isArray(inner[m])) return `${n}.${m}`;
  }
  // One list of objects under any name (e.g. `{ "users": [...], "next": ... }`).
  const lists = Object.keys(body).filter((k) => Array.isArray(body[k]) && (body[k] as unknown[]).every(isObject));
  return lists.length === 1 ? lists[0] : undefined;
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
