import { describe, expect, it } from 'vitest';
import { count, query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir();

describe('write dispositions on DuckDB', () => {
  it('append adds rows on every run', async () => {
    const p = testPipeline(dir, 'app');
    await p.run([{ id: 1 }, { id: 2 }], { tableName: 't' });
    await p.run([{ id: 3 }], { tableName: 't' });
    expect(await count(p, 't')).toBe(3);
  });

  it('replace swaps root and child rows; empty data empties the table', async () => {
    const p = testPipeline(dir, 'rep');
    await p.run([{ id: 1, kids: [1, 2] }, { id: 2, kids: [3] }], { tableName: 't', writeDisposition: 'replace' });
    await p.run([{ id: 9, kids: [7] }], { tableName: 't', writeDisposition: 'replace' });
    expect((await query<{ id: unknown }>(p, 'SELECT id FROM t')).map((r) => Number(r.id))).toEqual([9]);
    expect((await query<{ value: unknown }>(p, 'SELECT value FROM t__kids')).map((r) => Number(r.value))).toEqual([7]);
    await p.run([], { tableName: 't', writeDisposition: 'replace' });
    expect(await count(p, 't')).toBe(0);
    expect(await count(p, 't__kids')).toBe(0);
  });

  it('merge updates by primary key, keeps child tables consistent and dedupes one load', async () => {
    const p = testPipeline(dir, 'mrg');
    await p.run(
      [
        { id: 1, name: 'a', items: [{ sku: 'x' }, { sku: 'y' }] },
        { id: 2, name: 'b', items: [{ sku: 'z' }] },
      ],
      { tableName: 'orders', writeDisposition: 'merge', primaryKey: 'id' },
    );
    await p.run(
      [
        { id: 1, name: 'a-old', items: [{ sku: 'q' }] },
        { id: 1, name: 'a2', items: [{ sku: 'w' }] },
        { id: 3, name: 'c', items: [] },
      ],
      { tableName: 'orders', writeDisposition: 'merge', primaryKey: 'id' },
    );
    const rows = await query<{ id: unknown; name: string }>(p, 'SELECT id, name FROM orders ORDER BY id');
    expect(rows.map((r) => [Number(r.id), r.name])).toEqual([[1, 'a2'], [2, 'b'], [3, 'c']]);
    const items = await query<{ id: unknown; sku: string }>(
      p,
      'SELECT o.id, i.sku FROM orders__items i JOIN orders o ON o._dlt_id = i._dlt_root_id ORDER BY o.id, i.sku',
    );
    expect(items.map((r) => [Number(r.id), r.sku])).toEqual([[1, 'w'], [2, 'z']]);
    expect(await count(p, 'orders__items')).toBe(2);
    // A primaryKey hint does not fix the type: ids stay integers.
    const idType = await query<{ data_type: string }>(
      p,
      "SELECT data_type FROM information_schema.columns WHERE table_schema = 'mrg_data' AND table_name = 'orders' AND column_name = 'id'",
    );
    expect(idType[0]!.data_type).toBe('BIGINT');
    expect(p.defaultSchema!.getTable('orders')!.columns.id).toMatchObject({ dataType: 'bigint', primaryKey: true, nullable: false });
    expect(p.defaultSchema!.getTable('orders')!.columns.id!.incomplete).toBeUndefined();
  });

  it("a key hint on a column no row has is refused, as dlt's UnboundColumnException: no table, nothing loaded", async () => {
    const p = testPipeline(dir, 'nokey');
    await expect(p.run([{ a: 1 }], { tableName: 't', primaryKey: 'missing_id' })).rejects.toThrow(/column "missing_id" is a primary key, but no row/);
    const tables = await query<{ table_name: string }>(p, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'nokey_data' AND table_name = 't'");
    expect(tables).toEqual([]);
    expect(p.hasPendingData).toBe(false);
  });

  it('merge with a merge key replaces whole partitions', async () => {
    const p = testPipeline(dir, 'mkey');
    await p.run([{ day: '2024-01-01', v: 1 }, { day: '2024-01-01', v: 2 }, { day: '2024-01-02', v: 3 }], { tableName: 'f', writeDisposition: 'merge', mergeKey: 'day' });
    await p.run([{ day: '2024-01-01', v: 10 }], { tableName: 'f', writeDisposition: 'merge', mergeKey: 'day' });
    const rows = await query<{ day: string; v: unknown }>(p, 'SELECT day, v FROM f ORDER BY day, v');
    expect(rows.map((r) => [r.day, Number(r.v)])).toEqual([['2024-01-01', 10], ['2024-01-02', 3]]);
  });

  it('a key given again replaces the old one, as dlt does (a changed primaryKey or mergeKey is no compound key)', async () => {
    const p = testPipeline(dir, 'rekey');
    const run = (rows: object[], primaryKey: string) => p.run(rows, { tableName: 't', writeDisposition: 'merge', primaryKey });
    await run([{ id: 1, code: 'a', v: 1 }, { id: 2, code: 'b', v: 2 }], 'id');
    await run([{ id: 3, code: 'a', v: 10 }, { id: 2, code: 'c', v: 20 }], 'code');
    const rows = await query<{ id: unknown; code: string }>(p, 'SELECT id, code FROM t ORDER BY code');
    // dlt 1.31 lands the same: code "a" replaced, and (2, b) kept beside (2, c)
    expect(rows.map((r) => [Number(r.id), r.code])).toEqual([[3, 'a'], [2, 'b'], [2, 'c']]);
    const keys = Object.values(p.defaultSchema!.tables.t!.columns).filter((c) => c.primaryKey).map((c) => c.name);
    expect(keys).toEqual(['code']);
    // the merge key too
    const m = testPipeline(dir, 'remkey');
    await m.run([{ day: 1, cat: 'a', v: 1 }, { day: 2, cat: 'a', v: 2 }], { tableName: 'f', writeDisposition: 'merge', mergeKey: 'day' });
    await m.run([{ day: 3, cat: 'a', v: 3 }], { tableName: 'f', writeDisposition: 'merge', mergeKey: 'cat' });
    expect(await count(m, 'f')).toBe(1);
  });

  it('skip extracts nothing', async () => {
    const p = testPipeline(dir, 'skp');
    await p.run([{ id: 1 }], { tableName: 's' });
    await p.run([{ id: 2 }], { tableName: 's', writeDisposition: 'skip' });
    expect(await count(p, 's')).toBe(1);
  });
});
