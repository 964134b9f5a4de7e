import { join } from 'node:path';
import type { Client, ScheduleHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { attach, incremental, resource } from '../../src/index.js';
import { backfillSchedule, pipelineSchedule, runPipeline, schedulePipeline, triggerSchedule } from '../../src/temporal/client.js';
import type { ScheduledRunResult } from '../../workflows/index.js';
import { query, tempDir } from '../helpers.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';

type Outcome = { ok: true; value: ScheduledRunResult } | { ok: false; error: Error };

/** Waits until the schedule has taken `n` actions and none is running; the outcome of each run, oldest first. */
async function runsOf(client: Client, handle: ScheduleHandle, n: number): Promise<Outcome[]> {
  for (let i = 0; i < 600; i++) {
    const d = await handle.describe();
    if (d.info.recentActions.length >= n && d.info.runningActions.length === 0 && d.info.numActionsTaken >= n) {
      return Promise.all(
        d.info.recentActions.map((a) =>
          client.workflow
            .getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId)
            .result()
            .then((value: ScheduledRunResult): Outcome => ({ ok: true, value }), (error: Error): Outcome => ({ ok: false, error })),
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`schedule ${handle.scheduleId} did not finish ${n} runs`);
}

describe('schedule operations on the dev server', () => {
  it('pauseAfterFailures: the schedule pauses itself after N failed runs in a row, with a note saying why; a success resets the count', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    let failing = true;
    const flaky = () =>
      resource(
        function* flaky() {
          if (failing) throw new TypeError('cannot read properties of undefined (the API changed)');
          yield { id: 1 };
        },
        { name: 'flaky' },
      );
    await testWorker({ sources: { flaky }, taskQueue, pipelinesDir: join(dir, 'p') });
    const pipelineName = `pause_${taskQueue.replace(/-/g, '_')}`;
    const input = { pipelineName, source: 'flaky', destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') } };
    // Daily, so no tick of its own comes while the test triggers runs.
    const handle = await schedulePipeline(client, { ...input, every: '24h', pauseAfterFailures: 2 }, { taskQueue });
    try {
      expect((await handle.describe()).memo).toMatchObject({ haulPauseAfterFailures: 2 });
      await triggerSchedule(client, pipelineName);
      expect((await runsOf(client, handle, 1)).map((r) => r.ok)).toEqual([false]);
      expect((await handle.describe()).state.paused).toBe(false); // one failure: not yet

      failing = false;
      await triggerSchedule(client, pipelineName);
      expect((await runsOf(client, handle, 2)).map((r) => r.ok)).toEqual([false, true]);

      failing = true;
      await triggerSchedule(client, pipelineName);
      expect((await runsOf(client, handle, 3)).map((r) => r.ok)).toEqual([false, true, false]);
      expect((await handle.describe()).state.paused).toBe(false); // the success in between reset the count

      await triggerSchedule(client, pipelineName);
      const runs = await runsOf(client, handle, 4);
      expect(runs.map((r) => r.ok)).toEqual([false, true, false, false]);
      const state = (await pipelineSchedule(client, pipelineName).describe()).state;
      expect(state.paused).toBe(true);
      expect(state.note).toMatch(/^haul paused this schedule after 2 failed runs in a row \(pauseAfterFailures 2\); the last, schedule\/pause_\S+, failed: .*the API changed.*\. Fix the cause, then "haul schedule unpause pipeline\/pause_\S+"$/);
    } finally {
      await handle.delete();
    }
  });

  it('rejects a pauseAfterFailures Temporal cannot count', async () => {
    const client = await testClient();
    const input = { pipelineName: 'never', source: 'x', destination: 'duckdb', every: '1h' };
    await expect(schedulePipeline(client, { ...input, pauseAfterFailures: 11 })).rejects.toThrow(/pauseAfterFailures must be a whole number from 1 to 10/);
    await expect(schedulePipeline(client, { ...input, pauseAfterFailures: 0 })).rejects.toThrow(/pauseAfterFailures/);
    await expect(schedulePipeline(client, { ...input, window: 'soon' })).rejects.toThrow(/window must be a duration/);
    // a bad interval names the interval, not the window it would default
    await expect(schedulePipeline(client, { ...input, every: 'banana' })).rejects.toThrow(/every must be a duration such as "1h", "15m" or milliseconds, not "banana"/);
  });

  it('backfill runs each past window; allowExternalSchedulers loads exactly [previous, this scheduled time) and the live cursor does not move', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    const at = (iso: string) => new Date(iso);
    const recent = new Date(Date.now() - 30 * 60_000);
    const events = () =>
      resource(
        function* events() {
          yield { id: 1, at: at('2026-01-01T00:30:00Z') };
          yield { id: 2, at: at('2026-01-01T01:00:00Z') }; // on a boundary: belongs to [01:00, 02:00)
          yield { id: 3, at: at('2026-01-01T01:59:59Z') };
          yield { id: 4, at: at('2026-01-01T02:30:00Z') };
          yield { id: 5, at: at('2026-01-01T03:30:00Z') };
          yield { id: 6, at: recent };
        },
        {
          name: 'events',
          primaryKey: 'id',
          writeDisposition: 'merge',
          incremental: incremental('at', { allowExternalSchedulers: true, initialValue: at('2026-01-01T03:00:00Z') }),
        },
      );
    const pipelinesDir = join(dir, 'p');
    await testWorker({ sources: { events }, taskQueue, pipelinesDir });
    const pipelineName = `window_${taskQueue.replace(/-/g, '_')}`;
    const input = { pipelineName, source: 'events', destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') }, datasetName: 'w' };

    // A run of its own (no schedule, no window) uses the cursor: from initialValue 03:00 on.
    const manual = await runPipeline(client, input, { taskQueue });
    expect(manual.rowCounts.events).toBe(2);
    const cursor = () => attach({ pipelineName, pipelinesDir }).state.sources?.[pipelineName]?.resources?.events?.incremental?.at;
    const live = cursor();
    expect(live?.last_value).toBe(recent.toISOString());

    // Paused: only the backfill and the trigger below start runs.
    const handle = await schedulePipeline(client, { ...input, every: '1h', paused: true }, { taskQueue });
    try {
      await backfillSchedule(client, pipelineName, at('2026-01-01T00:30:00Z'), at('2026-01-01T02:30:00Z'));
      const runs = await runsOf(client, handle, 2);
      const windows = runs.map((r) => {
        if (!r.ok) throw r.error;
        return { loadId: r.value.result!.loadIds[0]!, rows: r.value.result!.rowCounts.events };
      });
      // Runs scheduled for 01:00 and 02:00: windows [00:00, 01:00) and [01:00, 02:00).
      expect(windows.map((w) => w.rows)).toEqual([1, 2]);
      const p = attach({ pipelineName, pipelinesDir });
      const rows = await query<{ id: number; load: string }>(p, 'SELECT id, _dlt_load_id AS load FROM events ORDER BY id');
      expect(rows).toEqual([
        { id: 1, load: windows[0]!.loadId },
        { id: 2, load: windows[1]!.loadId },
        { id: 3, load: windows[1]!.loadId },
        { id: 5, load: manual.loadIds[0] },
        { id: 6, load: manual.loadIds[0] },
      ]);
      expect(cursor()).toEqual(live);

      // A scheduled run now: its window is the hour before its scheduled time.
      await triggerSchedule(client, pipelineName);
      const [, , now] = await runsOf(client, handle, 3);
      if (!now!.ok) throw now!.error;
      expect(now!.value.result!.rowCounts.events).toBe(1); // event 6, half an hour ago
      expect(await query(p, 'SELECT id FROM events WHERE _dlt_load_id = $1', [now!.value.result!.loadIds[0]])).toEqual([{ id: 6 }]);
      expect(cursor()).toEqual(live);
    } finally {
      await handle.delete();
    }
  });
});
