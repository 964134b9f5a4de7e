/**
 * Decodes PostgreSQL's `COPY ... TO STDOUT` text format into row objects: one line per row,
 * fields separated by tabs, `\N` for NULL, backslash escapes for tab, newline, backslash and
 * the other control characters. A field's text is the type's output text (what a SELECT
 * returns in text mode), so the same type parsers turn it into the same values.
 *
 * Why by hand: decoding whole buffers at once and cutting fields with indexOf/slice costs a
 * fraction of what per-field buffer slicing in the wire protocol parser does.
 */

import { RowShape } from './row-shape.js';

export type FieldParser = (text: string) => unknown;

const NL = 10;
const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Undoes COPY's backslash escapes in one field (`\N` is handled before, as NULL). */
export function unescapeCopyText(s: string): string {
  let out = '';
  let from = 0;
  let i = s.indexOf('\\');
  while (i >= 0 && i < s.length - 1) {
    out += s.slice(from, i);
    const c = s[i + 1]!;
    let next = i + 2;
    if (c in ESCAPES) out += ESCAPES[c];
    else if (c >= '0' && c <= '7') {
      // \ooo: one to three octal digits, one byte
      let j = i + 1;
      while (j < s.length && j < i + 4 && s[j]! >= '0' && s[j]! <= '7') j++;
      out += String.fromCharCode(parseInt(s.slice(i + 1, j), 8) & 0xff);
      next = j;
    } else if (c === 'x' && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
      // \xhh: one or two hex digits, one byte
      let j = i + 2;
      while (j < s.length && j < i + 4 && /[0-9a-fA-F]/.test(s[j]!)) j++;
      out += String.fromCharCode(parseInt(s.slice(i + 2, j), 16));
      next = j;
    } else out += c; // \\, \<tab> and any other character stand for themselves
    from = next;
    i = s.indexOf('\\', next);
  }
  return out + s.slice(from);
}

/**
 * Turns the byte chunks of a COPY text stream into rows with the given column names; each
 * column's text goes through its parser. Feed it chunks with `push`, call `end` at the end.
 */
export class CopyTextDecoder {
  /** Bytes after the last complete line of the previous chunk (a line can span chunks). */
  private carry: Buffer | undefined;
  private readonly width: number;
  private readonly shape: RowShape;

  constructor(
    names: readonly string[],
    private readonly parsers: readonly FieldParser[],
  ) {
    this.width = names.length;
    this.shape = new RowShape(names);
  }

  /** Decodes every complete line in `chunk` (plus what was carried over) into `out`. */
  push(chunk: Buffer, out: Record<string, unknown>[]): void {
    const last = chunk.lastIndexOf(NL);
    if (last < 0) {
      this.carry = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
      return;
    }
    // A newline byte never sits inside a multi-byte UTF-8 character: cutting there is safe.
    const head = chunk.subarray(0, last + 1);
    const text = (this.carry ? Buffer.concat([this.carry, head]) : head).toString('utf8');
    this.carry = last + 1 < chunk.length ? chunk.subarray(last + 1) : undefined;
    this.lines(text, out);
  }

  /** Checks nothing is left over: a COPY stream ends with a complete line. */
  end(): void {
    if (this.carry && this.carry.length > 0) throw new Error('COPY output ended in the middle of a row');
  }

  private lines(text: string, out: Record<string, unknown>[]): void {
    const { parsers, width, shape } = this;
    const names = shape.names;
    const plain = shape.plain;
    const n = text.length;
    // Position of the next backslash: a field before it has no escapes and is not \N.
    let bs = text.indexOf('\\');
    if (bs < 0) bs = n;
    let p = 0;
    while (p < n) {
      const row = shape.empty();
      for (let i = 0; i < width; i++) {
        const end = text.indexOf(i === width - 1 ? '\n' : '\t', p);
        if (end < 0) throw new Error(`COPY row has ${i + 1} of ${width} fields`);
        if (bs < end) {
          const raw = text.slice(p, end);
          if (raw !== '\\N') shape.set(row, i, parsers[i]!(unescapeCopyText(raw)));
          bs = text.indexOf('\\', end);
          if (bs < 0) bs = n;
        } else if (plain) {
          row[names[i]!] = parsers[i]!(text.slice(p, end));
        } else {
          shape.set(row, i, parsers[i]!(text.slice(p, end)));
        }
        p = end + 1;
      }
      // A query of no columns sends empty lines.
      if (width === 0) p = text.indexOf('\n', p) + 1;
      out.push(row);
    }
  }
}
