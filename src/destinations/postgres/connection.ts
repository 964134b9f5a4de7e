import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { DestinationError } from '../../errors.js';
import { quoteIdentifierStandard, type SqlClient, type SqlExecutor } from '../sql/dialect.js';
import { credentialsLocation, type PostgresCredentials } from './credentials.js';
import { classifyPgError } from './errors.js';
import { SerialConnection } from '../sql/serial-connection.js';

type Driver = typeof import('./driver.js');
let driver: Driver | undefined;

/**
 * pg and pg-copy-streams load with the first connection, not with haul: a process that
 * loads only into DuckDB or files does not carry them (~5 MB and ~40 ms at import).
 */
async function loadDriver(): Promise<Driver> {
  driver ??= await import('./driver.js');
  return driver;
}

/** An executor that can also stream rows into `COPY ... FROM STDIN`. */
export interface CopyExecutor extends SqlExecutor {
  /**
   * Runs `copySql` (a `COPY ... FROM STDIN`) with the bytes of `source` piped through
   * `transforms`. Returns the number of rows COPY reports. A failure of any stream aborts
   * the COPY (CopyFail); the caller's transaction must then be rolled back.
   */
  copyFrom(copySql: string, source: Readable, ...transforms: Transform[]): Promise<number>;
}

export function isCopyExecutor(ex: SqlExecutor): ex is CopyExecutor {
  return typeof (ex as Partial<CopyExecutor>).copyFrom === 'function';
}

// ------------------------------------------------------------------ client

/**
 * A SqlClient over one PostgreSQL connection (`pg.Client`). Calls are serialized: a
 * transaction holds the connection until COMMIT/ROLLBACK. A connection that broke (server
 * restart, network) is dropped and the next call connects again. Errors about the
 * destination (unreachable, authentication, missing database, privileges) become typed
 * haul errors naming `host:port/database`; errors of the SQL or data are passed on as the
 * driver raised them.
 */
export class PostgresSqlClient implements SqlClient {
  private readonly conn = new SerialConnection<pg.Client>(() => this.connect());
  private searchPath: string | undefined;
  readonly location: string;

  constructor(private readonly credentials: PostgresCredentials) {
    this.location = credentialsLocation(credentials);
  }

  async open(): Promise<void> {
    await this.conn.get();
  }

  private async connect(): Promise<pg.Client> {
    const c = this.credentials;
    const { pg, sslOption, typeParsers } = await loadDriver();
    const client = new pg.Client({
      host: c.host,
      port: c.port,
      database: c.database,
      user: c.username,
      password: c.password,
      ssl: sslOption(c.sslmode),
      connectionTimeoutMillis: c.connectTimeout * 1000,
      application_name: 'haul',
      types: typeParsers,
    });
    // An idle connection that dies emits 'error'; unhandled it would crash the process.
    client.on('error', () => {
      this.conn.drop(client);
    });
    try {
      await client.connect();
      if (this.searchPath !== undefined) await client.query(`SET search_path TO ${this.searchPath}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw this.typed(err);
    }
    return client;
  }

  /** Typed errors for destination-level failures; a broken connection is dropped. */
  private typed(err: unknown): unknown {
    driver?.withServerDetails(err);
    const t = classifyPgError(err, this.location, this.credentials.username);
    const broken = t && t.code === 'DestinationUnreachable' ? this.conn.drop() : undefined;
    if (broken) void broken.end().catch(() => undefined);
    return t ?? err;
  }

  async close(): Promise<void> {
    await this.conn.close((c) => c.end().catch(() => undefined));
  }

  private async rawExecute(sql: string, params?: unknown[]): Promise<number> {
    const c = await this.conn.get();
    try {
      const r = await c.query({ text: sql, values: params });
      return r.rowCount ?? 0;
    } catch (err) {
      throw this.typed(err);
    }
  }

  private async rawQuery<T>(sql: string, params?: unknown[]): Promise<T[]> {
    const c = await this.conn.get();
    try {
      const r = await c.query({ text: sql, values: params });
      // a multi-statement text returns one result per statement: the last one's rows
      const last = Array.isArray(r) ? (r[r.length - 1] as pg.QueryResult | undefined) : r;
      return (last?.rows ?? []) as T[];
    } catch (err) {
      throw this.typed(err);
    }
  }

  private async rawCopy(copySql: string, source: Readable, transforms: Transform[]): Promise<number> {
    const c = await this.conn.get();
    const { copyFrom } = await loadDriver();
    const sink = c.query(copyFrom(copySql));
    try {
      await pipeline([source, ...transforms, sink]);
    } catch (err) {
      throw this.typed(err);
    }
    return sink.rowCount;
  }

  execute(sql: string, params?: unknown[]): Promise<number> {
    return this.conn.serialize(() => this.rawExecute(sql, params));
  }

  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.conn.serialize(() => this.rawQuery<T>(sql, params));
  }

  /** A COPY outside a transaction (it commits on its own). */
  copyFrom(copySql: string, source: Readable, ...transforms: Transform[]): Promise<number> {
    return this.conn.serialize(() => this.rawCopy(copySql, source, transforms));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.conn.serialize(async () => {
      let open = true;
      const guard = (what: string) => {
        if (!open) throw new DestinationError('postgres', `${what} after the end of its transaction`);
      };
      const tx: CopyExecutor = {
        execute: async (sql, params) => {
          guard('statement');
          return this.rawExecute(sql, params);
        },
        query: async <R>(sql: string, params?: unknown[]) => {
          guard('query');
          return this.rawQuery<R>(sql, params);
        },
        copyFrom: async (copySql, source, ...transforms) => {
          guard('COPY');
          return this.rawCopy(copySql, source, transforms);
        },
      };
      await this.rawExecute('BEGIN');
      try {
        const out = await fn(tx);
        open = false;
        await this.rawExecute('COMMIT');
        return out;
      } catch (err) {
        open = false;
        if (this.conn.peek()) {
          try {
            await this.rawExecute('ROLLBACK');
          } catch {
            // the connection broke, or a failed COMMIT already ended the transaction
          }
        }
        throw err;
      }
    });
  }

  async setDefaultSchema(schema: string): Promise<void> {
    this.searchPath = quoteIdentifierStandard(schema);
    await this.execute(`SET search_path TO ${this.searchPath}`);
  }

  /**
   * Streams rows through a server-side cursor (DECLARE ... NO SCROLL, FETCH n) in a read-only
   * transaction on a connection of its own, so the server holds the result and this process
   * one batch.
   */
  async *stream<T = Record<string, unknown>>(sql: string, params: unknown[] | undefined, chunkSize: number): AsyncGenerator<T[]> {
    const own = new PostgresSqlClient(this.credentials);
    own.searchPath = this.searchPath;
    try {
      const c = await own.conn.get();
      const run = async (text: string, values?: unknown[]) => {
        try {
          return await c.query({ text, values });
        } catch (err) {
          throw own.typed(err);
        }
      };
      await run('BEGIN READ ONLY');
      try {
        await run(`DECLARE haul_stream NO SCROLL CURSOR FOR ${sql}`, params);
        const n = Math.max(1, Math.floor(chunkSize));
        for (;;) {
          const r = await run(`FETCH FORWARD ${n} FROM haul_stream`);
          if (r.rows.length === 0) break;
          yield r.rows as T[];
          if (r.rows.length < n) break;
        }
      } finally {
        await run('ROLLBACK').catch(() => undefined);
      }
    } finally {
      await own.close();
    }
  }
}
