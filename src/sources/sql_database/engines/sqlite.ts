/**
 * SQLite through `better-sqlite3`, opened read-only. A statement's `iterate()` steps through
 * the rows as SQLite produces them (no result set in memory); integers come as bigint from
 * the driver and leave as numbers when they are safe.
 */
import type Database from 'better-sqlite3';
import type { SqlCredentials } from '../credentials.js';
import { credentialsLocation } from '../credentials.js';
import { SourceDatabaseNotFoundError } from '../connect-errors.js';
import { SourceDriverMissingError } from '../../../errors.js';
import { quoteWith, type ReflectedColumn, type ReflectedTable, type SqlEngine } from '../engine.js';
import { sqliteKind } from '../type-mapping.js';
import { exactInteger } from '../../../common/safe-integer.js';

/** The driver's range in package.json's peerDependencies: the one haul is tested with. */
const DRIVER_RANGE = '^12.11.1';

/** better-sqlite3, an optional peer dependency (docs/decisions.md): loaded when SQLite is read. */
async function loadDriver(where: string): Promise<typeof Database> {
  try {
    return (await import('better-sqlite3')).default;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') throw new SourceDriverMissingError(where, 'better-sqlite3', DRIVER_RANGE, e);
    throw e;
  }
}

export async function openSqlite(c: SqlCredentials): Promise<SqlEngine> {
  const where = credentialsLocation(c);
  const Database = await loadDriver(where);
  try {
    const db = new Database(c.database ?? ':memory:', { readonly: c.database !== ':memory:', fileMustExist: c.database !== ':memory:' });
    return new SqliteEngine(db, where);
  } catch (e) {
    throw new SourceDatabaseNotFoundError(where, e);
  }
}


function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

class SqliteEngine implements SqlEngine {
  readonly dialect = 'sqlite' as const;
  constructor(
    private readonly db: Database.Database,
    readonly location: string,
  ) {}

  quote(identifier: string): string {
    return quoteWith('"', identifier);
  }

  placeholder(): string {
    return '?';
  }

  private master(schema: string | undefined): string {
    return schema ? `${this.quote(schema)}.sqlite_master` : 'sqlite_master';
  }

  async listTables(schema: string | undefined, includeViews: boolean): Promise<string[]> {
    const rows = this.db
      .prepare(`SELECT name FROM ${this.master(schema)} WHERE type IN (${includeViews ? "'table', 'view'" : "'table'"}) AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`)
      .all() as { name: string }[];
    return rows.map((r) => r.name);
  }

  async reflectTable(schema: string | undefined, table: string): Promise<ReflectedTable | undefined> {
    const t = this.db.prepare(`SELECT type FROM ${this.master(schema)} WHERE name = ? AND type IN ('table', 'view')`).get(table) as { type: string } | undefined;
    if (!t) return undefined;
    const info = this.db.prepare(`PRAGMA ${schema ? this.quote(schema) + '.' : ''}table_info(${this.quote(table)})`).all() as {
      name: string;
      type: string;
      notnull: number;
      pk: number;
    }[];
    const columns: ReflectedColumn[] = info.map((r) => ({
      name: r.name,
      nativeType: r.type,
      // SQLite lets a primary key column hold NULL unless declared NOT NULL; SQLAlchemy reports it as not nullable.
      nullable: r.notnull === 0 && r.pk === 0,
      ...sqliteKind(r.type),
    }));
    const primaryKey = info.filter((r) => r.pk > 0).sort((a, b) => a.pk - b.pk).map((r) => r.name);
    return { schema, name: table, columns, primaryKey, isView: t.type === 'view' };
  }

  async *streamRows(sql: string, params: unknown[], chunkSize: number): AsyncIterable<Record<string, unknown>[]> {
    const stmt = this.db.prepare(sql).safeIntegers(true);
    // Columns declared JSON hold text; SQLAlchemy's SQLite JSON type hands out the parsed value.
    const jsonColumns = stmt.columns().filter((c) => c.type?.toUpperCase() === 'JSON').map((c) => c.name);
    const it = stmt.iterate(...params) as IterableIterator<Record<string, unknown>>;
    let chunk: Record<string, unknown>[] = [];
    try {
      for (const row of it) {
        for (const k in row) {
          const v = row[k];
          if (typeof v === 'bigint') row[k] = exactInteger(v);
        }
        for (const k of jsonColumns) if (typeof row[k] === 'string') row[k] = parseJson(row[k] as string);
        chunk.push(row);
        if (chunk.length >= chunkSize) {
          yield chunk;
          chunk = [];
        }
      }
      if (chunk.length > 0) yield chunk;
    } finally {
      it.return?.();
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
