/**
 * A streaming CSV parser (RFC 4180: quoted fields, `""` escapes, newlines inside quotes,
 * CRLF or LF) and pandas-like typing of each chunk. Memory holds one chunk of rows and the
 * unfinished field, whatever the file size.
 */
import { markFloatColumns } from '../../common/whole-floats.js';

export interface CsvParseOptions {
  /** Field separator (pandas `sep`), default `,`. */
  delimiter?: string;
  /** Default `"`. */
  quoteChar?: string;
}

/** Splits text chunks into records (arrays of fields); `quoted` marks fields that were quoted. */
export class CsvRecordParser {
  private field = '';
  private record: string[] = [];
  private inQuotes = false;
  private quoteSeen = false; // the previous char was a quote inside a quoted field
  private afterCr = false;
  private readonly delimiter: string;
  private readonly quote: string;

  constructor(options: CsvParseOptions = {}) {
    this.delimiter = options.delimiter ?? ',';
    this.quote = options.quoteChar ?? '"';
    if (this.delimiter.length !== 1 || this.quote.length !== 1) throw new Error('delimiter and quoteChar must be one character each');
  }

  /** Feeds text; returns the records completed by it. */
  push(text: string): string[][] {
    const out: string[][] = [];
    const { delimiter, quote } = this;
    let start = 0; // start of the pending plain run of the current field
    const flush = (end: number) => {
      if (end > start) this.field += text.slice(start, end);
    };
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (this.afterCr) {
        this.afterCr = false;
        if (c === '\n') {
          start = i + 1;
          continue;
        }
      }
      if (this.inQuotes) {
        if (this.quoteSeen) {
          this.quoteSeen = false;
          if (c === quote) {
            this.field += quote; // "" inside quotes
            start = i + 1;
            continue;
          }
          this.inQuotes = false; // the quote closed the field; fall through to plain handling
          start = i;
        } else {
          if (c === quote) {
            flush(i);
            this.quoteSeen = true;
            start = i + 1;
          }
          continue;
        }
      }
      if (c === quote && this.field === '' && start === i) {
        this.inQuotes = true;
        start = i + 1;
      } else if (c === delimiter) {
        flush(i);
        this.record.push(this.field);
        this.field = '';
        start = i + 1;
      } else if (c === '\n' || c === '\r') {
        flush(i);
        this.endRecord(out);
        if (c === '\r') this.afterCr = true;
        start = i + 1;
      }
    }
    if (this.inQuotes && !this.quoteSeen) flush(text.length);
    else if (!this.inQuotes) flush(text.length);
    return out;
  }

  /** Ends the input; returns the last record if the file did not end with a newline. */
  end(): string[][] {
    const out: string[][] = [];
    if (this.quoteSeen) {
      this.quoteSeen = false;
      this.inQuotes = false;
    }
    if (this.inQuotes) throw new Error('the file ends inside a quoted field (a quote is not closed)');
    if (this.field !== '' || this.record.length > 0) this.endRecord(out);
    return out;
  }

  private endRecord(out: string[][]): void {
    this.record.push(this.field);
    this.field = '';
    const r = this.record;
    this.record = [];
    if (r.length === 1 && r[0] === '') return; // blank line (pandas skips them)
    out.push(r);
  }
}

/** pandas' default NA strings: these (and empty fields) become null. */
export const PANDAS_NA_VALUES = ['', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null'];

const INT = /^\s*[+-]?\d+\s*$/;
const FLOAT = /^\s*[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity)\s*$/i;
const TRUE = new Set(['True', 'TRUE', 'true']);
const FALSE = new Set(['False', 'FALSE', 'false']);

type Kind = 'int' | 'float' | 'bool' | 'text';

/**
 * Rows of one chunk -> objects, each column typed as pandas types a chunk: all values
 * integers -> numbers, numbers -> numbers, True/False -> booleans, else strings; NA -> null.
 */
export function typeChunk(header: string[], records: string[][], na: Set<string>, infer: boolean): Record<string, unknown>[] {
  const kinds: Kind[] = header.map((_, c) => (infer ? columnKind(records, c, na) : 'text'));
  // pandas makes these float64: a whole value is a float (`3.0`), so the column types double as in dlt
  const floats = new Set(header.filter((_, c) => kinds[c] === 'float'));
  return records.map((rec) => {
    const row: Record<string, unknown> = {};
    let whole = false;
    for (let c = 0; c < header.length; c++) {
      const raw = rec[c];
      const v = raw === undefined || na.has(raw) ? null : convert(raw, kinds[c]!);
      row[header[c]!] = v;
      if (kinds[c] === 'float' && Number.isInteger(v)) whole = true;
    }
    if (whole) markFloatColumns(row, floats);
    return row;
  });
}

function columnKind(records: string[][], c: number, na: Set<string>): Kind {
  let kind: Kind | undefined;
  for (const rec of records) {
    const v = rec[c];
    if (v === undefined || na.has(v)) continue;
    const k: Kind = INT.test(v) ? (isInt64(v) ? 'int' : 'text') : FLOAT.test(v) ? 'float' : TRUE.has(v) || FALSE.has(v) ? 'bool' : 'text';
    if (k === 'text') return 'text';
    if (kind === undefined || kind === k) kind = k;
    else if ((kind === 'int' && k === 'float') || (kind === 'float' && k === 'int')) kind = 'float';
    else return 'text';
  }
  return kind ?? 'text';
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** pandas reads integers into int64: beyond it, the column stays strings. */
function isInt64(v: string): boolean {
  if (Number.isSafeInteger(Number(v))) return true;
  const n = BigInt(v.trim());
  return n >= INT64_MIN && n <= INT64_MAX;
}

function convert(raw: string, kind: Kind): unknown {
  switch (kind) {
    case 'int': {
      // exact beyond 2^53, as pandas' int64 keeps it
      const n = Number(raw);
      return Number.isSafeInteger(n) ? n : BigInt(raw.trim());
    }
    case 'float': {
      const t = raw.trim().toLowerCase().replace(/^\+/, '');
      if (t === 'inf' || t === 'infinity') return Infinity;
      if (t === '-inf' || t === '-infinity') return -Infinity;
      return Number(t);
    }
    case 'bool':
      return TRUE.has(raw);
    default:
      return raw;
  }
}
