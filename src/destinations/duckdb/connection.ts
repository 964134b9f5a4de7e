import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  DuckDBConnection,
  DuckDBInstance,
  DuckDBTypeId,
  JSDuckDBValueConverter,
  blobValue,
  listValue,
  timestampTZValue,
  type DuckDBValue,
  type DuckDBValueConverter,
  type JS,
} from '@duckdb/node-api';
import { DestinationConfigError, DestinationError, DestinationUnreachableError, HaulError } from '../../errors.js';
import { quoteIdentifierStandard, quoteStringLiteralStandard, type SqlClient, type SqlExecutor } from '../sql/dialect.js';
import { SerialConnection } from '../sql/serial-connection.js';
import { exactInteger } from '../../common/safe-integer.js';
import { applyGlobalConfig, applyLocalConfig, hasGlobalConfig, hasLocalConfig, type DuckDBUserConfig } from './user-config.js';

// ------------------------------------------------------------------ instance cache

interface CachedInstance {
  instance: Promise<DuckDBInstance>;
  refs: number;
}

/**
 * One DuckDBInstance per database file in this process, shared by every client that opens it
 * (DuckDB allows one read-write instance per file per process) and closed when the last
 * client closes, so the file lock is released and other processes can open the file.
 */
const instances = new Map<string, CachedInstance>();

/** The cache key: the real path of the file's folder plus its name (so `a/../x.duckdb` and
 * symlinked folders share one instance). */
function cacheKey(path: string): string {
  if (path === ':memory:') return path;
  try {
    return join(realpathSync(dirname(path)), basename(path));
  } catch {
    return path;
  }
}

async function acquireInstance(path: string, settings: Record<string, string>, user: DuckDBUserConfig): Promise<DuckDBInstance> {
  let entry = instances.get(path);
  if (!entry) {
    // Settings apply when the file is first opened in this process; later clients share it.
    entry = { instance: createInstance(path, settings, user), refs: 0 };
    instances.set(path, entry);
  }
  entry.refs++;
  try {
    return await entry.instance;
  } catch (err) {
    entry.refs--;
    if (instances.get(path) === entry) instances.delete(path);
    throw err;
  }
}

/** A new instance with the user's extensions loaded and global settings set (closed again when they fail). */
async function createInstance(path: string, settings: Record<string, string>, user: DuckDBUserConfig): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(path, settings);
  if (!hasGlobalConfig(user)) return instance;
  try {
    const conn = await instance.connect();
    try {
      await applyGlobalConfig((sql) => conn.run(sql), user, path);
    } finally {
      conn.closeSync();
    }
  } catch (err) {
    instance.closeSync();
    throw err;
  }
  return instance;
}

async function releaseInstance(path: string): Promise<void> {
  const entry = instances.get(path);
  if (!entry) return;
  entry.refs--;
  if (entry.refs > 0) return;
  instances.delete(path);
  const instance = await entry.instance;
  instance.closeSync();
}

// ------------------------------------------------------------------ value conversion


/**
 * Row values returned by `query()`:
 * - BIGINT/HUGEINT/UBIGINT: `number` when it is a safe integer, otherwise `bigint`;
 * - DECIMAL: string (exact, the canonical form, e.g. "12.340000000");
 * - TIMESTAMP / TIMESTAMP WITH TIME ZONE: Date;
 * - DATE: "YYYY-MM-DD" string; TIME: "HH:MM:SS[.ffffff]" string (no time zone games);
 * - JSON: the parsed JSON value; BLOB: Buffer; VARCHAR: string; BOOLEAN, DOUBLE: as is;
 * - LIST/STRUCT and the rest: as @duckdb/node-api's JS converter gives them.
 */
export const haulValueConverter: DuckDBValueConverter<unknown> = (value, type, converter) => {
  if (value == null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT: {
      const v = value as bigint;
      return exactInteger(v);
    }
    case DuckDBTypeId.BLOB: {
      const u = JSDuckDBValueConverter(value, type, converter as DuckDBValueConverter<JS>) as Uint8Array;
      return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    }
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.DATE:
    case DuckDBTypeId.TIME:
      return String(value);
    case DuckDBTypeId.VARCHAR:
      if (type.alias === 'JSON') {
        try {
          return JSON.parse(String(value));
        } catch {
          return String(value);
        }
      }
      return String(value);
    default:
      return JSDuckDBValueConverter(value, type, converter as DuckDBValueConverter<JS>);
  }
};

/** JS parameter values to DuckDB values: Date as TIMESTAMPTZ, Uint8Array as BLOB, an array as LIST, undefined as NULL. */
function toDuckDBParams(params: unknown[] | undefined): DuckDBValue[] | undefined {
  if (!params || params.length === 0) return undefined;
  return params.map((p): DuckDBValue => {
    if (p === undefined || p === null) return null;
    if (p instanceof Date) return timestampTZValue(BigInt(p.getTime()) * 1000n);
    if (p instanceof Uint8Array) return blobValue(p);
    // a list of plain values (e.g. the job files of one INSERT)
    if (Array.isArray(p)) return listValue(p as DuckDBValue[]);
    return p as DuckDBValue;
  });
}

// ------------------------------------------------------------------ client

/**
 * A SqlClient over one DuckDB connection. Statements are serialized on the connection: a
 * transaction holds it until COMMIT/ROLLBACK, and other calls wait for their turn.
 */
export class DuckDBSqlClient implements SqlClient {
  private readonly conn = new SerialConnection<DuckDBConnection>(() => this.connect());

  /** Instance cache key, fixed when the connection opens. */
  private key: string;
  /** The database's catalog name (DuckDB names it after the file), known once connected. */
  catalog: string | undefined;
  private searchPath: string | undefined;

  /** The instance the connection came from (to open more connections, e.g. for streaming). */
  private instance: DuckDBInstance | undefined;

  /**
   * @param settings DuckDB's own options for a new instance (haul's memory_limit).
   * @param ownInstance an in-memory database of this client alone (not the process-wide
   * `:memory:` instance that duckdb(':memory:') destinations share), closed with the client.
   * @param user the user's extensions, settings and pragmas (user-config.ts).
   */
  constructor(
    readonly path: string,
    private readonly settings: Record<string, string> = {},
    private readonly ownInstance = false,
    private readonly user: DuckDBUserConfig = {},
  ) {
    this.key = path;
  }

  async open(): Promise<void> {
    await this.conn.get();
  }

  private async connect(): Promise<DuckDBConnection> {
    if (this.path !== ':memory:') {
      let isDir = false;
      try {
        isDir = statSync(this.path).isDirectory();
      } catch {
        // missing: DuckDB creates it
      }
      if (isDir) throw new DestinationUnreachableError('duckdb', this.path, new Error('the path is a directory, not a database file'));
      // DuckDB opens such a file but looks for its write-ahead log elsewhere (the `?` part
      // moved after `.wal`), so every commit fails: refuse it before anything is written.
      if (this.path.includes('?')) {
        throw new DestinationConfigError('duckdb', this.path, new Error("DuckDB cannot keep the write-ahead log of a database whose path contains '?'"), "Use a database path without '?': duckdb({ path }), or credentials under [destination.duckdb] in .dlt/config.toml");
      }
    }
    let instance: DuckDBInstance;
    this.key = cacheKey(this.path);
    try {
      instance = this.ownInstance ? await createInstance(':memory:', this.settings, this.user) : await acquireInstance(this.key, this.settings, this.user);
    } catch (err) {
      if (err instanceof HaulError) throw err;
      throw new DestinationUnreachableError('duckdb', this.path, err);
    }
    try {
      const conn = await this.openConnection(instance);
      const rows = (await conn.runAndReadAll('SELECT current_database() AS c')).getRows();
      this.catalog = String(rows[0]?.[0]);
      this.instance = instance;
      return conn;
    } catch (err) {
      await this.releaseInstance(instance);
      if (err instanceof HaulError) throw err;
      throw new DestinationUnreachableError('duckdb', this.path, err);
    }
  }

  /** A connection of `instance` with the user's pragmas and session settings. */
  private async openConnection(instance: DuckDBInstance): Promise<DuckDBConnection> {
    const conn = await instance.connect();
    if (!hasLocalConfig(this.user)) return conn;
    try {
      await applyLocalConfig((sql) => conn.run(sql), this.user, this.path);
    } catch (err) {
      conn.closeSync();
      throw err;
    }
    return conn;
  }

  private async releaseInstance(instance: DuckDBInstance): Promise<void> {
    if (this.ownInstance) instance.closeSync();
    else await releaseInstance(this.key);
  }

  async close(): Promise<void> {
    await this.conn.close(async (c) => {
      c.closeSync();
      const instance = this.instance;
      this.instance = undefined;
      if (instance) await this.releaseInstance(instance);
    });
  }

  /**
   * Streams a query's rows in batches of about `chunkSize` on a connection of its own, so the
   * caller may run other queries on this client between batches. Memory holds one batch.
   */
  async *stream<T = Record<string, unknown>>(sql: string, params: unknown[] | undefined, chunkSize: number): AsyncGenerator<T[]> {
    await this.conn.get();
    const instance = this.instance;
    if (!instance) throw new DestinationError('duckdb', 'the client was closed');
    const conn = await this.openConnection(instance);
    try {
      if (this.searchPath !== undefined) await conn.run(`SET search_path = ${quoteStringLiteralStandard(this.searchPath)}`);
      const result = await conn.stream(sql, toDuckDBParams(params));
      const names = result.deduplicatedColumnNames();
      const types = result.columnTypes();
      let batch: T[] = [];
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        for (const row of chunk.getRows()) {
          const out: Record<string, unknown> = {};
          for (let i = 0; i < names.length; i++) out[names[i]!] = haulValueConverter(row[i] ?? null, types[i]!, haulValueConverter);
          batch.push(out as T);
          if (batch.length >= chunkSize) {
            yield batch;
            batch = [];
          }
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      conn.closeSync();
    }
  }

  private async rawExecute(sql: string, params?: unknown[]): Promise<number> {
    const c = await this.conn.get();
    const result = await c.run(sql, toDuckDBParams(params));
    return result.rowsChanged;
  }

  private async rawQuery<T>(sql: string, params?: unknown[]): Promise<T[]> {
    const c = await this.conn.get();
    const reader = await c.runAndReadAll(sql, toDuckDBParams(params));
    // Column types come from the result (chunk vectors lose aliases such as JSON).
    const names = reader.deduplicatedColumnNames();
    const types = reader.columnTypes();
    return reader.getRows().map((row) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) out[names[i]!] = haulValueConverter(row[i] ?? null, types[i]!, haulValueConverter);
      return out as T;
    });
  }

  execute(sql: string, params?: unknown[]): Promise<number> {
    return this.conn.serialize(() => this.rawExecute(sql, params));
  }

  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.conn.serialize(() => this.rawQuery<T>(sql, params));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.conn.serialize(async () => {
      let open = true;
      const tx: SqlExecutor = {
        execute: async (sql, params) => {
          if (!open) throw new DestinationError('duckdb', 'statement after the end of its transaction');
          return this.rawExecute(sql, params);
        },
        query: async <R>(sql: string, params?: unknown[]) => {
          if (!open) throw new DestinationError('duckdb', 'query after the end of its transaction');
          return this.rawQuery<R>(sql, params);
        },
      };
      await this.rawExecute('BEGIN TRANSACTION');
      try {
        const out = await fn(tx);
        open = false;
        await this.rawExecute('COMMIT');
        return out;
      } catch (err) {
        open = false;
        try {
          await this.rawExecute('ROLLBACK');
        } catch {
          // a failed COMMIT already ended the transaction
        }
        throw err;
      }
    });
  }

  async setDefaultSchema(schema: string): Promise<void> {
    await this.conn.get();
    // catalog.schema: a bare schema named like the catalog would be ambiguous
    const path = `${quoteIdentifierStandard(this.catalog ?? 'memory')}.${quoteIdentifierStandard(schema)}`;
    this.searchPath = path;
    await this.execute(`SET search_path = ${quoteStringLiteralStandard(path)}`);
  }
}
