/**
 * Following a run tells what happens: each failed attempt of a step, a warning when no
 * worker polls the queue, and the root cause when the run fails.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resource } from '../../src/index.js';
import { runPipeline, startPipeline } from '../../src/temporal/client.js';
import { followRun, rootCause } from '../../src/temporal/follow.js';
import type { PipelineRunResult } from '../../src/temporal/types.js';
import { tempDir } from '../helpers.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';

describe('following a run', () => {
  it('reports each failed attempt, then the result', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    let calls = 0;
    const flaky = () =>
      resource(
        function* flaky() {
          calls++;
          if (calls <= 2) throw new Error(`connection reset by peer (call ${calls})`);
          yield { id: 1 };
        },
        { name: 'flaky' },
      );
    await testWorker({ sources: { flaky }, taskQueue, pipelinesDir: join(dir, 'p') });
    const lines: string[] = [];
    const result = await runPipeline(
      client,
      { pipelineName: `follow_${taskQueue.replace(/-/g, '_')}`, source: 'flaky', destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') }, tuning: { initialIntervalMs: 1500, maximumAttempts: 5 } },
      { taskQueue, report: (l) => lines.push(l) },
    );
    expect(result.rowCounts.flaky).toBe(1);
    expect(lines.some((l) => /^attempt 1\/5 of extract failed: .*connection reset by peer \(call 1\); retrying$/.test(l))).toBe(true);
  });

  it('warns when no worker polls the task queue, and names the root cause of a failed run', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    const pipelineName = `noworker_${taskQueue.replace(/-/g, '_')}`;
    const handle = await startPipeline(client, { pipelineName, source: 'numbers', destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') } }, { taskQueue });
    const lines: string[] = [];
    const following = followRun<PipelineRunResult>(client, handle, { taskQueue, report: (l) => lines.push(l), pollMs: 200, noWorkerAfterMs: 600 });
    for (let i = 0; i < 50 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(lines).toEqual([`no worker is polling task queue ${taskQueue}: start one (haul worker --sources <module>) or pass the queue your workers poll (--task-queue)`]);

    // A worker that lacks the source: the run fails at once, and the cause is what is shown.
    await testWorker({ sources: {}, taskQueue, pipelinesDir: join(dir, 'p') });
    const err = await following.catch((e: unknown) => e);
    expect(rootCause(err)).toMatch(/^run failed: no source named "numbers" is registered on this worker \(registered: none\) \(UnknownSource\)$/);
  });
});
