import { join } from 'node:path';
import type { Client, ScheduleHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { attach, resource } from '../../src/index.js';
import {
  deleteSchedule,
  listSchedules,
  pauseSchedule,
  pipelineSchedule,
  schedulePipeline,
  startPipeline,
  triggerSchedule,
  unpauseSchedule,
} from '../../src/temporal/client.js';
import type { ScheduledRunResult } from '../../workflows/index.js';
import { testSources } from '../fixtures/temporal-sources.js';
import { count, tempDir } from '../helpers.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';

/** Retries an assertion for a few seconds (schedule lists come from eventually consistent visibility). */
async function eventually(fn: () => Promise<void>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Waits until the schedule has taken `n` actions and returns the n-th run's result. */
async function nthRun(client: Client, handle: ScheduleHandle, n: number): Promise<ScheduledRunResult> {
  for (let i = 0; i < 200; i++) {
    const d = await handle.describe();
    const action = d.info.recentActions[n - 1];
    if (action) return client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId).result();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`schedule ${handle.scheduleId} took fewer than ${n} actions`);
}

describe('schedules', () => {
  it('creates, triggers, pauses, lists and deletes a pipeline schedule', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    await testWorker({ sources: testSources, taskQueue, pipelinesDir: join(dir, 'p') });
    const pipelineName = `sched_${taskQueue.replace(/-/g, '_')}`;
    const handle = await schedulePipeline(
      client,
      { pipelineName, source: 'numbers', args: { n: 5 }, destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') }, every: '1h' },
      { taskQueue },
    );
    expect(handle.scheduleId).toBe(`pipeline/${pipelineName}`);
    const d = await handle.describe();
    expect(d.policies.overlap).toBe('SKIP');
    expect(d.spec.intervals?.[0]?.every).toBe(3_600_000);

    // Trigger instead of waiting an hour: each trigger is one run under pipeline/<name>.
    await triggerSchedule(client, pipelineName);
    const first = await nthRun(client, handle, 1);
    expect(first.skipped).toBe(false);
    expect(first.result!.rowCounts.numbers).toBe(5);
    await triggerSchedule(client, handle.scheduleId);
    const second = await nthRun(client, handle, 2);
    expect(second.result!.loadIds[0]).not.toBe(first.result!.loadIds[0]);
    expect(await count(attach({ pipelineName, pipelinesDir: join(dir, 'p') }), 'numbers')).toBe(10);

    await eventually(async () => expect((await listSchedules(client, pipelineName)).map((s) => s.scheduleId)).toEqual([handle.scheduleId]));
    await pauseSchedule(client, pipelineName, 'maintenance');
    expect((await pipelineSchedule(client, pipelineName).describe()).state.paused).toBe(true);
    await unpauseSchedule(client, pipelineName);
    expect((await handle.describe()).state.paused).toBe(false);
    await deleteSchedule(client, pipelineName);
    await eventually(async () => expect(await listSchedules(client, pipelineName)).toEqual([]));
  });

  it('a scheduled run while the pipeline is running is skipped, not run twice', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = () =>
      resource(
        async function* slow() {
          await gate;
          yield [{ id: 1 }];
        },
        { name: 'slow' },
      );
    await testWorker({ sources: { slow }, taskQueue, pipelinesDir: join(dir, 'p') });
    const input = { pipelineName: `skip_${taskQueue.replace(/-/g, '_')}`, source: 'slow', destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') } };
    const manual = await startPipeline(client, input, { taskQueue });
    const handle = await schedulePipeline(client, { ...input, cron: '0 3 * * *' }, { taskQueue });
    try {
      await handle.trigger();
      const tick = await nthRun(client, handle, 1);
      expect(tick).toEqual({ skipped: true, reason: `pipeline/${input.pipelineName} is already running` });
      release();
      expect((await manual.result()).rowCounts.slow).toBe(1);
      expect(await count(attach({ pipelineName: input.pipelineName, pipelinesDir: join(dir, 'p') }), 'slow')).toBe(1);
    } finally {
      release();
      await handle.delete();
    }
  });
});
