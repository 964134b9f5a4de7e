/*
 * Full JSON syntax check on raw UTF-8 bytes, without building values: what lets a line of a
 * JSONL file go to a job file unparsed (extract's raw path) while a broken line still fails
 * at once, naming its line, instead of later in normalize. Several times faster than
 * JSON.parse, which allocates every object, key and string it reads. Accepts exactly what
 * JSON.parse accepts (RFC 8259), except nesting deeper than MAX_JSON_DEPTH, which extract
 * refuses for yielded objects too.
 */

export const MAX_JSON_DEPTH = 256;

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

const isWs = (c: number) => c === 32 || c === 9 || c === 13 || c === 10;
const isDigit = (c: number) => c >= D0 && c <= D9;
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

/** Bytes [start, end) hold exactly one JSON object, with only whitespace around it. */
export function isJsonObjectAt(b: Uint8Array, start: number, end: number): boolean {
  let p = start;
  while (p < end && isWs(b[p]!)) p++;
  if (p >= end || b[p] !== LBRACE) return false;
  p = value(b, p, end, 0);
  if (p < 0) return false;
  while (p < end && isWs(b[p]!)) p++;
  return p === end;
}

/** The JSON value at p: the position after it, or -1. */
function value(b: Uint8Array, p: number, end: number, depth: number): number {
  if (p >= end) return -1;
  const c = b[p]!;
  if (c === QUOTE) return string(b, p, end);
  if (c === LBRACE || c === LBRACK) return container(b, p, end, depth + 1);
  if (c === MINUS || isDigit(c)) return number(b, p, end);
  if (c === 116) return p + 4 <= end && b[p + 1] === 114 && b[p + 2] === 117 && b[p + 3] === 101 ? p + 4 : -1; // true
  if (c === 102) return p + 5 <= end && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101 ? p + 5 : -1; // false
  if (c === 110) return p + 4 <= end && b[p + 1] === 117 && b[p + 2] === 108 && b[p + 3] === 108 ? p + 4 : -1; // null
  return -1;
}

function container(b: Uint8Array, p: number, end: number, depth: number): number {
  if (depth > MAX_JSON_DEPTH) return -1;
  const object = b[p] === LBRACE;
  const close = object ? RBRACE : RBRACK;
  p++;
  while (p < end && isWs(b[p]!)) p++;
  if (p < end && b[p] === close) return p + 1;
  for (;;) {
    if (object) {
      if (p >= end || b[p] !== QUOTE) return -1;
      p = string(b, p, end);
      if (p < 0) return -1;
      while (p < end && isWs(b[p]!)) p++;
      if (p >= end || b[p] !== COLON) return -1;
      p++;
      while (p < end && isWs(b[p]!)) p++;
    }
    p = value(b, p, end, depth);
    if (p < 0) return -1;
    while (p < end && isWs(b[p]!)) p++;
    if (p >= end) return -1;
    const d = b[p];
    if (d === close) return p + 1;
    if (d !== COMMA) return -1;
    p++;
    while (p < end && isWs(b[p]!)) p++;
  }
}

/** 1 for the bytes a string holds as they are: not a quote, a backslash or a control character. */
const PLAIN = new Uint8Array(256).map((_, c) => (c >= 32 && c !== QUOTE && c !== BSLASH ? 1 : 0));

/** The string at p (a quote): the position after its closing quote, or -1. */
function string(b: Uint8Array, p: number, end: number): number {
  for (let q = p + 1; q < end; q++) {
    while (q < end && PLAIN[b[q]!] === 1) q++;
    if (q >= end) return -1;
    const x = b[q]!;
    if (x === QUOTE) return q + 1;
    if (x !== BSLASH) return -1;
    if (++q >= end) return -1;
    const e = b[q];
    if (e === 117) {
      // \uXXXX
      if (q + 5 > end || !isHex(b[q + 1]!) || !isHex(b[q + 2]!) || !isHex(b[q + 3]!) || !isHex(b[q + 4]!)) return -1;
      q += 4;
    } else if (!(e === QUOTE || e === BSLASH || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116)) return -1;
  }
  return -1;
}

function number(b: Uint8Array, p: number, end: number): number {
  if (b[p] === MINUS) p++;
  if (p >= end) return -1;
  if (b[p] === D0) p++;
  else if (b[p]! >= 49 && b[p]! <= D9) while (p < end && isDigit(b[p]!)) p++;
  else return -1;
  if (p < end && b[p] === DOT) {
    p++;
    if (!(p < end && isDigit(b[p]!))) return -1;
    while (p < end && isDigit(b[p]!)) p++;
  }
  if (p < end && (b[p] === 101 || b[p] === 69)) {
    p++;
    if (p < end && (b[p] === PLUS || b[p] === MINUS)) p++;
    if (!(p < end && isDigit(b[p]!))) return -1;
    while (p < end && isDigit(b[p]!)) p++;
  }
  return p;
}
