import { Transform, type TransformCallback } from 'node:stream';
import type { ColumnSchema } from '../../schema/types.js';

/*
 * Turns a JSONL job file (one object per line, canonical values: docs/package-format.md)
 * into the CSV that `COPY ... (FORMAT csv)` reads, one row per line with the columns in the
 * given order, while it streams: no JSON.parse, no row objects.
 *
 * A byte scanner finds each key and the extent of its value, then writes the fields:
 * - a JSON string without escapes is already a valid CSV quoted field (JSON strings hold
 *   no raw `"`, newline or control character), so its bytes are copied as they are;
 *   with escapes it is decoded and quoted again (`"` doubled), without NUL characters,
 *   which PostgreSQL text cannot hold (dlt drops them too);
 * - numbers, true/false are copied; in a bigint column a number written as `3.0` or `1e3`
 *   becomes `3` / `1000` (readers must not depend on the spelling);
 * - json columns get the value's JSON text as a quoted field;
 * - binary (base64) becomes bytea's hex input `\x...`;
 * - a missing key or `null` is an unquoted empty field, which COPY reads as NULL (an empty
 *   string stays `""`). Keys that are not columns are ignored.
 */

const QUOTE = 0x22;
const BSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACK = 0x5b;
const RBRACK = 0x5d;
const NL = 0x0a;
const LOWER_N = 0x6e;

/** How a value becomes a field. */
const PLAIN = 0;
const INT = 1;
const BINARY = 2;
const JSON_TEXT = 3;

/** What the scanner found for a value. */
const V_STRING = 1;
const V_ESCAPED = 2;
const V_COMPOSITE = 4;
const V_NULL = 8;

function kindOf(c: Pick<ColumnSchema, 'dataType'>): number {
  switch (c.dataType) {
    case 'bigint':
      return INT;
    case 'binary':
      return BINARY;
    case 'json':
      return JSON_TEXT;
    default:
      return PLAIN;
  }
}

function isWs(c: number): boolean {
  return c <= 0x20 && (c === 0x20 || c === 0x09 || c === 0x0d || c === NL);
}

export class JsonlParseError extends Error {}

/** Streams JSONL bytes in, CSV bytes out (see the file comment). `rows` counts rows written. */
export class JsonlToCsv extends Transform {
  rows = 0;
  private readonly n: number;
  private readonly kinds: Uint8Array;
  /** Column names as the JSON text between the quotes of a key (what the file holds). */
  private readonly keyBytes: Buffer[];
  private readonly byKey = new Map<string, number>();
  /** Per value position in a line: the column seen there in the previous line. */
  private readonly guess: Int32Array;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly flags: Uint8Array;
  private readonly stamp: Uint32Array;
  private line = 0;
  private carry: Buffer[] = [];
  private out: Buffer;
  private pos = 0;

  constructor(columns: Array<Pick<ColumnSchema, 'name' | 'dataType'>>, private readonly flushBytes = 256 * 1024) {
    super({ readableHighWaterMark: flushBytes * 4 });
    this.n = columns.length;
    this.kinds = Uint8Array.from(columns.map(kindOf));
    this.keyBytes = columns.map((c) => Buffer.from(JSON.stringify(c.name).slice(1, -1)));
    columns.forEach((c, i) => this.byKey.set(c.name, i));
    this.guess = new Int32Array(Math.max(this.n * 2, 8)).fill(-1);
    this.starts = new Int32Array(this.n);
    this.ends = new Int32Array(this.n);
    this.flags = new Uint8Array(this.n);
    this.stamp = new Uint32Array(this.n);
    this.out = Buffer.allocUnsafe(flushBytes * 2);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      let from = 0;
      let nl = chunk.indexOf(NL);
      if (nl >= 0 && this.carry.length > 0) {
        this.carry.push(chunk.subarray(0, nl));
        const line = Buffer.concat(this.carry);
        this.carry = [];
        this.row(line, 0, line.length);
        from = nl + 1;
        nl = chunk.indexOf(NL, from);
      }
      while (nl >= 0) {
        this.row(chunk, from, nl);
        from = nl + 1;
        nl = chunk.indexOf(NL, from);
      }
      // a partial last line waits for the next chunk (copied: the chunk may be reused)
      if (from < chunk.length) this.carry.push(Buffer.from(chunk.subarray(from)));
      if (this.pos >= this.flushBytes) this.emit_();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.carry.length > 0) {
        const line = Buffer.concat(this.carry);
        this.carry = [];
        this.row(line, 0, line.length);
      }
      this.emit_();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  private emit_(): void {
    if (this.pos === 0) return;
    this.push(Buffer.from(this.out.subarray(0, this.pos)));
    this.pos = 0;
  }

  private fail(why: string): never {
    throw new JsonlParseError(`line ${this.line}: ${why}`);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.out.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.pos + extra));
    this.out.copy(next, 0, 0, this.pos);
    this.out = next;
  }

  /** Scans one line b[s, e) and writes its CSV row. */
  private row(b: Buffer, s: number, e: number): void {
    this.line++;
    while (s < e && isWs(b[s]!)) s++;
    while (e > s && isWs(b[e - 1]!)) e--;
    if (s === e) return; // blank line
    if (b[s] !== LBRACE) this.fail('expected a JSON object');
    const stampNo = this.line;
    let i = s + 1;
    while (i < e && isWs(b[i]!)) i++;
    if (b[i] === RBRACE) {
      i++;
    } else {
      let slot = 0;
      for (;;) {
        // key: usually the one the previous line had at this position
        if (b[i] !== QUOTE) this.fail('expected a key');
        const ks = i + 1;
        let col = slot < this.guess.length ? this.guess[slot]! : -1;
        let j = ks;
        if (col >= 0) {
          const k = this.keyBytes[col]!;
          const len = k.length;
          let x = 0;
          while (x < len && k[x] === b[ks + x]) x++;
          if (x === len && b[ks + len] === QUOTE) j = ks + len;
          else col = -2;
        } else col = -2;
        if (col === -2) {
          let keyEscaped = false;
          for (;;) {
            if (j >= e) this.fail('unterminated key');
            const c = b[j]!;
            if (c === QUOTE) break;
            if (c === BSLASH) {
              keyEscaped = true;
              j += 2;
            } else j++;
          }
          col = this.column(b, ks, j, keyEscaped, slot);
        }
        i = j + 1;
        while (i < e && isWs(b[i]!)) i++;
        if (b[i] !== COLON) this.fail('expected ":" after a key');
        i++;
        while (i < e && isWs(b[i]!)) i++;
        if (i >= e) this.fail('missing value');
        // value
        const vs = i;
        let f = 0;
        const c0 = b[i]!;
        if (c0 === QUOTE) {
          f = V_STRING;
          j = i + 1;
          for (;;) {
            if (j >= e) this.fail('unterminated string');
            const c = b[j]!;
            if (c === QUOTE) break;
            if (c === BSLASH) {
              f |= V_ESCAPED;
              j += 2;
            } else j++;
          }
          i = j + 1;
        } else if (c0 === LBRACE || c0 === LBRACK) {
          f = V_COMPOSITE;
          i = this.skipComposite(b, i, e);
        } else {
          while (i < e) {
            const c = b[i]!;
            if (c === COMMA || c === RBRACE || isWs(c)) break;
            i++;
          }
          if (i === vs) this.fail('missing value');
          if (c0 === LOWER_N) {
            if (i - vs !== 4 || b[vs + 1] !== 0x75 || b[vs + 2] !== 0x6c || b[vs + 3] !== 0x6c) this.fail('invalid value');
            f = V_NULL;
          }
        }
        if (col >= 0) {
          this.starts[col] = vs;
          this.ends[col] = i;
          this.flags[col] = f;
          this.stamp[col] = stampNo;
        }
        slot++;
        while (i < e && isWs(b[i]!)) i++;
        const sep = b[i];
        if (sep === COMMA) {
          i++;
          while (i < e && isWs(b[i]!)) i++;
          continue;
        }
        if (sep === RBRACE) {
          i++;
          break;
        }
        this.fail('expected "," or "}"');
      }
    }
    if (i !== e) this.fail('unexpected text after the object');
    this.writeRow(b, e - s, stampNo);
  }

  /** End of the object or array starting at b[i] (strings inside may hold brackets). */
  private skipComposite(b: Buffer, i: number, e: number): number {
    let depth = 0;
    while (i < e) {
      const c = b[i]!;
      if (c === QUOTE) {
        i++;
        while (i < e && b[i] !== QUOTE) i += b[i] === BSLASH ? 2 : 1;
        if (i >= e) this.fail('unterminated string');
      } else if (c === LBRACE || c === LBRACK) {
        depth++;
      } else if (c === RBRACE || c === RBRACK) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return this.fail('unterminated object or array');
  }

  /** The column a key names (-1: not a column), remembered for this position. */
  private column(b: Buffer, ks: number, ke: number, escaped: boolean, slot: number): number {
    const name = escaped ? (JSON.parse(b.toString('utf8', ks - 1, ke + 1)) as string) : b.toString('utf8', ks, ke);
    const col = this.byKey.get(name) ?? -1;
    if (slot < this.guess.length) this.guess[slot] = col;
    return col;
  }

  private writeRow(b: Buffer, lineLen: number, stampNo: number): void {
    // worst case: every quote doubled, base64 -> hex is 1.5x, plus separators
    this.ensure(lineLen * 2 + this.n * 4 + 2);
    let out = this.out;
    for (let c = 0; c < this.n; c++) {
      if (c > 0) out[this.pos++] = COMMA;
      if (this.stamp[c] !== stampNo) continue; // missing: NULL
      const f = this.flags[c]!;
      if (f & V_NULL) continue;
      const vs = this.starts[c]!;
      const ve = this.ends[c]!;
      const kind = this.kinds[c]!;
      // an object or array is JSON text whatever the column (a non-json column then fails in COPY)
      if (kind === JSON_TEXT || f & V_COMPOSITE) {
        out[this.pos++] = QUOTE;
        for (let x = vs; x < ve; x++) {
          const ch = b[x]!;
          if (ch === QUOTE) out[this.pos++] = QUOTE;
          out[this.pos++] = ch;
        }
        out[this.pos++] = QUOTE;
      } else if (f & V_ESCAPED) {
        const text = JSON.parse(b.toString('utf8', vs, ve)) as string;
        if (kind === BINARY) this.writeHex(Buffer.from(text, 'base64'));
        // PostgreSQL text cannot hold NUL (COPY fails the whole job): dropped, as dlt does
        else this.writeQuoted(text.includes('\0') ? text.replaceAll('\0', '') : text);
        out = this.out; // the helpers may have grown the buffer
      } else if (kind === BINARY && f & V_STRING) {
        this.writeHex(Buffer.from(b.toString('latin1', vs + 1, ve - 1), 'base64'));
        out = this.out;
      } else if (kind === INT && !(f & V_STRING) && !isPlainInteger(b, vs, ve)) {
        const v = Number(b.toString('latin1', vs, ve));
        this.writeText(Number.isInteger(v) ? BigInt(v).toString() : b.toString('latin1', vs, ve));
        out = this.out;
      } else if (ve - vs > 48) {
        b.copy(out, this.pos, vs, ve);
        this.pos += ve - vs;
      } else {
        // short values: a loop beats the native call
        let p = this.pos;
        for (let x = vs; x < ve; x++) out[p++] = b[x]!;
        this.pos = p;
      }
    }
    out[this.pos++] = NL;
    this.rows++;
  }

  private writeText(text: string): void {
    this.ensure(Buffer.byteLength(text) + 2);
    this.pos += this.out.write(text, this.pos);
  }

  private writeQuoted(text: string): void {
    this.writeText(`"${text.replaceAll('"', '""')}"`);
  }

  private writeHex(bytes: Buffer): void {
    this.ensure(bytes.length * 2 + 4);
    this.out[this.pos++] = BSLASH;
    this.out[this.pos++] = 0x78; // x
    this.pos += this.out.write(bytes.toString('hex'), this.pos, 'latin1');
  }
}

/** `-?[0-9]+`: what bigint input takes as is. */
function isPlainInteger(b: Buffer, s: number, e: number): boolean {
  let i = s;
  if (b[i] === 0x2d) i++;
  if (i >= e) return false;
  for (; i < e; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
