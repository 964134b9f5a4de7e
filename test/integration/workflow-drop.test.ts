/**
 * dropWorkflow's logic with stub activities: its steps, their ids, and the compensation
 * that restores the snapshot when any step after it fails.
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { dropPipelineData, pipelineProgress } from '../../src/temporal/client.js';
import type { DropInput } from '../../src/temporal/types.js';
import { testClient, uniqueQueue } from './temporal-env.js';
import { stubWorker, stubWorld, rootFailure, type StubOptions } from './workflow-stubs.js';

async function setup(opts: StubOptions = {}, extra: Partial<DropInput> = {}) {
  const client = await testClient();
  const taskQueue = uniqueQueue('wf-drop');
  const world = stubWorld(opts);
  await stubWorker(world.activities, taskQueue);
  const input: DropInput = {
    pipelineName: `drop_${taskQueue.replace(/-/g, '_')}`,
    destination: 'warehouse',
    datasetName: 'things_data',
    resources: ['items'],
    tuning: { maximumAttempts: 3, initialIntervalMs: 50 },
    ...extra,
  };
  const ref = { pipelineName: input.pipelineName, destination: 'warehouse', datasetName: 'things_data' };
  const run = () => dropPipelineData(client, input, { taskQueue });
  const runId = async () => (await client.workflow.getHandle(`pipeline/${input.pipelineName}`).describe()).runId;
  return { client, world, input, ref, run, runId };
}


describe('dropWorkflow with stub activities', () => {
  it('syncs, snapshots, plans the drop package, normalizes, applies, loads, then discards the snapshot', async () => {
    const { world, input, ref, run, runId } = await setup();
    const result = await run();
    const snapshotId = await runId();

    expect(world.names()).toEqual(['syncDestination', 'snapshot', 'planDrop', 'normalize', 'applyRefresh', 'load', 'discardSnapshot']);
    const loadId = world.of('planDrop')[0]!.input.loadId as string;
    expect(loadId).toMatch(/^\d+\.\d{6}$/);
    expect(world.of('snapshot')[0]!.input).toEqual({ ...ref, snapshotId });
    expect(world.of('planDrop')[0]!.input).toMatchObject({ ...ref, resources: ['items'], loadId });
    expect(world.of('applyRefresh')[0]!.input).toEqual({ ...ref, loadId, snapshotId });
    expect(world.of('load')[0]!.input).toEqual({ ...ref, loadIds: [loadId] });
    expect(world.of('discardSnapshot')[0]!.input).toEqual({ ...ref, snapshotId });
    expect(world.of('restoreSnapshot')).toEqual([]);
    expect(result).toEqual({ pipelineName: input.pipelineName, droppedTables: ['items'], resetResources: ['items'], loadId });
  });

  it('finishes pending packages before the snapshot', async () => {
    const { world, run } = await setup({ pending: [{ loadId: '1700000000.000001', stage: 'extracted' }] });
    await run();
    expect(world.names()).toEqual(['syncDestination', 'normalize', 'load', 'snapshot', 'planDrop', 'normalize', 'applyRefresh', 'load', 'discardSnapshot']);
    expect(world.of('load')[0]!.input.loadIds).toEqual(['1700000000.000001']);
  });

  it('a drop with no package to load (state only) skips normalize and load', async () => {
    const { world, run } = await setup({}, { stateOnly: true });
    const result = await run();
    expect(world.names()).toEqual(['syncDestination', 'snapshot', 'planDrop', 'discardSnapshot']);
    expect(result.loadId).toBeUndefined();
    expect(result.resetResources).toEqual(['items']);
  });

  it('a failing load is compensated: the snapshot is restored and the drop package named, nothing discarded', async () => {
    const { world, ref, run, runId, client, input } = await setup({ fail: { load: () => ApplicationFailure.nonRetryable('1 load job(s) failed (stub)', 'FailedJobs') } });
    const err = await run().catch((e: unknown) => e);
    expect(rootFailure(err).type).toBe('FailedJobs');
    expect(world.names()).toEqual(['syncDestination', 'snapshot', 'planDrop', 'normalize', 'applyRefresh', 'load', 'restoreSnapshot']);
    const loadId = world.of('planDrop')[0]!.input.loadId;
    expect(world.of('restoreSnapshot')[0]!.input).toEqual({ ...ref, snapshotId: await runId(), loadIds: [loadId] });

    const progress = await pipelineProgress(client, input.pipelineName);
    expect(progress).toMatchObject({ stage: 'failed', error: expect.stringContaining('(stub)'), note: expect.stringMatching(/compensation restored/) });
  });

  it('a failing plan is compensated as well', async () => {
    const { world, run } = await setup({ fail: { planDrop: () => ApplicationFailure.nonRetryable('no resource "items" (stub)', 'InvalidOptions') } });
    const err = await run().catch((e: unknown) => e);
    expect(rootFailure(err).type).toBe('InvalidOptions');
    expect(world.names()).toEqual(['syncDestination', 'snapshot', 'planDrop', 'restoreSnapshot']);
  });

  it('a failing snapshot fails the drop before anything changes, with no compensation to run', async () => {
    const { world, run } = await setup({ fail: { snapshot: () => ApplicationFailure.nonRetryable('disk full (stub)', 'Error') } });
    const err = await run().catch((e: unknown) => e);
    expect(rootFailure(err).message).toContain('disk full (stub)');
    expect(world.names()).toEqual(['syncDestination', 'snapshot']);
  });
});
