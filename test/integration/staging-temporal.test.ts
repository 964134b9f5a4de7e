/**
 * `staging: 'filesystem'` through Temporal: the run input names the staging destination only;
 * the worker finds the bucket in its own config (`destination.filesystem.bucket_url`,
 * pipeline-scoped here) or has a staging destination registered by name. Asserts the rows in
 * the destination, the staged files in the bucket, and that no bucket path travels in history.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { attach, duckdb, filesystem, InvalidOptionsError, postgres } from '../../src/index.js';
import { runPipeline, startPipeline } from '../../src/temporal/client.js';
import { testSources } from '../fixtures/temporal-sources.js';
import { query, tempDir } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';

const datasets: string[] = [];
const envKeys: string[] = [];
afterAll(async () => {
  for (const k of envKeys) delete process.env[k];
  await dropPgSchemas(...datasets);
});

/** dlt's pipeline-scoped config key for the filesystem bucket, as the worker reads it. */
function configureBucket(pipelineName: string, bucket: string): void {
  const key = `${pipelineName.toUpperCase()}__DESTINATION__FILESYSTEM__BUCKET_URL`;
  process.env[key] = bucket;
  envKeys.push(key);
}

/** Data files (not dlt's `init` marker) of a table folder in the bucket. */
function staged(bucket: string, dataset: string, table: string): string[] {
  return readdirSync(join(bucket, dataset, table)).filter((f) => f !== 'init').sort();
}

/** Every activity input of the run's history, as text. */
async function activityInputs(client: Client, pipelineName: string): Promise<string> {
  const history = await client.workflow.getHandle(`pipeline/${pipelineName}`).fetchHistory();
  return (history.events ?? [])
    .flatMap((e) => e.activityTaskScheduledEventAttributes?.input?.payloads ?? [])
    .map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'))
    .join('\n');
}

describe('staging: filesystem through Temporal', () => {
  it('DuckDB loads parquet files from the bucket the worker configured; the input only names it', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    const pipelinesDir = join(dir, 'p');
    const bucket = join(dir, 'bucket');
    const pipelineName = `stt_${taskQueue.replace(/-/g, '_')}`;
    configureBucket(pipelineName, bucket);
    await testWorker({ sources: testSources, taskQueue, pipelinesDir });
    const db = join(dir, 'warehouse.duckdb');
    const input = { pipelineName, source: 'numbers', destination: 'duckdb', destinationOptions: { path: db }, datasetName: 'staged', staging: 'filesystem', loaderFileFormat: 'parquet' as const };

    const r1 = await runPipeline(client, { ...input, args: [{ n: 30 }] }, { taskQueue });
    const r2 = await runPipeline(client, { ...input, args: [{ n: 20, offset: 30 }] }, { taskQueue });
    expect(r1.rowCounts.numbers).toBe(30);
    expect(r2.rowCounts.numbers).toBe(20);

    const p = attach({ pipelineName, pipelinesDir, destination: duckdb({ path: db }) });
    expect(p.staging?.destinationName).toBe('filesystem');
    expect(await query(p, 'SELECT count(*)::INT AS n, min(id)::INT AS lo, max(id)::INT AS hi, sum(value)::DOUBLE AS total FROM staged.numbers')).toEqual([
      { n: 50, lo: 1, hi: 50, total: 1.5 * ((50 * 51) / 2) },
    ]);
    // one staged parquet file per load, named by dlt's layout after the load id
    const files = staged(bucket, 'staged', 'numbers');
    expect(files).toHaveLength(2);
    for (const [i, loadId] of [...r1.loadIds, ...r2.loadIds].entries()) expect(files[i]).toMatch(new RegExp(`^${loadId.replace('.', '\\.')}\\.\\w+\\.parquet$`));
    // the bucket was the worker's business: its path is in no activity input
    const inputs = await activityInputs(client, pipelineName);
    expect(inputs).toContain('"staging":"filesystem"');
    expect(inputs).not.toContain(bucket);
  });

  it('PostgreSQL COPYs csv files from a staging bucket registered on the worker, merge and nested tables included', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    const pipelinesDir = join(dir, 'p');
    const bucket = join(dir, 'lake');
    await testWorker({ sources: testSources, destinations: { warehouse: postgres({ credentials: PG_URL }), lake: filesystem({ bucketUrl: bucket }) }, taskQueue, pipelinesDir });
    const pipelineName = `stp_${taskQueue.replace(/-/g, '_')}`;
    const datasetName = pgDatasetName('hstp');
    datasets.push(datasetName);
    const input = { pipelineName, source: 'shop', destination: 'warehouse', datasetName, staging: 'lake', loaderFileFormat: 'csv' as const };

    await runPipeline(client, { ...input, args: [1] }, { taskQueue });
    const r2 = await runPipeline(client, { ...input, args: [2] }, { taskQueue });
    expect(r2.rowCounts).toMatchObject({ events: 100, customers: 20 });

    const p = attach({ pipelineName, pipelinesDir, destination: postgres({ credentials: PG_URL }) });
    const n = async (table: string) => (await query<{ n: number }>(p, `SELECT count(*)::INT AS n FROM "${datasetName}"."${table}"`))[0]!.n;
    expect(await n('events')).toBe(200); // incremental append: 1..100, then 101..200
    expect(await n('events__tags')).toBe(400);
    expect(await n('customers')).toBe(20); // merged on id: the second run's version
    expect(await query(p, `SELECT DISTINCT version::INT AS version FROM "${datasetName}".customers`)).toEqual([{ version: 2 }]);
    expect(await n('customers__addresses')).toBe(40);

    for (const table of ['events', 'events__tags', 'customers', 'customers__addresses']) {
      const files = staged(bucket, datasetName, table);
      expect(files, table).toHaveLength(2);
      expect(files.every((f) => f.endsWith('.csv')), table).toBe(true);
    }
  });

  it('a bucket URL as staging is refused before the run starts; a worker without a bucket fails the run without retries', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    const pipelineName = `stn_${taskQueue.replace(/-/g, '_')}`;
    const base = { pipelineName, source: 'numbers', args: [{ n: 3 }], destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') } };

    const refused = await startPipeline(client, { ...base, staging: 's3://AKIAEXAMPLE:s3cr3t@bucket/path' }, { taskQueue }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidOptionsError);
    expect((refused as Error).message).toMatch(/staging/);
    expect((refused as Error).message).not.toContain('s3cr3t');

    // the built-in filesystem staging with no bucket_url anywhere in this worker's config
    await testWorker({ sources: testSources, taskQueue, pipelinesDir: join(dir, 'p') });
    const err = await runPipeline(client, { ...base, staging: 'filesystem', tuning: { maximumAttempts: 3, initialIntervalMs: 100 } }, { taskQueue }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const history = await client.workflow.getHandle(`pipeline/${pipelineName}`).fetchHistory();
    const failures = (history.events ?? []).map((e) => e.activityTaskFailedEventAttributes?.failure).filter((f) => f !== undefined && f !== null);
    expect(failures).toHaveLength(1); // not retried
    expect(failures[0]!.message).toMatch(/destination\.filesystem\.bucket_url/);
  });
});
