import { createHash } from 'node:crypto';
import { parseJsonText } from '../common/big-ints.js';
import { sortedJson } from '../common/sorted-json.js';
import { ROW_ID_LENGTH } from './ids.js';

/*
 * dlt's deterministic row ids, value for value: an scd2 version's `_dlt_id` is dlt's
 * `get_row_hash` of its item, and the nested rows under it take dlt's
 * `get_nested_row_hash`, so a dataset moves between dlt and haul without re-versioning.
 * Both are shake128 digests of 10 bytes in standard base64 without padding (14 characters).
 */

function digest(text: string): string {
  return createHash('shake128', { outputLength: 10 }).update(text).digest('base64').slice(0, ROW_ID_LENGTH);
}

/**
 * The `_dlt_id` of an scd2 row without a version column: dlt's `get_row_hash` of the item
 * (keys sorted at every level, top-level `_dlt*` keys left out, nested data included). So a
 * version changes when anything in the item changes, nested lists too, and a key the item
 * does not have (a column new to the table) changes nothing. Undefined for a line that is
 * not JSON (the object path reports it).
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
  return digest(sortedJson(item, true));
}

/** dlt's `get_nested_row_hash`: the id of row `index` of nested table `table` under `parentId`. */
export function nestedContentRowId(parentId: string, table: string, index: number): string {
  return digest(`${parentId}_${table}_${index}`);
}
