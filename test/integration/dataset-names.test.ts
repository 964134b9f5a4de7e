import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { duckdb, filesystem, pipeline, postgres } from '../../src/index.js';
import { query, tempDir } from '../helpers.js';
import { dropPgSchemas, PG_URL, withPg } from '../postgres-env.js';

/*
 * dlt normalizes dataset_name with the naming convention: `Analytics` is the schema (or
 * folder) `analytics`, so a pipeline moved from dlt loads into the same place.
 */

const dir = tempDir();
const suffix = `${process.pid}_${Date.now().toString(36)}`;
const pgGiven = `Dataset-Names ${suffix}`;
const pgSchema = `dataset_names_${suffix}`;
afterAll(() => dropPgSchemas(pgSchema, pgGiven));

describe('dataset names', () => {
  it('PostgreSQL: the schema is the normalized name; reading back finds it', async () => {
    const p = pipeline({ pipelineName: 'ds_names_pg', pipelinesDir: join(dir, 'p'), destination: postgres({ credentials: PG_URL }), datasetName: pgGiven });
    await p.run([{ id: 1 }], { tableName: 'Things' });
    const schemas = await withPg(async (c) => (await c.query<{ n: string }>(`SELECT schema_name AS n FROM information_schema.schemata WHERE schema_name IN ($1, $2)`, [pgSchema, pgGiven])).rows.map((r) => r.n));
    expect(schemas).toEqual([pgSchema]);
    expect((await p.dataset().table('things').fetchAll()).map((r) => Number(r.id))).toEqual([1]);
  });

  it('DuckDB and the filesystem destination: the same normalized name', async () => {
    const d = pipeline({ pipelineName: 'ds_names_duck', pipelinesDir: join(dir, 'p'), destination: duckdb({ path: join(dir, 'x.duckdb') }), datasetName: 'My Data' });
    await d.run([{ id: 1 }], { tableName: 't' });
    expect(await query(d, "SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ('my_data', 'My Data')")).toEqual([{ schema_name: 'my_data' }]);
    const bucket = join(dir, 'bucket');
    const f = pipeline({ pipelineName: 'ds_names_fs', pipelinesDir: join(dir, 'p'), destination: filesystem({ bucketUrl: bucket }), datasetName: 'My Data' });
    await f.run([{ id: 1 }], { tableName: 't' });
    expect(readdirSync(bucket)).toEqual(['my_data']);
  });
});
