/**
 * The filesystem destination through Temporal: a workflow run writes job files into the
 * bucket (the worker knows the bucket; the input only names the destination), and the
 * refresh compensation puts table folders renamed aside back when the load after it fails.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { attach, filesystem, type Pipeline } from '../../src/index.js';
import { runPipeline } from '../../src/temporal/client.js';
import { failingDestination } from '../fixtures/failing-destination.js';
import { testSources } from '../fixtures/temporal-sources.js';
import { tempDir } from '../helpers.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';

async function setup() {
  const dir = tempDir();
  const client = await testClient();
  const taskQueue = uniqueQueue();
  const failing = { on: false };
  const pipelinesDir = join(dir, 'p');
  const bucket = join(dir, 'bucket');
  await testWorker({ sources: testSources, destinations: { lake: failingDestination(filesystem({ bucketUrl: bucket }), failing) }, taskQueue, pipelinesDir });
  const pipelineName = `fst_${taskQueue.replace(/-/g, '_')}`;
  const input = { pipelineName, source: 'numbers', destination: 'lake', datasetName: 'lake_data', tuning: { maximumAttempts: 2, initialIntervalMs: 100 } };
  const local = (): Pipeline => attach({ pipelineName, pipelinesDir, destination: filesystem({ bucketUrl: bucket }) });
  return { client, taskQueue, failing, pipelineName, input, local, dataset: join(bucket, 'lake_data') };
}

describe('filesystem through Temporal', () => {
  it('a workflow run writes the job files into the bucket', async () => {
    const { client, taskQueue, input, local, dataset } = await setup();
    const r1 = await runPipeline(client, { ...input, args: [{ n: 50 }] }, { taskQueue });
    const r2 = await runPipeline(client, { ...input, args: [{ n: 30, offset: 50 }] }, { taskQueue });
    expect(r1.rowCounts.numbers).toBe(50);
    expect(r2.rowCounts.numbers).toBe(30);
    expect(readdirSync(join(dataset, 'numbers')).filter((f) => f.endsWith('.jsonl'))).toHaveLength(2);
    expect(readdirSync(join(dataset, '_dlt_loads')).filter((f) => f.endsWith('.jsonl'))).toHaveLength(2);
    const ds = local().dataset();
    expect(await ds.rowCounts()).toEqual({ numbers: 80 });
    expect(await ds.query('SELECT min(id) AS lo, max(id) AS hi, count(DISTINCT id) AS n FROM numbers')).toEqual([{ lo: 1, hi: 80, n: 80 }]);
  });

  it('a refresh whose load fails puts the table folders back (compensation)', async () => {
    const { client, taskQueue, failing, pipelineName, input, local, dataset } = await setup();
    await runPipeline(client, { ...input, args: [{ n: 40 }] }, { taskQueue });
    const before = readdirSync(join(dataset, 'numbers')).sort();

    failing.on = true;
    const err = await runPipeline(client, { ...input, args: [{ n: 5, offset: 100 }], refresh: 'drop_sources' }, { taskQueue }).catch((e: unknown) => e);
    failing.on = false;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const history = await client.workflow.getHandle(`pipeline/${pipelineName}`).fetchHistory();
    const steps = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(steps).toEqual(['syncDestination', 'extract', 'normalize', 'snapshot', 'applyRefresh', 'load', 'restoreSnapshot']);

    expect(readdirSync(join(dataset, 'numbers')).sort()).toEqual(before);
    expect(readdirSync(dataset).filter((d) => d.includes('__bak_'))).toEqual([]);
    expect(await local().dataset().rowCounts()).toEqual({ numbers: 40 });

    // the refresh succeeds once the destination works again: only the new rows remain
    await runPipeline(client, { ...input, args: [{ n: 5, offset: 100 }], refresh: 'drop_sources' }, { taskQueue });
    expect(await local().dataset().query('SELECT id FROM numbers ORDER BY id')).toEqual([101, 102, 103, 104, 105].map((id) => ({ id })));
    expect(existsSync(join(dataset, 'numbers'))).toBe(true);
  });
});
