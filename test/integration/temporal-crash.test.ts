import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attach } from '../../src/index.js';
import { runPipeline, startPipeline } from '../../src/temporal/client.js';
import { count, query, tempDir } from '../helpers.js';
import { testClient, uniqueQueue } from './temporal-env.js';
import { startWorkerProcess, stopWorkerProcess } from './worker-process.js';

/*
 * SIGKILL the worker process at a fault point inside each step, start a new worker: the
 * workflow completes, every row is in DuckDB exactly once and the state is right.
 */
const FAULTS = [
  'extract:after-resource',
  'extract:before-commit',
  // committed, but the activity never completes: the retry must reuse the package
  'activity:extract:after-commit',
  'normalize:mid',
  'normalize:after-commit',
  'load:after-commit',
  'load:before-complete',
  'load:after-complete',
];

// Each test has its own task queue, working dir and DuckDB file, so they run side by side.
describe.concurrent('crash safety on Temporal (SIGKILL the worker process)', () => {
  for (const fault of FAULTS) {
    it(`completes the workflow after the worker is killed at ${fault}`, async () => {
      const dir = tempDir();
      const client = await testClient();
      const taskQueue = uniqueQueue('haul-crash');
      const env = { HAUL_TASK_QUEUE: taskQueue, HAUL_PIPELINES_DIR: join(dir, 'pipelines') };
      const pipelineName = `crash_${fault.replace(/\W/g, '_')}`;
      const input = {
        pipelineName,
        source: 'shop',
        destination: 'duckdb',
        destinationOptions: { path: join(dir, 'crash.duckdb') },
        datasetName: 'crash_data',
        // Detect the dead worker in ~3 s instead of 30 s.
        tuning: { heartbeatTimeoutMs: 3_000, initialIntervalMs: 200 },
      };

      // Worker A dies at the fault point while running batch 1.
      const a = await startWorkerProcess({ ...env, HAUL_FAULT: fault });
      const handle = await startPipeline(client, { ...input, args: [1] }, { taskQueue });
      const died = await a.exited;
      expect(died.signal, `${fault}: ${died.output}`).toBe('SIGKILL');
      const afterExtractCommit = fault === 'activity:extract:after-commit';
      const committedBeforeTheKill = afterExtractCommit
        ? readdirSync(join(dir, 'pipelines', pipelineName, 'normalize', 'extracted')).filter((n) => !n.startsWith('.'))
        : [];

      // Worker B picks the workflow up and finishes it; then runs batch 2.
      const b = await startWorkerProcess(env);
      try {
        const r1 = await handle.result();
        expect(r1.rowCounts).toMatchObject({ events: 100, customers: 20 });
        // The package committed before the kill is the one that loaded (no second extract).
        if (afterExtractCommit) expect([r1.extracted?.loadId]).toEqual(committedBeforeTheKill);
        expect(r1.loadIds).toEqual([r1.extracted?.loadId]);
        const r2 = await runPipeline(client, { ...input, args: [2] }, { taskQueue });
        expect(r2.rowCounts).toMatchObject({ events: 100, customers: 20 });
      } finally {
        await stopWorkerProcess(b);
      }

      const p = attach({ pipelineName, pipelinesDir: join(dir, 'pipelines') });
      expect(await count(p, 'events')).toBe(200);
      expect(await query(p, 'SELECT id FROM events GROUP BY id HAVING count(*) > 1')).toEqual([]);
      expect(await count(p, 'events__tags')).toBe(400);
      expect(await count(p, 'customers')).toBe(20);
      expect(await count(p, 'customers__addresses')).toBe(40);
      const towns = await query<{ city: string }>(p, "SELECT DISTINCT city FROM customers__addresses WHERE city LIKE 'town%'");
      expect(towns.map((r) => r.city)).toEqual(['town2']);
      expect(p.state.sources.shop!.resources!.events!.incremental!.ts!.last_value).toBe(200);
      expect(p.hasPendingData).toBe(false);
      expect(readdirSync(join(dir, 'pipelines', pipelineName, 'normalize', 'extracted'))).toEqual([]);
      expect(readdirSync(join(dir, 'pipelines', pipelineName, 'load', 'normalized'))).toEqual([]);
      const loads = await query<{ n: unknown }>(p, 'SELECT count(*) AS n FROM _dlt_loads WHERE status = 0');
      expect(Number(loads[0]!.n)).toBe(2);
      const markers = await query<{ n: unknown }>(p, 'SELECT count(*) AS n FROM _haul_jobs');
      expect(Number(markers[0]!.n)).toBe(0);
    });
  }
});
