/**
 * PostgreSQL through `pg`. Rows are read with a server-side cursor (`DECLARE ... NO SCROLL
 * CURSOR` in a read-only transaction, then `FETCH FORWARD <chunkSize>`), so the client holds
 * one chunk at a time. The session runs in UTC and a few type parsers keep values as dlt
 * reads them: int8 as number/bigint, dates and times as ISO text (a timetz without its
 * offset), timestamps as UTC ISO strings, json with exact integers, geometry as text, and
 * the elements of arrays as dlt's JSON holds them.
 */
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { parse as parseArray } from 'postgres-array';
import type { SqlCredentials } from '../credentials.js';
import { credentialsLocation } from '../credentials.js';
import { classifyConnectError } from '../connect-errors.js';
import { quoteWith, type ReflectedColumn, type ReflectedTable, type SqlEngine } from '../engine.js';
import { postgresKind } from '../type-mapping.js';
import { CopyTextDecoder, type FieldParser } from './copy-text.js';
import { parseJsonText } from '../../../common/big-ints.js';
import { RowShape } from './row-shape.js';

const OID = { INT8: 20, JSON: 114, POINT: 600, CIRCLE: 718, DATE: 1082, TIME: 1083, TIMETZ: 1266, TIMESTAMP: 1114, TIMESTAMPTZ: 1184, INTERVAL: 1186, NUMERIC: 1700, JSONB: 3802 };
/** Arrays whose elements pg's own parsers would change (numbers rounded, dates moved into the process's zone, Buffers). */
const ARRAY_OID = { BYTEA: 1001, INT8: 1016, TIMESTAMP: 1115, DATE: 1182, TIME: 1183, TIMESTAMPTZ: 1185, INTERVAL: 1187, NUMERIC: 1231 };

/** Bytes of COPY output read ahead of the rows being handed on (raw bytes: a few MB at most). */
const COPY_BUFFER = 4 << 20;

const TS = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)(?:([+-]\d\d)(?::?(\d\d))?)?$/;

/** `2024-01-02 03:04:05.123456+00` -> `2024-01-02T03:04:05.123456Z` (the session is UTC). */
export function pgTimestampToIso(text: string): string {
  return utcIso(text) ?? slowIso(text);
}

/**
 * The common case without a regular expression: four-digit year, UTC (`+00`) or no zone.
 * Gives what slowIso gives for these, or undefined for everything else.
 */
function utcIso(t: string): string | undefined {
  const n = t.length;
  const e = t.charCodeAt(n - 3) === 43 && t.charCodeAt(n - 2) === 48 && t.charCodeAt(n - 1) === 48 ? n - 3 : n;
  if (e < 19 || t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || t.charCodeAt(10) !== 32 || t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return undefined;
  if (e > 19 && (t.charCodeAt(19) !== 46 || e === 20)) return undefined;
  for (let i = 0; i < e; i++) {
    if (i === 4 || i === 7 || i === 10 || i === 13 || i === 16 || i === 19) continue;
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return `${t.slice(0, 10)}T${t.slice(11, e)}Z`;
}

/**
 * PostgreSQL's `infinity` and `-infinity` as psycopg2 gives them to dlt: Python's
 * `datetime.max` and `datetime.min` (`date.max` and `date.min` for dates).
 */
const INFINITE_TIMESTAMP: Record<string, string> = { infinity: '9999-12-31T23:59:59.999999Z', '-infinity': '0001-01-01T00:00:00Z' };
const INFINITE_DATE: Record<string, string> = { infinity: '9999-12-31', '-infinity': '0001-01-01' };

function pgDate(text: string): string {
  return INFINITE_DATE[text] ?? text;
}

function slowIso(text: string): string {
  const m = TS.exec(text);
  if (!m) return INFINITE_TIMESTAMP[text] ?? text; // BC dates: kept as text
  if (m[3] === undefined || (m[3] === '+00' && (m[4] === undefined || m[4] === '00'))) return `${m[1]}T${m[2]}Z`;
  return `${m[1]}T${m[2]}${m[3]}:${m[4] ?? '00'}`;
}

function int8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

const identity = (v: string) => v;

/** `10:00:00+02` -> `10:00:00`: dlt keeps a timetz's local time and drops its offset. */
function timeOfDay(text: string): string {
  const m = /^(\d\d:\d\d:\d\d(?:\.\d+)?)[+-]\d\d(?::?\d\d){0,2}$/.exec(text);
  return m ? m[1]! : text;
}

/** A fraction of a second as Python's isoformat writes it: six digits, none when zero. */
function pyFraction(text: string): string {
  return text.replace(/\.(\d+)/, (_m, f: string) => (/^0+$/.test(f) ? '' : `.${f.padEnd(6, '0').slice(0, 6)}`));
}

/**
 * Array elements as dlt's JSON holds them (Python's values through its json encoder):
 * numerics as exact strings, int8 exact, dates and times in isoformat (`+00:00` for a
 * zone), bytea as base64, intervals as PostgreSQL's text.
 */
const ARRAY_ELEMENT: Record<number, (text: string) => unknown> = {
  [ARRAY_OID.NUMERIC]: identity,
  [ARRAY_OID.INT8]: int8,
  [ARRAY_OID.DATE]: pgDate,
  [ARRAY_OID.INTERVAL]: identity,
  [ARRAY_OID.TIME]: pyFraction,
  [ARRAY_OID.TIMESTAMP]: (t) => INFINITE_TIMESTAMP[t]?.slice(0, -1) ?? pyFraction(t.replace(' ', 'T')),
  [ARRAY_OID.TIMESTAMPTZ]: (t) => INFINITE_TIMESTAMP[t]?.replace('Z', '+00:00') ?? pyFraction(t.replace(' ', 'T')).replace(/([+-]\d\d)$/, '$1:00'),
  [ARRAY_OID.BYTEA]: (t) => (t.startsWith('\\x') ? Buffer.from(t.slice(2), 'hex').toString('base64') : t),
};

const typeParsers = {
  getTypeParser(oid: number, format?: string) {
    switch (oid) {
      case OID.INT8:
        return int8;
      case OID.DATE:
        return pgDate;
      case OID.TIME:
      case OID.INTERVAL:
      case OID.NUMERIC:
      // geometry as its text, as dlt loads it (pg would make {x, y} objects)
      case OID.POINT:
      case OID.CIRCLE:
        return identity;
      case OID.TIMETZ:
        return timeOfDay;
      case OID.JSON:
      case OID.JSONB:
        // integers past 2^53 exact, as Python's json module (dlt's reader) keeps them
        return parseJsonText;
      case OID.TIMESTAMP:
      case OID.TIMESTAMPTZ:
        return pgTimestampToIso;
      default: {
        const element = ARRAY_ELEMENT[oid];
        if (element) return (text: string) => parseArray(text, element);
        return (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format ?? 'text');
      }
    }
  },
};

export async function openPostgres(c: SqlCredentials): Promise<SqlEngine> {
  const where = credentialsLocation(c);
  const sslmode = c.query.sslmode;
  const client = new pg.Client({
    host: c.host,
    port: c.port,
    database: c.database,
    user: c.username,
    password: c.password,
    // As the PostgreSQL destination: `require` encrypts without checking the certificate,
    // `verify-*` check it; disable/allow/prefer connect without TLS (pg has no fallback).
    ssl: sslmode === 'require' ? { rejectUnauthorized: false } : sslmode === 'verify-ca' || sslmode === 'verify-full' ? true : undefined,
    connectionTimeoutMillis: Number(c.query.connect_timeout ?? 15) * 1000,
    types: typeParsers as pg.CustomTypesConfig,
  });
  // An idle connection that drops must not crash the process; the next query reports it.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query("SET TIME ZONE 'UTC'");
  } catch (e) {
    await client.end().catch(() => {});
    throw classifyConnectError(e, where, c.username ?? '');
  }
  return new PostgresEngine(client, where);
}

class PostgresEngine implements SqlEngine {
  readonly dialect = 'postgres' as const;
  private cursors = 0;
  constructor(
    private readonly client: pg.Client,
    readonly location: string,
  ) {}

  quote(identifier: string): string {
    return quoteWith('"', identifier);
  }

  placeholder(index: number): string {
    return `$${index}`;
  }

  private async schemaOr(schema: string | undefined): Promise<string> {
    if (schema) return schema;
    const r = await this.client.query<{ s: string }>('SELECT current_schema() AS s');
    return r.rows[0]!.s;
  }

  async listTables(schema: string | undefined, includeViews: boolean): Promise<string[]> {
    const kinds = includeViews ? ['r', 'p', 'v', 'm'] : ['r', 'p'];
    const r = await this.client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind = ANY($2::"char"[]) ORDER BY c.relname`,
      [await this.schemaOr(schema), kinds],
    );
    return r.rows.map((x) => x.name);
  }

  async reflectTable(schema: string | undefined, table: string): Promise<ReflectedTable | undefined> {
    const ns = await this.schemaOr(schema);
    const rel = await this.client.query<{ oid: number; relkind: string }>(
      `SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
      [ns, table],
    );
    const found = rel.rows[0];
    if (!found) return undefined;
    const cols = await this.client.query<{ name: string; type: string; typtype: string; nullable: boolean }>(
      `SELECT a.attname AS name,
              CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE format_type(a.atttypid, a.atttypmod) END AS type,
              CASE WHEN t.typtype = 'd' THEN bt.typtype ELSE t.typtype END AS typtype,
              NOT a.attnotnull AS nullable
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
       WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [found.oid],
    );
    const pk = await this.client.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
       WHERE i.indrelid = $1 AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [found.oid],
    );
    const columns: ReflectedColumn[] = cols.rows.map((r) => ({
      name: r.name,
      nativeType: r.type,
      nullable: r.nullable,
      ...postgresKind(r.type, r.typtype === 'e'),
    }));
    return { schema: ns, name: table, columns, primaryKey: pk.rows.map((r) => r.name), isView: found.relkind === 'v' || found.relkind === 'm' };
  }

  async *streamRows(sql: string, params: unknown[], chunkSize: number): AsyncIterable<Record<string, unknown>[]> {
    const size = Math.max(1, Math.floor(chunkSize));
    await this.client.query('BEGIN TRANSACTION READ ONLY');
    let open = true;
    try {
      // COPY takes no parameters (values must not be spliced into SQL): a query with any
      // reads through a cursor; one without (every full load) through the faster COPY.
      if (params.length === 0) yield* this.copyRows(sql, size);
      else yield* this.cursorRows(sql, params, size);
      await this.client.query('COMMIT');
      open = false;
    } finally {
      // Stopped early (a limit, an error downstream): end the transaction, which closes the
      // cursor. A COPY still streaming cannot be stopped that way: the connection is dropped.
      if (open && this.copying) await this.client.end().catch(() => {});
      else if (open) await this.client.query('ROLLBACK').catch(() => {});
    }
  }

  /** True while a COPY streams: the connection can take no other statement until it ends. */
  private copying = false;

  private async *copyRows(sql: string, chunkSize: number): AsyncIterable<Record<string, unknown>[]> {
    // The column names and types of the result, from a cursor that returns no row.
    const cursor = `haul_cursor_${++this.cursors}`;
    await this.client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${sql}`);
    const { fields } = await this.client.query(`FETCH FORWARD 0 FROM ${cursor}`);
    await this.client.query(`CLOSE ${cursor}`);
    const decoder = new CopyTextDecoder(
      fields.map((f) => f.name),
      fields.map((f) => typeParsers.getTypeParser(f.dataTypeID, 'text') as FieldParser),
    );
    // Up to COPY_BUFFER bytes are read ahead while haul writes the rows handed on, so the
    // server keeps producing (the cursor path asks for the next chunk early for the same reason).
    const stream = this.client.query(copyTo(`COPY (${sql}) TO STDOUT`, { highWaterMark: COPY_BUFFER }));
    stream.on('error', () => {}); // read by the loop below; not an unhandled 'error' event if it stopped first
    this.copying = true;
    let rows: Record<string, unknown>[] = [];
    for await (const bytes of stream as AsyncIterable<Buffer>) {
      decoder.push(bytes, rows);
      while (rows.length >= chunkSize) {
        // Hand on exactly chunkSize rows; the rest of this read starts the next chunk.
        let full: Record<string, unknown>[] | undefined = rows;
        rows = full.length > chunkSize ? full.splice(chunkSize) : [];
        yield full;
        // Optimized code can keep a dead local in the suspended generator's registers, which
        // held the chunk handed on alive into the next one (twice the rows in memory).
        full = undefined;
      }
    }
    this.copying = false;
    decoder.end();
    if (rows.length > 0) yield rows;
  }

  private async *cursorRows(sql: string, params: unknown[], chunkSize: number): AsyncIterable<Record<string, unknown>[]> {
    const cursor = `haul_cursor_${++this.cursors}`;
    await this.client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${sql}`, params);
    // Values by position, made into rows of one shape here (see row-shape.ts).
    const fetch = { text: `FETCH FORWARD ${chunkSize} FROM ${cursor}`, rowMode: 'array' as const };
    // The next chunk is asked for before this one is handed on, so the server produces it
    // while haul writes the current one (two chunks in memory at most).
    const ask = () => {
      const q = this.client.query<unknown[]>(fetch);
      q.catch(() => {}); // seen when awaited; not an unhandled rejection if the reader stopped first
      return q;
    };
    let next = ask();
    for (;;) {
      const r = await next;
      const last = r.rows.length < chunkSize;
      if (!last) next = ask();
      if (r.rows.length > 0) yield new RowShape(r.fields.map((f) => f.name)).fromArrays(r.rows);
      if (last) break;
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}
