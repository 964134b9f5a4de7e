import { mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ColumnSchema, LoaderFileFormat } from '../../schema/types.js';
import { C_DLT_ID } from '../../schema/system.js';
import { jsonlReaderType } from '../../storage/job-formats.js';
import { inAnyOrder, inInsertionOrder } from './insertion-order.js';
import { memoryLimitBytes, setMemoryLimitMiB } from './settings.js';
import {
  quoteIdentifierStandard,
  quoteStringLiteralStandard,
  type SqlDialect,
  type SqlExecutor,
  type TableRef,
} from '../sql/dialect.js';

export const DEFAULT_DECIMAL_PRECISION = 38;
export const DEFAULT_DECIMAL_SCALE = 9;

/** Characters DuckDB treats as glob patterns in file paths. */
const GLOB_CHARS = /[*?[\]{}]/;

/**
 * read_json's line limit for ordinary jobs (DuckDB's default, 16 MB). A job whose package
 * records a longer row (normalize's `largestRowBytes`) gets a limit that fits it; a larger
 * limit for every job would make each reader's buffer larger and loads slower.
 */
export const MAX_OBJECT_SIZE = 16 * 1024 * 1024;

/** The read_json limit for a file whose lines are at most `maxLineBytes` long. */
export function objectSizeFor(maxLineBytes: number | undefined): number {
  if (maxLineBytes === undefined || maxLineBytes < MAX_OBJECT_SIZE) return MAX_OBJECT_SIZE;
  const mib = 1024 * 1024;
  return Math.ceil((maxLineBytes + 1) / mib) * mib + mib;
}

/**
 * Memory for unusual jobs. A job whose line limit is raised gets room for a few reader
 * buffers of that size. DuckDB's insert keeps per-column buffers in memory until the transaction ends: a table
 * with thousands of columns needs far more than the destination's default memory_limit
 * (10,000 columns: about 650 MB for one row). Such a job gets a limit estimated from its
 * column count and file size, which stays for the rest of the load (withMemoryFor); narrower
 * tables never change it.
 */
export const WIDE_TABLE_COLUMNS = 1000;

export function wideJobMemoryBytes(columns: number, fileBytes: number): number {
  return 64 * 1024 * 1024 + columns * 96 * 1024 + fileBytes * 8;
}

export { parseMemorySize } from './settings.js';

type ColumnTypeInput = Pick<ColumnSchema, 'dataType' | 'precision' | 'scale' | 'timezone'>;

/**
 * DuckDB types as dlt's DuckDB destination maps them: text VARCHAR, bigint BIGINT (narrower
 * or HUGEINT by `precision` in bits), double DOUBLE, bool BOOLEAN, timestamp TIMESTAMP WITH
 * TIME ZONE (when `timezone: false`: TIMESTAMP, or TIMESTAMP_S/_MS/_NS by `precision`), date
 * DATE, time TIME, decimal DECIMAL(p,s)
 * (default 38,9), binary BLOB, json JSON.
 */
export function duckdbColumnType(c: ColumnTypeInput): string {
  switch (c.dataType) {
    case 'text':
      return 'VARCHAR';
    case 'bigint': {
      const p = c.precision;
      if (p === undefined) return 'BIGINT';
      if (p <= 8) return 'TINYINT';
      if (p <= 16) return 'SMALLINT';
      if (p <= 32) return 'INTEGER';
      if (p <= 64) return 'BIGINT';
      return 'HUGEINT';
    }
    case 'double':
      return 'DOUBLE';
    case 'bool':
      return 'BOOLEAN';
    case 'timestamp':
      return c.timezone === false ? naiveTimestampType(c.precision) : 'TIMESTAMP WITH TIME ZONE';
    case 'date':
      return 'DATE';
    case 'time':
      return 'TIME';
    case 'decimal':
      return `DECIMAL(${c.precision ?? DEFAULT_DECIMAL_PRECISION},${c.scale ?? DEFAULT_DECIMAL_SCALE})`;
    case 'binary':
      return 'BLOB';
    case 'json':
      return 'JSON';
  }
}

/** A timestamp without zone by its fractional digits, as dlt's DuckDB destination picks it (DuckDB's zoned type has one precision). */
function naiveTimestampType(precision: number | undefined): string {
  if (precision === undefined) return 'TIMESTAMP';
  if (precision === 0) return 'TIMESTAMP_S';
  if (precision <= 3) return 'TIMESTAMP_MS';
  if (precision <= 6) return 'TIMESTAMP';
  return 'TIMESTAMP_NS';
}

function selectExpr(c: ColumnTypeInput, ident: string): string {
  switch (c.dataType) {
    case 'timestamp':
    case 'date':
    case 'time':
    case 'decimal':
      return `CAST(${ident} AS ${duckdbColumnType(c)})`;
    case 'binary':
      return `from_base64(${ident})`;
    default:
      return ident;
  }
}

const TRANSIENT = [
  /^TransactionContext Error/i,
  /^Interrupt Error/i,
  /write-write conflict/i,
  /Could not set lock/i,
  /database is locked/i,
];

export class DuckDBDialect implements SqlDialect {
  readonly name = 'duckdb';
  readonly nowExpression = 'CURRENT_TIMESTAMP';
  readonly caseInsensitiveIdentifiers = true;

  /**
   * @param catalog the database's catalog name once the connection knows it (DuckDB names it
   * after the file). Every name is qualified with it: a dataset called like the file (`shop`
   * in `shop.duckdb`) is otherwise an ambiguous reference to the catalog or the schema.
   */
  constructor(
    private readonly catalog: () => string | undefined = () => undefined,
    /** DuckDB chooses the row key's compression too (`compressRowIds`); else it is stored uncompressed. */
    private readonly compressRowIds = false,
  ) {}

  /**
   * The row key `_dlt_id` is random text, unique per row, which DuckDB's compression analysis
   * (dictionary, FSST) tries segment by segment for little gain: stored uncompressed, the
   * bench's load takes 10-15% less time on free cores and about half on busy ones, for a file
   * 7% larger (docs/performance.md, section 39; decision in docs/decisions.md).
   * `_dlt_parent_id` and `_dlt_root_id` repeat (one per child row), and DuckDB's dictionary
   * pays off there.
   */
  columnCompression(column: Pick<ColumnSchema, 'name'>): string | undefined {
    return !this.compressRowIds && column.name === C_DLT_ID ? 'uncompressed' : undefined;
  }

  quoteIdentifier(name: string): string {
    return quoteIdentifierStandard(name);
  }

  qualifySchema(schema: string): string {
    const cat = this.catalog();
    return cat === undefined ? this.quoteIdentifier(schema) : `${this.quoteIdentifier(cat)}.${this.quoteIdentifier(schema)}`;
  }

  qualify(ref: TableRef): string {
    return `${this.qualifySchema(ref.schema)}.${this.quoteIdentifier(ref.table)}`;
  }

  columnType(column: ColumnTypeInput): string {
    return duckdbColumnType(column);
  }

  /** DuckDB keeps insertion order in `rowid` (preserve_insertion_order is on by default). */
  stagingExtraColumns(): string[] {
    return [];
  }

  stagingOrderBy(alias: string): string {
    return `${alias}.rowid`;
  }

  /** The read_json call for a table's columns; `$1` is the file path (or `source`, e.g. a list literal). */
  readJsonSql(columns: ColumnSchema[], source = '$1', maxLineBytes?: number): string {
    const map = columns.map((c) => `${quoteStringLiteralStandard(c.name)}: '${jsonlReaderType(c)}'`).join(', ');
    return `read_json(${source}, format = 'newline_delimited', records = true, maximum_object_size = ${objectSizeFor(maxLineBytes)}, columns = {${map}})`;
  }

  /** SELECT of canonical JSONL job files as typed columns (the conversions bulkLoadFile applies). */
  selectJsonlSql(columns: ColumnSchema[], source: string): string {
    const names = columns.map((c) => this.quoteIdentifier(c.name));
    return `SELECT ${columns.map((c, i) => `${selectExpr(c, names[i]!)} AS ${names[i]}`).join(', ')} FROM ${this.readJsonSql(columns, source)}`;
  }

  /** The INSERT of job files `$1` (a path or a list of paths) into `target`. */
  private insertSql(target: TableRef, columns: ColumnSchema[], format: LoaderFileFormat, maxLineBytes: number | undefined): string {
    const names = columns.map((c) => this.quoteIdentifier(c.name));
    const into = `INSERT INTO ${this.qualify(target)} (${names.join(', ')}) `;
    if (format === 'jsonl') return into + `SELECT ${columns.map((c, i) => selectExpr(c, names[i])).join(', ')} FROM ${this.readJsonSql(columns, '$1', maxLineBytes)}`;
    // Parquet job files hold typed columns already (src/storage/job-formats.ts); select by name.
    if (format === 'parquet') return into + `SELECT ${names.join(', ')} FROM read_parquet($1)`;
    throw new Error(`the duckdb destination does not load ${format} job files`);
  }

  async bulkLoadFile(tx: SqlExecutor, target: TableRef, columns: ColumnSchema[], path: string, format: LoaderFileFormat, file: { maxLineBytes?: number } = {}): Promise<number> {
    const sql = this.insertSql(target, columns, format, file.maxLineBytes);
    const objectSize = format === 'jsonl' ? objectSizeFor(file.maxLineBytes) : 0;
    // Each reader thread buffers whole lines: a larger line limit needs room for a few.
    const need = Math.max(
      objectSize > MAX_OBJECT_SIZE ? 64 * 2 ** 20 + objectSize * 6 : 0,
      columns.length >= WIDE_TABLE_COLUMNS ? wideJobMemoryBytes(columns.length, statSync(path).size) : 0,
    );
    const insert = () => inInsertionOrder(tx, () => this.insertFrom(tx, sql, path, format));
    return need === 0 ? insert() : this.withMemoryFor(tx, need, insert);
  }

  /**
   * One INSERT over the list of files: DuckDB reads them in parallel and writes whole row
   * groups, where an INSERT per file leaves a partial row group each for the checkpoint to
   * rewrite when the database closes (docs/performance.md). Jobs that need more memory
   * (long lines, wide tables) still go one by one. Only appends come here, so the rows may
   * land in any order, which DuckDB does faster and in less memory (insertion-order.ts).
   */
  async bulkLoadFiles(tx: SqlExecutor, target: TableRef, columns: ColumnSchema[], paths: string[], format: LoaderFileFormat, file: { maxLineBytes?: number } = {}): Promise<number> {
    const unusual = objectSizeFor(file.maxLineBytes) > MAX_OBJECT_SIZE || columns.length >= WIDE_TABLE_COLUMNS;
    if (paths.length === 1 || unusual || (format !== 'jsonl' && format !== 'parquet')) {
      let rows = 0;
      for (const p of paths) rows += await this.bulkLoadFile(tx, target, columns, p, format, file);
      return rows;
    }
    return inAnyOrder(tx, () => this.insertFromPaths(tx, this.insertSql(target, columns, format, file.maxLineBytes), paths, format));
  }

  /**
   * Runs `fn` with memory_limit raised to at least `bytes`. The limit stays raised for the
   * rest of the instance's work, as when a job runs out of memory (memory-growth.ts):
   * lowering it again inside the job's transaction fails while DuckDB still holds more than
   * the old limit, and that failure would abort the transaction.
   */
  private async withMemoryFor<T>(tx: SqlExecutor, bytes: number, fn: () => Promise<T>): Promise<T> {
    const current = await memoryLimitBytes(tx);
    if (current !== undefined && current < bytes) await setMemoryLimitMiB(tx, Math.ceil(bytes / 2 ** 20));
    return fn();
  }

  private insertFrom(tx: SqlExecutor, sql: string, path: string, format: LoaderFileFormat): Promise<number> {
    return this.outOfMemoryAdvice(() => this.insertFromPath(tx, sql, path, format));
  }

  private async outOfMemoryAdvice(fn: () => Promise<number>): Promise<number> {
    try {
      return await fn();
    } catch (e) {
      // Seen by the user only when the limit could not grow further (memory-growth.ts).
      if (e instanceof Error && /^Out of Memory Error/i.test(e.message)) {
        throw new Error(`${e.message.split('\n')[0]}. Give DuckDB more memory, e.g. duckdb({ memoryLimit: '4GB' }) (haul raises the limit up to maxMemoryLimit, which is memoryLimit when you set one), and run again (the failed job is loaded again)`, { cause: e });
      }
      throw e;
    }
  }

  private async insertFromPath(tx: SqlExecutor, sql: string, path: string, format: LoaderFileFormat): Promise<number> {
    const abs = resolve(path);
    if (!GLOB_CHARS.test(abs)) return tx.execute(sql, [abs]);
    // DuckDB expands globs in the path and has no escape: read through a plain-named link.
    const dir = mkdtempSync(join(tmpdir(), 'haul-duckdb-'));
    try {
      const link = join(dir, `job.${format}`);
      symlinkSync(abs, link);
      return await tx.execute(sql, [link]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private async insertFromPaths(tx: SqlExecutor, sql: string, paths: string[], format: LoaderFileFormat): Promise<number> {
    const abs = paths.map((p) => resolve(p));
    if (!abs.some((p) => GLOB_CHARS.test(p))) return this.outOfMemoryAdvice(() => tx.execute(sql, [abs]));
    // DuckDB expands globs in paths and has no escape: read through plain-named links.
    const dir = mkdtempSync(join(tmpdir(), 'haul-duckdb-'));
    try {
      const links = abs.map((p, i) => {
        const link = join(dir, `job${i}.${format}`);
        symlinkSync(p, link);
        return link;
      });
      return await this.outOfMemoryAdvice(() => tx.execute(sql, [links]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  isTransientError(err: unknown): boolean {
    const msg = err instanceof Error ? err.message : String(err);
    return TRANSIENT.some((re) => re.test(msg));
  }
}
