/**
 * sqlDatabase/sqlTable over database files: SQLite (better-sqlite3) and DuckDB, made in a
 * temp dir, loaded into a DuckDB destination.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { incremental, sqlDatabase, sqlTable, SourceTableNotFoundError, SourceDatabaseNotFoundError } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir('haul-sqlsrc-files-');
const sqlitePath = join(dir, 'shop.db');
const duckPath = join(dir, 'shop.duckdb');

beforeAll(async () => {
  const db = new Database(sqlitePath);
  db.exec(`
    CREATE TABLE kinds (id INTEGER PRIMARY KEY, small SMALLINT, big BIGINT, num DECIMAL(10,2), r REAL, vc VARCHAR(20), t TEXT,
      flag BOOLEAN, dt DATE, ts DATETIME, bin BLOB, j JSON, required TEXT NOT NULL);
    INSERT INTO kinds VALUES (1, 7, 9007199254740993, 12.34, 1.5, 'varchar', 'text', 1, '2024-02-29', '2024-01-02 03:04:05.123456', X'DEADBEEF', '{"a": [1, 2]}', 'x');
    INSERT INTO kinds (id, required) VALUES (2, 'only');
    CREATE TABLE events (id INTEGER PRIMARY KEY, updated_at INTEGER NOT NULL, v TEXT);
    INSERT INTO events VALUES (1, 100, 'a'), (2, 200, 'b'), (3, 300, 'c');
    CREATE VIEW recent AS SELECT id, v FROM events WHERE id > 1;
  `);
  db.exec('CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT)');
  const big = db.prepare('INSERT INTO big VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= 2500; i++) big.run(i, `row ${i}`);
  })();
  db.close();

  const instance = await DuckDBInstance.create(duckPath);
  const c = await instance.connect();
  await c.run(`
    CREATE TABLE kinds (id INTEGER PRIMARY KEY, small SMALLINT, big BIGINT, huge HUGEINT, num DECIMAL(10,2), d DOUBLE, vc VARCHAR,
      flag BOOLEAN, dt DATE, tm TIME, ts TIMESTAMP, tstz TIMESTAMPTZ, j JSON, bin BLOB, u UUID, arr INTEGER[], required VARCHAR NOT NULL);
    INSERT INTO kinds VALUES (1, 7, 9007199254740993, 12, 12.34, 2.25, 'varchar', true, '2024-02-29', '13:14:15.5',
      '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456+00', '{"a": {"b": 1}}', '\\xDE\\xAD'::BLOB,
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', [1, 2, 3], 'x');
    INSERT INTO kinds (id, required) VALUES (2, 'only');
    CREATE TABLE events (id INTEGER PRIMARY KEY, updated_at TIMESTAMPTZ NOT NULL, v VARCHAR);
    INSERT INTO events VALUES (1, '2024-01-01T00:00:00Z', 'a'), (2, '2024-01-02T00:00:00Z', 'b'), (3, '2024-01-03T00:00:00.25Z', 'c');
    CREATE TABLE big AS SELECT range::INTEGER AS id FROM range(1, 5001);
    CREATE VIEW recent AS SELECT id, v FROM events WHERE id > 1;
  `);
  c.closeSync();
  instance.closeSync();
});

async function typesOf(p: ReturnType<typeof testPipeline>, dataset: string, table: string): Promise<Record<string, string>> {
  const cols = await query<{ column_name: string; data_type: string }>(
    p,
    'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
    [dataset, table],
  );
  return Object.fromEntries(cols.map((c) => [c.column_name, c.data_type]));
}

describe('sqlDatabase on SQLite', () => {
  const url = `sqlite:///${sqlitePath}`;

  it('loads every column kind with the types dlt makes, and NULLs', async () => {
    const p = testPipeline(dir, 'lite_kinds');
    await p.run(await sqlDatabase({ credentials: url, tableNames: ['kinds'] }));
    expect(await typesOf(p, 'lite_kinds_data', 'kinds')).toEqual({
      id: 'BIGINT', small: 'BIGINT', big: 'BIGINT', num: 'DECIMAL(10,2)', r: 'DOUBLE', vc: 'VARCHAR', t: 'VARCHAR', flag: 'BOOLEAN',
      dt: 'DATE', ts: 'TIMESTAMP', bin: 'BLOB', j: 'JSON', required: 'VARCHAR', _dlt_load_id: 'VARCHAR', _dlt_id: 'VARCHAR',
    });
    const rows = await query<Record<string, unknown>>(
      p,
      `SELECT id, small, big::VARCHAR AS big, num::VARCHAR AS num, r, vc, t, flag, dt::VARCHAR AS dt, ts::VARCHAR AS ts, hex(bin) AS bin, j::VARCHAR AS j, required
       FROM lite_kinds_data.kinds ORDER BY id`,
    );
    expect(rows[0]).toEqual({
      id: 1, small: 7, big: '9007199254740993', num: '12.34', r: 1.5, vc: 'varchar', t: 'text', flag: true, dt: '2024-02-29',
      ts: '2024-01-02 03:04:05.123456', bin: 'DEADBEEF', j: '{"a":[1,2]}', required: 'x',
    });
    for (const [k, v] of Object.entries(rows[1]!)) if (k !== 'id' && k !== 'required') expect(v, k).toBeNull();
  });

  it('reads in chunks, incrementally, views with includeViews, and names missing tables', async () => {
    const res = await sqlTable({ credentials: url, table: 'big', chunkSize: 1000 });
    const sizes: number[] = [];
    for await (const chunk of res.open({ state: {} }) as AsyncIterable<unknown[]>) sizes.push(chunk.length);
    expect(sizes).toEqual([1000, 1000, 500]);

    const p = testPipeline(dir, 'lite_incr');
    const make = () => sqlTable({ credentials: url, table: 'events', incremental: incremental('updated_at', { initialValue: 150 }) });
    await p.run(await make());
    const db = new Database(sqlitePath);
    db.exec("INSERT INTO events VALUES (4, 300, 'same'), (5, 400, 'e')");
    db.close();
    await p.run(await make());
    const rows = await query<{ id: number }>(p, 'SELECT id FROM lite_incr_data.events ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([2, 3, 4, 5]);

    const all = await sqlDatabase({ credentials: url });
    expect(Object.keys(all.resources)).toEqual(['big', 'events', 'kinds']);
    const views = await sqlDatabase({ credentials: url, includeViews: true });
    expect(Object.keys(views.resources)).toEqual(['big', 'events', 'kinds', 'recent']);
    await expect(sqlTable({ credentials: url, table: 'nope' })).rejects.toBeInstanceOf(SourceTableNotFoundError);
    await expect(sqlDatabase({ credentials: `sqlite:///${join(dir, 'missing.db')}` })).rejects.toBeInstanceOf(SourceDatabaseNotFoundError);
  });
});

describe('sqlTable hooks and incremental ranges (SQLite)', () => {
  const url = `sqlite:///${sqlitePath}`;

  it('drops columns with tableAdapterCallback and filters with queryAdapterCallback (values as parameters)', async () => {
    const res = await sqlTable({
      credentials: url,
      table: 'kinds',
      tableAdapterCallback: (t) => {
        t.columns = t.columns.filter((c) => c.name !== 'bin');
      },
      queryAdapterCallback: (q) => ({ sql: `${q.sql} WHERE "required" = ?`, params: [...q.params, 'x'] }),
    });
    expect(Object.keys(res.hints.columns ?? {})).not.toContain('bin');
    const p = testPipeline(dir, 'lite_hooks');
    await p.run(res);
    expect(Object.keys(await typesOf(p, 'lite_hooks_data', 'kinds'))).not.toContain('bin');
    expect(await query<{ id: number }>(p, 'SELECT id FROM lite_hooks_data.kinds')).toEqual([{ id: 1 }]);
  });

  it('pushes endValue and lastValueFunc min into the query', async () => {
    // events holds updated_at 100, 200, 300, 300, 400 (ids 1-5) after the SQLite tests above.
    const seen: string[] = [];
    const ids = async (inc: ReturnType<typeof incremental>) => {
      const res = await sqlTable({ credentials: url, table: 'events', incremental: inc, queryAdapterCallback: (q) => (seen.push(q.sql), q) });
      const p = testPipeline(dir, `lite_range_${seen.length}`);
      await p.run(res);
      return (await query<{ id: number }>(p, `SELECT id FROM "lite_range_${seen.length - 1}_data".events ORDER BY id`)).map((r) => r.id);
    };
    expect(await ids(incremental('updated_at', { initialValue: 200, endValue: 400 }))).toEqual([2, 3, 4]);
    expect(seen.at(-1)).toMatch(/WHERE "updated_at" >= \? AND "updated_at" < \? ORDER BY "updated_at" ASC$/);
    expect(await ids(incremental('updated_at', { initialValue: 200, lastValueFunc: 'min' }))).toEqual([1, 2]);
    expect(seen.at(-1)).toMatch(/WHERE "updated_at" <= \? ORDER BY "updated_at" DESC$/);
  });
});

describe('sqlDatabase on DuckDB', () => {
  const url = `duckdb:///${duckPath}`;

  it('loads every column kind with the types dlt makes, and NULLs', async () => {
    const p = testPipeline(dir, 'duck_kinds');
    await p.run(await sqlDatabase({ credentials: url, tableNames: ['kinds'] }));
    expect(await typesOf(p, 'duck_kinds_data', 'kinds')).toEqual({
      id: 'BIGINT', small: 'BIGINT', big: 'BIGINT', huge: 'BIGINT', num: 'DECIMAL(10,2)', d: 'DOUBLE', vc: 'VARCHAR', flag: 'BOOLEAN',
      dt: 'DATE', tm: 'TIME', ts: 'TIMESTAMP', tstz: 'TIMESTAMP WITH TIME ZONE', j: 'JSON', bin: 'BLOB', u: 'VARCHAR', arr: 'JSON',
      required: 'VARCHAR', _dlt_load_id: 'VARCHAR', _dlt_id: 'VARCHAR',
    });
    const rows = await query<Record<string, unknown>>(
      p,
      `SELECT id, small, big::VARCHAR AS big, huge, num::VARCHAR AS num, d, vc, flag, dt::VARCHAR AS dt, tm::VARCHAR AS tm, ts::VARCHAR AS ts,
              epoch_us(tstz) AS tstz_us, j::VARCHAR AS j, hex(bin) AS bin, u, arr::VARCHAR AS arr, required
       FROM duck_kinds_data.kinds ORDER BY id`,
    );
    expect(rows[0]).toEqual({
      id: 1, small: 7, big: '9007199254740993', huge: 12, num: '12.34', d: 2.25, vc: 'varchar', flag: true, dt: '2024-02-29', tm: '13:14:15.5',
      ts: '2024-01-02 03:04:05.123456', tstz_us: Date.UTC(2024, 0, 2, 3, 4, 5, 123) * 1000 + 456, j: '{"a":{"b":1}}', bin: 'DEAD',
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', arr: '[1,2,3]', required: 'x',
    });
    for (const [k, v] of Object.entries(rows[1]!)) if (k !== 'id' && k !== 'required') expect(v, k).toBeNull();
    expect(p.defaultSchema!.getTable('kinds')!.columns.id).toMatchObject({ primaryKey: true, nullable: false });
  });

  it('reads in chunks, incrementally on a timestamp, views with includeViews', async () => {
    const res = await sqlTable({ credentials: url, table: 'big', chunkSize: 3000 });
    const sizes: number[] = [];
    for await (const chunk of res.open({ state: {} }) as AsyncIterable<unknown[]>) sizes.push(chunk.length);
    expect(sizes).toEqual([3000, 2000]);

    const p = testPipeline(dir, 'duck_incr');
    const make = () => sqlTable({ credentials: url, table: 'events', incremental: incremental('updated_at') });
    await p.run(await make());
    const instance = await DuckDBInstance.create(duckPath);
    const c = await instance.connect();
    await c.run("INSERT INTO events VALUES (4, '2024-01-03T00:00:00.25Z', 'same'), (5, '2024-01-04T00:00:00Z', 'e')");
    c.closeSync();
    instance.closeSync();
    await p.run(await make());
    const rows = await query<{ id: number; n: number }>(p, 'SELECT id, count(*)::INT AS n FROM duck_incr_data.events GROUP BY id ORDER BY id');
    expect(rows).toEqual([1, 2, 3, 4, 5].map((id) => ({ id, n: 1 })));

    const views = await sqlDatabase({ credentials: url, includeViews: true, tableNames: ['recent'] });
    const pv = testPipeline(dir, 'duck_view');
    await pv.run(views);
    expect((await query<{ id: number }>(pv, 'SELECT id FROM duck_view_data.recent ORDER BY id')).map((r) => r.id)).toEqual([2, 3, 4, 5]);
  });
});
