import type { TableSchema } from '../schema/types.js';
import { JobFileWriter } from '../storage/job-file-writer.js';
import type { NormalizeResult } from './types.js';

/*
 * Table output: every table collects its rows (JSONL bytes) in a buffer of its own; the
 * buffers go to job files (JobFileWriter, which rotates them at maxFileBytes) once they hold
 * enough, and when the call ends. Both normalize paths write into the same buffers; the byte
 * path writes in place and rolls a line back by resetting `len` and `rows` to its marks.
 */

/** Flush a table's row buffer to its writer once it holds this much (checked per chunk). */
const FLUSH_BYTES = 1 << 20;
const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
export const NL = 10;

/** The output part of a table's state during one call. */
export interface TableOutput {
  name: string;
  schema: TableSchema;
  isRoot: boolean;
  writer: JobFileWriter | undefined;
  rows: number;
  /** Output rows (JSONL bytes) not yet handed to the writer. */
  buf: Buffer;
  len: number;
  /** Byte path: the line these marks belong to, and `len`/`rows` before it (for rollback). */
  lineStamp: number;
  markLen: number;
  markRows: number;
}

/** Makes room for n more bytes in the table's buffer. */
export function reserve(ts: TableOutput, n: number): void {
  if (ts.len + n > ts.buf.length) grow(ts, n);
}

export function grow(ts: TableOutput, n: number): void {
  const bigger = Buffer.allocUnsafe(Math.max(ts.buf.length * 2, ts.len + n + 1024));
  ts.buf.copy(bigger, 0, 0, ts.len);
  ts.buf = bigger;
}

/** Appends one row, given as JSON text, and a newline. */
export function appendRow(ts: TableOutput, json: string): void {
  const n = Buffer.byteLength(json) + 1;
  if (ts.len + n > ts.buf.length) grow(ts, n);
  ts.len += ts.buf.write(json, ts.len);
  ts.buf[ts.len++] = NL;
  ts.rows++;
}

/** Hands the tables' buffers to job files in `outDir`. */
export class TableFiles {
  private readonly maxFileBytes: number;

  constructor(
    private readonly outDir: string,
    private readonly nextFileId: () => string,
    maxFileBytes: number | undefined,
  ) {
    this.maxFileBytes = maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  }

  private writerOf(ts: TableOutput): JobFileWriter {
    if (ts.writer === undefined) {
      ts.writer = new JobFileWriter({
        dir: this.outDir,
        table: ts.name,
        maxFileBytes: this.maxFileBytes,
        nextFileId: this.nextFileId,
        format: 'jsonl',
      });
    }
    return ts.writer;
  }

  /** Hands buffered rows to the writers (all tables, or only those holding much). */
  flush(tables: Iterable<TableOutput>, all: boolean): void {
    for (const ts of tables) {
      if (ts.len === 0 || (!all && ts.len < FLUSH_BYTES)) continue;
      this.writerOf(ts).writeRows(ts.buf, ts.len);
      ts.len = 0;
    }
  }

  /** Makes an empty job file for a replace root table that got no rows (so load truncates it). */
  touchEmpty(ts: TableOutput): void {
    if (ts.rows === 0 && ts.writer === undefined && ts.isRoot && ts.schema.writeDisposition === 'replace') {
      this.writerOf(ts).touch();
    }
  }

  /** Closes every writer (call flush first); returns the rows and files per table. */
  close(tables: Iterable<TableOutput>): Omit<NormalizeResult, 'largestRowBytes'> {
    const rowCounts: Record<string, number> = {};
    const files: Array<{ table: string; file: string }> = [];
    for (const ts of tables) {
      if (ts.writer === undefined) continue;
      for (const file of ts.writer.close()) files.push({ table: ts.name, file });
      rowCounts[ts.name] = ts.rows;
    }
    return { rowCounts, files };
  }

  /** Closes every writer after a failure, ignoring further errors. */
  abandon(tables: Iterable<TableOutput>): void {
    for (const ts of tables) {
      try {
        ts.writer?.close();
      } catch {
        // the call already failed; the caller discards the output folder
      }
    }
  }
}
