/**
 * sqlDatabase/sqlTable against the real PostgreSQL server, loading into DuckDB: the tables,
 * column types and values dlt's sql_database makes (default backend, reflection_level full).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incremental, sqlDatabase, sqlTable, SourceTableNotFoundError, SourceUnreachableError, SourceDatabaseNotFoundError, type SqlQuery } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';
import { PG_URL, pgDatasetName, withPg } from '../postgres-env.js';

const schema = pgDatasetName('sqlsrc');
const dir = tempDir('haul-sqlsrc-pg-');

beforeAll(async () => {
  await withPg(async (c) => {
    await c.query(`CREATE SCHEMA "${schema}"`);
    await c.query(`SET search_path TO "${schema}"`);
    await c.query(`CREATE TYPE mood AS ENUM ('happy', 'sad')`);
    await c.query(`CREATE TABLE kinds (
      id serial PRIMARY KEY, small smallint, i integer, big bigint, num numeric(10,2), num_plain numeric,
      r real, d double precision, t text, vc varchar(20), ch char(3), b boolean, dt date, tm time,
      ts timestamp, tstz timestamptz, j json, jb jsonb, bin bytea, u uuid, arr integer[], e mood, ip inet,
      required text NOT NULL)`);
    await c.query(`INSERT INTO kinds (small, i, big, num, num_plain, r, d, t, vc, ch, b, dt, tm, ts, tstz, j, jb, bin, u, arr, e, required, ip) VALUES
      (7, 42, 9007199254740993, 12.34, 1.5, 1.5, 2.25, 'text', 'varchar', 'abc', true, '2024-02-29', '13:14:15.5',
       '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456+02', '{"a": {"b": 1}}', '{"k": [1, 2]}', '\\xdeadbeef',
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,2,3}', 'happy', 'x', '10.0.0.1')`);
    await c.query(`INSERT INTO kinds (required) VALUES ('only this')`);
    await c.query(`CREATE TABLE big_table (id integer PRIMARY KEY, label text)`);
    await c.query(`INSERT INTO big_table SELECT g, 'row ' || g FROM generate_series(1, 2500) g`);
    await c.query(`CREATE TABLE events (id integer PRIMARY KEY, updated_at timestamptz NOT NULL, v text)`);
    await c.query(`INSERT INTO events VALUES (1, '2024-01-01T00:00:00Z', 'a'), (2, '2024-01-02T00:00:00Z', 'b'), (3, '2024-01-03T00:00:00Z', 'c')`);
    await c.query(`CREATE VIEW recent_events AS SELECT id, v FROM events WHERE id > 1`);
    await c.query(`CREATE TABLE maybe (id integer PRIMARY KEY, at timestamptz)`);
    await c.query(`INSERT INTO maybe VALUES (1, '2024-01-01T00:00:00Z'), (2, NULL)`);
  });
});

afterAll(async () => {
  await withPg(async (c) => {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
});

async function columnTypes(p: ReturnType<typeof testPipeline>, dataset: string, table: string): Promise<Record<string, string>> {
  const cols = await query<{ column_name: string; data_type: string; is_nullable: string }>(
    p,
    'SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
    [dataset, table],
  );
  return Object.fromEntries(cols.map((c) => [c.column_name, c.data_type]));
}

describe('sqlDatabase on PostgreSQL', () => {
  it('loads every column kind with the types dlt makes, and NULLs', async () => {
    const p = testPipeline(dir, 'pg_kinds');
    const source = await sqlDatabase({ credentials: PG_URL, schema, tableNames: ['kinds'] });
    expect(Object.keys(source.resources)).toEqual(['kinds']);
    const info = await p.run(source);
    expect(info.hasFailedJobs).toBe(false);

    expect(await columnTypes(p, 'pg_kinds_data', 'kinds')).toEqual({
      id: 'BIGINT', small: 'BIGINT', i: 'BIGINT', big: 'BIGINT', num: 'DECIMAL(10,2)', num_plain: 'DECIMAL(38,9)',
      r: 'DOUBLE', d: 'DOUBLE', t: 'VARCHAR', vc: 'VARCHAR', ch: 'VARCHAR', b: 'BOOLEAN', dt: 'DATE', tm: 'TIME',
      ts: 'TIMESTAMP', tstz: 'TIMESTAMP WITH TIME ZONE', j: 'JSON', jb: 'JSON', bin: 'BLOB', u: 'VARCHAR',
      arr: 'JSON', e: 'VARCHAR', required: 'VARCHAR', ip: 'VARCHAR', _dlt_load_id: 'VARCHAR', _dlt_id: 'VARCHAR',
    });
    // A type dlt does not map (inet) gets no hint: its column is made from the values, after the reflected ones.
    expect(Object.keys(await columnTypes(p, 'pg_kinds_data', 'kinds')).slice(-4)).toEqual(['required', 'ip', '_dlt_load_id', '_dlt_id']);
    const rows = await query<Record<string, unknown>>(
      p,
      `SELECT id, small, i, big::VARCHAR AS big, num::VARCHAR AS num, num_plain::VARCHAR AS num_plain, r, d, t, vc, ch, b,
              dt::VARCHAR AS dt, tm::VARCHAR AS tm, ts::VARCHAR AS ts, epoch_us(tstz) AS tstz_us, j::VARCHAR AS j, jb::VARCHAR AS jb,
              hex(bin) AS bin, u, arr::VARCHAR AS arr, e, required, ip
       FROM pg_kinds_data.kinds ORDER BY id`,
    );
    expect(rows[0]).toEqual({
      id: 1, small: 7, i: 42, big: '9007199254740993', num: '12.34', num_plain: '1.500000000', r: 1.5, d: 2.25,
      t: 'text', vc: 'varchar', ch: 'abc', b: true, dt: '2024-02-29', tm: '13:14:15.5', ts: '2024-01-02 03:04:05.123456',
      tstz_us: Date.UTC(2024, 0, 2, 1, 4, 5, 123) * 1000 + 456, j: '{"a":{"b":1}}', jb: '{"k":[1,2]}', bin: 'DEADBEEF',
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', arr: '[1,2,3]', e: 'happy', required: 'x', ip: '10.0.0.1',
    });
    const nulls = rows[1]!;
    expect(nulls.required).toBe('only this');
    for (const k of Object.keys(nulls)) if (k !== 'id' && k !== 'required') expect(nulls[k], k).toBeNull();
    // The primary key and NOT NULL columns are hints in the schema, as dlt reflects them.
    const table = p.defaultSchema!.getTable('kinds')!;
    expect(table.columns.id).toMatchObject({ primaryKey: true, nullable: false, dataType: 'bigint' });
    expect(table.columns.required).toMatchObject({ nullable: false, dataType: 'text' });
    expect(table.columns.num).toMatchObject({ dataType: 'decimal', precision: 10, scale: 2 });
  });

  it('loads timetz, arrays, big json integers and points as dlt 1.31 loads them', async () => {
    await withPg(async (c) => {
      await c.query(`CREATE TABLE "${schema}".odd (id int PRIMARY KEY, t timetz, nums numeric[], tstz timestamptz[], ts timestamp[], dts date[],
        bins bytea[], bigs bigint[], j jsonb, js json, p point)`);
      await c.query(`INSERT INTO "${schema}".odd VALUES (1, '10:00:00+02', '{12345678901234567890.123456789,0.1}', '{"2024-01-01 00:00:00.123456+00"}',
        '{"2024-01-01 00:00:00.123456"}', '{2024-02-29}', '{"\\\\xdeadbeef"}', '{9223372036854775807}', '{"i64": 9007199254740993}', '[9223372036854775807]', '(1.5,-2)')`);
    });
    const p = testPipeline(dir, 'pg_odd');
    try {
      await p.run(await sqlDatabase({ credentials: PG_URL, schema, tableNames: ['odd'] }));
    } finally {
      // the other tests list the schema's tables
      await withPg((c) => c.query(`DROP TABLE "${schema}".odd`));
    }
    // the values dlt 1.31's sql_database (sqlalchemy backend) loaded from the same row
    expect(await query(p, `SELECT t::VARCHAR AS t, nums::VARCHAR AS nums, tstz::VARCHAR AS tstz, ts::VARCHAR AS ts, dts::VARCHAR AS dts,
        bins::VARCHAR AS bins, bigs::VARCHAR AS bigs, j::VARCHAR AS j, js::VARCHAR AS js, p FROM pg_odd_data.odd`)).toEqual([
      {
        t: '10:00:00',
        nums: '["12345678901234567890.123456789","0.1"]',
        tstz: '["2024-01-01T00:00:00.123456+00:00"]',
        ts: '["2024-01-01T00:00:00.123456"]',
        dts: '["2024-02-29"]',
        bins: '["3q2+7w=="]',
        bigs: '[9223372036854775807]',
        j: '{"i64":9007199254740993}',
        js: '[9223372036854775807]',
        p: '(1.5,-2)',
      },
    ]);
  });

  it("loads ±infinity timestamps and dates as dlt 1.31 does (Python's datetime.max and min), through COPY and through a cursor", async () => {
    await withPg(async (c) => {
      await c.query(`CREATE TABLE "${schema}".forever (id int PRIMARY KEY, ts timestamp, tstz timestamptz, d date, tsa timestamp[], da date[])`);
      await c.query(`INSERT INTO "${schema}".forever VALUES (1, 'infinity', 'infinity', 'infinity', '{infinity,"2024-01-02 03:04:05"}', '{infinity}'),
        (2, '-infinity', '-infinity', '-infinity', '{-infinity}', '{-infinity}'), (3, '2024-01-02 03:04:05', '2024-01-02 03:04:05+00', '2024-01-02', NULL, NULL)`);
    });
    const copied = testPipeline(dir, 'pg_forever_copy');
    const cursor = testPipeline(dir, 'pg_forever_cursor');
    try {
      await copied.run(await sqlTable({ credentials: PG_URL, schema, table: 'forever' }));
      // a query with parameters (the incremental range) reads through a cursor, not COPY
      await cursor.run(await sqlTable({ credentials: PG_URL, schema, table: 'forever', incremental: incremental('id', { initialValue: 0 }) }));
    } finally {
      await withPg((c) => c.query(`DROP TABLE "${schema}".forever`));
    }
    for (const [p, dataset] of [[copied, 'pg_forever_copy_data'], [cursor, 'pg_forever_cursor_data']] as const) {
      expect(await columnTypes(p, dataset, 'forever')).toEqual({
        id: 'BIGINT', ts: 'TIMESTAMP', tstz: 'TIMESTAMP WITH TIME ZONE', d: 'DATE', tsa: 'JSON', da: 'JSON', _dlt_load_id: 'VARCHAR', _dlt_id: 'VARCHAR',
      });
      expect(await query(p, `SELECT id::INT AS id, ts::VARCHAR AS ts, tstz::VARCHAR AS tstz, d::VARCHAR AS d, tsa::VARCHAR AS tsa, da::VARCHAR AS da FROM ${dataset}.forever ORDER BY id`)).toEqual([
        { id: 1, ts: '9999-12-31 23:59:59.999999', tstz: '9999-12-31 23:59:59.999999+00', d: '9999-12-31', tsa: '["9999-12-31T23:59:59.999999","2024-01-02T03:04:05"]', da: '["9999-12-31"]' },
        { id: 2, ts: '0001-01-01 00:00:00', tstz: '0001-01-01 00:00:00+00', d: '0001-01-01', tsa: '["0001-01-01T00:00:00"]', da: '["0001-01-01"]' },
        { id: 3, ts: '2024-01-02 03:04:05', tstz: '2024-01-02 03:04:05+00', d: '2024-01-02', tsa: null, da: null },
      ]);
    }
  });

  it('loads numerics with a negative scale or a scale past their precision (PostgreSQL 15+) into a decimal that holds them; dlt 1.31 fails', async () => {
    await withPg(async (c) => {
      await c.query(`CREATE TABLE "${schema}".odd_scale (id int PRIMARY KEY, hundreds numeric(5,-2), tiny numeric(3,5))`);
      await c.query(`INSERT INTO "${schema}".odd_scale VALUES (1, 1234567, 0.00123), (2, 50, -0.00999)`);
    });
    const p = testPipeline(dir, 'pg_odd_scale');
    try {
      await p.run(await sqlTable({ credentials: PG_URL, schema, table: 'odd_scale' }));
    } finally {
      await withPg((c) => c.query(`DROP TABLE "${schema}".odd_scale`));
    }
    expect(await columnTypes(p, 'pg_odd_scale_data', 'odd_scale')).toMatchObject({ hundreds: 'DECIMAL(7,0)', tiny: 'DECIMAL(5,5)' });
    expect(await query(p, 'SELECT id::INT AS id, hundreds::VARCHAR AS hundreds, tiny::DOUBLE AS tiny FROM pg_odd_scale_data.odd_scale ORDER BY id')).toEqual([
      { id: 1, hundreds: '1234600', tiny: 0.00123 },
      { id: 2, hundreds: '100', tiny: -0.00999 },
    ]);
  });

  it('includedColumns and excludedColumns choose the columns selected and loaded, as dlt\'s sql_table does; a name the table lacks is refused', async () => {
    const only = testPipeline(dir, 'pg_included');
    await only.run(await sqlTable({ credentials: PG_URL, schema, table: 'events', includedColumns: ['id', 'v'] }));
    expect(Object.keys(await columnTypes(only, 'pg_included_data', 'events'))).toEqual(['id', 'v', '_dlt_load_id', '_dlt_id']);
    expect(await query(only, 'SELECT id::INT AS id, v FROM pg_included_data.events ORDER BY id')).toEqual([{ id: 1, v: 'a' }, { id: 2, v: 'b' }, { id: 3, v: 'c' }]);

    const without = testPipeline(dir, 'pg_excluded');
    await without.run(await sqlTable({ credentials: PG_URL, schema, table: 'kinds', excludedColumns: ['bin', 'j', 'jb'] }));
    const cols = Object.keys(await columnTypes(without, 'pg_excluded_data', 'kinds'));
    expect(cols).toContain('required');
    expect(cols.filter((c) => c.startsWith('bin') || c.startsWith('j'))).toEqual([]);
    expect(await query(without, 'SELECT count(*)::INT AS n FROM pg_excluded_data.kinds')).toEqual([{ n: 2 }]);

    const misspelled = await sqlTable({ credentials: PG_URL, schema, table: 'events', excludedColumns: ['V'] }).catch((e: unknown) => e);
    expect(misspelled).toBeInstanceOf(Error);
    expect((misspelled as Error).message).toContain('`excludedColumns` names "V", which table "events" does not have; its columns are id, updated_at, v');
  });

  it('adds lengths at full_with_precision and keeps only names at minimal', async () => {
    const precise = await sqlTable({ credentials: PG_URL, schema, table: 'kinds', reflectionLevel: 'full_with_precision' });
    expect(precise.hints.columns?.vc).toEqual({ nullable: true, dataType: 'text', precision: 20 });
    expect(precise.hints.columns?.small).toEqual({ nullable: true, dataType: 'bigint', precision: 32 });
    const full = await sqlTable({ credentials: PG_URL, schema, table: 'kinds' });
    expect(full.hints.columns?.vc).toEqual({ nullable: true, dataType: 'text' });
    expect(full.hints.columns?.ts).toEqual({ nullable: true, dataType: 'timestamp', timezone: false });
    const minimal = await sqlTable({ credentials: PG_URL, schema, table: 'kinds', reflectionLevel: 'minimal' });
    expect(minimal.hints.columns?.vc).toEqual({ nullable: true });
    // what dlt infers from Python's Decimal, date and time values (JS reads them as strings)
    expect(minimal.hints.columns?.num).toEqual({ nullable: true, dataType: 'decimal' });
    expect(minimal.hints.columns?.dt).toEqual({ nullable: true, dataType: 'date' });
    expect(minimal.hints.columns?.tm).toEqual({ nullable: true, dataType: 'time' });
    expect(minimal.hints.primaryKey).toBe('id');
  });

  it('reads a table larger than chunkSize in several chunks', async () => {
    const res = await sqlTable({ credentials: PG_URL, schema, table: 'big_table', chunkSize: 1000 });
    const sizes: number[] = [];
    for await (const chunk of res.open({ state: {} }) as AsyncIterable<unknown[]>) sizes.push(chunk.length);
    expect(sizes).toEqual([1000, 1000, 500]);

    const p = testPipeline(dir, 'pg_chunks');
    await p.run(res);
    const [r] = await query<{ n: number; s: number }>(p, 'SELECT count(*)::INT AS n, sum(id)::INT AS s FROM pg_chunks_data.big_table');
    expect(r).toEqual({ n: 2500, s: (2500 * 2501) / 2 });
  });

  it('loads only new rows on the second incremental run, with the range in the query', async () => {
    const p = testPipeline(dir, 'pg_incr');
    const queries: SqlQuery[] = [];
    const make = () =>
      sqlTable({
        credentials: PG_URL, schema, table: 'events', incremental: incremental('updated_at'),
        queryAdapterCallback: (q) => (queries.push(q), q),
      });
    await p.run(await make());
    expect(queries[0]!.sql).not.toContain('WHERE');
    await withPg((c) => c.query(`INSERT INTO "${schema}".events VALUES (4, '2024-01-03T00:00:00Z', 'same instant as the last'), (5, '2024-01-04T00:00:00Z', 'e')`));
    const info = await p.run(await make());
    expect(info.hasFailedJobs).toBe(false);
    expect(queries[1]!.sql).toMatch(/WHERE "updated_at" >= \$1 ORDER BY "updated_at" ASC$/);
    expect(queries[1]!.params).toEqual(['2024-01-03T00:00:00Z']);
    const rows = await query<{ id: number; v: string }>(p, 'SELECT id, v FROM pg_incr_data.events ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    const loads = await query<{ n: number }>(p, 'SELECT count(DISTINCT _dlt_load_id)::INT AS n FROM pg_incr_data.events WHERE id >= 4');
    expect(loads[0]!.n).toBe(1);
  });

  it("onCursorValueMissing reaches the query as dlt's does: exclude skips NULL cursors, include takes them with the range", async () => {
    for (const missing of ['exclude', 'include'] as const) {
      const p = testPipeline(dir, `pg_missing_${missing}`);
      const queries: SqlQuery[] = [];
      const make = () =>
        sqlTable({
          credentials: PG_URL, schema, table: 'maybe', primaryKey: 'id', writeDisposition: 'merge',
          incremental: incremental('at', { onCursorValueMissing: missing }),
          queryAdapterCallback: (q) => (queries.push(q), q),
        });
      await p.run(await make());
      await p.run(await make());
      const ids = (await query<{ id: number }>(p, `SELECT id FROM pg_missing_${missing}_data.maybe ORDER BY id`)).map((r) => Number(r.id));
      if (missing === 'exclude') {
        expect(ids).toEqual([1]);
        expect(queries[1]!.sql).toMatch(/WHERE "at" >= \$1 AND "at" IS NOT NULL ORDER BY/);
      } else {
        expect(ids).toEqual([1, 2]);
        expect(queries[1]!.sql).toMatch(/WHERE \("at" >= \$1 OR "at" IS NULL\) ORDER BY/);
      }
    }
  });

  it('reads views with includeViews or when tableNames names them, and only the tables in tableNames', async () => {
    const tablesOnly = await sqlDatabase({ credentials: PG_URL, schema });
    expect(Object.keys(tablesOnly.resources).sort()).toEqual(['big_table', 'events', 'kinds', 'maybe']);
    const withViews = await sqlDatabase({ credentials: PG_URL, schema, includeViews: true, tableNames: ['recent_events'] });
    expect(Object.keys(withViews.resources)).toEqual(['recent_events']);
    const p = testPipeline(dir, 'pg_view');
    await p.run(withViews);
    const rows = await query<{ id: number }>(p, 'SELECT id FROM pg_view_data.recent_events ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([2, 3, 4, 5]);
    // named in tableNames, a view is read without includeViews, as dlt's sql_database does (it was refused)
    const named = await sqlDatabase({ credentials: PG_URL, schema, tableNames: ['recent_events'] });
    const q = testPipeline(dir, 'pg_view_named');
    await q.run(named);
    expect((await query<{ id: number }>(q, 'SELECT id FROM pg_view_named_data.recent_events ORDER BY id')).map((r) => r.id)).toEqual([2, 3, 4, 5]);
  });

  it('names a missing table and says what to do', async () => {
    const err = await sqlDatabase({ credentials: PG_URL, schema, tableNames: ['nope'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceTableNotFoundError);
    expect((err as Error).message).toContain('"nope"');
    expect((err as Error).message).toContain('kinds');
    await expect(sqlTable({ credentials: PG_URL, schema, table: 'nope' })).rejects.toBeInstanceOf(SourceTableNotFoundError);
  });

  it('refuses an option it does not take (dlt\'s snake_case names a hint) and a schema with nothing in it, instead of loading nothing', async () => {
    const typo = { credentials: PG_URL, schema, table: 'kinds', chunk_size: 10 } as unknown as Parameters<typeof sqlTable>[0];
    await expect(sqlTable(typo)).rejects.toThrow(/unknown option "chunk_size"; did you mean chunkSize\?/);
    await expect(sqlDatabase({ credentials: PG_URL, tables: ['kinds'] } as unknown as Parameters<typeof sqlDatabase>[0])).rejects.toThrow(/unknown option "tables"; it takes .*tableNames/);
    // dlt options whose job something else does here say what
    await expect(sqlDatabase({ credentials: PG_URL, defer_table_reflect: true } as unknown as Parameters<typeof sqlDatabase>[0])).rejects.toThrow(
      /dlt's option "defer_table_reflect" is not taken: .*register a factory: `sources = \{ shop: \(\) => sqlDatabase/,
    );
    await expect(sqlTable({ credentials: PG_URL, table: 'kinds', detectPrecisionHints: true } as unknown as Parameters<typeof sqlTable>[0])).rejects.toThrow(/use reflectionLevel: 'full_with_precision'/);
    const err = await sqlDatabase({ credentials: PG_URL, schema: `${schema}_nope` }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(new RegExp(`schema "${schema}_nope".*has no tables or views at .*check that it exists`));
  });

  it('reports an unreachable server and a missing database without the password', async () => {
    const unreachable = await sqlDatabase({ credentials: 'postgresql://postgres:s3cret-pw@127.0.0.1:1/test' }).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(SourceUnreachableError);
    expect((unreachable as Error).message).toContain('127.0.0.1:1/test');
    expect((unreachable as Error).message).not.toContain('s3cret-pw');
    const missing = await sqlDatabase({ credentials: 'postgresql://postgres:s3cret-pw@127.0.0.1:5432/haul_no_such_db' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SourceDatabaseNotFoundError);
    expect((missing as Error).message).not.toContain('s3cret-pw');
  });
});
