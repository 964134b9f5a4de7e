import { randomBytes } from 'node:crypto';
import { UnserializableValueError } from '../errors.js';
import { holdsWholeFloats, isWholeFloat, wholeFloatKeys, wholeFloatsSeen } from '../common/whole-floats.js';

const MAX_DEPTH = 256;

/** Why a value cannot be stored, or undefined when it can. */
type Problem = string | undefined;

/**
 * Serializes one item to a JSON line. The common case (plain JSON data) is one native
 * JSON.stringify after a cheap type walk; bigint and binary take a slower tagged path;
 * functions, symbols, Maps/Sets, RegExps, Errors, Promises and cycles are errors naming
 * the field (JSON.stringify would silently turn the last three into `{}`).
 */
export function serializeItem(item: unknown, table: string): string {
  const flags: ScanFlags = { special: false, wholeFloats: wholeFloatsSeen(), topFloats: false };
  if (scan(item, 0, flags) !== undefined) {
    // Rare: walk again, this time building paths, to name the field.
    const found = locate(item, '', 0);
    throw new UnserializableValueError(table, found?.path ?? '', found?.problem ?? 'an unsupported value');
  }
  try {
    if (flags.special) return withExactBigInts(JSON.stringify(item, replacer));
    return flags.topFloats ? withTopLevelFloats(item as Record<string, unknown>) : JSON.stringify(item);
  } catch (e) {
    throw new UnserializableValueError(table, '', (e as Error).message);
  }
}

interface ScanFlags {
  /** A bigint, binary or a nested whole float: the replacer path. */
  special: boolean;
  /** Some value was ever marked as a whole float (whole-floats.ts): look for marks. */
  wholeFloats: boolean;
  /** The item's own fields hold marked whole floats (a reader's row): native stringify with tags. */
  topFloats: boolean;
}

/**
 * A row whose own fields hold whole floats (a CSV or parquet reader's float column): the
 * native JSON.stringify runs on a copy with each of them swapped for a tag, which becomes
 * `3.0`. Faster than the replacer path, which calls back for every value
 * (docs/performance.md, section 39).
 */
function withTopLevelFloats(item: Record<string, unknown>): string {
  // a copy: a string put into the item's number field would change its shape for V8, and slow every row after it
  let copy: Record<string, unknown> | undefined;
  for (const k of wholeFloatKeys(item)) {
    if (!isWholeFloat(item, k)) continue;
    copy ??= { ...item };
    copy[k] = `${FLOAT_TAG}${item[k] as number}`;
  }
  return copy === undefined ? JSON.stringify(item) : JSON.stringify(copy).replace(FLOAT_TAG_RE, '$1.0');
}

/** The hot path: no allocations; sets `flags.special` for bigint/binary and for whole floats parsed from JSON text (whole-floats.ts). */
function scan(v: unknown, depth: number, flags: ScanFlags): Problem {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'bigint':
      flags.special = true;
      return undefined;
    case 'function':
    case 'symbol':
      return 'x';
  }
  if (v === null) return undefined;
  if (depth > MAX_DEPTH) return 'x';
  // Plain objects first: most of the values, and none of the class checks below apply to them.
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const o = v as Record<string, unknown>;
    if (typeof o.then === 'function') return 'x'; // a thenable
    if (typeof o.toJSON === 'function') return undefined;
    if (flags.wholeFloats && holdsWholeFloats(o)) {
      if (depth === 0) flags.topFloats = true;
      else flags.special = true;
    }
    for (const k in o) if (scan(o[k], depth + 1, flags) !== undefined) return 'x';
    return undefined;
  }
  if (Array.isArray(v)) {
    if (flags.wholeFloats && holdsWholeFloats(v)) flags.special = true;
    for (let i = 0; i < v.length; i++) if (scan(v[i], depth + 1, flags) !== undefined) return 'x';
    return undefined;
  }
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'x' : undefined;
  if (ArrayBuffer.isView(v)) {
    flags.special = true;
    return undefined;
  }
  if (v instanceof Map || v instanceof Set || v instanceof RegExp || v instanceof Error || v instanceof WeakMap || v instanceof WeakSet) return 'x';
  if (typeof (v as { then?: unknown }).then === 'function') return 'x'; // a Promise (or thenable)
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return undefined;
  for (const k in v as Record<string, unknown>) if (scan((v as Record<string, unknown>)[k], depth + 1, flags) !== undefined) return 'x';
  return undefined;
}

/** What each kind of unstorable object is, and what to do instead. */
function describeObject(v: object): string | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'an invalid Date' : undefined;
  if (v instanceof Map || v instanceof Set) return `a ${v instanceof Map ? 'Map' : 'Set'} (convert it to an object or array)`;
  if (v instanceof WeakMap || v instanceof WeakSet) return 'a WeakMap/WeakSet (its entries cannot be read)';
  if (v instanceof RegExp) return `a RegExp ${String(v).slice(0, 60)} (store its source string instead)`;
  if (v instanceof Error) return `an Error "${v.message.slice(0, 80)}" (store its message instead)`;
  if (typeof (v as { then?: unknown }).then === 'function') return 'a Promise (await it before yielding the item)';
  return undefined;
}

/** Paths of deep or circular values are shortened to their start and end. */
function shortPath(path: string): string {
  return path.length <= 160 ? path : `${path.slice(0, 70)}…${path.slice(-70)}`;
}

/** The slow path: finds the first bad value and describes it; `ancestors` catches cycles. */
function locate(v: unknown, path: string, depth: number, ancestors: unknown[] = []): { path: string; problem: string } | undefined {
  if (typeof v === 'function') return { path, problem: 'a function' };
  if (typeof v === 'symbol') return { path, problem: 'a symbol' };
  if (v === null || typeof v !== 'object') return undefined;
  if (ancestors.includes(v)) return { path: shortPath(path), problem: 'a circular reference (the value contains itself)' };
  if (depth > MAX_DEPTH) return { path: shortPath(path), problem: `nesting deeper than ${MAX_DEPTH} levels` };
  const bad = describeObject(v);
  if (bad) return { path, problem: bad };
  if (v instanceof Date || ArrayBuffer.isView(v)) return undefined;
  const inner = [...ancestors, v];
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const f = locate(v[i], `${path}[${i}]`, depth + 1, inner);
      if (f) return f;
    }
    return undefined;
  }
  for (const k in v as Record<string, unknown>) {
    const f = locate((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k, depth + 1, inner);
    if (f) return f;
  }
  return undefined;
}

const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;
/** Marks a bigint beyond 2^53 in the JSON text until withExactBigInts writes it as a bare integer. */
const BIG_TAG = `\u0000haul-bigint-${randomBytes(6).toString('hex')}:`;
const BIG_TAG_RE = new RegExp(`"${BIG_TAG.replace('\u0000', '\\\\u0000')}(-?\\d+)"`, 'g');
/** Marks a whole float until withExactBigInts writes it with its `.0`. */
const FLOAT_TAG = `\u0000haul-float-${randomBytes(6).toString('hex')}:`;
const FLOAT_TAG_RE = new RegExp(`"${FLOAT_TAG.replace('\u0000', '\\\\u0000')}(-?\\d+)"`, 'g');

/**
 * A bigint beyond 2^53 is written as an exact JSON integer (normalize reads it back exactly
 * and types it bigint, as dlt does); beyond 64 bits it stays a string (text).
 */
function withExactBigInts(json: string): string {
  if (json.includes('haul-bigint-')) json = json.replace(BIG_TAG_RE, '$1');
  return json.includes('haul-float-') ? json.replace(FLOAT_TAG_RE, '$1.0') : json;
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  // a whole float of parsed JSON text is written as a float again (`10.0`), as the text had it
  if (typeof value === 'number' && isWholeFloat(this as object, key)) return `${FLOAT_TAG}${value}`;
  if (typeof value === 'bigint') {
    if (Number.isSafeInteger(Number(value))) return Number(value);
    return value >= MIN_I64 && value <= MAX_I64 ? `${BIG_TAG}${value.toString()}` : value.toString();
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
