/**
 * The PostgreSQL engine reads a query without parameters through `COPY ... TO STDOUT` (text
 * format, decoded by haul) and one with parameters through a cursor. Both must give the same
 * rows, whatever the text holds (tabs, newlines, backslashes, `\N`, multi-byte characters,
 * values larger than a network read), and stopping a COPY early must leave no hung query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlTable, type SqlQuery } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';
import { PG_URL, pgDatasetName, withPg } from '../postgres-env.js';

const schema = pgDatasetName('sqlcopy');
const dir = tempDir('haul-sqlcopy-pg-');
const long = 'ж'.repeat(70_000) + '\t\\end'; // 140 kB of two-byte characters: spans many reads
const text = 'tab\there\nnew line\r\nbackslash \\ and \\N and \\t literal, é 中文 😀';

beforeAll(async () => {
  await withPg(async (c) => {
    await c.query(`CREATE SCHEMA "${schema}"`);
    await c.query(`SET search_path TO "${schema}"`);
    await c.query(`CREATE TABLE tricky (
      id integer PRIMARY KEY, "we ird""col" text, t text, arr text[], j jsonb, bin bytea, ts timestamptz, n numeric, f double precision)`);
    await c.query(
      `INSERT INTO tricky VALUES
        (1, 'a', $1, ARRAY['x"y', 'back\\slash', NULL, E'tab\\tin'], '{"s": "line\\nbreak\\ttab \\\\ \\u00e9"}', '\\x00ff5c0a09', '2024-02-29 23:59:59.5+00', 1.10, 0.1),
        (2, '', '\\N', '{}', 'null', '\\x', '0044-03-15 10:00:00+00 BC', 'NaN', 'Infinity'),
        (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (4, 'tail', $2, ARRAY['😀'], '[1, 2.5, "三"]', '\\x5c4e', 'infinity', -0.000001, -1.5e-300)`,
      [text, long],
    );
    await c.query(`CREATE TABLE many (id integer PRIMARY KEY, label text)`);
    await c.query(`INSERT INTO many SELECT g, 'row ' || g FROM generate_series(1, 5000) g`);
  });
});

afterAll(async () => {
  await withPg((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
});

async function readAll(table: string, withParam: boolean, chunkSize?: number): Promise<{ chunks: number[]; rows: Record<string, unknown>[] }> {
  const res = await sqlTable({
    credentials: PG_URL, schema, table, chunkSize,
    // A parameter sends the query through the cursor instead of COPY.
    queryAdapterCallback: withParam ? (q: SqlQuery) => ({ sql: `${q.sql} WHERE id >= $1 ORDER BY id`, params: [0] }) : (q) => ({ ...q, sql: `${q.sql} ORDER BY id` }),
  });
  const chunks: number[] = [];
  const rows: Record<string, unknown>[] = [];
  for await (const chunk of res.open({ state: {} }) as AsyncIterable<Record<string, unknown>[]>) {
    chunks.push(chunk.length);
    rows.push(...chunk);
  }
  return { chunks, rows };
}

describe('PostgreSQL source: COPY and cursor reads', () => {
  it('gives the same rows through COPY as through a cursor, escapes and all', async () => {
    const copy = await readAll('tricky', false);
    const cursor = await readAll('tricky', true);
    expect(copy.rows).toEqual(cursor.rows);
    expect(copy.rows.map((r) => Object.keys(r))).toEqual(cursor.rows.map((r) => Object.keys(r)));
    const [one, two, three, four] = copy.rows;
    expect(one).toEqual({
      id: 1, 'we ird"col': 'a', t: text,
      arr: ['x"y', 'back\\slash', null, 'tab\tin'], j: { s: 'line\nbreak\ttab \\ é' }, bin: Buffer.from([0, 255, 0x5c, 10, 9]),
      ts: '2024-02-29T23:59:59.5Z', n: '1.10', f: 0.1,
    });
    expect(two).toEqual({ id: 2, 'we ird"col': '', t: '\\N', arr: [], j: null, bin: Buffer.alloc(0), ts: '0044-03-15 10:00:00+00 BC', n: 'NaN', f: Infinity });
    expect(Object.values(three!).filter((v) => v !== null)).toEqual([3]);
    expect(four).toMatchObject({ t: long, arr: ['😀'], j: [1, 2.5, '三'], bin: Buffer.from('\\N'), ts: '9999-12-31T23:59:59.999999Z' /* datetime.max, as psycopg2 gives dlt */, n: '-0.000001', f: -1.5e-300 });
  });

  it('cuts COPY output into chunks of chunkSize, the last one shorter', async () => {
    const copy = await readAll('many', false, 1500);
    expect(copy.chunks).toEqual([1500, 1500, 1500, 500]);
    expect(copy.rows.map((r) => r.id)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    const one = await readAll('many', false, 1);
    expect(one.chunks.length).toBe(5000);
  });

  it('reports an error the server raises in the middle of a COPY, after full chunks only', async () => {
    const res = await sqlTable({
      credentials: PG_URL, schema, table: 'many', chunkSize: 500,
      queryAdapterCallback: (q) => ({ ...q, sql: `SELECT id, 1 / (id - 4000) AS x FROM "${schema}".many` }), // rows stream in heap order
    });
    const seen: number[] = [];
    const err = await (async () => {
      for await (const chunk of res.open({ state: {} }) as AsyncIterable<unknown[]>) seen.push(chunk.length);
    })().catch((e: unknown) => e);
    expect((err as Error).message).toContain('division by zero');
    // Full chunks only, none past row 4000 (rows read ahead when the error came are dropped).
    expect(seen.every((n) => n === 500)).toBe(true);
    expect(seen.length).toBeLessThan(8);
  });

  it('stops a COPY early without a hung connection, and loads the same table as a cursor read', async () => {
    const res = await sqlTable({ credentials: PG_URL, schema, table: 'many', chunkSize: 100 });
    const it = (res.open({ state: {} }) as AsyncIterable<unknown[]>)[Symbol.asyncIterator]();
    const first = await it.next();
    expect((first.value as unknown[]).length).toBe(100);
    await it.return?.(undefined); // must not wait for the rest of the COPY
    // The server ends the dropped COPY's session (it finds the socket closed).
    let open = 1;
    for (let i = 0; i < 50 && open > 0; i++) {
      const r = await withPg((c) => c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT%${schema}%' AND state <> 'idle'`));
      open = r.rows[0]!.n;
      if (open > 0) await new Promise((done) => setTimeout(done, 100));
    }
    expect(open).toBe(0);

    const p = testPipeline(dir, 'pg_copy_tricky');
    const keep = ['id', 't', 'bin'];
    await p.run(await sqlTable({ credentials: PG_URL, schema, table: 'tricky', backend: 'sqlalchemy', tableAdapterCallback: (t) => ({ ...t, columns: t.columns.filter((c) => keep.includes(c.name)) }) }));
    const rows = await query<{ id: number; t: string | null; bin: string | null }>(p, 'SELECT id, t, hex(bin) AS bin FROM pg_copy_tricky_data.tricky ORDER BY id');
    expect(rows).toEqual([
      { id: 1, t: text, bin: '00FF5C0A09' }, { id: 2, t: '\\N', bin: '' }, { id: 3, t: null, bin: null }, { id: 4, t: long, bin: '5C4E' },
    ]);
  });
});
