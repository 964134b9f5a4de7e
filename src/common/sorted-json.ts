import { isWholeFloat } from './whole-floats.js';

/**
 * JSON with the keys of every object sorted (dlt hashes rows this way: `json.dumps(...,
 * sort_keys=True)`): the same text for the same content whatever the key order. A bigint is
 * written as its digits, a Date as its ISO string; undefined object values are left out.
 * `pythonFloats`: floats as orjson writes them for dlt (`1.0`, `-0.0`, `1e+16` from 1e16 up),
 * which whole-float marks of parsed JSON text make possible (whole-floats.ts).
 * Built by concatenation: it runs for every scd2 row and every row at an incremental boundary.
 */
export function sortedJson(v: unknown, pythonFloats = false): string {
  return write(v, pythonFloats, false);
}

function write(v: unknown, py: boolean, float: boolean): string {
  if (typeof v === 'bigint') return v.toString();
  if (py && typeof v === 'number') return float || !Number.isInteger(v) ? pythonFloat(v) : JSON.stringify(v);
  if (v === null || typeof v !== 'object' || v instanceof Date) return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + write(v[i], py, py && isWholeFloat(v, String(i)));
    return out + ']';
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + write(x, py, py && isWholeFloat(o, k));
    first = false;
  }
  return out + '}';
}

/** A float as orjson writes it: whole ones keep `.0`, and from 1e16 up the exponent form. */
function pythonFloat(x: number): string {
  if (!Number.isFinite(x) || !Number.isInteger(x)) return JSON.stringify(x);
  if (Math.abs(x) >= 1e16) return x.toExponential();
  return Object.is(x, -0) ? '-0.0' : `${x}.0`;
}
