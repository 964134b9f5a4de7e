/*
 * Integers beyond 2^53 in JSON text. JSON.parse rounds them to the nearest double, so a
 * line holding a run of 16 or more digits is parsed here instead: integer tokens outside
 * strings that are not safe integers but fit a signed 64-bit integer become JS bigints (a
 * `bigint` column then gets the exact value, as Python's json gives dlt). Normalize reads
 * item files with it; extract parses JSON lines it cannot pass on raw with it.
 */
import { randomBytes } from 'node:crypto';

const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;
/** 16 or more digits that are not a fraction's (no `.` before, no `.`/exponent after). */
const LONG_DIGITS = /(?<![\d.])\d{16,}(?![\d.eE])/;

/** Quick test: the line may hold an integer JSON.parse would round (a float's long fraction does not count). */
export const mayHoldBigInts = (line: string): boolean => LONG_DIGITS.test(line);

/** JSON text parsed with its unsafe 64-bit integers exact: the quick test first, then the slow parse only where needed. */
export function parseJsonText(text: string): unknown {
  return mayHoldBigInts(text) ? parseWithBigInts(text) : JSON.parse(text);
}

/** JSON.parse that keeps unsafe 64-bit integers exact (as bigint). */
export function parseWithBigInts(line: string): unknown {
  let nonce = randomBytes(6).toString('hex');
  while (line.includes(nonce)) nonce = randomBytes(6).toString('hex');
  const tag = `${nonce}:`;
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
        i = k - 1;
        continue;
      }
      if (j - i >= 16) {
        const token = line.slice(i, j);
        const n = Number(token);
        if (!Number.isSafeInteger(n) && /^-?(0|[1-9]\d*)$/.test(token)) {
          const b = BigInt(token);
          if (b >= MIN_I64 && b <= MAX_I64) {
            out += `${line.slice(last, i)}"${tag}${token}"`;
            last = j;
            found = true;
          }
        }
      }
      i = j - 1;
    }
  }
  if (!found) return JSON.parse(line);
  out += line.slice(last);
  return JSON.parse(out, (_k, v: unknown) => (typeof v === 'string' && v.startsWith(tag) ? BigInt(v.slice(tag.length)) : v));
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
