import { DestinationError, UnknownTableError } from '../../errors.js';
import type { DatasetColumn, DatasetReader, TableRead } from '../types.js';
import type { SqlClient, SqlDialect } from './dialect.js';

/**
 * `pipeline.dataset()` on a SQL database: tables and columns from information_schema, reads
 * built from quoted identifiers with limit/offset as parameters, streaming on the client's
 * own streaming connection. `prepare` runs before each call (e.g. the filesystem destination
 * refreshes its views over the files).
 */
export class SqlDatasetReader implements DatasetReader {
  constructor(
    private readonly sql: SqlClient,
    private readonly dialect: SqlDialect,
    private readonly datasetName: string,
    private readonly runQuery: <T>(sql: string, params?: unknown[]) => Promise<T[]>,
    private readonly prepare: () => Promise<void> = async () => undefined,
  ) {}

  async tables(): Promise<string[]> {
    await this.prepare();
    const rows = await this.sql.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [this.datasetName],
    );
    return rows.map((r) => String(r.table_name));
  }

  async columns(table: string): Promise<DatasetColumn[]> {
    await this.prepare();
    const rows = await this.sql.query<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [this.datasetName, table],
    );
    if (rows.length === 0) throw new UnknownTableError(table, this.datasetName, await this.tables());
    return rows.map((r) => ({ name: String(r.column_name), destinationType: String(r.data_type) }));
  }

  async rowCounts(tables: string[]): Promise<Record<string, number>> {
    await this.prepare();
    const out: Record<string, number> = {};
    for (const t of tables) {
      const rows = await this.sql.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${this.dialect.qualify({ schema: this.datasetName, table: t })}`);
      out[t] = Number(rows[0]?.n ?? 0);
    }
    return out;
  }

  /** SELECT for a TableRead; the table and every named column must exist. */
  private async selectSql(q: TableRead): Promise<{ sql: string; params: unknown[] }> {
    const known = new Set((await this.columns(q.table)).map((c) => c.name));
    const check = (c: string) => {
      if (!known.has(c)) {
        throw new DestinationError('dataset', `table "${q.table}" in dataset "${this.datasetName}" has no column "${c}"; its columns: ${[...known].join(', ')}`);
      }
      return this.dialect.quoteIdentifier(c);
    };
    const cols = q.columns && q.columns.length > 0 ? q.columns.map(check).join(', ') : '*';
    let sql = `SELECT ${cols} FROM ${this.dialect.qualify({ schema: this.datasetName, table: q.table })}`;
    const params: unknown[] = [];
    if (q.orderBy && q.orderBy.length > 0) sql += ` ORDER BY ${q.orderBy.map((o) => `${check(o.column)}${o.descending ? ' DESC' : ''}`).join(', ')}`;
    if (q.limit !== undefined) {
      params.push(q.limit);
      sql += ` LIMIT $${params.length}`;
    }
    if (q.offset !== undefined) {
      params.push(q.offset);
      sql += ` OFFSET $${params.length}`;
    }
    return { sql, params };
  }

  async read<T = Record<string, unknown>>(q: TableRead): Promise<T[]> {
    const { sql, params } = await this.selectSql(q);
    return this.sql.query<T>(sql, params);
  }

  async *stream<T = Record<string, unknown>>(q: TableRead, chunkSize: number): AsyncGenerator<T[]> {
    const { sql, params } = await this.selectSql(q);
    yield* this.sql.stream<T>(sql, params, chunkSize);
  }

  async query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    await this.prepare();
    return this.runQuery<T>(sql, params);
  }
}
