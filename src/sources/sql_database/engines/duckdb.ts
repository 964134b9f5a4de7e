/**
 * DuckDB through `@duckdb/node-api`, opened read-only. `stream()` gives a streaming result
 * read one vector chunk (2,048 rows) at a time; chunks are gathered up to `chunkSize`.
 * Values as ../../duckdb-rows.ts converts them (shared with the filesystem parquet reader).
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { duckdbRowPages } from '../../duckdb-rows.js';
import type { SqlCredentials } from '../credentials.js';
import { credentialsLocation } from '../credentials.js';
import { SourceDatabaseNotFoundError } from '../connect-errors.js';
import { quoteWith, type ReflectedColumn, type ReflectedTable, type SqlEngine } from '../engine.js';
import { duckdbKind } from '../type-mapping.js';

export async function openDuckdb(c: SqlCredentials): Promise<SqlEngine> {
  const where = credentialsLocation(c);
  const path = c.database ?? ':memory:';
  try {
    const instance = await DuckDBInstance.create(path, path === ':memory:' ? {} : { access_mode: 'READ_ONLY' });
    const conn = await instance.connect();
    return new DuckdbEngine(instance, conn, where);
  } catch (e) {
    throw new SourceDatabaseNotFoundError(where, e);
  }
}

class DuckdbEngine implements SqlEngine {
  readonly dialect = 'duckdb' as const;
  constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    readonly location: string,
  ) {}

  quote(identifier: string): string {
    return quoteWith('"', identifier);
  }

  placeholder(index: number): string {
    return `$${index}`;
  }

  private async rows<T>(sql: string, params: DuckDBValue[]): Promise<T[]> {
    const r = await this.conn.run(sql, params);
    return (await r.getRowObjectsJS()) as T[];
  }

  private async schemaOr(schema: string | undefined): Promise<string> {
    if (schema) return schema;
    const r = await this.rows<{ s: string }>('SELECT current_schema() AS s', []);
    return r[0]!.s;
  }

  async listTables(schema: string | undefined, includeViews: boolean): Promise<string[]> {
    const r = await this.rows<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_catalog = current_database()
       AND table_type IN ('BASE TABLE'${includeViews ? ", 'VIEW'" : ''}) ORDER BY table_name`,
      [await this.schemaOr(schema)],
    );
    return r.map((x) => x.name);
  }

  async reflectTable(schema: string | undefined, table: string): Promise<ReflectedTable | undefined> {
    const ns = await this.schemaOr(schema);
    const t = await this.rows<{ type: string }>(
      'SELECT table_type AS type FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2 AND table_catalog = current_database()',
      [ns, table],
    );
    if (t.length === 0) return undefined;
    const cols = await this.rows<{ name: string; type: string; nullable: string }>(
      `SELECT column_name AS name, data_type AS type, is_nullable AS nullable FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = $2 AND table_catalog = current_database() ORDER BY ordinal_position`,
      [ns, table],
    );
    const pk = await this.rows<{ names: string[] }>(
      `SELECT constraint_column_names AS names FROM duckdb_constraints()
       WHERE schema_name = $1 AND table_name = $2 AND constraint_type = 'PRIMARY KEY' AND database_name = current_database()`,
      [ns, table],
    );
    const columns: ReflectedColumn[] = cols.map((r) => ({ name: r.name, nativeType: r.type, nullable: r.nullable === 'YES', ...duckdbKind(r.type) }));
    return { schema: ns, name: table, columns, primaryKey: pk[0]?.names ?? [], isView: t[0]!.type === 'VIEW' };
  }

  async *streamRows(sql: string, params: unknown[], chunkSize: number): AsyncIterable<Record<string, unknown>[]> {
    yield* duckdbRowPages(await this.conn.stream(sql, params as DuckDBValue[]), chunkSize);
  }

  async close(): Promise<void> {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
