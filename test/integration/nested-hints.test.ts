import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filesystem, pipeline, postgres, resource, type Pipeline } from '../../src/index.js';
import { InvalidOptionsError } from '../../src/errors.js';
import { failureCause, query, tempDir, testPipeline } from '../helpers.js';
import { dropPgSchemas, PG_URL, pgDatasetName } from '../postgres-env.js';

/*
 * dlt's nested_hints (columns): the types of a nested table's columns, declared on the
 * root's resource. The expected tables are what dlt 1.31 lands from the same resource:
 * hinted columns first, a declared table that no row reaches is not created.
 */

const dir = tempDir();
const pgDatasets: string[] = [];
afterAll(() => dropPgSchemas(...pgDatasets));

/** Orders whose item prices are whole in the first order: without a hint, `price` would be bigint. */
function orders(disposition: 'append' | 'replace' | 'merge' = 'append', batch = 1) {
  return resource(
    function* orders() {
      yield [
        { id: 1, items: [{ sku: 'a', price: 3, parts: [{ w: 1 }] }], tags: [] },
        { id: 2, items: [{ sku: 'b', price: 3.5 + batch, note: 'x', parts: [{ w: 2.5 }] }] },
      ];
    },
    {
      primaryKey: disposition === 'merge' ? 'id' : undefined,
      writeDisposition: disposition,
      nestedHints: {
        items: { columns: { price: { dataType: 'double' }, note: { dataType: 'text' } } },
        items__parts: { columns: [{ name: 'w', dataType: 'double' }] },
        nothing: { columns: { x: { dataType: 'double' } } },
      },
    },
  );
}

async function columns(p: Pipeline, table: string): Promise<Array<[string, string]>> {
  const rows = await query<{ column_name: string; data_type: string }>(
    p,
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [p.datasetName, table],
  );
  return rows.map((r) => [r.column_name, r.data_type.toLowerCase()]);
}

async function tables(p: Pipeline): Promise<string[]> {
  const rows = await query<{ table_name: string }>(p, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY 1`, [p.datasetName]);
  return rows.map((r) => r.table_name);
}

const prices = async (p: Pipeline) => (await query<{ price: number }>(p, 'SELECT price FROM orders__items ORDER BY price')).map((r) => r.price);

describe('nestedHints', () => {
  it('types nested columns as dlt does; a declared table without rows is not created (DuckDB)', async () => {
    const p = testPipeline(dir, 'nested_duck');
    await p.run(orders());
    expect(await tables(p)).toEqual(['orders', 'orders__items', 'orders__items__parts']);
    expect(await columns(p, 'orders__items')).toEqual([
      ['price', 'double'],
      ['note', 'varchar'],
      ['sku', 'varchar'],
      ['_dlt_parent_id', 'varchar'],
      ['_dlt_list_idx', 'bigint'],
      ['_dlt_id', 'varchar'],
    ]);
    expect((await columns(p, 'orders__items__parts'))[0]).toEqual(['w', 'double']);
    expect(await prices(p)).toEqual([3, 4.5]);
    expect(p.defaultSchema!.tables.orders__nothing).toMatchObject({ parent: 'orders', columns: { x: { dataType: 'double' } } });
  });

  it('replace and merge runs again over a declared table that no row reached (PostgreSQL)', async () => {
    for (const disposition of ['replace', 'merge'] as const) {
      const datasetName = pgDatasetName(`nested_${disposition}`);
      pgDatasets.push(datasetName);
      const p = pipeline({ pipelineName: datasetName, pipelinesDir: join(dir, 'pipelines'), destination: postgres({ credentials: PG_URL }), datasetName });
      await p.run(orders(disposition, 1));
      await p.run(orders(disposition, 2));
      expect(await tables(p)).toEqual(['orders', 'orders__items', 'orders__items__parts']);
      expect((await columns(p, 'orders__items')).slice(0, 3)).toEqual([
        ['price', 'double precision'],
        ['note', 'character varying'],
        ['sku', 'character varying'],
      ]);
      expect(await prices(p)).toEqual([3, 5.5]);
      await p.run(orders(disposition, 3), { refresh: 'drop_data' });
      expect(await prices(p)).toEqual([3, 6.5]);
    }
  });

  it('lands the same on the filesystem destination (no folder for the declared table)', async () => {
    const bucket = join(dir, 'bucket');
    const p = pipeline({ pipelineName: 'nested_fs', pipelinesDir: join(dir, 'pipelines'), destination: filesystem({ bucketUrl: bucket }), datasetName: 'nested_fs' });
    await p.run(orders());
    const ds = p.dataset();
    const items = await ds.table('orders__items').fetchAll();
    expect(items.map((r) => r.price).sort()).toEqual([3, 4.5]);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(join(bucket, 'nested_fs')).filter((d) => !d.startsWith('_') && d !== 'init').sort()).toEqual(['orders', 'orders__items', 'orders__items__parts']);
  });

  it('a root table only hinted (no rows yet) is not created either; its first rows create it with NOT NULL system columns', async () => {
    const p = testPipeline(dir, 'declared_root');
    const empty = (rows: object[]) => resource(function* t() { yield* rows; }, { writeDisposition: 'replace', columns: { id: { dataType: 'bigint' } } });
    await p.run(empty([]));
    await p.run(empty([]));
    expect(await tables(p)).toEqual([]);
    await p.run(empty([{ id: 1 }]));
    expect(await columns(p, 't')).toEqual([['id', 'bigint'], ['_dlt_load_id', 'varchar'], ['_dlt_id', 'varchar']]);
    const notNull = await query<{ column_name: string }>(p, `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 't' AND is_nullable = 'NO' ORDER BY 1`, [p.datasetName]);
    expect(notNull.map((r) => r.column_name)).toEqual(['_dlt_id', '_dlt_load_id']);
  });

  it('refuses keys on a nested column, naming the hint', async () => {
    const make = () => resource(function* r() { yield { id: 1 }; }, { nestedHints: { items: { columns: { sku: { primaryKey: true } } } } });
    expect(make).toThrow(InvalidOptionsError);
    expect(make).toThrow(/nestedHints.*items.*sku.*primaryKey/s);
  });

  it('refuses a path that names a table of its own', async () => {
    const p = testPipeline(dir, 'nested_clash');
    const clash = resource(function* orders__items() { yield { id: 1 }; });
    const err = await failureCause(p.run([clash, orders()]));
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect(String((err as Error).message)).toMatch(/"orders__items" is a table of its own/);
  });
});
