/**
 * Merge and replace strategies (dlt's delete-insert, upsert, insert-only, scd2; hard_delete,
 * dedup_sort; truncate-and-insert, insert-from-staging, staging-optimized), the same cases on
 * DuckDB and PostgreSQL through whole pipelines, asserting on the rows that land, plus the
 * filesystem's refusal. Each PostgreSQL test works in a schema of its own, dropped after.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { duckdb, filesystem, pipeline, postgres, resource, type Pipeline } from '../../src/index.js';
import { InvalidOptionsError, UnsupportedWriteDispositionError } from '../../src/errors.js';
import type { ResourceOptions } from '../../src/extract/resource.js';
import { tempDir } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';

const dir = tempDir('haul-merge-strategies-');
const pgDatasets: string[] = [];
afterAll(async () => {
  await dropPgSchemas(...pgDatasets);
});

const TARGETS = [
  {
    name: 'duckdb',
    make: (name: string) =>
      pipeline({ pipelineName: name, pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path: join(dir, `${name}.duckdb`) }), datasetName: `${name}_data` }),
  },
  {
    name: 'postgres',
    make: (name: string) => {
      const datasetName = pgDatasetName(name);
      pgDatasets.push(datasetName);
      return pipeline({ pipelineName: `${name}_pg`, pipelinesDir: join(dir, 'pipelines'), destination: postgres({ credentials: PG_URL }), datasetName });
    },
  },
];

async function rows(p: Pipeline, sql: string): Promise<Array<Record<string, unknown>>> {
  const c = p.sqlClient();
  try {
    return (await c.query<Record<string, unknown>>(sql)).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.toISOString() : v])),
    );
  } finally {
    await c.close();
  }
}

/** A table's column names in the pipeline's dataset. */
async function columnNames(p: Pipeline, table: string): Promise<string[]> {
  const got = await rows(p, `SELECT column_name FROM information_schema.columns WHERE table_schema = '${p.datasetName}' AND table_name = '${table}'`);
  return got.map((r) => String(r.column_name));
}

const run = (p: Pipeline, data: unknown[], options: ResourceOptions) => p.run(resource(data, { name: 'items', ...options }));

describe.each(TARGETS)('merge strategies on $name', ({ name: target, make }) => {
  const envBefore = process.env.DESTINATION__REPLACE_STRATEGY;
  afterEach(() => {
    if (envBefore === undefined) delete process.env.DESTINATION__REPLACE_STRATEGY;
    else process.env.DESTINATION__REPLACE_STRATEGY = envBefore;
  });

  it('delete-insert: compound primary key, dedupSort picks the winner, hardDelete removes a key with its nested rows', async () => {
    const p = make('di');
    const opts: ResourceOptions = {
      writeDisposition: { disposition: 'merge', strategy: 'delete-insert' },
      primaryKey: ['a', 'b'],
      columns: { lsn: { dedupSort: 'desc' }, deleted: { hardDelete: true, dataType: 'bool' } },
    };
    await run(p, [
      { a: 'x', b: 1, lsn: 1, val: 'old', tags: ['t1'] },
      { a: 'x', b: 2, lsn: 1, val: 'keep', tags: ['t2'] },
      { a: 'xb', b: 1, lsn: 1, val: 'other', tags: [] },
    ], opts);
    await run(p, [
      // three versions of (x,1): the highest lsn wins whatever the order
      { a: 'x', b: 1, lsn: 3, val: 'new', tags: ['n1', 'n2'] },
      { a: 'x', b: 1, lsn: 2, val: 'mid', tags: ['m'] },
      { a: 'x', b: 1, lsn: 3, val: 'tie-loses', tags: [] },
      // the latest version of (x,2) is a delete: the key and its nested rows go
      { a: 'x', b: 2, lsn: 1, val: 'upd', deleted: false },
      { a: 'x', b: 2, lsn: 2, deleted: true },
    ], opts);
    expect(await rows(p, 'SELECT a, b, lsn, val FROM items ORDER BY a, b')).toEqual([
      { a: 'x', b: 1, lsn: 3, val: 'new' },
      { a: 'xb', b: 1, lsn: 1, val: 'other' },
    ]);
    expect(await rows(p, 'SELECT t.value FROM items__tags AS t JOIN items AS i ON t._dlt_root_id = i._dlt_id ORDER BY t.value')).toEqual([
      { value: 'n1' },
      { value: 'n2' },
    ]);
    expect(await rows(p, 'SELECT count(*) AS n FROM items__tags')).toEqual([{ n: 2 }]);
  });

  it('a table loaded with append, then merged: the nested rows loaded before are replaced with their root (dlt refuses the migration)', async () => {
    const p = make('app2merge');
    const order = (id: number, tag: string) => ({ id, items: [{ sku: `${tag}-${id}`, parts: [{ part: `${tag}-${id}-p` }] }] });
    await run(p, [order(1, 'old'), order(2, 'old')], {});
    // nested rows of an append table carry no _dlt_root_id; the merge's migration fills it
    await run(p, [order(1, 'new'), order(3, 'new')], { writeDisposition: 'merge', primaryKey: 'id' });
    expect(await rows(p, 'SELECT i.id, c.sku FROM items__items AS c JOIN items AS i ON c._dlt_root_id = i._dlt_id ORDER BY i.id')).toEqual([
      { id: 1, sku: 'new-1' },
      { id: 2, sku: 'old-2' },
      { id: 3, sku: 'new-3' },
    ]);
    expect(await rows(p, 'SELECT i.id, g.part FROM items__items__parts AS g JOIN items AS i ON g._dlt_root_id = i._dlt_id ORDER BY i.id')).toEqual([
      { id: 1, part: 'new-1-p' },
      { id: 2, part: 'old-2-p' },
      { id: 3, part: 'new-3-p' },
    ]);
    expect(await rows(p, 'SELECT (SELECT count(*) FROM items__items) AS c, (SELECT count(*) FROM items__items__parts) AS g')).toEqual([{ c: 3, g: 3 }]);
  });

  it('a merge without keys appends, and leaves its delete markers out with their nested rows (as dlt 1.31)', async () => {
    const p = make('nokeydel');
    const opts: ResourceOptions = { writeDisposition: 'merge', columns: { deleted: { hardDelete: true, dataType: 'bool' } } };
    await run(p, [{ id: 1, v: 'a' }], opts);
    await run(
      p,
      [
        { id: 1, deleted: true, tags: [{ t: 'gone', parts: [{ p: 'gone' }] }] },
        { id: 2, v: 'b', deleted: false, tags: [{ t: 'kept', parts: [{ p: 'kept' }] }] },
      ],
      opts,
    );
    expect(await rows(p, 'SELECT id, v, deleted FROM items ORDER BY id')).toEqual([
      { id: 1, v: 'a', deleted: null },
      { id: 2, v: 'b', deleted: false },
    ]);
    expect(await rows(p, 'SELECT t FROM items__tags')).toEqual([{ t: 'kept' }]);
    expect(await rows(p, 'SELECT p FROM items__tags__parts')).toEqual([{ p: 'kept' }]);
  });

  it('upsert: updates rows of staged keys, inserts new keys, replaces nested rows of updated keys, deletes marked keys', async () => {
    const p = make('ups');
    const opts: ResourceOptions = { writeDisposition: { disposition: 'merge', strategy: 'upsert' }, primaryKey: 'id', columns: { gone: { hardDelete: true, dataType: 'bool' } } };
    await run(p, [
      { id: 1, name: 'a', tags: ['x', 'y'] },
      { id: 2, name: 'b', tags: ['z'] },
      { id: 3, name: 'c', tags: ['w'] },
    ], opts);
    await run(p, [
      { id: 1, name: 'a2', tags: ['x2'] },
      { id: 3, gone: true },
      { id: 4, name: 'd', tags: [] },
      // a delete marker whose key is new is inserted, without its nested rows, as dlt's MERGE does
      { id: 5, name: 'e', gone: true, tags: ['v'] },
    ], opts);
    expect(await rows(p, 'SELECT id, name FROM items ORDER BY id')).toEqual([
      { id: 1, name: 'a2' },
      { id: 2, name: 'b' },
      { id: 4, name: 'd' },
      { id: 5, name: 'e' },
    ]);
    expect(await rows(p, 'SELECT i.id, t.value FROM items__tags AS t JOIN items AS i ON t._dlt_root_id = i._dlt_id ORDER BY i.id, t.value')).toEqual([
      { id: 1, value: 'x2' },
      { id: 2, value: 'z' },
    ]);
    expect(await rows(p, 'SELECT count(*) AS n FROM items__tags')).toEqual([{ n: 2 }]);
    // no deduplication, as in dlt: a key twice in one load is refused and nothing changes
    const again = await run(p, [{ id: 1, name: 'first' }, { id: 1, name: 'second' }], opts).catch((e: unknown) => e);
    expect(String((again as Error).message)).toMatch(/occur more than once.*delete-insert/s);
    expect(await rows(p, 'SELECT name FROM items WHERE id = 1')).toEqual([{ name: 'a2' }]);
  });

  it('insert-only: rows whose primary key exists are skipped, new keys inserted with their nested rows, no dedup (as dlt)', async () => {
    const p = make('ins');
    const opts: ResourceOptions = { writeDisposition: { disposition: 'merge', strategy: 'insert-only' }, primaryKey: 'id', columns: { deleted: { hardDelete: true, dataType: 'bool' } } };
    await run(p, [{ id: 1, name: 'a', tags: ['x'] }], opts);
    await run(p, [
      { id: 1, name: 'changed', tags: ['nope'] },
      { id: 2, name: 'b', tags: ['y'] },
      { id: 2, name: 'b-last', tags: ['y2'] },
      { id: 3, name: 'c', deleted: true, tags: ['z'] },
    ], opts);
    // dlt 1.31 gives the same rows: both id 2 rows, no delete marker
    expect(await rows(p, 'SELECT id, name FROM items ORDER BY id, name')).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 2, name: 'b-last' },
    ]);
    expect(await rows(p, 'SELECT value FROM items__tags ORDER BY value')).toEqual([{ value: 'x' }, { value: 'y' }, { value: 'y2' }]);
  });

  it('scd2 over three runs: a changed row retires its version, an absent row is retired, a returning row is re-inserted', async () => {
    const p = make('scd');
    const opts: ResourceOptions = { writeDisposition: { disposition: 'merge', strategy: 'scd2' } };
    await run(p, [{ k: 1, c: 'foo', tags: ['a'] }, { k: 2, c: 'bar', tags: ['b'] }], opts);
    await run(p, [{ k: 1, c: 'foo2', tags: ['a2'] }, { k: 2, c: 'bar', tags: ['b'] }], opts);
    await run(p, [{ k: 1, c: 'foo', tags: ['a'] }], opts);
    // dlt 1.31 on DuckDB lands the same: 4 versions, 3 nested rows, the returning row with its first _dlt_id
    const all = await rows(p, 'SELECT k, c, _dlt_id, _dlt_valid_from AS f, _dlt_valid_to AS t FROM items ORDER BY f, k');
    expect(all.map((r) => [r.k, r.c, r.t === null ? 'active' : 'retired'])).toEqual([
      [1, 'foo', 'retired'],
      [2, 'bar', 'retired'],
      [1, 'foo2', 'retired'],
      [1, 'foo', 'active'],
    ]);
    const loads = [...new Set(all.map((r) => r.f))];
    expect(loads).toHaveLength(3);
    // retired at the boundary of the load that no longer had the version
    expect(all[0]!.t).toBe(loads[1]);
    expect(all[1]!.t).toBe(loads[2]);
    expect(all[2]!.t).toBe(loads[2]);
    // the version hash is the surrogate key: the returning row has its first id, and its nested rows once
    expect(all[3]!._dlt_id).toBe(all[0]!._dlt_id);
    expect(await rows(p, 'SELECT i.c, t.value FROM items AS i JOIN items__tags AS t ON t._dlt_parent_id = i._dlt_id WHERE i._dlt_valid_to IS NULL')).toEqual([
      { c: 'foo', value: 'a' },
    ]);
    expect(await rows(p, 'SELECT count(*) AS n FROM items__tags')).toEqual([{ n: 3 }]);
    const cols = await columnNames(p, 'items__tags');
    expect(cols).toContain('_dlt_parent_id');
    expect(cols).not.toContain('_dlt_valid_from');
    // as dlt's: scd2 nested tables carry no root key (their ids follow from the version's)
    expect(cols).not.toContain('_dlt_root_id');
  });

  it('scd2 nested lists two levels deep: each version gets its nested rows once, without root keys', async () => {
    const p = make('scddeep');
    const opts: ResourceOptions = { writeDisposition: { disposition: 'merge', strategy: 'scd2' } };
    const item = (sku: string) => ({ id: 1, lines: [{ sku, parts: [{ n: `${sku}-1` }, { n: `${sku}-2` }] }] });
    await run(p, [item('a')], opts);
    await run(p, [item('a')], opts); // unchanged: nothing new
    await run(p, [item('b')], opts); // a new version, with its own nested rows
    await run(p, [item('a')], opts); // the first version returns: it keeps the rows it had
    expect(await rows(p, 'SELECT count(*) AS n, count(_dlt_valid_to) AS retired FROM items')).toEqual([{ n: 3, retired: 2 }]);
    const active = await rows(
      p,
      'SELECT l.sku, x.n FROM items AS i JOIN items__lines AS l ON l._dlt_parent_id = i._dlt_id JOIN items__lines__parts AS x ON x._dlt_parent_id = l._dlt_id ' +
        'WHERE i._dlt_valid_to IS NULL ORDER BY x.n',
    );
    expect(active).toEqual([{ sku: 'a', n: 'a-1' }, { sku: 'a', n: 'a-2' }]);
    expect(await rows(p, 'SELECT count(*) AS n FROM items__lines__parts')).toEqual([{ n: 4 }]);
    for (const t of ['items__lines', 'items__lines__parts']) expect(await columnNames(p, t)).not.toContain('_dlt_root_id');
  });

  it('scd2 with rowVersionColumnName links nested rows through _dlt_root_id', async () => {
    const p = make('scdvnest');
    const opts: ResourceOptions = { writeDisposition: { disposition: 'merge', strategy: 'scd2', rowVersionColumnName: 'ver' } };
    await run(p, [{ id: 1, ver: 'v1', tags: ['a'] }], opts);
    await run(p, [{ id: 1, ver: 'v1', tags: ['a'] }], opts);
    await run(p, [{ id: 1, ver: 'v2', tags: ['b'] }], opts);
    expect(await rows(p, 'SELECT i.ver, t.value FROM items AS i JOIN items__tags AS t ON t._dlt_root_id = i._dlt_id ORDER BY i.ver')).toEqual([
      { ver: 'v1', value: 'a' },
      { ver: 'v2', value: 'b' },
    ]);
  });

  it('scd2 with activeRecordTimestamp, boundaryTimestamp, custom validity columns and a compound merge key compared column by column', async () => {
    const p = make('scdk');
    const opts = (boundary: string): ResourceOptions => ({
      writeDisposition: {
        disposition: 'merge',
        strategy: 'scd2',
        validityColumnNames: ['from_ts', 'to_ts'],
        activeRecordTimestamp: '9999-12-31',
        boundaryTimestamp: boundary,
      },
      mergeKey: ['p1', 'p2'],
    });
    await run(p, [
      { p1: 'a', p2: 'bc', v: 1 },
      { p1: 'ab', p2: 'c', v: 2 },
      { p1: 'a', p2: 'bc', v: 3 },
    ], opts('2024-01-01T00:00:00Z'));
    // only partition (a, bc) is staged: its absent row 3 retires; (ab, c) must stay active
    await run(p, [{ p1: 'a', p2: 'bc', v: 1 }], opts('2024-02-01T00:00:00Z'));
    const got = await rows(p, 'SELECT p1, p2, v, from_ts, to_ts FROM items ORDER BY v');
    expect(got).toEqual([
      { p1: 'a', p2: 'bc', v: 1, from_ts: '2024-01-01T00:00:00.000Z', to_ts: '9999-12-31T00:00:00.000Z' },
      { p1: 'ab', p2: 'c', v: 2, from_ts: '2024-01-01T00:00:00.000Z', to_ts: '9999-12-31T00:00:00.000Z' },
      { p1: 'a', p2: 'bc', v: 3, from_ts: '2024-01-01T00:00:00.000Z', to_ts: '2024-02-01T00:00:00.000Z' },
    ]);
  });

  it('scd2 with rowVersionColumnName and a hard delete retires the version', async () => {
    const p = make('scdv');
    const opts: ResourceOptions = {
      writeDisposition: { disposition: 'merge', strategy: 'scd2', rowVersionColumnName: 'ver' },
      mergeKey: 'id',
      columns: { deleted_at: { hardDelete: true, dataType: 'text' } },
    };
    await run(p, [{ id: 1, ver: 'a1', n: 'a' }, { id: 2, ver: 'b1', n: 'b' }], opts);
    // dlt 1.31's order: hinted columns, the validity columns, then the data's
    const order = await rows(p, `SELECT column_name AS c FROM information_schema.columns WHERE table_schema = '${p.datasetName}' AND table_name = 'items' ORDER BY ordinal_position`);
    expect(order.map((r) => r.c)).toEqual(['deleted_at', '_dlt_valid_from', '_dlt_valid_to', 'id', 'ver', 'n', '_dlt_load_id', '_dlt_id']);
    // same version of id 1 with other content: the version decides, nothing changes; id 2 is deleted
    await run(p, [{ id: 1, ver: 'a1', n: 'a-same-version' }, { id: 2, ver: 'b2', deleted_at: 'now' }], opts);
    expect(await rows(p, 'SELECT id, ver, n, _dlt_valid_to IS NULL AS active FROM items ORDER BY id')).toEqual([
      { id: 1, ver: 'a1', n: 'a', active: true },
      { id: 2, ver: 'b1', n: 'b', active: false },
    ]);
  });

  it("scd2's default boundary is the package's creation time with its microseconds (the load id's), as dlt's", async () => {
    const p = make('scdus');
    await run(p, [{ id: 1 }], { writeDisposition: { disposition: 'merge', strategy: 'scd2' } });
    const us = target === 'postgres' ? '(extract(epoch FROM _dlt_valid_from) * 1000000)::bigint' : 'epoch_us(_dlt_valid_from)';
    const [row] = await rows(p, `SELECT ${us} AS us, _dlt_load_id AS load_id FROM items`);
    expect(String(row!.us)).toBe(String(row!.load_id).replace('.', ''));
  });

  it('scd2 rowVersionColumnName is NOT NULL, as dlt hints it: a null version is refused (it would be versioned again on every run)', async () => {
    const p = make('scdvnull');
    const opts: ResourceOptions = { writeDisposition: { disposition: 'merge', strategy: 'scd2', rowVersionColumnName: 'ver' } };
    await run(p, [{ id: 1, ver: 1, v: 'a' }], opts);
    const err = await run(p, [{ id: 1, ver: 1, v: 'a' }, { id: 2, ver: null, v: 'b' }], opts).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/column "ver" is not nullable/);
    expect(await rows(p, 'SELECT id, ver, _dlt_valid_to IS NULL AS active FROM items ORDER BY id')).toEqual([{ id: 1, ver: 1, active: true }]);
  });

  it('null keys: a merge row with a null primary key fails with a typed error naming the column and leaves the table as it was', async () => {
    const p = make('nullk');
    const opts: ResourceOptions = { writeDisposition: 'merge', primaryKey: 'id' };
    await run(p, [{ id: 1, v: 'a' }], opts);
    const err = await run(p, [{ id: 1, v: 'b' }, { id: null, v: 'c' }], opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/items/);
    expect((err as Error).message).toMatch(/\bid\b/);
    expect(await rows(p, 'SELECT id, v FROM items')).toEqual([{ id: 1, v: 'a' }]);
  });

  it("scd2: a change in a nested list alone makes a new version, and a column new to the table re-versions nothing (dlt's row hash)", async () => {
    const p = make('scdnest');
    const opts: ResourceOptions = { writeDisposition: { disposition: 'merge', strategy: 'scd2' } };
    await run(p, [{ id: 1, tags: ['a'] }, { id: 2, tags: ['b'] }], opts);
    // id 1: only its list changes; id 2 is unchanged
    await run(p, [{ id: 1, tags: ['a', 'c'] }, { id: 2, tags: ['b'] }], opts);
    const versions = () => rows(p, 'SELECT id, count(*) AS n, count(_dlt_valid_to) AS retired FROM items GROUP BY id ORDER BY id');
    expect(await versions()).toEqual([{ id: 1, n: 2, retired: 1 }, { id: 2, n: 1, retired: 0 }]);
    const activeTags = () =>
      rows(p, 'SELECT i.id, t.value FROM items__tags AS t JOIN items AS i ON t._dlt_parent_id = i._dlt_id WHERE i._dlt_valid_to IS NULL ORDER BY i.id, t._dlt_list_idx');
    expect(await activeTags()).toEqual([{ id: 1, value: 'a' }, { id: 1, value: 'c' }, { id: 2, value: 'b' }]);
    // a key only id 2 has: id 1 keeps its version, id 2 gets a new one (as dlt 1.31 did)
    await run(p, [{ id: 1, tags: ['a', 'c'] }, { id: 2, tags: ['b'], note: 'new' }], opts);
    expect(await versions()).toEqual([{ id: 1, n: 2, retired: 1 }, { id: 2, n: 2, retired: 1 }]);
    expect(await activeTags()).toEqual([{ id: 1, value: 'a' }, { id: 1, value: 'c' }, { id: 2, value: 'b' }]);
  });

  it('scd2 versions tell null from empty text; identical rows in one load land twice (as dlt)', async () => {
    const p = make('scdn');
    const opts: ResourceOptions = { writeDisposition: { disposition: 'merge', strategy: 'scd2' } };
    // an identical row twice lands twice with the same version, as in dlt 1.31, and both stay active
    await run(p, [{ a: null, b: 'x' }, { a: '', b: 'x' }, { a: 'x', b: null, tags: ['t'] }, { a: 'x', b: null, tags: ['t'] }], opts);
    await run(p, [{ a: null, b: 'x' }, { a: '', b: 'x' }, { a: 'x', b: null, tags: ['t'] }], opts);
    // nested rows belong to a version (their ids derive from it): identical items share them
    expect(await rows(p, 'SELECT count(*) AS n FROM items__tags')).toEqual([{ n: 1 }]);
    expect(await rows(p, "SELECT count(DISTINCT _dlt_id) AS ids, count(*) AS n FROM items WHERE a = 'x'")).toEqual([{ ids: 1, n: 2 }]);
    const got = await rows(p, 'SELECT a, b, _dlt_valid_to IS NULL AS active FROM items ORDER BY a NULLS FIRST, b');
    expect(got).toEqual([
      { a: null, b: 'x', active: true },
      { a: '', b: 'x', active: true },
      { a: 'x', b: null, active: true },
      { a: 'x', b: null, active: true },
    ]);
  });

  it.each(['truncate-and-insert', 'insert-from-staging', 'staging-optimized'])('replace strategy %s replaces the root and nested rows', async (strategy) => {
    process.env.DESTINATION__REPLACE_STRATEGY = strategy;
    const p = make(`rep_${strategy.replaceAll('-', '_')}`);
    await run(p, [{ id: 1, tags: ['a', 'b'] }, { id: 2, tags: ['c'] }], { writeDisposition: 'replace' });
    await run(p, [{ id: 3, tags: ['d'] }], { writeDisposition: { disposition: 'replace' } });
    expect(await rows(p, 'SELECT id FROM items')).toEqual([{ id: 3 }]);
    expect(await rows(p, 'SELECT value FROM items__tags')).toEqual([{ value: 'd' }]);
  });
});

describe('merge strategy options', () => {
  it('refuses upsert and insert-only without a primary key, and scd2 settings on another strategy', async () => {
    const p = pipeline({ pipelineName: 'opts', pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path: join(dir, 'opts.duckdb') }) });
    for (const strategy of ['upsert', 'insert-only'] as const) {
      const err = await run(p, [{ id: 1 }], { writeDisposition: { disposition: 'merge', strategy } }).catch((e: unknown) => e);
      expect((err as Error).cause).toBeInstanceOf(InvalidOptionsError);
      expect((err as Error).message).toMatch(new RegExp(`table "items".*'${strategy}' needs a primary key`));
    }
    const err = await run(p, [{ id: 1 }], { writeDisposition: { disposition: 'merge', strategy: 'upsert', activeRecordTimestamp: '9999-12-31' }, primaryKey: 'id' }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/activeRecordTimestamp applies to strategy 'scd2' only/);
    expect(() => resource([], { name: 'x', writeDisposition: { disposition: 'merge', strategy: 'nope' } as never })).toThrow(InvalidOptionsError);
    // null is dlt's "the default" for the scd2 timestamps: the package's creation time, no validTo
    const scd = pipeline({ pipelineName: 'opts_null', pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path: join(dir, 'opts_null.duckdb') }) });
    const before = Date.now();
    await run(scd, [{ id: 1 }], { writeDisposition: { disposition: 'merge', strategy: 'scd2', boundaryTimestamp: null, activeRecordTimestamp: null } });
    const [row] = await rows(scd, 'SELECT _dlt_valid_from AS f, _dlt_valid_to AS t FROM items');
    expect(row!.t).toBeNull();
    expect(Date.parse(String(row!.f))).toBeGreaterThanOrEqual(before - 1000);
  });

  it('a replace_strategy that is not one fails before anything is extracted, naming the key', async () => {
    process.env.DESTINATION__REPLACE_STRATEGY = 'bogus';
    try {
      const p = pipeline({ pipelineName: 'badrep', pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path: join(dir, 'badrep.duckdb') }) });
      const err = await run(p, [{ id: 1 }], { writeDisposition: 'replace' }).catch((e: unknown) => e);
      expect(String((err as Error).message)).toMatch(/replace_strategy/);
      expect(p.hasPendingData).toBe(false);
    } finally {
      delete process.env.DESTINATION__REPLACE_STRATEGY;
    }
  });

  it('run() options take the dict for plain data, and the strategy is kept in the schema table', async () => {
    const p = pipeline({ pipelineName: 'runopts', pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path: join(dir, 'runopts.duckdb') }) });
    const opts = { tableName: 'kv', primaryKey: 'k', writeDisposition: { disposition: 'merge' as const, strategy: 'upsert' as const } };
    await p.run([{ k: 'a', v: 1 }, { k: 'b', v: 2 }], opts);
    await p.run([{ k: 'a', v: 3 }], opts);
    expect(await rows(p, 'SELECT k, v FROM kv ORDER BY k')).toEqual([{ k: 'a', v: 3 }, { k: 'b', v: 2 }]);
    expect(p.defaultSchema?.getTable('kv')).toMatchObject({ writeDisposition: 'merge', mergeStrategy: 'upsert' });
    // the shorthand resets the strategy to delete-insert
    await p.run([{ k: 'a', v: 4 }, { k: 'a', v: 5 }], { tableName: 'kv', primaryKey: 'k', writeDisposition: 'merge' });
    expect(p.defaultSchema?.getTable('kv')?.mergeStrategy).toBe('delete-insert');
    expect(await rows(p, 'SELECT k, v FROM kv ORDER BY k')).toEqual([{ k: 'a', v: 5 }, { k: 'b', v: 2 }]);
  });

  it('the filesystem refuses every merge strategy with a typed error before anything is written', async () => {
    const p = pipeline({ pipelineName: 'fsm', pipelinesDir: join(dir, 'pipelines'), destination: filesystem({ bucketUrl: join(dir, 'bucket') }) });
    for (const strategy of ['delete-insert', 'upsert', 'scd2', 'insert-only'] as const) {
      const err = await run(p, [{ id: 1 }], { writeDisposition: { disposition: 'merge', strategy }, primaryKey: 'id' }).catch((e: unknown) => e);
      expect((err as Error).cause).toBeInstanceOf(UnsupportedWriteDispositionError);
      expect((err as Error).message).toMatch(/"merge".*delta/s);
    }
  });
});
