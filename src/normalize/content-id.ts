import { createHash } from 'node:crypto';
import { parseJsonText } from '../common/big-ints.js';
import { ROW_ID_LENGTH } from './ids.js';

/**
 * The `_dlt_id` of an scd2 row without a version column: a hash of its item as dlt's
 * `get_row_hash` takes it (keys sorted at every level, top-level `_dlt*` keys left out,
 * nested data included). So a version changes when anything in the item changes, nested
 * lists too, and a key the item does not have (a column new to the table) changes nothing.
 * Undefined for a line that is not JSON (the object path reports it).
 */
export function contentRowIdOfLine(line: string): string | undefined {
  if (line.trim() === '') return undefined;
  let item: unknown;
  try {
    item = parseJsonText(line);
  } catch {
    return undefined;
  }
  if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) if (k.startsWith('_dlt')) delete o[k];
  }
  return createHash('sha256').update(canonical(item)).digest('base64url').slice(0, ROW_ID_LENGTH);
}

/** JSON with sorted keys at every level (bigints as their digits); built by concatenation: it runs for every scd2 row. */
function canonical(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + canonical(v[i]);
    return out + ']';
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + canonical(x);
    first = false;
  }
  return out + '}';
}
