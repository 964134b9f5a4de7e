import { isUtf8 } from 'node:buffer';
import { InvalidOptionsError } from '../errors.js';
import { parseJsonText } from '../common/big-ints.js';
import { isJsonObjectAt, MAX_JSON_DEPTH } from '../common/json-validate.js';

/**
 * A chunk of complete JSON lines, one JSON object per line, as a resource may yield it
 * instead of a page of objects. Extract's job files are JSON lines too, so when nothing in
 * extract has to look inside the items (no incremental cursor, no addMap/addFilter/addYieldMap,
 * no model) the bytes go into the job file as they are: no JSON.parse and JSON.stringify of
 * every item, which were most of extract's time for data that was JSON already (a JSONL
 * file). Otherwise each line is parsed and the chunk is a page of those objects, so the
 * result is the same as yielding them.
 *
 * Made by `jsonLines(text)`, which checks every line: blank lines are not items, CRLF
 * line ends are fine, a line that is not a JSON object is an error naming it.
 */
export class JsonLines {
  /** @internal Made by jsonLines() or toJsonLines(), which check and tidy the lines (the public API exports the type only). */
  constructor(
    /** UTF-8, every line a JSON object ending in '\n'; no blank lines, no '\r' line ends. Never modified. */
    readonly bytes: Buffer,
    /** Items (lines) in the chunk. */
    readonly lineCount: number,
  ) {}

  /** The lines parsed (integers beyond 2^53 exact, as bigint): what steps, cursors and transformers see. */
  items(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    const b = this.bytes;
    for (let s = 0; s < b.length; ) {
      const e = b.indexOf(10, s);
      const line = b.toString('utf8', s, e);
      out.push(parseJsonText(line) as Record<string, unknown>);
      s = e + 1;
    }
    return out;
  }
}

/** A chunk of JSON lines from text or UTF-8 bytes (copied); throws InvalidOptionsError naming a line that is not a JSON object. */
export function jsonLines(text: string | Uint8Array): JsonLines {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
  return toJsonLines(bytes, (line, why) => new InvalidOptionsError('jsonLines() text', `line ${line} is ${why}`));
}

const isBlank = (c: number) => c === 32 || c === 9 || c === 13;

/**
 * Checks and tidies lines read from somewhere: `bytes` holds complete lines (the last may
 * lack its '\n') and is kept when already tidy, else copied without blank lines and '\r'.
 * Invalid UTF-8 becomes U+FFFD, as decoding it to a string for JSON.parse would do. A bad
 * line throws `badLine(lineNo, why)`, `lineNo` counted from `firstLine` (blank lines count).
 */
export function toJsonLines(bytes: Buffer, badLine: (lineNo: number, why: string) => Error, firstLine = 1): JsonLines {
  const b = isUtf8(bytes) ? bytes : Buffer.from(bytes.toString('utf8'), 'utf8');
  // [start, end) of each line that is kept, while some line needs tidying
  let keep: number[] | undefined;
  let lines = 0;
  let lineNo = firstLine;
  for (let s = 0; s < b.length; lineNo++) {
    let e = b.indexOf(10, s);
    const next = e < 0 ? b.length : e + 1;
    if (e < 0) e = b.length;
    let le = e;
    if (le > s && b[le - 1] === 13) le--;
    let f = s;
    while (f < le && isBlank(b[f]!)) f++;
    const blank = f === le;
    if (!blank && !isJsonObjectAt(b, s, le)) throw badLine(lineNo, whyNotAnObject(b.toString('utf8', s, le)));
    const tidy = !blank && le === e && e < b.length;
    if (!tidy && keep === undefined) keep = s === 0 ? [] : [0, s];
    if (!blank) {
      lines++;
      keep?.push(s, le);
    }
    s = next;
  }
  if (keep === undefined) return new JsonLines(b, lines);
  const out = Buffer.allocUnsafe(b.length + 1);
  let n = 0;
  for (let i = 0; i < keep.length; i += 2) {
    n += b.copy(out, n, keep[i], keep[i + 1]);
    // the first range (lines already tidy) ends after its '\n'
    if (out[n - 1] !== 10) out[n++] = 10;
  }
  return new JsonLines(out.subarray(0, n), lines);
}

/** Why the validator refused a line ("not JSON (...)"): JSON.parse's words where it has some. */
function whyNotAnObject(line: string): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `not a JSON object (it is ${Array.isArray(value) ? 'an array' : JSON.stringify(value).slice(0, 40)})`;
  return `nested deeper than ${MAX_JSON_DEPTH} levels`;
}
