/*
 * Numbers in JSON text that JSON.parse does not keep as Python's json gives them to dlt.
 * Integers beyond 2^53: JSON.parse rounds them to the nearest double, so a line holding a run
 * of 16 or more digits is parsed here instead: integer tokens outside strings that are not
 * safe integers but fit a signed 64-bit integer become JS bigints (a `bigint` column then gets
 * the exact value); past 64 bits they become their digits as text. Whole floats (`10.0`):
 * JS integers, marked (whole-floats.ts). Normalize
 * reads item files with it; extract parses JSON lines it cannot pass on raw with it, and the
 * REST and SQL sources their JSON.
 */
import { randomBytes } from 'node:crypto';
import { markWholeFloat } from './whole-floats.js';

const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;
/** 16 or more digits that are not a fraction's (no `.` before, no `.`/exponent after). */
const LONG_DIGITS = /(?<![\d.])\d{16,}(?![\d.eE])/;

/**
 * A number token that may be a whole float (`10.0`, `1e3`, `1.5e2`): after `:`, `[` or `,`,
 * digits with only zeros after the point, or with an exponent. Text inside strings may match
 * too; the parse then finds nothing to mark.
 */
const WHOLE_FLOAT = /[:[,]\s*-?\d+(?:\.0+(?![\d.eE])|(?:\.\d+)?[eE][+-]?\d)/;

/** Quick test: the line may hold an integer JSON.parse would round (a float's long fraction does not count), or a whole float. */
export const needsExactParse = (line: string): boolean => LONG_DIGITS.test(line) || WHOLE_FLOAT.test(line);

/**
 * JSON text parsed with its unsafe 64-bit integers exact and its whole floats marked: the
 * quick test first, then the slow parse only where needed.
 */
export function parseJsonText(text: string): unknown {
  return needsExactParse(text) ? parseExact(text) : JSON.parse(text);
}

/**
 * JSON.stringify that writes bigints as exact JSON integers (JSON.stringify throws on them):
 * for values parsed by parseJsonText that go back out, e.g. a parent's 64-bit id in a
 * request body.
 */
export function stringifyExact(value: unknown): string {
  let tag: string | undefined;
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    tag ??= `\u0000haul-bigint-${randomBytes(6).toString('hex')}:`;
    return `${tag}${v.toString()}`;
  }) as string | undefined;
  if (text === undefined) return '';
  if (tag === undefined) return text;
  return text.replace(new RegExp(`"${tag.replace('\u0000', '\\\\u0000')}(-?\\d+)"`, 'g'), '$1');
}

/**
 * JSON.parse that keeps unsafe 64-bit integers exact (as bigint) and marks whole floats
 * (`10.0`: a JS integer, marked by whole-floats.ts, which is how dlt's Python json sees a float).
 */
export function parseExact(line: string, bigInts = true): unknown {
  let nonce = randomBytes(6).toString('hex');
  while (line.includes(nonce)) nonce = randomBytes(6).toString('hex');
  const tag = `${nonce}:`;
  const floatTag = `${nonce}.`;
  const textTag = `${nonce}~`;
  let out = '';
  let last = 0;
  let found = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 34) {
      // skip a string
      for (i++; i < line.length; i++) {
        const d = line.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      let j = i + 1;
      while (j < line.length && line.charCodeAt(j) >= 48 && line.charCodeAt(j) <= 57) j++;
      const next = line.charCodeAt(j);
      const integer = next !== 46 && next !== 101 && next !== 69;
      if (!integer) {
        // a float: its fraction and exponent are part of it, never a token of their own
        let k = j;
        if (line.charCodeAt(k) === 46) for (k++; k < line.length && isDigit(line.charCodeAt(k)); k++);
        if (line.charCodeAt(k) === 101 || line.charCodeAt(k) === 69) {
          k++;
          if (line.charCodeAt(k) === 43 || line.charCodeAt(k) === 45) k++;
          while (k < line.length && isDigit(line.charCodeAt(k))) k++;
        }
        const n = Number(line.slice(i, k));
        // a whole float that JSON.parse makes an integer (beyond 1e21 JS writes it with an exponent: a float anyway)
        if (Number.isInteger(n) && Math.abs(n) < 1e21) {
          out += `${line.slice(last, i)}"${floatTag}${line.slice(i, k)}"`;
          last = k;
          found = true;
        }
        i = k - 1;
        continue;
      }
      if (bigInts && j - i >= 16) {
        const token = line.slice(i, j);
        const n = Number(token);
        if (!Number.isSafeInteger(n) && /^-?(0|[1-9]\d*)$/.test(token)) {
          const b = BigInt(token);
          // past int64 (no bigint column holds it) the digits stay exact as text, as haul's
          // other readers keep them; JSON.parse would round them to a double
          out += `${line.slice(last, i)}"${b >= MIN_I64 && b <= MAX_I64 ? tag : textTag}${token}"`;
          last = j;
          found = true;
        }
      }
      i = j - 1;
    }
  }
  if (!found) return JSON.parse(line);
  out += line.slice(last);
  return JSON.parse(out, function (this: object, key: string, v: unknown) {
    if (typeof v !== 'string' || !v.startsWith(nonce)) return v;
    if (v.startsWith(tag)) return BigInt(v.slice(tag.length));
    if (v.startsWith(textTag)) return v.slice(textTag.length);
    if (!v.startsWith(floatTag)) return v;
    markWholeFloat(this, key);
    return Number(v.slice(floatTag.length));
  });
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
