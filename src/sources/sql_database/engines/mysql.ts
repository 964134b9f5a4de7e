/**
 * MySQL and MariaDB through `mysql2`. Rows stream from the server as the query's result set
 * is read (`query().stream()`, paused at each full chunk, pauses the socket), so the client
 * holds about one chunk. The session runs in UTC; DATETIME/TIMESTAMP come as UTC ISO strings,
 * DATE as text, MariaDB's JSON as text, DECIMAL as exact strings, BIGINT as numbers (bigint
 * past 2^53), BIT as numbers, as SQLAlchemy gives them to dlt.
 */
import mysql from 'mysql2';
import type { SqlCredentials } from '../credentials.js';
import { credentialsLocation } from '../credentials.js';
import { classifyConnectError } from '../connect-errors.js';
import { quoteWith, type ReflectedColumn, type ReflectedTable, type SqlEngine } from '../engine.js';
import { mysqlKind } from '../type-mapping.js';
import { parseJsonText } from '../../../common/big-ints.js';

const TYPE_TIMESTAMP = 0x07;
const TYPE_LONGLONG = 0x08;
const TYPE_BIT = 0x10;
const TYPE_DATETIME = 0x0c;
const TYPE_JSON = 0xf5;
const DATETIME_TEXT = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/;

/**
 * What a streamed row's values need after mysql2 (which gives DATETIME/TIMESTAMP and JSON as
 * text here): date-times become UTC ISO strings; MySQL's JSON type is parsed (SQLAlchemy
 * reflects it as JSON), MariaDB's JSON is LONGTEXT with a check, reflected as text, so it
 * stays a string. Done per column of the result, not by a typeCast callback on every field.
 */
function rowConverter(fields: readonly mysql.FieldPacket[] | undefined): ((row: Record<string, unknown>) => void) | undefined {
  // A repeated name holds the last field's value, so the last field decides.
  const typeOf = new Map<string, number | undefined>();
  for (const f of fields ?? []) typeOf.set(f.name, f.columnType);
  const dates: string[] = [];
  const json: string[] = [];
  const bigints: string[] = [];
  const bits: string[] = [];
  for (const [name, type] of typeOf) {
    if (type === TYPE_DATETIME || type === TYPE_TIMESTAMP) dates.push(name);
    else if (type === TYPE_JSON) json.push(name);
    else if (type === TYPE_LONGLONG) bigints.push(name);
    else if (type === TYPE_BIT) bits.push(name);
  }
  if (dates.length === 0 && json.length === 0 && bigints.length === 0 && bits.length === 0) return undefined;
  return (row) => {
    for (const n of dates) {
      const s = row[n];
      if (typeof s === 'string' && DATETIME_TEXT.test(s)) row[n] = `${s.replace(' ', 'T')}Z`;
    }
    for (const n of json) {
      const s = row[n];
      if (typeof s === 'string') row[n] = parseJsonText(s);
    }
    // mysql2 gives a BIGINT past 2^53 as a string: an exact bigint, as Python's int
    for (const n of bigints) {
      const s = row[n];
      if (typeof s === 'string') row[n] = BigInt(s);
    }
    // BIT(n) comes as big-endian bytes; SQLAlchemy makes it an int, so dlt a bigint column
    for (const n of bits) {
      const b = row[n];
      if (Buffer.isBuffer(b)) row[n] = bitValue(b);
    }
  };
}

/** BIT(n)'s big-endian bytes as an integer (a number while it is safe). */
function bitValue(b: Buffer): number | bigint {
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export async function openMysql(c: SqlCredentials): Promise<SqlEngine> {
  const where = credentialsLocation(c);
  const conn = mysql.createConnection({
    host: c.host,
    port: c.port,
    database: c.database,
    user: c.username,
    password: c.password,
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: false,
    dateStrings: true,
    jsonStrings: true,
    timezone: 'Z',
    connectTimeout: Number(c.query.connect_timeout ?? 15) * 1000,
  });
  // An idle connection that drops must not crash the process; the next query reports it.
  conn.on('error', () => {});
  const engine = new MysqlEngine(conn, where, c.database!);
  try {
    await engine.run("SET time_zone = '+00:00'");
  } catch (e) {
    conn.destroy();
    throw classifyConnectError(e, where, c.username ?? '');
  }
  return engine;
}

class MysqlEngine implements SqlEngine {
  readonly dialect = 'mysql' as const;
  private destroyed = false;
  constructor(
    private readonly conn: mysql.Connection,
    readonly location: string,
    private readonly database: string,
  ) {}

  run<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.conn.query(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T[])));
    });
  }

  quote(identifier: string): string {
    return quoteWith('`', identifier);
  }

  placeholder(): string {
    return '?';
  }

  async listTables(schema: string | undefined, includeViews: boolean): Promise<string[]> {
    const rows = await this.run<{ name: string; type: string }>(
      'SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
      [schema ?? this.database],
    );
    return rows.filter((r) => r.type !== 'SEQUENCE' && (includeViews || r.type !== 'VIEW')).map((r) => r.name);
  }

  async reflectTable(schema: string | undefined, table: string): Promise<ReflectedTable | undefined> {
    const db = schema ?? this.database;
    const t = await this.run<{ type: string }>('SELECT TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, table]);
    if (t.length === 0) return undefined;
    const cols = await this.run<{ name: string; dataType: string; columnType: string; nullable: string }>(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [db, table],
    );
    const pk = await this.run<{ name: string }>(
      `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
       WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
      [db, table],
    );
    const columns: ReflectedColumn[] = cols.map((r) => ({
      name: r.name,
      nativeType: r.columnType,
      nullable: r.nullable === 'YES',
      ...mysqlKind(r.dataType, r.columnType),
    }));
    return { schema, name: table, columns, primaryKey: pk.map((r) => r.name), isView: t[0]!.type === 'VIEW' };
  }

  async *streamRows(sql: string, params: unknown[], chunkSize: number): AsyncIterable<Record<string, unknown>[]> {
    const stream = this.conn.query(sql, params).stream({ highWaterMark: Math.min(chunkSize, 10_000) });
    // Rows are collected from 'data' events and the stream paused at each full chunk: an
    // async iterator over the stream would cost a promise per row.
    let chunk: Record<string, unknown>[] = [];
    let convert: ((row: Record<string, unknown>) => void) | undefined;
    let ended = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const signal = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    stream.on('fields', (fields: mysql.FieldPacket[]) => (convert = rowConverter(fields)));
    stream.on('data', (row: Record<string, unknown>) => {
      convert?.(row);
      chunk.push(row);
      if (chunk.length >= chunkSize) {
        stream.pause();
        signal();
      }
    });
    stream.on('end', () => {
      ended = true;
      signal();
    });
    stream.on('error', (e: unknown) => {
      failure ??= e;
      ended = true;
      signal();
    });
    try {
      for (;;) {
        while (chunk.length < chunkSize && !ended) await new Promise<void>((resolve) => (wake = resolve));
        if (failure !== undefined) throw failure;
        while (chunk.length >= chunkSize) {
          let full: Record<string, unknown>[] | undefined = chunk;
          chunk = full.length > chunkSize ? full.splice(chunkSize) : [];
          yield full;
          full = undefined; // see postgres.ts copyRows: no stale reference to a chunk handed on
        }
        if (ended) break;
        stream.resume();
      }
      if (failure !== undefined) throw failure;
      if (chunk.length > 0) yield chunk;
    } finally {
      if (!stream.readableEnded) {
        // Stopped early: the rest of the result set would still arrive, so drop the connection.
        stream.destroy();
        this.conn.destroy();
        this.destroyed = true;
      }
    }
  }

  async close(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await new Promise<void>((resolve) => this.conn.end(() => resolve()));
  }
}
