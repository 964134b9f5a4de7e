import { MAX_EXPONENT_DIGITS, MAX_NUMBER_CHARS } from './values.js';

/*
 * JSON syntax on raw bytes, for the byte path: whitespace, escapes, and whole values it
 * copies unparsed (a json column's value). Each takes the buffer and the end of the line and
 * returns a position, or -1 where the bytes are not JSON this scanner accepts (the line
 * then goes to JSON.parse on the object path, which decides).
 */

const QUOTE = 34;
const BSLASH = 92;
const COLON = 58;
const COMMA = 44;
const LBRACE = 123;
const RBRACE = 125;
const LBRACK = 91;
const RBRACK = 93;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const D0 = 48;
const D9 = 57;

/** The first position at or after p that is not JSON whitespace. */
export function skipWs(b: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const c = b[p];
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
    p++;
  }
  return p;
}

/** The escape sequence at q (a backslash) is valid JSON. */
export function validEscape(b: Uint8Array, q: number, end: number): boolean {
  const x = b[q + 1];
  if (x === 117 /* u */) {
    if (q + 6 > end) return false;
    for (let i = 2; i < 6; i++) {
      const h = b[q + i];
      if (!((h >= D0 && h <= D9) || (h >= 97 && h <= 102) || (h >= 65 && h <= 70))) return false;
    }
    return true;
  }
  // " \ / b f n r t
  return x === QUOTE || x === BSLASH || x === 47 || x === 98 || x === 102 || x === 110 || x === 114 || x === 116;
}

/** The string starting at p (a quote): the position after its closing quote, or -1. */
export function skipString(b: Uint8Array, p: number, end: number): number {
  let q = p + 1;
  for (;;) {
    if (q >= end) return -1;
    const x = b[q];
    if (x === QUOTE) return q + 1;
    if (x === BSLASH) {
      if (!validEscape(b, q, end)) return -1;
      q += b[q + 1] === 117 ? 6 : 2;
      continue;
    }
    if (x < 32) return -1;
    q++;
  }
}

/** Validates one JSON value at p; returns the position after it, or -1. */
export function skipValue(b: Uint8Array, p: number, end: number, depth: number): number {
  if (depth > 200 || p >= end) return -1;
  const c = b[p];
  if (c === QUOTE) return skipString(b, p, end);
  if (c === LBRACE || c === LBRACK) {
    const close = c === LBRACE ? RBRACE : RBRACK;
    p = skipWs(b, p + 1, end);
    if (b[p] === close) return p + 1;
    for (;;) {
      if (c === LBRACE) {
        if (b[p] !== QUOTE) return -1;
        p = skipString(b, p, end);
        if (p < 0) return -1;
        p = skipWs(b, p, end);
        if (b[p] !== COLON) return -1;
        p = skipWs(b, p + 1, end);
      }
      p = skipValue(b, p, end, depth + 1);
      if (p < 0) return -1;
      p = skipWs(b, p, end);
      if (b[p] === COMMA) {
        p = skipWs(b, p + 1, end);
        continue;
      }
      if (b[p] === close) return p + 1;
      return -1;
    }
  }
  if (c === MINUS || (c >= D0 && c <= D9)) {
    let q = p;
    if (b[q] === MINUS) q++;
    if (b[q] === D0) q++;
    else if (b[q] >= 49 && b[q] <= D9) while (q < end && b[q] >= D0 && b[q] <= D9) q++;
    else return -1;
    if (b[q] === DOT) {
      q++;
      if (!(b[q] >= D0 && b[q] <= D9)) return -1;
      while (q < end && b[q] >= D0 && b[q] <= D9) q++;
    }
    if (b[q] === 101 || b[q] === 69) {
      q++;
      if (b[q] === PLUS || b[q] === MINUS) q++;
      const e0 = q;
      while (q < end && b[q] >= D0 && b[q] <= D9) q++;
      // small exponents only: 1e400 would be Infinity (null) after JSON.parse
      if (q === e0 || q - e0 > MAX_EXPONENT_DIGITS || q - p > MAX_NUMBER_CHARS) return -1;
    }
    return q;
  }
  if (c === 116) return p + 4 <= end && b[p + 1] === 114 && b[p + 2] === 117 && b[p + 3] === 101 ? p + 4 : -1;
  if (c === 102) return p + 5 <= end && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101 ? p + 5 : -1;
  if (c === 110) return p + 4 <= end && b[p + 1] === 117 && b[p + 2] === 108 && b[p + 3] === 108 ? p + 4 : -1;
  return -1;
}

const BINARY_KEY = Buffer.from('"$binary"');

/** The object starting at p (after '{') has `$binary` as its first key. */
export function isBinaryTagAt(b: Uint8Array, p: number, end: number): boolean {
  p = skipWs(b, p, end);
  if (p + 9 > end) return false;
  for (let i = 0; i < 9; i++) if (b[p + i] !== BINARY_KEY[i]) return false;
  return true;
}
