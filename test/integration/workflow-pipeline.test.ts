/**
 * pipelineWorkflow's logic, on the suite's real dev server, with stub activities: the
 * order of the steps, what each step is given, the refresh compensation, retries, routing,
 * search attributes and the progress query. The engine steps themselves are tested with
 * the real activities elsewhere (temporal-pipeline, temporal-refresh).
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { PENDING_DATA_KEPT } from '../../src/errors.js';
import { rootCause } from '../../src/temporal/follow.js';
import { pipelineProgress, startPipeline } from '../../src/temporal/client.js';
import { HaulDataset, HaulDestination, HaulLoadId, HaulPipeline, HaulStage } from '../../src/temporal/search-attributes.js';
import type { PipelineRunInput } from '../../src/temporal/types.js';
import { testClient, uniqueQueue } from './temporal-env.js';
import { ROWS_PER_PACKAGE, scheduledActivities, stubWorker, stubWorld, upserted, rootFailure, type StubOptions } from './workflow-stubs.js';

const REFRESH = { mode: 'drop_sources' as const, dropTables: ['items', 'items__tags'], truncateTables: [] };

async function setup(opts: StubOptions = {}, extra: Partial<PipelineRunInput> = {}) {
  const client = await testClient();
  const taskQueue = uniqueQueue('wf-pipeline');
  const world = stubWorld(opts);
  await stubWorker(world.activities, taskQueue);
  const input: PipelineRunInput = {
    pipelineName: `wf_${taskQueue.replace(/-/g, '_')}`,
    source: 'things',
    args: { n: 3 },
    destination: 'warehouse',
    datasetName: 'things_data',
    tuning: { maximumAttempts: 3, initialIntervalMs: 50 },
    ...extra,
  };
  const start = () => startPipeline(client, input, { taskQueue });
  return { client, taskQueue, world, input, start };
}

/** Retries an assertion until it holds (a query races the run it looks at). */
async function eventually<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}


describe('pipelineWorkflow with stub activities', () => {
  it('runs sync -> extract -> normalize -> load and returns a summary of ids and counts', async () => {
    const { world, input, start } = await setup();
    const handle = await start();
    const result = await handle.result();

    expect(world.names()).toEqual(['syncDestination', 'extract', 'normalize', 'load']);
    const [sync, extract, normalize, load] = world.calls;
    expect(sync!.input).toMatchObject({ pipelineName: input.pipelineName, destination: 'warehouse', datasetName: 'things_data', source: 'things', args: { n: 3 } });
    // The workflow picks the load id (workflow time, so a retried extract reuses it).
    const loadId = extract!.input.loadId as string;
    expect(loadId).toMatch(/^\d+\.\d{6}$/);
    expect(extract!.input).toMatchObject({ source: 'things', args: { n: 3 } });
    // The package it just extracted is discarded if normalize refuses its data.
    expect(normalize!.input).toEqual({ pipelineName: input.pipelineName, destination: 'warehouse', datasetName: 'things_data', discardIfInvalid: [loadId] });
    expect(load!.input).toEqual({ pipelineName: input.pipelineName, destination: 'warehouse', datasetName: 'things_data', loadIds: [loadId] });

    expect(result).toMatchObject({
      pipelineName: input.pipelineName,
      source: 'things',
      destinationName: 'duckdb',
      destinationLocation: '/stub/warehouse.duckdb',
      datasetName: 'things_data',
      extracted: { loadId, itemCounts: { items: 3 } },
      loadIds: [loadId],
      rowCounts: ROWS_PER_PACKAGE,
    });
    expect(result.packages.map((p) => p.state)).toEqual(['loaded']);

    const history = await handle.fetchHistory();
    expect(scheduledActivities(history)).toEqual(['syncDestination', 'extract', 'normalize', 'load']);
    expect(upserted(history, HaulStage.name)).toEqual(['sync', 'extract', 'normalize', 'load', 'done']);
  });

  it('finishes pending packages first, keeping the stage finish_pending through their normalize and load', async () => {
    const pending = [
      { loadId: '1700000000.000001', stage: 'normalized' as const },
      { loadId: '1700000000.000002', stage: 'extracted' as const },
    ];
    const { world, input, start, client } = await setup({ pending });
    const handle = await start();
    const result = await handle.result();

    expect(world.names()).toEqual(['syncDestination', 'normalize', 'load', 'extract', 'normalize', 'load']);
    const loads = world.of('load');
    expect(loads[0]!.input.loadIds).toEqual(['1700000000.000001', '1700000000.000002']);
    const loadId = world.of('extract')[0]!.input.loadId as string;
    expect(loads[1]!.input.loadIds).toEqual([loadId]);

    expect(result.loadIds).toEqual(['1700000000.000001', '1700000000.000002', loadId]);
    expect(result.rowCounts).toEqual({ items: 9, items__tags: 18 });
    expect(result.extracted?.loadId).toBe(loadId);

    const history = await handle.fetchHistory();
    const summaries = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [Buffer.from(e.userMetadata?.summary?.data ?? []).toString()] : []));
    expect(summaries[1]).toBe('"normalize pending 1700000000.000001, 1700000000.000002"');
    expect(upserted(history, HaulStage.name)).toEqual(['sync', 'finish_pending', 'extract', 'normalize', 'load', 'done']);
    // The newest load id last, so the UI shows what this run extracted.
    expect(upserted(history, HaulLoadId.name).at(-1)).toBe(loadId);

    const progress = await pipelineProgress(client, input.pipelineName);
    expect(progress).toMatchObject({
      stage: 'done',
      loadIds: ['1700000000.000001', '1700000000.000002', loadId],
      extracted: { items: 3 },
      normalized: { items: 9, items__tags: 18 },
      loaded: { items: 9, items__tags: 18 },
    });
  });

  it('pendingOnly finishes pending packages and extracts nothing', async () => {
    const { world, start } = await setup({ pending: [{ loadId: '1700000000.000001', stage: 'normalized' }] }, { pendingOnly: true });
    const result = await (await start()).result();
    expect(world.names()).toEqual(['syncDestination', 'normalize', 'load']);
    expect(result.extracted).toBeUndefined();
    expect(result.loadIds).toEqual(['1700000000.000001']);
  });

  it('pendingOnly with nothing pending only syncs', async () => {
    const { world, start } = await setup({}, { pendingOnly: true });
    const result = await (await start()).result();
    expect(world.names()).toEqual(['syncDestination']);
    expect(result).toMatchObject({ loadIds: [], rowCounts: {}, packages: [] });
  });

  it('a refresh snapshots, applies, loads and discards the snapshot; no compensation when all succeeds', async () => {
    const { world, start, input } = await setup({ refresh: REFRESH }, { refresh: 'drop_sources' });
    const handle = await start();
    const result = await handle.result();
    const runId = handle.firstExecutionRunId;

    expect(world.names()).toEqual(['syncDestination', 'extract', 'normalize', 'snapshot', 'applyRefresh', 'load', 'discardSnapshot']);
    const loadId = world.of('extract')[0]!.input.loadId;
    expect(world.of('extract')[0]!.input.refresh).toBe('drop_sources');
    const ref = { pipelineName: input.pipelineName, destination: 'warehouse', datasetName: 'things_data' };
    expect(world.of('snapshot')[0]!.input).toEqual({ ...ref, snapshotId: runId });
    expect(world.of('applyRefresh')[0]!.input).toEqual({ ...ref, loadId, snapshotId: runId });
    expect(world.of('discardSnapshot')[0]!.input).toEqual({ ...ref, snapshotId: runId });
    expect(world.of('restoreSnapshot')).toEqual([]);
    expect(result.loadIds).toEqual([loadId]);
    expect(upserted(await handle.fetchHistory(), HaulStage.name)).toEqual(['sync', 'extract', 'normalize', 'refresh', 'load', 'done']);
  });

  it('a package whose refresh was already applied (an earlier attempt) is not refreshed again', async () => {
    const { world, start } = await setup({ refresh: { ...REFRESH, applied: true } }, { refresh: 'drop_sources' });
    await (await start()).result();
    expect(world.names()).toEqual(['syncDestination', 'extract', 'normalize', 'load']);
  });

  it('a load that fails after the destructive refresh runs the compensation with the snapshot and the run’s load ids', async () => {
    const { world, start, input, client } = await setup(
      { refresh: REFRESH, fail: { load: () => ApplicationFailure.nonRetryable(`1 load job(s) failed (stub)\n${PENDING_DATA_KEPT}`, 'FailedJobs') } },
      { refresh: 'drop_sources' },
    );
    const handle = await start();
    const err = await handle.result().catch((e: unknown) => e);
    const root = rootFailure(err);
    expect(root.type).toBe('FailedJobs');
    expect(root.message).toContain('(stub)');
    // what the run says (CLI, UI): the step's error without its "run again to finish it", and what the compensation did
    const said = rootCause(err);
    expect(said).toContain('1 load job(s) failed (stub)');
    expect(said).toContain('The refresh was undone: the tables, schema and state are as before this run and its packages were discarded');
    expect(said).not.toContain(PENDING_DATA_KEPT);
    expect(said).toContain('(RefreshUndone)');

    // Non-retryable: one attempt only, although maximumAttempts is 3.
    expect(world.names()).toEqual(['syncDestination', 'extract', 'normalize', 'snapshot', 'applyRefresh', 'load', 'restoreSnapshot']);
    const loadId = world.of('extract')[0]!.input.loadId;
    expect(world.of('restoreSnapshot')[0]!.input).toEqual({
      pipelineName: input.pipelineName,
      destination: 'warehouse',
      datasetName: 'things_data',
      snapshotId: handle.firstExecutionRunId,
      loadIds: [loadId],
    });

    const progress = await pipelineProgress(client, input.pipelineName);
    expect(progress.stage).toBe('failed');
    expect(progress.error).toContain('(stub)');
    expect(progress.error).toContain('The refresh was undone');
    expect(progress.error).not.toContain(PENDING_DATA_KEPT);
    expect(progress.note).toMatch(/compensation restored/);
    expect(upserted(await handle.fetchHistory(), HaulStage.name)).toEqual(['sync', 'extract', 'normalize', 'refresh', 'load', 'compensate', 'failed']);
  });

  it('a run cancelled during the load after a refresh still runs its compensation, then ends cancelled', async () => {
    const { world, start } = await setup({ refresh: REFRESH, untilCancelled: ['load'] }, { refresh: 'drop_sources' });
    const handle = await start();
    await eventually(async () => expect(world.names()).toContain('load'));
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect((err as Error & { cause?: unknown }).cause).toBeInstanceOf(CancelledFailure);
    // before, the compensation was scheduled in the cancelled scope and never ran: the tables stayed renamed aside
    expect(world.names()).toEqual(['syncDestination', 'extract', 'normalize', 'snapshot', 'applyRefresh', 'load', 'restoreSnapshot']);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
  });

  it('a compensation retries past tuning.maximumAttempts until the destination answers', async () => {
    const { world, start } = await setup(
      {
        refresh: REFRESH,
        fail: {
          load: () => ApplicationFailure.nonRetryable('1 load job(s) failed (stub)', 'FailedJobs'),
          restoreSnapshot: (attempt) => (attempt <= 4 ? ApplicationFailure.retryable('connection refused (stub)', 'DestinationUnreachable') : undefined),
        },
      },
      { refresh: 'drop_sources', tuning: { maximumAttempts: 2, initialIntervalMs: 10, maximumIntervalMs: 20 } },
    );
    const err = await (await start()).result().catch((e: unknown) => e);
    expect(rootFailure(err).type).toBe('FailedJobs');
    expect(world.of('restoreSnapshot').map((c) => c.attempt)).toEqual([1, 2, 3, 4, 5]);
  });

  it('a failing applyRefresh is compensated too, and load never runs', async () => {
    const { world, start } = await setup({ refresh: REFRESH, fail: { applyRefresh: () => ApplicationFailure.nonRetryable('rename failed (stub)', 'DestinationError') } }, { refresh: 'drop_sources' });
    const err = await (await start()).result().catch((e: unknown) => e);
    expect(rootFailure(err).type).toBe('DestinationError');
    expect(world.names()).toEqual(['syncDestination', 'extract', 'normalize', 'snapshot', 'applyRefresh', 'restoreSnapshot']);
  });

  it('packages a load leaves pending fail the run (PackagesPending) and are compensated after a refresh', async () => {
    const { world, start } = await setup({ refresh: REFRESH, loadLeavesPending: true }, { refresh: 'drop_sources' });
    const err = await (await start()).result().catch((e: unknown) => e);
    const root = rootFailure(err);
    expect(root.type).toBe('PackagesPending');
    expect(root.nonRetryable).toBe(true);
    expect(world.names()).toEqual(['syncDestination', 'extract', 'normalize', 'snapshot', 'applyRefresh', 'load', 'restoreSnapshot']);
  });

  it('a failing load without a refresh takes no snapshot and runs no compensation', async () => {
    const { world, start, client, input } = await setup({ fail: { load: () => ApplicationFailure.nonRetryable('1 load job(s) failed (stub)', 'FailedJobs') } });
    const err = await (await start()).result().catch((e: unknown) => e);
    expect(rootFailure(err).type).toBe('FailedJobs');
    expect(world.names()).toEqual(['syncDestination', 'extract', 'normalize', 'load']);
    const progress = await pipelineProgress(client, input.pipelineName);
    expect(progress).toMatchObject({ stage: 'failed', error: expect.stringContaining('(stub)') });
    expect(progress.note).toBeUndefined();
  });

  it('retries a retryable failure with the same load id, and never retries a non-retryable one', async () => {
    const flaky = await setup({ fail: { extract: (attempt) => (attempt === 1 ? ApplicationFailure.retryable('connection reset (stub)', 'Error') : undefined) } });
    await (await flaky.start()).result();
    const attempts = flaky.world.of('extract');
    expect(attempts.map((c) => c.attempt)).toEqual([1, 2]);
    expect(attempts[1]!.input.loadId).toBe(attempts[0]!.input.loadId);
    expect(flaky.world.names()).toEqual(['syncDestination', 'extract', 'extract', 'normalize', 'load']);

    const bad = await setup({ fail: { syncDestination: () => ApplicationFailure.nonRetryable('no source named "things" (stub)', 'UnknownSource') } });
    const err = await (await bad.start()).result().catch((e: unknown) => e);
    expect(rootFailure(err).type).toBe('UnknownSource');
    expect(bad.world.calls.map((c) => [c.name, c.attempt])).toEqual([['syncDestination', 1]]);
  });

  it('gives up on a retryable failure after tuning.maximumAttempts', async () => {
    const { world, start } = await setup({ fail: { normalize: () => ApplicationFailure.retryable('disk busy (stub)', 'Error') } }, { tuning: { maximumAttempts: 2, initialIntervalMs: 10 } });
    const err = await (await start()).result().catch((e: unknown) => e);
    expect(rootFailure(err).message).toContain('disk busy (stub)');
    expect(world.of('normalize').map((c) => c.attempt)).toEqual([1, 2]);
    expect(world.of('load')).toEqual([]);
  });

  it('tuning.maximumAttempts 0 schedules every step with an unlimited retry policy', async () => {
    const { world, start } = await setup(
      { fail: { normalize: (attempt) => (attempt === 1 ? ApplicationFailure.retryable('disk busy (stub)', 'Error') : undefined) } },
      { tuning: { maximumAttempts: 0, initialIntervalMs: 10 } },
    );
    const handle = await start();
    const res = await handle.result();
    expect(world.of('normalize').map((c) => c.attempt)).toEqual([1, 2]);
    expect(res.loadIds).toHaveLength(1);
    const policies = ((await handle.fetchHistory()).events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.retryPolicy ?? []);
    expect(policies.length).toBeGreaterThanOrEqual(4);
    for (const p of policies) expect(p.maximumAttempts ?? 0).toBe(0); // 0 / unset: Temporal retries without limit
  });

  it('routes every step after sync to the queue the sync step named (worker-local files)', async () => {
    const localQueue = uniqueQueue('wf-local');
    const { world, start, taskQueue } = await setup({ localTaskQueue: localQueue, refresh: REFRESH }, { refresh: 'drop_sources' });
    // The same stubs also poll the local queue, without workflows (like createWorker's local worker).
    await stubWorker(world.activities, localQueue, { workflows: false });
    await (await start()).result();
    expect(world.calls.map((c) => [c.name, c.taskQueue])).toEqual([
      ['syncDestination', taskQueue],
      ['extract', localQueue],
      ['normalize', localQueue],
      ['snapshot', localQueue],
      ['applyRefresh', localQueue],
      ['load', localQueue],
      ['discardSnapshot', localQueue],
    ]);
  });

  it('tags the run with search attributes from the sync step and answers progress while it runs', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { start, client, input } = await setup({ hold: { load: held }, pending: [{ loadId: '1700000000.000001', stage: 'extracted' }] }, { datasetName: undefined });
    const handle = await start();
    try {
      // Both loads are held: the run waits in the first (pending) one.
      const progress = await eventually(async () => {
        const p = await pipelineProgress(client, input.pipelineName);
        expect(p.normalized).toEqual(ROWS_PER_PACKAGE);
        return p;
      });
      expect(progress).toMatchObject({ pipelineName: input.pipelineName, stage: 'finish_pending', loadIds: ['1700000000.000001'], extracted: {}, loaded: {} });
    } finally {
      release();
    }
    const result = await handle.result();
    const desc = await handle.describe();
    expect(desc.typedSearchAttributes.get(HaulPipeline)).toBe(input.pipelineName);
    // The client tagged 'warehouse'; the sync step names the real destination and dataset.
    expect(desc.typedSearchAttributes.get(HaulDestination)).toBe('duckdb');
    expect(desc.typedSearchAttributes.get(HaulDataset)).toBe(`${input.pipelineName}_dataset`);
    expect(desc.typedSearchAttributes.get(HaulStage)).toBe('done');
    expect(desc.typedSearchAttributes.get(HaulLoadId)).toBe(result.extracted!.loadId);
  });
});
