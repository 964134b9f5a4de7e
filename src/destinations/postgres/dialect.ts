import { open } from 'node:fs/promises';
import type { ColumnSchema, LoaderFileFormat } from '../../schema/types.js';
import { quoteIdentifierStandard, type SqlDialect, type SqlExecutor, type TableRef } from '../sql/dialect.js';
import { isCopyExecutor, type CopyExecutor } from './connection.js';
import { isTransientPgError } from './errors.js';
import { JsonlToCsv } from './jsonl-to-csv.js';

/** dlt's default decimal precision and scale (dlt.common.arithmetics). */
export const DEFAULT_DECIMAL_PRECISION = 38;
export const DEFAULT_DECIMAL_SCALE = 9;

/** Serial column a merge staging root table gets: it keeps the order rows were loaded in. */
export const STAGING_ORDER_COLUMN = '_haul_seq';

/** Read job files in large pieces: fewer, bigger COPY messages. */
const READ_CHUNK = 1024 * 1024;

type ColumnTypeInput = Pick<ColumnSchema, 'dataType' | 'precision' | 'scale' | 'timezone'>;

/**
 * PostgreSQL types as dlt's postgres destination maps them: text varchar, bigint bigint
 * (smallint/integer by `precision` in bits), double double precision, bool boolean,
 * timestamp timestamp with time zone (without when `timezone: false`; `precision` 0-6 as
 * fractional digits), date date, time time without time zone (`precision` as for timestamps),
 * decimal numeric(p,s)
 * (default 38,9), binary bytea, json jsonb.
 */
export function postgresColumnType(c: ColumnTypeInput): string {
  switch (c.dataType) {
    case 'text':
      return c.precision !== undefined ? `varchar(${c.precision})` : 'varchar';
    case 'bigint': {
      const p = c.precision;
      if (p === undefined || p > 32) return 'bigint';
      return p <= 16 ? 'smallint' : 'integer';
    }
    case 'double':
      return 'double precision';
    case 'bool':
      return 'boolean';
    case 'timestamp':
      return `timestamp${fractionDigits(c.precision)} ${c.timezone === false ? 'without' : 'with'} time zone`;
    case 'date':
      return 'date';
    case 'time':
      return `time${fractionDigits(c.precision)} without time zone`;
    case 'decimal':
      return `numeric(${c.precision ?? DEFAULT_DECIMAL_PRECISION},${c.scale ?? DEFAULT_DECIMAL_SCALE})`;
    case 'binary':
      return 'bytea';
    case 'json':
      return 'jsonb';
  }
}

/** ` (p)` for a timestamp's or time's `precision` 0-6 (PostgreSQL's range), else nothing. */
function fractionDigits(precision: number | undefined): string {
  return precision !== undefined && precision >= 0 && precision <= 6 ? ` (${precision})` : '';
}

export class PostgresDialect implements SqlDialect {
  readonly name = 'postgres';
  readonly nowExpression = 'CURRENT_TIMESTAMP';
  readonly caseInsensitiveIdentifiers = false;

  quoteIdentifier(name: string): string {
    return quoteIdentifierStandard(name);
  }

  qualifySchema(schema: string): string {
    return this.quoteIdentifier(schema);
  }

  qualify(ref: TableRef): string {
    return `${this.quoteIdentifier(ref.schema)}.${this.quoteIdentifier(ref.table)}`;
  }

  columnType(column: ColumnTypeInput): string {
    return postgresColumnType(column);
  }

  /**
   * The row key (`_dlt_id`) sorts by bytes: its UNIQUE constraint (createIndexes) is built
   * and checked with the column's collation, and any default but "C" compares with strcoll
   * and without abbreviated keys, 2-3x slower (docs/decisions.md). The ids are opaque ASCII,
   * so nothing reads meaning into their order; compared with a column of the database's
   * default collation, "C" wins without a conflict (joins on `_dlt_parent_id` work as before).
   */
  columnCollation(column: Pick<ColumnSchema, 'dataType' | 'rowKey'>): string | undefined {
    return column.rowKey === true && column.dataType === 'text' ? 'C' : undefined;
  }

  /** PostgreSQL tables have no stable row order: staging roots get a serial filled by COPY. */
  stagingExtraColumns(): string[] {
    return [`${this.quoteIdentifier(STAGING_ORDER_COLUMN)} bigserial`];
  }

  stagingOrderBy(alias: string): string {
    return `${alias}.${this.quoteIdentifier(STAGING_ORDER_COLUMN)}`;
  }

  copySql(target: TableRef, columns: string[], header: boolean): string {
    return `COPY ${this.qualify(target)} (${columns.map((c) => this.quoteIdentifier(c)).join(', ')}) FROM STDIN WITH (FORMAT csv${header ? ', HEADER true' : ''})`;
  }

  /** JSONL streams through the CSV converter into COPY (see jsonl-to-csv.ts); csv is COPY'd as it is. */
  async bulkLoadFile(tx: SqlExecutor, target: TableRef, columns: ColumnSchema[], path: string, format: LoaderFileFormat): Promise<number> {
    if (format === 'csv') return this.bulkLoadCsv(tx, target, path);
    if (format !== 'jsonl') throw new Error(`the postgres destination does not load ${format} job files`);
    const copy = copyExecutor(tx);
    const source = await openForRead(path);
    return copy.copyFrom(this.copySql(target, columns.map((c) => c.name), false), source, new JsonlToCsv(columns));
  }

  /**
   * Loads a CSV job file as it is: its header names the columns (any order, a subset of the
   * table's), values in PostgreSQL's CSV input forms, empty unquoted fields NULL: the csv job
   * files normalize writes (src/storage/job-formats.ts).
   */
  async bulkLoadCsv(tx: SqlExecutor, target: TableRef, path: string): Promise<number> {
    const copy = copyExecutor(tx);
    const header = await readCsvHeader(path);
    return copy.copyFrom(this.copySql(target, header, true), await openForRead(path));
  }

  isTransientError(err: unknown): boolean {
    return isTransientPgError(err);
  }
}

function copyExecutor(tx: SqlExecutor): CopyExecutor {
  if (!isCopyExecutor(tx)) throw new Error('the postgres dialect bulk-loads only through a postgres connection');
  return tx;
}

/** Opens the file first, so a missing file fails before COPY starts (naming the path). */
async function openForRead(path: string) {
  const fh = await open(path, 'r');
  return fh.createReadStream({ highWaterMark: READ_CHUNK });
}

/** The column names of a CSV file's first line (quoted names may hold `,` and `""`). */
async function readCsvHeader(path: string): Promise<string[]> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.toString('utf8', 0, bytesRead);
    const names: string[] = [];
    let i = 0;
    for (;;) {
      let name = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) throw new Error(`${path}: unterminated quoted name in the CSV header`);
          name += text.slice(i, q);
          if (text[q + 1] === '"') {
            name += '"';
            i = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
      } else {
        let j = i;
        while (j < text.length && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
        name = text.slice(i, j);
        i = j;
      }
      names.push(name);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\n' || text[i] === '\r' || i >= text.length) break;
      throw new Error(`${path}: malformed CSV header`);
    }
    if (names.length === 0 || names.some((n) => n === '')) throw new Error(`${path}: the CSV header must name every column`);
    return names;
  } finally {
    await fh.close();
  }
}
