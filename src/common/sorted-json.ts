/**
 * JSON with the keys of every object sorted (dlt hashes rows this way: `json.dumps(...,
 * sort_keys=True)`): the same text for the same content whatever the key order. A bigint is
 * written as its digits, a Date as its ISO string; undefined object values are left out.
 * Built by concatenation: it runs for every scd2 row and every row at an incremental boundary.
 */
export function sortedJson(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object' || v instanceof Date) return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + sortedJson(v[i]);
    return out + ']';
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + sortedJson(x);
    first = false;
  }
  return out + '}';
}
