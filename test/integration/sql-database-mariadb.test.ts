/**
 * sqlDatabase/sqlTable against the real MariaDB server (127.0.0.1:3306, root, database test),
 * loading into DuckDB. Tables carry this file's own prefix and are dropped afterwards.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incremental, sqlDatabase, sqlTable, SourceAuthError, SourceTableNotFoundError, type SqlQuery } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';

const URL = process.env.HAUL_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const prefix = `sqlsrc_${process.pid}_${Date.now().toString(36)}`;
const t = (name: string) => `${prefix}_${name}`;
const dir = tempDir('haul-sqlsrc-maria-');

async function withMaria<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const u = new globalThis.URL(URL);
  const c = await mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1) });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  await withMaria(async (c) => {
    await c.query(`CREATE TABLE \`${t('kinds')}\` (
      id INT AUTO_INCREMENT PRIMARY KEY, tiny TINYINT, small SMALLINT, big BIGINT, num DECIMAL(10,2), f FLOAT, d DOUBLE,
      vc VARCHAR(20), txt TEXT, en ENUM('a','b'), flag BOOLEAN, dt DATE, tm TIME, dtm DATETIME(6), ts TIMESTAMP NULL,
      bin VARBINARY(8), bl BLOB, js JSON, required VARCHAR(5) NOT NULL)`);
    await c.query(
      `INSERT INTO \`${t('kinds')}\` (tiny, small, big, num, f, d, vc, txt, en, flag, dt, tm, dtm, ts, bin, bl, js, required) VALUES
       (1, 7, 9007199254740993, 12.34, 1.5, 2.25, 'varchar', 'text', 'b', true, '2024-02-29', '13:14:15', '2024-01-02 03:04:05.123456',
        '2024-01-02 03:04:05', X'DEADBEEF', X'00FF', '{"a": 1}', 'x')`,
    );
    await c.query(`INSERT INTO \`${t('kinds')}\` (required) VALUES ('only')`);
    await c.query(`CREATE TABLE \`${t('big')}\` (id INT PRIMARY KEY, label VARCHAR(20))`);
    const values = Array.from({ length: 2500 }, (_, i) => `(${i + 1}, 'row ${i + 1}')`).join(',');
    await c.query(`INSERT INTO \`${t('big')}\` VALUES ${values}`);
    await c.query(`CREATE TABLE \`${t('events')}\` (id INT PRIMARY KEY, updated_at DATETIME(6) NOT NULL, v VARCHAR(20))`);
    await c.query(`INSERT INTO \`${t('events')}\` VALUES (1, '2024-01-01 00:00:00', 'a'), (2, '2024-01-02 00:00:00', 'b'), (3, '2024-01-03 00:00:00.5', 'c')`);
    await c.query(`CREATE VIEW \`${t('recent')}\` AS SELECT id, v FROM \`${t('events')}\` WHERE id > 1`);
  });
});

afterAll(async () => {
  await withMaria(async (c) => {
    await c.query(`DROP VIEW IF EXISTS \`${t('recent')}\``);
    for (const n of ['kinds', 'big', 'events']) await c.query(`DROP TABLE IF EXISTS \`${t(n)}\``);
  });
});

describe('sqlDatabase on MariaDB', () => {
  it('loads every column kind with the types dlt makes, and NULLs', async () => {
    const p = testPipeline(dir, 'maria_kinds');
    const source = await sqlDatabase({ credentials: URL, tableNames: [t('kinds')] });
    const info = await p.run(source);
    expect(info.hasFailedJobs).toBe(false);
    const cols = await query<{ column_name: string; data_type: string }>(
      p,
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'maria_kinds_data' AND table_name = $1 ORDER BY ordinal_position",
      [t('kinds')],
    );
    expect(Object.fromEntries(cols.map((c) => [c.column_name, c.data_type]))).toEqual({
      id: 'BIGINT', tiny: 'BIGINT', small: 'BIGINT', big: 'BIGINT', num: 'DECIMAL(10,2)', f: 'DOUBLE', d: 'DECIMAL(38,9)',
      vc: 'VARCHAR', txt: 'VARCHAR', en: 'VARCHAR', flag: 'BIGINT', dt: 'DATE', tm: 'TIME', dtm: 'TIMESTAMP', ts: 'TIMESTAMP',
      bin: 'BLOB', bl: 'BLOB', js: 'VARCHAR', required: 'VARCHAR', _dlt_load_id: 'VARCHAR', _dlt_id: 'VARCHAR',
    });
    const rows = await query<Record<string, unknown>>(
      p,
      `SELECT id, tiny, small, big::VARCHAR AS big, num::VARCHAR AS num, f, d::VARCHAR AS d, vc, txt, en, flag, dt::VARCHAR AS dt, tm::VARCHAR AS tm,
              dtm::VARCHAR AS dtm, ts::VARCHAR AS ts, hex(bin) AS bin, hex(bl) AS bl, js, required
       FROM maria_kinds_data."${t('kinds')}" ORDER BY id`,
    );
    expect(rows[0]).toEqual({
      id: 1, tiny: 1, small: 7, big: '9007199254740993', num: '12.34', f: 1.5, d: '2.250000000', vc: 'varchar', txt: 'text', en: 'b', flag: 1,
      dt: '2024-02-29', tm: '13:14:15', dtm: '2024-01-02 03:04:05.123456', ts: '2024-01-02 03:04:05', bin: 'DEADBEEF', bl: '00FF',
      js: '{"a": 1}', required: 'x',
    });
    for (const [k, v] of Object.entries(rows[1]!)) if (k !== 'id' && k !== 'required') expect(v, k).toBeNull();
    expect(p.defaultSchema!.getTable(t('kinds'))!.columns.id).toMatchObject({ primaryKey: true, nullable: false });
  });

  it('loads BIT as integers and a BIGINT past 2^53 exact, also at minimal reflection, as dlt 1.31 does', async () => {
    const name = t('bits');
    await withMaria((c) => c.query(`CREATE TABLE \`${name}\` (id INT PRIMARY KEY, b1 BIT(1), b8 BIT(8), big BIGINT)`));
    try {
      await withMaria((c) => c.query(`INSERT INTO \`${name}\` VALUES (1, b'1', b'10101010', 9223372036854775807), (2, b'0', b'0', 5), (3, NULL, NULL, NULL)`));
      const p = testPipeline(dir, 'maria_bits');
      await p.run(await sqlDatabase({ credentials: URL, tableNames: [name], reflectionLevel: 'minimal' }));
      const cols = await query<{ column_name: string; data_type: string }>(
        p,
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'maria_bits_data' AND table_name = $1 ORDER BY ordinal_position",
        [name],
      );
      // the types and values dlt 1.31's sql_database made from the same table
      expect(Object.fromEntries(cols.map((c) => [c.column_name, c.data_type]))).toMatchObject({ b1: 'BIGINT', b8: 'BIGINT', big: 'BIGINT' });
      expect(await query(p, `SELECT id, b1, b8, big::VARCHAR AS big FROM maria_bits_data."${name}" ORDER BY id`)).toEqual([
        { id: 1, b1: 1, b8: 170, big: '9223372036854775807' },
        { id: 2, b1: 0, b8: 0, big: '5' },
        { id: 3, b1: null, b8: null, big: null },
      ]);
    } finally {
      await withMaria((c) => c.query(`DROP TABLE IF EXISTS \`${name}\``));
    }
  });

  it('reflects a MariaDB UUID column as text in its place (it came last, untyped)', async () => {
    const name = t('uuids');
    await withMaria((c) => c.query(`CREATE TABLE \`${name}\` (id INT PRIMARY KEY, u UUID NOT NULL, label VARCHAR(20))`));
    try {
      await withMaria((c) => c.query(`INSERT INTO \`${name}\` VALUES (1, '123e4567-e89b-12d3-a456-426614174000', 'a')`));
      const p = testPipeline(dir, 'maria_uuid');
      await p.run(await sqlDatabase({ credentials: URL, tableNames: [name] }));
      const cols = await query<{ column_name: string; data_type: string; is_nullable: string }>(
        p,
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'maria_uuid_data' AND table_name = $1 ORDER BY ordinal_position",
        [name],
      );
      expect(cols.slice(0, 3)).toEqual([
        { column_name: 'id', data_type: 'BIGINT', is_nullable: 'NO' },
        { column_name: 'u', data_type: 'VARCHAR', is_nullable: 'NO' },
        { column_name: 'label', data_type: 'VARCHAR', is_nullable: 'YES' },
      ]);
      expect(await query(p, `SELECT u FROM maria_uuid_data."${name}"`)).toEqual([{ u: '123e4567-e89b-12d3-a456-426614174000' }]);
    } finally {
      await withMaria((c) => c.query(`DROP TABLE IF EXISTS \`${name}\``));
    }
  });

  it('streams a table larger than chunkSize in several chunks', async () => {
    const res = await sqlTable({ credentials: URL, table: t('big'), chunkSize: 1000 });
    const sizes: number[] = [];
    for await (const chunk of res.open({ state: {} }) as AsyncIterable<unknown[]>) sizes.push(chunk.length);
    expect(sizes).toEqual([1000, 1000, 500]);
  });

  it('yields every row once in chunks of one, and stops early without a hung connection', async () => {
    const one = await sqlTable({ credentials: URL, table: t('big'), chunkSize: 1, queryAdapterCallback: (q) => ({ ...q, sql: `${q.sql} ORDER BY id` }) });
    const ids: unknown[] = [];
    for await (const chunk of one.open({ state: {} }) as AsyncIterable<Record<string, unknown>[]>) {
      expect(chunk.length).toBe(1);
      ids.push(chunk[0]!.id);
    }
    expect(ids).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));

    const res = await sqlTable({ credentials: URL, table: t('big'), chunkSize: 100 });
    const it = (res.open({ state: {} }) as AsyncIterable<unknown[]>)[Symbol.asyncIterator]();
    expect(((await it.next()).value as unknown[]).length).toBe(100);
    await it.return?.(undefined); // must not wait for the rest of the result set
    const again: number[] = [];
    for await (const chunk of res.open({ state: {} }) as AsyncIterable<unknown[]>) again.push(chunk.length);
    expect(again.reduce((a, b) => a + b, 0)).toBe(2500);
  });

  it('loads only new rows on the second incremental run', async () => {
    const p = testPipeline(dir, 'maria_incr');
    const queries: SqlQuery[] = [];
    const make = () => sqlTable({ credentials: URL, table: t('events'), incremental: incremental('updated_at'), queryAdapterCallback: (q) => (queries.push(q), q) });
    await p.run(await make());
    await withMaria((c) => c.query(`INSERT INTO \`${t('events')}\` VALUES (4, '2024-01-03 00:00:00.5', 'same'), (5, '2024-01-04 00:00:00', 'e')`));
    await p.run(await make());
    expect(queries[1]!.sql).toContain('WHERE `updated_at` >= ? ORDER BY `updated_at` ASC');
    expect(queries[1]!.params).toEqual(['2024-01-03 00:00:00.500000']);
    const rows = await query<{ id: number }>(p, `SELECT id FROM maria_incr_data."${t('events')}" ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
  });

  it('reads a view with includeViews or named in tableNames, and refuses a missing table', async () => {
    const src = await sqlDatabase({ credentials: URL, includeViews: true, tableNames: [t('recent')] });
    const p = testPipeline(dir, 'maria_view');
    await p.run(src);
    const rows = await query<{ id: number }>(p, `SELECT id FROM maria_view_data."${t('recent')}" ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual([2, 3, 4, 5]);
    // named in tableNames, the view is read without includeViews, as in dlt
    expect(Object.keys((await sqlDatabase({ credentials: URL, tableNames: [t('recent')] })).resources)).toEqual([t('recent')]);
    await expect(sqlTable({ credentials: URL, table: t('missing') })).rejects.toBeInstanceOf(SourceTableNotFoundError);
  });

  it('reports a bad password as an auth error that does not contain the password', async () => {
    const bad = new globalThis.URL(URL);
    bad.password = 'not-the-Password-42';
    const err = await sqlDatabase({ credentials: bad.toString() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceAuthError);
    expect((err as Error).message).toContain(`127.0.0.1:3306/test`);
    expect((err as Error).message).toContain('SOURCES__SQL_DATABASE__CREDENTIALS__PASSWORD');
    expect((err as Error).message).not.toContain('not-the-Password-42');
    expect(String((err as Error).stack)).not.toContain('not-the-Password-42');
  });
});
