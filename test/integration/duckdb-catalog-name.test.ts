/**
 * DuckDB names a database's catalog after its file, so a dataset called like the file
 * (`shop` in `shop.duckdb`) made every bare `"shop"."table"` ambiguous. Every name is now
 * qualified with the catalog; this runs every disposition and the system tables through it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { duckdb, pipeline } from '../../src/index.js';
import { query, tempDir } from '../helpers.js';

describe('duckdb: a dataset named like the database file', () => {
  const dir = tempDir('haul-duckdb-catalog-');

  it('loads, replaces, merges, syncs state and drops with dataset "shop" in shop.duckdb', async () => {
    const opts = { pipelineName: 'shop', datasetName: 'shop', pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path: join(dir, 'shop.duckdb') }) };
    const p = pipeline(opts);
    await p.run([{ id: 1, name: 'a', items: [{ sku: 'x' }, { sku: 'y' }] }], { tableName: 'orders' });
    await p.run([{ id: 2, name: 'b', items: [{ sku: 'z' }] }], { tableName: 'orders', writeDisposition: 'merge', primaryKey: 'id' });
    await p.run([{ id: 2, name: 'b2', items: [] }], { tableName: 'orders', writeDisposition: 'merge', primaryKey: 'id' });
    expect(await query(p, 'SELECT id, name FROM orders ORDER BY id')).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b2' }]);
    expect(await query(p, 'SELECT count(*) AS n FROM orders__items')).toEqual([{ n: 2 }]);
    await p.run([{ id: 9, name: 'only' }], { tableName: 'customers', writeDisposition: 'replace' });
    await p.run([{ id: 10, name: 'only2' }], { tableName: 'customers', writeDisposition: 'replace' });
    expect(await query(p, 'SELECT id FROM customers')).toEqual([{ id: 10 }]);
    expect(await query(p, 'SELECT count(*) AS n FROM _dlt_loads WHERE status = 0')).toEqual([{ n: 5 }]);

    // state restored from the destination alone
    p.drop();
    const again = pipeline(opts);
    await again.syncDestination();
    expect(again.schemaNames).toContain('shop');
    expect(Object.keys(again.getSchema('shop')!.tables)).toEqual(expect.arrayContaining(['orders', 'orders__items', 'customers']));
    expect(again.state._state_version).toBeGreaterThan(0);

    // refresh drops and re-creates tables under the same names
    await again.run([{ id: 11 }], { tableName: 'customers', refresh: 'drop_resources' });
    expect(await query(again, 'SELECT id FROM customers')).toEqual([{ id: 11 }]);
  });
});
