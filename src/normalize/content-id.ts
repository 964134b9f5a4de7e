import { createHash } from 'node:crypto';
import { parseJsonText } from '../common/big-ints.js';
import { sortedJson } from '../common/sorted-json.js';
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
  return createHash('sha256').update(sortedJson(item)).digest('base64url').slice(0, ROW_ID_LENGTH);
}
