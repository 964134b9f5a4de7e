import { createHash } from 'node:crypto';
import { parseJsonText } from '../common/big-ints.js';
import { isWholeFloat } from '../common/whole-floats.js';
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
  return digest(dltSortedJson(item, false));
}

/** dlt's `get_nested_row_hash`: the id of row `index` of nested table `table` under `parentId`. */
export function nestedContentRowId(parentId: string, table: string, index: number): string {
  return digest(`${parentId}_${table}_${index}`);
}

/**
 * The JSON dlt hashes (orjson, sorted keys): compact; a float written as Python writes it
 * (`1.0`, `-0.0`, `1e+16` from 1e16 up), which JSON text marked for us (whole-floats.ts);
 * integers as their digits.
 */
function dltSortedJson(v: unknown, float: boolean): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return float || !Number.isInteger(v) ? pythonFloat(v) : JSON.stringify(v);
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + dltSortedJson(v[i], isWholeFloat(v, String(i)));
    return out + ']';
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + dltSortedJson(x, isWholeFloat(o, k));
    first = false;
  }
  return out + '}';
}

/** A float as orjson writes it: whole ones keep `.0`, and from 1e16 up the exponent form. */
function pythonFloat(x: number): string {
  if (!Number.isFinite(x)) return JSON.stringify(x);
  if (!Number.isInteger(x)) return JSON.stringify(x);
  if (Math.abs(x) >= 1e16) return x.toExponential();
  return Object.is(x, -0) ? '-0.0' : `${x}.0`;
}
