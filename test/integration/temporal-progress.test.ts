/**
 * `pipelineProgress` tells the truth: item counts per table while extract runs (from the
 * step's heartbeats), and the finished run's counts when no worker is left to answer a query.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resource } from '../../src/index.js';
import { pipelineProgress, startPipeline } from '../../src/temporal/client.js';
import { tempDir } from '../helpers.js';
import { stopWorker, testClient, testWorker, uniqueQueue } from './temporal-env.js';

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const v = await fn();
    if (ok(v) || i >= 200) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('pipelineProgress on a real dev server', () => {
  it('counts extracted items per table while extract runs, and answers for a closed run without a worker', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const trickle = () =>
      resource(
        async function* trickle() {
          for (let i = 1; i <= 3000; i++) {
            yield { id: i };
            if (i % 500 === 0) await new Promise((r) => setTimeout(r, 300)); // a slow API
          }
          await gate;
          yield { id: 3001 };
        },
        { name: 'trickle' },
      );
    const worker = await testWorker({ sources: { trickle }, taskQueue, pipelinesDir: join(dir, 'p') });
    const pipelineName = `progress_${taskQueue.replace(/-/g, '_')}`;
    const handle = await startPipeline(
      client,
      { pipelineName, source: 'trickle', destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') }, tuning: { heartbeatTimeoutMs: 1000 } },
      { taskQueue },
    );
    const live = await eventually(() => pipelineProgress(client, pipelineName), (p) => (p.extracted.trickle ?? 0) >= 2048);
    expect(live.stage).toBe('extract');
    expect(live.extracted.trickle).toBeGreaterThanOrEqual(2048);
    expect(live.extracted.trickle).toBeLessThanOrEqual(3000);
    release();
    const result = await handle.result();
    expect(result.rowCounts.trickle).toBe(3001);

    // No worker polls any more: the closed run answers from its result.
    await stopWorker(worker);
    const done = await pipelineProgress(client, pipelineName);
    expect(done).toMatchObject({ pipelineName, stage: 'done', loadIds: result.loadIds, extracted: { trickle: 3001 }, loaded: { trickle: 3001 } });
  });
});

describe('pipelineProgress of a run no worker has picked up', () => {
  it('says the run waits for a worker on its task queue, instead of failing the query', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue(); // no worker polls it
    const pipelineName = `unpolled_${taskQueue.replace(/-/g, '_')}`;
    const handle = await startPipeline(client, { pipelineName, source: 'nothing', destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') } }, { taskQueue });
    try {
      const p = await pipelineProgress(client, pipelineName);
      expect(p).toMatchObject({ pipelineName, stage: 'starting', loadIds: [], extracted: {}, loaded: {} });
      expect(p.note).toContain(`no worker has picked up this run on task queue ${taskQueue}`);
      expect(p.note).toContain('haul worker');
    } finally {
      await handle.terminate('test done');
    }
  });
});
