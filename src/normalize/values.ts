import { stringifyRow } from './big-ints.js';
import { parseJsonText } from '../common/big-ints.js';
import type { DataType } from '../schema/types.js';

/*
 * Value typing and coercion for normalize. Values arrive as parsed JSON (strings, numbers,
 * booleans, arrays, objects; binary as `{"$binary": "<base64>"}`) and leave in the canonical
 * form of their column's type (see docs/package-format.md, "Normalized job files"):
 *
 *   text string | bigint number (string beyond 2^53) | double number | bool boolean |
 *   timestamp 'YYYY-MM-DDTHH:MM:SS.sss[sss]Z' (UTC) | date 'YYYY-MM-DD' |
 *   time 'HH:MM:SS[.ffffff]' | decimal string | binary base64 string | json any JSON value
 *
 * Coercion follows dlt's rules (dlt.common.data_types.type_helpers.coerce_value) where they
 * are lossless; a value that cannot be coerced makes the caller use a variant column.
 */

/** Returned by `coerceTo` when the value does not fit the type. */
export const NO_FIT: unique symbol = Symbol('NO_FIT');
export type NoFit = typeof NO_FIT;

const MAX_BIGINT = 9223372036854775807; // 2^63 - 1 (rounds to 2^63 as a double)

export function isBinaryTag(v: unknown): v is { $binary: string } {
  return typeof v === 'object' && v !== null && typeof (v as { $binary?: unknown }).$binary === 'string';
}

/**
 * The type a new column gets from its first value (dlt: py type + autodetection).
 * `detectTimestamps`: strings that are full ISO-8601 date-times become timestamps.
 */
export function inferType(v: unknown, detectTimestamps: boolean): DataType {
  switch (typeof v) {
    case 'string':
      return detectTimestamps && parseTimestamp(v, true) !== undefined ? 'timestamp' : 'text';
    case 'number':
      return Number.isInteger(v) && Math.abs(v) <= MAX_BIGINT ? 'bigint' : 'double';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'bigint';
    default:
      return isBinaryTag(v) ? 'binary' : 'json';
  }
}

/** A (safe or unsafe) integer as a bigint value: a number, or a decimal string beyond 2^53. */
function bigintOut(n: number): number | string {
  return Number.isSafeInteger(n) ? n : BigInt(n).toString();
}

const RE_INT = /^[+-]?\d+$/;
const RE_HEX = /^0x[0-9a-fA-F]+$/;
const RE_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const RE_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const RE_HEX_BYTES = /^(?:[0-9a-fA-F]{2})*$/;

const TRUE_WORDS = new Set(['y', 'yes', 't', 'true', 'on', '1']);
const FALSE_WORDS = new Set(['n', 'no', 'f', 'false', 'off', '0']);

/**
 * Converts a raw JSON value to the canonical form of `type`, or returns NO_FIT. `null` and
 * `undefined` never reach here.
 */
export function coerceTo(type: DataType, v: unknown): unknown {
  const t = typeof v;
  switch (type) {
    case 'text':
      if (t === 'string') return v;
      if (t === 'number') return Number.isInteger(v) ? String(bigintOut(v as number)) : String(v);
      // Python's str(bool), as dlt writes a boolean into a text column
      if (t === 'boolean') return v ? 'True' : 'False';
      if (t === 'bigint') return (v as bigint).toString();
      if (isBinaryTag(v)) return v.$binary;
      return stringifyRow(v);

    case 'bigint':
      if (t === 'number') {
        const n = v as number;
        return Number.isInteger(n) && Math.abs(n) <= MAX_BIGINT ? bigintOut(n) : NO_FIT;
      }
      if (t === 'bigint') return (v as bigint).toString();
      if (t === 'string') {
        const s = (v as string).trim();
        if (RE_INT.test(s)) {
          const big = BigInt(s);
          if (big > 9223372036854775807n || big < -9223372036854775808n) return NO_FIT;
          return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big.toString();
        }
        if (RE_HEX.test(s)) {
          const big = BigInt(s);
          if (big > 9223372036854775807n) return NO_FIT;
          return big <= 9007199254740991n ? Number(big) : big.toString();
        }
      }
      return NO_FIT;

    case 'double':
      if (t === 'number') return v;
      if (t === 'bigint') return Number(v);
      if (t === 'string') {
        const s = (v as string).trim();
        if (RE_NUMBER.test(s)) {
          const n = Number(s);
          return Number.isFinite(n) ? n : NO_FIT;
        }
        if (RE_HEX.test(s)) return Number(BigInt(s));
      }
      return NO_FIT;

    case 'bool':
      if (t === 'boolean') return v;
      if (t === 'number') return v === 1 ? true : v === 0 ? false : NO_FIT;
      if (t === 'string') {
        const s = (v as string).trim().toLowerCase();
        if (TRUE_WORDS.has(s)) return true;
        if (FALSE_WORDS.has(s)) return false;
      }
      return NO_FIT;

    case 'timestamp':
      if (t === 'string') {
        const s = v as string;
        const r = parseTimestamp(s, false);
        if (r !== undefined) return r;
        const tr = s.trim();
        if (RE_NUMBER.test(tr)) return epochToTimestamp(Number(tr)) ?? NO_FIT;
        return NO_FIT;
      }
      if (t === 'number') return epochToTimestamp(v as number) ?? NO_FIT;
      return NO_FIT;

    case 'date':
      if (t === 'string') {
        const s = v as string;
        if (s.length === 10 || s.length === 8) {
          const d = parseDate(s);
          if (d !== undefined) return d;
        }
        const ts = parseTimestamp(s, true);
        return ts !== undefined ? ts.slice(0, 10) : NO_FIT;
      }
      if (t === 'number') {
        const ts = epochToTimestamp(v as number);
        return ts !== undefined ? ts.slice(0, 10) : NO_FIT;
      }
      return NO_FIT;

    case 'time':
      if (t === 'string') {
        const s = v as string;
        // only a time: a full timestamp is not one (dlt's ensure_pendulum_time), so it goes to a variant
        const tm = parseTime(s);
        return tm !== undefined ? tm : NO_FIT;
      }
      return NO_FIT;

    case 'decimal':
      if (t === 'number') return Number.isInteger(v) ? String(bigintOut(v as number)) : String(v);
      if (t === 'bigint') return (v as bigint).toString();
      if (t === 'string') {
        let s = (v as string).trim();
        if (RE_NUMBER.test(s)) {
          if (s.charCodeAt(0) === 43 /* + */) s = s.slice(1);
          return s;
        }
        if (RE_HEX.test(s)) return BigInt(s).toString();
      }
      return NO_FIT;

    case 'binary':
      if (isBinaryTag(v)) return v.$binary;
      if (t === 'string') {
        const s = v as string;
        if (s.startsWith('0x')) {
          const hex = s.slice(2);
          return RE_HEX_BYTES.test(hex) ? Buffer.from(hex, 'hex').toString('base64') : NO_FIT;
        }
        return RE_BASE64.test(s) ? s : NO_FIT;
      }
      return NO_FIT;

    case 'json':
      if (t === 'object' && !isBinaryTag(v)) return v;
      // text holding JSON, as dlt's json.loads (APIs often send JSON as a string); else a variant
      if (t === 'string') {
        try {
          const parsed = parseJsonText(v as string);
          return parsed === null ? NO_FIT : parsed;
        } catch {
          return NO_FIT;
        }
      }
      return NO_FIT;
  }
  return NO_FIT;
}

// ---------------------------------------------------------------------------------------
// Values kept as they are. Both normalize paths ask these rules before coercing: the object
// path with a parsed value (kindOf), the byte path with a raw JSON token it classified
// itself. A value kept as is is written unchanged (its JSON text is the canonical form);
// anything else goes through coerceTo, on the object path.

/** A JSON string. */
export const J_STRING = 1;
/** A JSON number that is a safe integer (on the byte path: digits only, at most MAX_PLAIN_INT_CHARS). */
export const J_INTEGER = 2;
/** Any other finite JSON number (on the byte path: an exponent of at most MAX_EXPONENT_DIGITS). */
export const J_NUMBER = 3;
/** true or false. */
export const J_BOOL = 4;
/** Anything else (null, objects, arrays, binary tags). */
export const J_OTHER = 0;

/** An optional '-' and up to 15 digits is always a safe integer (2^53 has 16 digits). */
export const MAX_PLAIN_INT_CHARS = 15;
/** Exponents longer than this may overflow a double (1e400 is Infinity). */
export const MAX_EXPONENT_DIGITS = 2;
/** Number tokens longer than this go through JSON.parse. */
export const MAX_NUMBER_CHARS = 40;

/** The kind of a parsed JSON value, as keepsAsIs takes it. */
export function kindOf(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return J_STRING;
    case 'number':
      return Number.isSafeInteger(v) ? J_INTEGER : J_NUMBER;
    case 'boolean':
      return J_BOOL;
    default:
      return J_OTHER;
  }
}

/**
 * A value of this kind goes into a column of `type` unchanged (coerceTo would return it as
 * it is). The one table both normalize paths read; timestamps add isCanonicalTimestampAt.
 */
export function keepsAsIs(type: DataType, kind: number): boolean {
  switch (type) {
    case 'text':
      return kind === J_STRING;
    case 'bigint':
      return kind === J_INTEGER;
    case 'double':
      return kind === J_INTEGER || kind === J_NUMBER;
    case 'bool':
      return kind === J_BOOL;
    default:
      return false;
  }
}

/**
 * A bigint column writes `v` differently than a double column would: a string or an unsafe
 * integer coerced, or a variant only one of them makes (object-path.ts also counts every
 * variant a bigint column makes, fractions included). The parallel merge needs to know;
 * see merge-schema.ts.
 */
export function bigintOnly(v: unknown): boolean {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return false;
  const b = coerceTo('bigint', v);
  if (b === NO_FIT) return typeof v !== 'number' && coerceTo('double', v) !== NO_FIT;
  return b !== coerceTo('double', v);
}

// ---------------------------------------------------------------------------------------
// Dates and times, parsed by hand: no regex and no Date parsing on the hot path.

function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

function d4(s: string, i: number): number {
  const a = d2(s, i);
  const b = d2(s, i + 2);
  return a < 0 || b < 0 ? -1 : a * 100 + b;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function pad4(n: number): string {
  return n < 10 ? '000' + n : n < 100 ? '00' + n : n < 1000 ? '0' + n : String(n);
}

/** 'YYYYMMDD[(T| )HH[MM[SS][.f]][zone]]' -> the same in the extended format ('YYYY-MM-DD...'), or undefined. */
function extendedFromBasic(s: string): string | undefined {
  const m = RE_BASIC.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const date = `${y}-${mo}-${d}`;
  if (h === undefined) return date;
  return `${date}T${h}:${mi ?? '00'}${sec === undefined ? '' : `:${sec}${frac ?? ''}`}${zone ?? ''}`;
}
const RE_BASIC = /^(\d{4})(\d{2})(\d{2})(?:[T ](\d{2})(\d{2})?(?:(\d{2})([.,]\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** 'YYYY-MM-DD' (or the basic 'YYYYMMDD') validated, as 'YYYY-MM-DD', or undefined. */
export function parseDate(s: string): string | undefined {
  if (s.length === 8) {
    const ext = extendedFromBasic(s);
    return ext === undefined ? undefined : parseDate(ext);
  }
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined;
  const y = d4(s, 0);
  const m = d2(s, 5);
  const d = d2(s, 8);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return undefined;
  return s;
}

/** Fraction digits kept: up to 3 -> milliseconds, 4..9 -> microseconds (truncated). */
function fraction(digits: string): string {
  const n = digits.length;
  if (n === 3 || n === 6) return digits;
  if (n < 3) return digits + '000'.slice(n);
  if (n < 6) return digits + '000'.slice(n - 3);
  return digits.slice(0, 6);
}

const RE_TIME_ZONE = /(Z|[+-]\d{2}(?::?\d{2})?)$/;

/** 'HH:MM[:SS[.f+]][zone]' -> 'HH:MM:SS[.fff|.ffffff]' (a time with a zone in UTC, as dlt's), or undefined. */
export function parseTime(s: string): string | undefined {
  const z = s.length > 8 ? RE_TIME_ZONE.exec(s) : null;
  if (z) {
    const local = parseLocalTime(s.slice(0, z.index));
    if (local === undefined) return undefined;
    const zone = z[1]!;
    const digits = zone.slice(1).replace(':', '');
    const offset = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
    const minutes = (((Number(local.slice(0, 2)) * 60 + Number(local.slice(3, 5)) - offset) % 1440) + 1440) % 1440;
    return `${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}${local.slice(5)}`;
  }
  return parseLocalTime(s);
}

function parseLocalTime(s: string): string | undefined {
  const n = s.length;
  if (n < 5 || s.charCodeAt(2) !== 58) return undefined;
  const h = d2(s, 0);
  const mi = d2(s, 3);
  if (h < 0 || h > 23 || mi < 0 || mi > 59) return undefined;
  let sec = 0;
  let frac = '';
  let p = 5;
  if (p < n) {
    if (s.charCodeAt(p) !== 58 || p + 3 > n) return undefined;
    sec = d2(s, p + 1);
    if (sec < 0 || sec > 59) return undefined;
    p += 3;
    if (p < n) {
      const sep = s.charCodeAt(p);
      if (sep !== 46 && sep !== 44) return undefined;
      const start = ++p;
      while (p < n && s.charCodeAt(p) >= 48 && s.charCodeAt(p) <= 57) p++;
      if (p === start || p !== n) return undefined;
      frac = '.' + fraction(s.slice(start, p));
    }
  }
  return `${pad2(h)}:${pad2(mi)}:${pad2(sec)}${frac}`;
}

/** Fields of a date-time in range (-1 marks a field that was not two digits). */
function validDateTime(y: number, mo: number, d: number, h: number, mi: number, sec: number): boolean {
  return y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 59;
}

function byteDigits2(b: Uint8Array, i: number): number {
  const x = b[i] - 48;
  const y = b[i + 1] - 48;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

/**
 * The bytes b[s, e) (a JSON string's content) are a plain decimal, `-?digits(.digits)?`:
 * what coerceTo('decimal') returns unchanged, so the byte path keeps it as is (a SQL
 * source's numeric columns arrive this way). Signs, spaces and exponents go the slow way.
 */
export function isPlainDecimalAt(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  if (b[i] === 45) i++;
  const intStart = i;
  while (i < e && b[i] >= 48 && b[i] <= 57) i++;
  if (i === intStart) return false;
  if (i === e) return true;
  if (b[i] !== 46) return false;
  const fracStart = ++i;
  while (i < e && b[i] >= 48 && b[i] <= 57) i++;
  return i === e && i > fracStart;
}

/**
 * The bytes b[s, e) (a JSON string's content) are a timestamp already in canonical form,
 * 'YYYY-MM-DDTHH:MM:SS.sssZ' or '...ssssssZ' with valid fields: what parseTimestamp returns
 * unchanged, checked without making a string (the byte path keeps it as is).
 */
export function isCanonicalTimestampAt(b: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  if ((n !== 24 && n !== 27) || b[s + 4] !== 45 || b[s + 7] !== 45 || b[s + 10] !== 84 || b[s + 13] !== 58 || b[s + 16] !== 58 || b[s + 19] !== 46 || b[e - 1] !== 90) return false;
  for (let i = s + 20; i < e - 1; i++) if (b[i] < 48 || b[i] > 57) return false;
  const y1 = byteDigits2(b, s);
  const y2 = byteDigits2(b, s + 2);
  if (y1 < 0 || y2 < 0) return false;
  return validDateTime(y1 * 100 + y2, byteDigits2(b, s + 5), byteDigits2(b, s + 8), byteDigits2(b, s + 11), byteDigits2(b, s + 14), byteDigits2(b, s + 17));
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Parses an ISO-8601 date-time and returns it in canonical UTC form
 * ('YYYY-MM-DDTHH:MM:SS.sss[sss]Z'), or undefined.
 *
 * strict (autodetection, dlt's `iso_timestamp`): 'YYYY-MM-DD' + 'T' or ' ' + 'HH:MM[:SS[.f]]'
 *   + optional zone ('Z', '+HH:MM', '+HHMM', '+HH'); no zone means UTC.
 * not strict (coercion into a timestamp column): also a plain 'YYYY-MM-DD' (midnight UTC).
 */
export function parseTimestamp(s: string, strict: boolean): string | undefined {
  if (s.charCodeAt(4) !== 45 && isDigit(s.charCodeAt(4))) {
    // ISO 8601's basic format ('20240101T100000Z'), which pendulum reads as dlt's does
    const ext = extendedFromBasic(s);
    if (ext === undefined || (strict && ext.length === 10)) return undefined;
    s = ext;
  }
  const n = s.length;
  // Cheap shape check first: most strings that are not timestamps fail here.
  if (n < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined;
  if (n === 10) {
    if (strict) return undefined;
    const d = parseDate(s);
    return d === undefined ? undefined : d + 'T00:00:00.000Z';
  }
  const sep = s.charCodeAt(10);
  // 'T' or a space; a lower-case 't' or 'z' is not ISO to pendulum, so dlt keeps such strings text
  if ((sep !== 84 && sep !== 32) || n < 16 || s.charCodeAt(13) !== 58) return undefined;

  // Fast path: already canonical 'YYYY-MM-DDTHH:MM:SS.sssZ' / '.ssssssZ'.
  if ((n === 24 || n === 27) && sep === 84 && s.charCodeAt(n - 1) === 90 && s.charCodeAt(16) === 58 && s.charCodeAt(19) === 46) {
    let ok = true;
    for (let i = 20; i < n - 1; i++) {
      if (!isDigit(s.charCodeAt(i))) {
        ok = false;
        break;
      }
    }
    if (ok) return validDateTime(d4(s, 0), d2(s, 5), d2(s, 8), d2(s, 11), d2(s, 14), d2(s, 17)) ? s : undefined;
  }

  const y = d4(s, 0);
  const mo = d2(s, 5);
  const d = d2(s, 8);
  const h = d2(s, 11);
  const mi = d2(s, 14);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59) return undefined;
  let p = 16;
  let sec = 0;
  let frac = '000';
  if (p < n && s.charCodeAt(p) === 58) {
    if (p + 3 > n) return undefined;
    sec = d2(s, p + 1);
    if (sec < 0 || sec > 59) return undefined;
    p += 3;
    if (p < n && (s.charCodeAt(p) === 46 || s.charCodeAt(p) === 44)) {
      const start = ++p;
      while (p < n && isDigit(s.charCodeAt(p))) p++;
      if (p === start) return undefined;
      frac = fraction(s.slice(start, p));
    }
  }
  // zone
  let offsetMin = 0;
  if (p < n) {
    const z = s.charCodeAt(p);
    if (z === 90) {
      if (p + 1 !== n) return undefined;
    } else if (z === 43 || z === 45) {
      const rest = n - p - 1;
      let oh: number;
      let om = 0;
      if (rest === 2) oh = d2(s, p + 1);
      else if (rest === 4) {
        oh = d2(s, p + 1);
        om = d2(s, p + 3);
      } else if (rest === 5 && s.charCodeAt(p + 3) === 58) {
        oh = d2(s, p + 1);
        om = d2(s, p + 4);
      } else return undefined;
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
      offsetMin = (oh * 60 + om) * (z === 45 ? -1 : 1);
    } else return undefined;
  }
  if (offsetMin === 0) {
    return `${pad4(y)}-${pad2(mo)}-${pad2(d)}T${pad2(h)}:${pad2(mi)}:${pad2(sec)}.${frac}Z`;
  }
  // Shift to UTC. Date.UTC maps years 0..99 to 1900+; set the full year explicitly.
  const dt = new Date(Date.UTC(2000, mo - 1, d, h, mi, sec));
  dt.setUTCFullYear(y, mo - 1, d);
  dt.setTime(dt.getTime() - offsetMin * 60000);
  const yy = dt.getUTCFullYear();
  if (yy < 0 || yy > 9999) return undefined;
  return `${pad4(yy)}-${pad2(dt.getUTCMonth() + 1)}-${pad2(dt.getUTCDate())}T${pad2(dt.getUTCHours())}:${pad2(dt.getUTCMinutes())}:${pad2(dt.getUTCSeconds())}.${frac}Z`;
}

/** Unix seconds (as dlt: pendulum.from_timestamp) -> canonical timestamp, or undefined. */
export function epochToTimestamp(sec: number): string | undefined {
  if (!Number.isFinite(sec)) return undefined;
  const ms = sec * 1000;
  const wholeMs = Math.floor(ms);
  const dt = new Date(wholeMs);
  const y = dt.getUTCFullYear();
  if (Number.isNaN(y) || y < 0 || y > 9999) return undefined;
  const iso = dt.toISOString(); // 'YYYY-MM-DDTHH:MM:SS.sssZ' for years 0..9999
  // keep microseconds when the seconds carry them
  const micros = Math.round((ms - wholeMs) * 1000);
  if (micros > 0 && micros < 1000) return iso.slice(0, 23) + String(micros).padStart(3, '0') + 'Z';
  return iso;
}
