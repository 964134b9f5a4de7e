/**
 * dlt's enable_dataset_name_normalization: false keeps the dataset's name exactly as given
 * (an existing schema `Sales` in PostgreSQL, a folder `Sales-EU`), on every destination, and
 * every step (load, the dataset reader, the state restored from the destination) uses it.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { duckdb, filesystem, InvalidOptionsError, pipeline, postgres, resolveDestination } from '../../src/index.js';
import { count, query, tempDir } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName, withPg } from '../postgres-env.js';

const dir = tempDir('haul-dataset-name-');
const pgDatasets: string[] = [];
afterAll(async () => {
  await dropPgSchemas(...pgDatasets);
});
afterEach(() => {
  delete process.env.DESTINATION__POSTGRES__ENABLE_DATASET_NAME_NORMALIZATION;
});

async function schemasLike(p: ReturnType<typeof pipeline>, pattern: string): Promise<string[]> {
  const rows = await query<{ schema_name: string }>(p, 'SELECT DISTINCT schema_name FROM information_schema.schemata WHERE schema_name LIKE $1 ORDER BY 1', [pattern]);
  return rows.map((r) => r.schema_name);
}

describe('enableDatasetNameNormalization', () => {
  it('DuckDB: false names the schema exactly as datasetName; the default normalizes it as dlt does', async () => {
    const asIs = pipeline({ pipelineName: 'ds_as_is', pipelinesDir: join(dir, 'p'), destination: duckdb({ path: join(dir, 'as_is.duckdb'), enableDatasetNameNormalization: false }), datasetName: 'Sales-EU Raw' });
    await asIs.run([{ id: 1 }, { id: 2 }], { tableName: 'orders' });
    expect(await schemasLike(asIs, 'Sales%')).toEqual(['Sales-EU Raw']);
    expect(await count(asIs, 'orders')).toBe(2);
    expect((await asIs.dataset().table('orders').fetchAll()).length).toBe(2);

    const normalized = pipeline({ pipelineName: 'ds_normalized', pipelinesDir: join(dir, 'p'), destination: duckdb({ path: join(dir, 'normalized.duckdb') }), datasetName: 'Sales-EU Raw' });
    await normalized.run([{ id: 1 }], { tableName: 'orders' });
    expect(await schemasLike(normalized, 'sales%')).toEqual(['sales_eu_raw']);
  });

  it('PostgreSQL: from config (env), an existing mixed-case schema is loaded into and the state comes back from it', async () => {
    const dataset = `Probe_${pgDatasetName('DS')}`;
    pgDatasets.push(dataset);
    await withPg((c) => c.query(`CREATE SCHEMA "${dataset}"`));
    process.env.DESTINATION__POSTGRES__ENABLE_DATASET_NAME_NORMALIZATION = 'false';
    const make = () => pipeline({ pipelineName: 'ds_pg', pipelinesDir: join(dir, 'pg'), destination: postgres({ credentials: PG_URL }), datasetName: dataset });
    const p = make();
    await p.run([{ id: 1, name: 'a' }], { tableName: 'customers', writeDisposition: 'merge', primaryKey: 'id' });
    await p.run([{ id: 1, name: 'b' }, { id: 2, name: 'c' }], { tableName: 'customers', writeDisposition: 'merge', primaryKey: 'id' });
    const tables = await withPg(async (c) => (await c.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [dataset])).rows.map((r) => r.table_name));
    expect(tables).toEqual(expect.arrayContaining(['customers', '_dlt_loads', '_dlt_pipeline_state', '_dlt_version']));
    expect((await query<{ name: string }>(p, 'SELECT name FROM customers ORDER BY id')).map((r) => r.name)).toEqual(['b', 'c']);
    expect(await withPg(async (c) => (await c.query(`SELECT count(*)::int AS n FROM "${dataset}".customers`)).rows[0].n)).toBe(2);
    // the working dir lost: the next pipeline restores its state and schema from that schema
    rmSync(join(dir, 'pg'), { recursive: true });
    const again = make();
    await again.syncDestination();
    expect(again.schemaNames.length).toBe(1);
    expect(again.defaultSchema?.tables.customers).toBeDefined();
  });

  it('a name longer than the destination takes is refused, saying what to do; the option is kept for Temporal inputs', async () => {
    const p = pipeline({ pipelineName: 'ds_long', pipelinesDir: join(dir, 'long'), destination: postgres({ credentials: PG_URL, enableDatasetNameNormalization: false }), datasetName: 'D'.repeat(64) });
    const err = await p.run([{ id: 1 }], { tableName: 't' }).catch((e: unknown) => e);
    expect((err as Error).cause).toBeInstanceOf(InvalidOptionsError);
    expect((err as Error).message).toMatch(/longer than the 63 bytes .* use a shorter datasetName/);
    expect(resolveDestination('postgres', { enableDatasetNameNormalization: false }).options).toEqual({ enableDatasetNameNormalization: false });
    expect(() => postgres({ enableDatasetNameNormalization: 'no' as unknown as boolean })).toThrow(/must be true or false/);
  });

  it('filesystem: false keeps the folder name as given', async () => {
    const bucket = join(dir, 'bucket');
    const p = pipeline({ pipelineName: 'ds_fs', pipelinesDir: join(dir, 'fs'), destination: filesystem({ bucketUrl: bucket, enableDatasetNameNormalization: false }), datasetName: 'Sales-EU' });
    await p.run([{ id: 1 }], { tableName: 'orders' });
    expect(readdirSync(bucket)).toEqual(['Sales-EU']);
    expect(existsSync(join(bucket, 'Sales-EU', 'orders'))).toBe(true);
  });
});
