import { UnserializableValueError } from '../errors.js';

const MAX_DEPTH = 256;

/**
 * Serializes one item to a JSON line. The common case (plain JSON data) is one native
 * JSON.stringify after a cheap type walk; bigint and binary take a slower tagged path;
 * functions, symbols, Maps/Sets and cycles are errors naming the field.
 */
export function serializeItem(item: unknown, table: string): string {
  const special = scan(item, '', 0, table);
  try {
    return special ? JSON.stringify(item, replacer) : JSON.stringify(item);
  } catch (e) {
    throw new UnserializableValueError(table, '', (e as Error).message);
  }
}

/** Returns true when the item holds values that need the tagged path. */
function scan(v: unknown, path: string, depth: number, table: string): boolean {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return false;
    case 'bigint':
      return true;
    case 'function':
      throw new UnserializableValueError(table, path, 'a function');
    case 'symbol':
      throw new UnserializableValueError(table, path, 'a symbol');
  }
  if (v === null) return false;
  if (depth > MAX_DEPTH) throw new UnserializableValueError(table, path, `nesting deeper than ${MAX_DEPTH} levels (a circular reference?)`);
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new UnserializableValueError(table, path, 'an invalid Date');
    return false;
  }
  if (ArrayBuffer.isView(v)) return true;
  if (v instanceof Map || v instanceof Set) {
    throw new UnserializableValueError(table, path, `a ${v instanceof Map ? 'Map' : 'Set'} (convert it to an object or array)`);
  }
  let special = false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (scan(v[i], `${path}[${i}]`, depth + 1, table)) special = true;
    return special;
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
  for (const k in v as Record<string, unknown>) {
    if (scan((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k, depth + 1, table)) special = true;
  }
  return special;
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return { $binary: bytes.toString('base64') };
  }
  // Buffer.toJSON ran already and gave { type: 'Buffer', data: [...] }.
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return { $binary: Buffer.from((value as { data: number[] }).data).toString('base64') };
  }
  return value;
}
