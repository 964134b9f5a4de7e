/**
 * A refresh run that stops for good in its load (the worker is killed, then the workflow is
 * terminated, so neither its compensation nor its cleanup runs) leaves the tables it put
 * aside. The next run loads the pending refresh package and then drops those backups.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attach } from '../../src/index.js';
import { runPipeline, startPipeline } from '../../src/temporal/client.js';
import { count, query, tempDir } from '../helpers.js';
import { testClient, uniqueQueue } from './temporal-env.js';
import { startWorkerProcess, stopWorkerProcess } from './worker-process.js';

const BACKUPS = "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%\\_\\_bak\\_%' ESCAPE '\\' ORDER BY 1";

describe('a terminated refresh run', () => {
  it('leaves backups that the next run drops once it has loaded the refresh', async () => {
    const dir = tempDir('haul-terminated-');
    const client = await testClient();
    const taskQueue = uniqueQueue('haul-terminated');
    const pipelinesDir = join(dir, 'pipelines');
    const env = { HAUL_TASK_QUEUE: taskQueue, HAUL_PIPELINES_DIR: pipelinesDir };
    const pipelineName = 'terminated_refresh';
    const input = {
      pipelineName,
      source: 'shop',
      destination: 'duckdb',
      destinationOptions: { path: join(dir, 'shop.duckdb') },
      datasetName: 'shop_data',
      tuning: { heartbeatTimeoutMs: 3_000, initialIntervalMs: 200 },
    };

    const first = await startWorkerProcess(env);
    try {
      await runPipeline(client, { ...input, args: [1] }, { taskQueue });
    } finally {
      await stopWorkerProcess(first);
    }

    // the refresh run: its worker dies in the load, after the refresh put the tables aside; then it is terminated
    const dying = await startWorkerProcess({ ...env, HAUL_FAULT: 'load:after-commit' });
    const handle = await startPipeline(client, { ...input, args: [2], refresh: 'drop_sources' }, { taskQueue });
    expect((await dying.exited).signal).toBe('SIGKILL');
    await handle.terminate('test: stopped without compensation or cleanup');
    const p = attach({ pipelineName, pipelinesDir });
    const left = (await query<{ table_name: string }>(p, BACKUPS)).map((r) => r.table_name);
    expect(left).toEqual(expect.arrayContaining([expect.stringMatching(/^events__bak_/), expect.stringMatching(/^customers__bak_/)]));
    expect(readdirSync(join(pipelinesDir, pipelineName, 'snapshots'))).toHaveLength(1);

    const next = await startWorkerProcess(env);
    try {
      const r = await runPipeline(client, { ...input, args: [2] }, { taskQueue });
      expect(r.loadIds).toHaveLength(2); // the terminated run's package, then this run's own
    } finally {
      await stopWorkerProcess(next);
    }
    const after = attach({ pipelineName, pipelinesDir });
    expect(await query(after, BACKUPS)).toEqual([]);
    const snapshots = join(pipelinesDir, pipelineName, 'snapshots');
    expect(existsSync(snapshots) ? readdirSync(snapshots) : []).toEqual([]);
    // the refresh's data, once: drop_sources reset the cursor and loaded events 1..200
    expect(await count(after, 'events')).toBe(200);
    expect(await query(after, 'SELECT id FROM events GROUP BY id HAVING count(*) > 1')).toEqual([]);
    expect(await count(after, 'customers')).toBe(20);
  });
});
