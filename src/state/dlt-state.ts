import { inflateSync } from 'node:zlib';

/*
 * A `_dlt_pipeline_state.state` that dlt wrote: zlib-compressed, base64, its JSON "typed"
 * (dates, decimals, bytes prefixed with a private-use character). haul reads it so a dlt
 * pipeline moves over with its incremental cursors and its source and resource state.
 */

/** dlt's typed-JSON markers: U+F026 (decimal) to U+F02D (time). */
const PUA_FIRST = 0xf026;
const PUA_LAST = 0xf02d;

/** The state dlt stored, as plain JSON (typed values as their text), or undefined when `text` is not dlt's form. */
export function decodeDltState(text: string): Record<string, unknown> | undefined {
  if (!/^eN[A-Za-z0-9+/]/.test(text)) return undefined;
  let state: unknown;
  try {
    const json = inflateSync(Buffer.from(text, 'base64')).toString('utf8');
    state = JSON.parse(json, (_k, v: unknown) => (typeof v === 'string' ? untyped(v) : v));
  } catch {
    return undefined;
  }
  return state !== null && typeof state === 'object' && !Array.isArray(state) ? (state as Record<string, unknown>) : undefined;
}

/** A typed value's text without its marker (`2024-06-01T12:30:00+00:00`, `12.5`). */
function untyped(s: string): string {
  const c = s.charCodeAt(0);
  return s.length > 1 && c >= PUA_FIRST && c <= PUA_LAST ? s.slice(1) : s;
}
