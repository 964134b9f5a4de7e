import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSchema, LoaderFileFormat } from '../schema/types.js';
import { FLUSH_FREED_MEMORY } from './duckdb-memory.js';
import { jobName, parseJobName } from './job-name.js';

/**
 * Parquet and csv job files, made from the JSONL job files normalize writes. DuckDB (already a
 * dependency, see docs/decisions.md) is used as a file-format library: an in-memory instance
 * reads each JSONL file with the table's column types and writes it with `COPY ... TO`, so
 * parquet carries typed columns (timestamps with zone, decimals, blobs, JSON, 128-bit
 * integers) and csv follows dlt's conventions. It never opens a destination.
 */

/** Columns (in schema order) of each table whose files are converted. */
export type TableColumns = (table: string) => ColumnSchema[];

/**
 * How many files are converted at once, each on a connection of its own. One COPY of a ~30 MB
 * file keeps DuckDB's two threads busy only part of the time (reading JSON lines, then writing
 * row groups in order); two at once keep both cores busy (docs/performance.md, section 15).
 */
const CONCURRENT_COPIES = 2;

/**
 * The converting instance (docs/performance.md, section 28):
 * - one thread: each COPY runs on its caller's thread, so the two at once use the two cores
 *   without each also splitting its work (less CPU, and half the memory in flight);
 * - memory given back after each file: without the flush, what DuckDB freed stayed resident
 *   and the step peaked at 400–500 MB over a 1M-row package; with it, under 300 MB;
 * - the memory limit keeps the process within budget.
 * The icu extension is built into @duckdb/node-api, and an instance starts in the process's time
 * zone (TZ), which would give csv timestamps its offset (+09 under TZ=Asia/Tokyo). The time zone
 * is set to UTC after the instance starts (DuckDB refuses it as a start-up option), so csv
 * timestamps end in `+00` whatever TZ is, like dlt's (docs/package-format.md).
 */
const CONVERTER_CONFIG = { threads: '1', memory_limit: '256MB', ...FLUSH_FREED_MEMORY };

/** Rows per parquet row group: half DuckDB's default, for the memory each COPY holds (dlt's own files have smaller ones). */
const PARQUET_ROW_GROUP_ROWS = 61_440;

/** Converts every `.jsonl` job in `dir` to `format`, replacing it; returns the new file names (in `dir`'s order). */
export async function convertJobFiles(dir: string, format: Exclude<LoaderFileFormat, 'jsonl'>, columnsOf: TableColumns): Promise<string[]> {
  // dlt's system tables (the state row) stay JSONL, which every destination loads.
  const jobs = readdirSync(dir).filter((f) => f.endsWith('.jsonl') && !f.startsWith('_dlt_'));
  if (jobs.length === 0) return [];
  const instance = await DuckDBInstance.create(':memory:', CONVERTER_CONFIG);
  const links = mkdtempSync(join(tmpdir(), 'haul-convert-'));
  const written: string[] = [];
  let next = 0;
  let failed = false;
  // Each slot takes the next job until none is left or another slot failed.
  const slot = async (n: number) => {
    const conn = await instance.connect();
    try {
      while (!failed && next < jobs.length) {
        const i = next++;
        written[i] = await convertOne(conn, dir, jobs[i]!, format, columnsOf, join(links, String(n)));
      }
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      conn.closeSync();
    }
  };
  try {
    await inUtc(instance);
    const slots = await Promise.allSettled(Array.from({ length: Math.min(CONCURRENT_COPIES, jobs.length) }, (_, n) => slot(n)));
    const error = slots.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (error) throw error.reason;
    return written;
  } finally {
    instance.closeSync();
    rmSync(links, { recursive: true, force: true });
  }
}

/** Sets the instance's time zone to UTC for every connection made after. */
async function inUtc(instance: DuckDBInstance): Promise<void> {
  const conn = await instance.connect();
  try {
    await conn.run("SET GLOBAL TimeZone = 'UTC'");
  } finally {
    conn.closeSync();
  }
}

/** Converts one job file through plain-named links in `tmp`; returns the new file's name. */
async function convertOne(conn: DuckDBConnection, dir: string, name: string, format: Exclude<LoaderFileFormat, 'jsonl'>, columnsOf: TableColumns, tmp: string): Promise<string> {
  const job = parseJobName(name);
  const out = jobName(job.table, job.fileId, job.retryCount, format);
  // DuckDB expands glob characters in paths and has no escape: read and write through plain names.
  mkdirSync(tmp, { recursive: true });
  const src = join(tmp, 'in.jsonl');
  const dst = join(tmp, `out.${format}`);
  rmSync(src, { force: true });
  symlinkSync(join(dir, name), src);
  await conn.run(copySql(columnsOf(job.table), format, src, dst));
  rmSync(join(dir, out), { force: true });
  renameSync(dst, join(dir, out));
  rmSync(join(dir, name));
  return out;
}

/** Paths are temp names this module made (no quotes in them), written as literals: COPY takes no parameters. */
function copySql(columns: ColumnSchema[], format: Exclude<LoaderFileFormat, 'jsonl'>, src: string, dst: string): string {
  const reader = columns.map((c) => `${literal(c.name)}: '${jsonlReaderType(c)}'`).join(', ');
  const select = columns.map((c) => `${outputExpr(c, format, ident(c.name))} AS ${ident(c.name)}`).join(', ');
  const from = `read_json(${literal(src)}, format = 'newline_delimited', records = true, maximum_object_size = ${16 * 1024 * 1024}, columns = {${reader}})`;
  const options = format === 'parquet' ? `FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP_ROWS}` : CSV_WRITE_OPTIONS;
  return `COPY (SELECT ${select} FROM ${from}) TO ${literal(dst)} (${options})`;
}

/**
 * dlt's csv defaults: a header, `,` between fields, `"` quotes doubled inside quoted fields,
 * quoting only when needed, `\n` line ends; NULL is an empty unquoted field and an empty
 * string is `""`. (DuckDB quotes an empty string itself when NULLSTR is ''.)
 */
const CSV_WRITE_OPTIONS = "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR ''";

/** A row longer than this cannot be read back (read_json's limit for JSONL is the same); DuckDB's default is 2 MB. */
const CSV_MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * read_csv options for the csv job files this module writes: every column as text (the
 * caller casts by the schema, see csvReadExpr), columns matched by header name across files
 * written under different schema versions, and a quoted `""` kept as an empty string.
 */
export const CSV_READ_OPTIONS: string =
  "header = true, delim = ',', quote = '\"', escape = '\"', nullstr = '', allow_quoted_nulls = false, all_varchar = true, union_by_name = true, auto_detect = false, max_line_size = " +
  CSV_MAX_LINE_BYTES +
  ', buffer_size = ' +
  2 * CSV_MAX_LINE_BYTES;

/** The typed value of a csv job file's text field `col` (the inverse of outputExpr for csv). */
export function csvReadExpr(c: Pick<ColumnSchema, 'dataType'>, col: string, type: string): string {
  if (c.dataType === 'text') return col;
  // PostgreSQL's bytea hex form: \x then two hex digits per byte
  if (c.dataType === 'binary') return `unhex(substr(${col}, 3))`;
  return `CAST(${col} AS ${type})`;
}

/**
 * The DuckDB type read_json reads a canonical JSONL value as (docs/package-format.md):
 * numbers and booleans natively (a huge bigint written as a string casts exactly), strings
 * that need parsing as VARCHAR, converted by an explicit cast so errors name the file and
 * line. Shared by this converter and the DuckDB destination's loader.
 */
export function jsonlReaderType(c: Pick<ColumnSchema, 'dataType' | 'precision'>): string {
  switch (c.dataType) {
    case 'bigint':
      return c.precision !== undefined && c.precision > 64 ? 'HUGEINT' : 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'bool':
      return 'BOOLEAN';
    case 'json':
      return 'JSON';
    default:
      return 'VARCHAR';
  }
}

/** The typed value written to the file. */
function outputExpr(c: ColumnSchema, format: Exclude<LoaderFileFormat, 'jsonl'>, col: string): string {
  switch (c.dataType) {
    case 'timestamp':
      return `CAST(${col} AS ${c.timezone === false ? 'TIMESTAMP' : 'TIMESTAMPTZ'})`;
    case 'date':
      return `CAST(${col} AS DATE)`;
    case 'time':
      return `CAST(${col} AS TIME)`;
    case 'decimal':
      return `CAST(${col} AS DECIMAL(${c.precision ?? 38},${c.scale ?? 9}))`;
    case 'binary':
      // csv: PostgreSQL's bytea hex form (\x + hex digits), which COPY reads as is
      return format === 'parquet' ? `from_base64(${col})` : `'\\x' || lower(hex(from_base64(${col})))`;
    default:
      return col;
  }
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
