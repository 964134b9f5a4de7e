import type { ColumnSchema, DataType, LoaderFileFormat } from '../../schema/types.js';

/** A table in a given schema (dataset), named by its unquoted identifiers. */
export interface TableRef {
  schema: string;
  table: string;
}

/**
 * Runs statements on one connection. Placeholders are positional `$1, $2, ...` in every
 * dialect; values always travel as parameters, never inside the SQL text.
 */
export interface SqlExecutor {
  /** Runs a statement; returns the number of rows it changed (0 when not applicable). */
  execute(sql: string, params?: unknown[]): Promise<number>;
  /** Runs a query and returns its rows as plain objects (see the client for value types). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * A connection to a SQL database. Calls are serialized: a transaction holds the connection
 * until it ends, so concurrent callers never interleave their statements.
 */
export interface SqlClient extends SqlExecutor {
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Runs `fn` inside BEGIN/COMMIT; rolls back and rethrows when `fn` or the commit throws.
   * Use only the executor passed to `fn` inside it (the client itself waits for the end of
   * the transaction).
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Makes unqualified names in later `query`/`execute` calls resolve to this schema first
   * (search_path). Called with the dataset once it exists.
   */
  setDefaultSchema(schema: string): Promise<void>;
  /**
   * Streams a query's rows in batches of about `chunkSize`, on a connection of its own so
   * other calls on this client are not held up between batches. Memory holds one batch.
   */
  stream<T = Record<string, unknown>>(sql: string, params: unknown[] | undefined, chunkSize: number): AsyncGenerator<T[]>;
}

/**
 * What differs between SQL databases. The generic job code (sql/job-client.ts, catalog.ts,
 * job-loader.ts, merge.ts) builds every statement from these pieces, so a new SQL
 * destination only supplies a dialect and a client.
 */
export interface SqlDialect {
  readonly name: string;
  /** Quotes and escapes one identifier. Always quotes, whatever the name looks like. */
  quoteIdentifier(name: string): string;
  /**
   * `"schema"."table"`, or `"catalog"."schema"."table"` where a bare schema name can be
   * ambiguous (DuckDB names its catalog after the file, so a dataset `shop` in `shop.duckdb`).
   */
  qualify(ref: TableRef): string;
  /** A schema name as CREATE/DROP SCHEMA and search_path take it (catalog-qualified where needed). */
  qualifySchema(schema: string): string;
  /** Column type for a haul data type (uses precision/scale/timezone hints of the column). */
  columnType(column: Pick<ColumnSchema, 'dataType' | 'precision' | 'scale' | 'timezone'>): string;
  /**
   * A collation for the column's definition, when the database should not use its default
   * (PostgreSQL: "C" for the row key `_dlt_id`, see postgres/dialect.ts). Undefined: the default.
   */
  columnCollation?(column: Pick<ColumnSchema, 'dataType' | 'rowKey'>): string | undefined;
  /**
   * A storage compression for the column's definition (`USING COMPRESSION`), when the
   * database's own choice costs more than it saves (DuckDB: the random row ids, see
   * duckdb/dialect.ts). Undefined: the database chooses.
   */
  columnCompression?(column: Pick<ColumnSchema, 'name'>): string | undefined;
  /** Expression for "now" as a timestamp with time zone. */
  readonly nowExpression: string;
  /** Identifier lookups in this database ignore case (DuckDB) or not (PostgreSQL). */
  readonly caseInsensitiveIdentifiers: boolean;
  /**
   * Extra column definitions for a merge staging root table that `stagingOrderBy` relies on
   * (e.g. a serial filled while loading). Empty when the database has a native row order.
   */
  stagingExtraColumns(): string[];
  /**
   * An expression over the staging table alias that orders rows as they were loaded (file
   * order, files in the order given). Used to keep the last row of duplicate keys.
   */
  stagingOrderBy(alias: string): string;
  /**
   * Bulk-loads one job file into `target`, inside the caller's transaction: JSONL (canonical
   * values, missing keys are NULL), or the parquet/csv files normalize writes (one column per
   * schema column, csv with a header). Only formats in the destination's
   * `supportedLoaderFileFormats` reach it. Returns the number of rows inserted.
   */
  bulkLoadFile(tx: SqlExecutor, target: TableRef, columns: ColumnSchema[], path: string, format: LoaderFileFormat, file?: { maxLineBytes?: number }): Promise<number>;
  /**
   * Optional: bulk-loads several job files of one table and format in one statement (the
   * destination reads them together, e.g. in parallel). Only appends use it, so the rows
   * may land in any order. Without it each file is loaded by bulkLoadFile, in the same
   * transaction.
   */
  bulkLoadFiles?(tx: SqlExecutor, target: TableRef, columns: ColumnSchema[], paths: string[], format: LoaderFileFormat, file?: { maxLineBytes?: number }): Promise<number>;
  /**
   * True when an error may go away by trying again (lock, write conflict, out of memory,
   * connection lost); false for errors of the data or the SQL (retrying cannot help).
   */
  isTransientError(err: unknown): boolean;
}

/** Standard SQL identifier quoting: double quotes, embedded quotes doubled. NUL is refused. */
export function quoteIdentifierStandard(name: string): string {
  if (name.includes('\u0000')) throw new Error(`identifier ${JSON.stringify(name)} contains a NUL character`);
  return `"${name.replaceAll('"', '""')}"`;
}

/** Standard SQL string literal (single quotes doubled). Only for identifiers that a SQL
 * function takes as strings (e.g. read_json's column map), never for row values. */
export function quoteStringLiteralStandard(s: string): string {
  if (s.includes('\u0000')) throw new Error(`string ${JSON.stringify(s)} contains a NUL character`);
  return `'${s.replaceAll("'", "''")}'`;
}

export type { DataType };
