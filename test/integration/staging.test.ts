/**
 * `staging: 'filesystem'` (dlt's staging): job files go to a bucket first, and DuckDB or
 * PostgreSQL bulk-loads them from there. Asserts the rows that land, the staged files, and
 * that only a filesystem can be staging.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attach, duckdb, filesystem, InvalidOptionsError, pipeline, postgres } from '../../src/index.js';
import { query, tempDir } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';

const dir = tempDir('haul-staging-');
const pgDatasets: string[] = [];
afterAll(() => dropPgSchemas(...pgDatasets));

const rows = [
  { id: 1, name: 'ann', tags: ['a', 'b'], at: new Date('2024-01-02T03:04:05Z') },
  { id: 2, name: 'bob', tags: ['c'], at: new Date('2024-01-03T03:04:05Z') },
];

function stagedFiles(bucket: string, dataset: string, table: string): string[] {
  return readdirSync(join(bucket, dataset, table)).sort();
}

describe('staging: filesystem', () => {
  it('DuckDB loads parquet files from the staging bucket; attach keeps the staging', async () => {
    const bucket = join(dir, 'duck-bucket');
    const opts = { pipelineName: 'stage_duck', pipelinesDir: join(dir, 'p'), destination: duckdb({ path: join(dir, 'stage_duck.duckdb') }), datasetName: 'stage_duck_data' };
    const p = pipeline({ ...opts, staging: filesystem({ bucketUrl: bucket }) });
    expect(p.staging?.destinationName).toBe('filesystem');
    await p.run(rows, { tableName: 'users', loaderFileFormat: 'parquet' });
    expect(await query(p, 'SELECT id::INT AS id, name FROM users ORDER BY id')).toEqual([{ id: 1, name: 'ann' }, { id: 2, name: 'bob' }]);
    expect(await query(p, 'SELECT value FROM users__tags ORDER BY value')).toEqual([{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    const loadId = p.listCompletedLoadPackages()[0]!;
    expect(stagedFiles(bucket, 'stage_duck_data', 'users')).toEqual([expect.stringMatching(new RegExp(`^${loadId.replace('.', '\\.')}\\.\\w+\\.parquet$`))]);
    expect(stagedFiles(bucket, 'stage_duck_data', 'users__tags')).toHaveLength(1);

    const again = attach({ pipelineName: 'stage_duck', pipelinesDir: join(dir, 'p'), destination: opts.destination });
    expect(again.staging?.destinationName).toBe('filesystem');
    await again.run([{ id: 3, name: 'cy', tags: [] }], { tableName: 'users', loaderFileFormat: 'parquet' });
    expect(await query(again, 'SELECT count(*)::INT AS n FROM users')).toEqual([{ n: 3 }]);
    expect(stagedFiles(bucket, 'stage_duck_data', 'users')).toHaveLength(2);
  });

  it('PostgreSQL COPYs csv files from the staging bucket', async () => {
    const datasetName = pgDatasetName('stage_pg');
    pgDatasets.push(datasetName);
    const bucket = join(dir, 'pg-bucket');
    const p = pipeline({ pipelineName: datasetName, pipelinesDir: join(dir, 'p'), destination: postgres({ credentials: PG_URL }), staging: filesystem({ bucketUrl: bucket }), datasetName });
    await p.run(rows, { tableName: 'users', loaderFileFormat: 'csv', writeDisposition: 'merge', primaryKey: 'id' });
    await p.run([{ id: 2, name: 'bob2', tags: ['d'] }], { tableName: 'users', loaderFileFormat: 'csv', writeDisposition: 'merge', primaryKey: 'id' });
    expect(await query(p, `SELECT id::INT AS id, name FROM "${datasetName}".users ORDER BY id`)).toEqual([{ id: 1, name: 'ann' }, { id: 2, name: 'bob2' }]);
    expect(stagedFiles(bucket, datasetName, 'users').filter((f) => f.endsWith('.csv'))).toHaveLength(2);
  });

  it('only a filesystem can be staging, refused before anything runs', () => {
    expect(() =>
      pipeline({ pipelineName: 'stage_bad', pipelinesDir: join(dir, 'p'), destination: duckdb({ path: join(dir, 'stage_bad.duckdb') }), staging: 'duckdb' }),
    ).toThrow(InvalidOptionsError);
  });
});
