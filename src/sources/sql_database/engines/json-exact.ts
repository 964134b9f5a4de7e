/**
 * JSON text from a database's json column, parsed as Python's json module (what dlt reads
 * it with) parses it: integers past 2^53 stay exact (as bigint), where JSON.parse rounds
 * them. Text without a run of 16 digits takes the plain JSON.parse.
 */

/** A string no JSON value of a database holds in practice: stands for a long integer until the reviver. */
const MARK = '\u0000haul-bigint:';

export function parseJsonExact(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  let out = '';
  let from = 0;
  let marked = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // a string: skip it whole, escapes included
      for (i++; i < n && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
      continue;
    }
    if (c !== 45 && (c < 48 || c > 57)) continue;
    // a number: its integer digits, then a fraction or exponent makes it a float
    const start = i;
    if (c === 45) i++;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    const end = i;
    let float = false;
    if (text.charCodeAt(i) === 46) {
      float = true;
      for (i++; i < n && isDigit(text.charCodeAt(i)); i++);
    }
    if (text.charCodeAt(i) === 101 || text.charCodeAt(i) === 69) {
      float = true;
      i++;
      if (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45) i++;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
    }
    if (!float && !Number.isSafeInteger(Number(text.slice(start, end)))) {
      out += text.slice(from, start) + JSON.stringify(MARK + text.slice(start, end));
      from = end;
      marked = true;
    }
    i--;
  }
  if (!marked) return JSON.parse(text);
  return JSON.parse(out + text.slice(from), (_key, v: unknown) => (typeof v === 'string' && v.startsWith(MARK) ? BigInt(v.slice(MARK.length)) : v));
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
