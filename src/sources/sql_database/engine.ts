/**
 * One small adapter per database engine behind this interface: list and reflect tables,
 * stream a query's rows in chunks with a server-side cursor (memory stays flat whatever the
 * table size), quote identifiers the engine's way. Values always travel as parameters.
 */
import type { SqlDialect } from './credentials.js';

/**
 * The family of a column's type, as SQLAlchemy's generic types sort them (dlt reflects
 * through SQLAlchemy, so the families decide the dlt data type).
 */
export type ColumnKind =
  | 'smallint'
  | 'integer'
  | 'numeric'
  | 'float'
  | 'string'
  | 'binary'
  | 'datetime'
  | 'date'
  | 'time'
  | 'json'
  | 'array'
  | 'bool'
  | 'uuid'
  | 'unknown';

export interface ReflectedColumn {
  name: string;
  /** The type as the database spells it, e.g. `numeric(10,2)`, `varchar(20)`, `integer[]`. */
  nativeType: string;
  kind: ColumnKind;
  nullable: boolean;
  /** Declared length of a string or binary type. */
  length?: number;
  precision?: number;
  scale?: number;
  /** Date-times: whether the type keeps a time zone (timestamptz). */
  timezone?: boolean;
}

export interface ReflectedTable {
  /** The schema the table lives in (undefined where the engine has none: SQLite, MySQL's database). */
  schema?: string;
  name: string;
  columns: ReflectedColumn[];
  primaryKey: string[];
  isView: boolean;
}

export interface SqlEngine {
  readonly dialect: SqlDialect;
  /** How messages name the database: dialect, host:port/database or file; never the password. */
  readonly location: string;
  quote(identifier: string): string;
  /** The placeholder of the `index`-th (1-based) parameter. */
  placeholder(index: number): string;
  /** Table (and, with includeViews, view) names in the schema (the default schema when undefined). */
  listTables(schema: string | undefined, includeViews: boolean): Promise<string[]>;
  /** Columns and primary key of one table or view; undefined when it does not exist. */
  reflectTable(schema: string | undefined, table: string): Promise<ReflectedTable | undefined>;
  /**
   * Runs a SELECT and yields its rows in chunks of at most `chunkSize`, read from the server
   * chunk by chunk. Values come out as haul serializes them: numbers, strings, booleans,
   * bigint, Buffer, parsed JSON, dates and times as ISO strings (UTC for timestamps).
   */
  streamRows(sql: string, params: unknown[], chunkSize: number): AsyncIterable<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** `schema.table` quoted, or the table alone. */
export function qualifiedName(engine: Pick<SqlEngine, 'quote'>, schema: string | undefined, table: string): string {
  return schema ? `${engine.quote(schema)}.${engine.quote(table)}` : engine.quote(table);
}

/** `"a""b"`: doubles the quote character inside. */
export function quoteWith(q: string, identifier: string): string {
  return q + identifier.split(q).join(q + q) + q;
}

/** Splits `numeric(10,2)` into `numeric` and [10, 2]; `character varying(20)` into its name and [20]. */
export function typeArgs(nativeType: string): { base: string; args: number[] } {
  const m = /^([^(]*)\(([^)]*)\)(.*)$/.exec(nativeType.trim());
  if (!m) return { base: nativeType.trim().toLowerCase(), args: [] };
  const args = m[2]!.split(',').map((s) => Number(s.trim())).filter((n) => Number.isFinite(n));
  return { base: `${m[1]!.trim()}${m[3]!.trimEnd()}`.trim().toLowerCase(), args };
}
