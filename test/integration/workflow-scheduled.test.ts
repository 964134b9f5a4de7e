/**
 * scheduledPipelineWorkflow's logic with stub activities: it runs pipelineWorkflow as a
 * child under `pipeline/<name>`, skips a tick while that id is running, outlives nothing
 * (the child is abandoned, not cancelled, when the tick ends) and passes failures on.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { startPipeline } from '../../src/temporal/client.js';
import { HaulPipeline } from '../../src/temporal/search-attributes.js';
import type { PipelineRunInput } from '../../src/temporal/types.js';
import type { scheduledPipelineWorkflow } from '../../workflows/index.js';
import { testClient, uniqueQueue } from './temporal-env.js';
import { stubWorker, stubWorld, type StubOptions } from './workflow-stubs.js';

async function setup(opts: StubOptions = {}) {
  const client = await testClient();
  const taskQueue = uniqueQueue('wf-sched');
  const world = stubWorld(opts);
  await stubWorker(world.activities, taskQueue);
  const input: PipelineRunInput = {
    pipelineName: `sched_${taskQueue.replace(/-/g, '_')}`,
    source: 'things',
    destination: 'warehouse',
    tuning: { maximumAttempts: 2, initialIntervalMs: 50 },
  };
  const tick = (n = 1) =>
    client.workflow.start<typeof scheduledPipelineWorkflow>('scheduledPipelineWorkflow', {
      workflowId: `schedule/${input.pipelineName}-${n}`,
      taskQueue,
      args: [input],
    });
  return { client, taskQueue, world, input, tick };
}

/** Waits until the stub has seen `n` calls of an activity (the run reached that step). */
async function reached(world: ReturnType<typeof stubWorld>, name: Parameters<typeof world.of>[0], n = 1): Promise<void> {
  for (let i = 0; i < 400 && world.of(name).length < n; i++) await new Promise((r) => setTimeout(r, 25));
  expect(world.of(name).length).toBeGreaterThanOrEqual(n);
}

function childOf(client: Client, pipelineName: string) {
  return client.workflow.getHandle(`pipeline/${pipelineName}`);
}

describe('scheduledPipelineWorkflow with stub activities', () => {
  it('runs pipelineWorkflow as the child pipeline/<name> and returns its result', async () => {
    const { client, world, input, tick } = await setup();
    const parent = await tick();
    const out = await parent.result();

    expect(out.skipped).toBe(false);
    expect(out.result).toMatchObject({ pipelineName: input.pipelineName, loadIds: [world.of('extract')[0]!.input.loadId] });
    expect(world.names()).toEqual(['syncDestination', 'extract', 'normalize', 'load']);

    const child = await childOf(client, input.pipelineName).describe();
    expect(child.type).toBe('pipelineWorkflow');
    expect(child.parentExecution?.workflowId).toBe(parent.workflowId);
    expect(await child.staticSummary()).toBe(parent.workflowId);
    expect((await parent.describe()).typedSearchAttributes.get(HaulPipeline)).toBe(input.pipelineName);
  });

  it('a tick while the pipeline runs is skipped; the running load is not disturbed', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { client, taskQueue, world, input, tick } = await setup({ hold: { extract: held } });
    const manual = await startPipeline(client, input, { taskQueue });
    try {
      await reached(world, 'extract');
      const out = await (await tick()).result();
      expect(out).toEqual({ skipped: true, reason: `pipeline/${input.pipelineName} is already running` });
    } finally {
      release();
    }
    await manual.result();
    // One run's steps only: the skipped tick started nothing.
    expect(world.names()).toEqual(['syncDestination', 'extract', 'normalize', 'load']);
  });

  it('passes a failed pipeline run on as its own failure', async () => {
    const { world, tick } = await setup({ fail: { extract: () => ApplicationFailure.nonRetryable('bad args (stub)', 'InvalidSourceArgs') } });
    const err = await (await tick()).result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    let cur: unknown = err;
    while (cur && !(cur instanceof ApplicationFailure)) cur = (cur as Error).cause;
    expect((cur as ApplicationFailure).type).toBe('InvalidSourceArgs');
    expect(world.names()).toEqual(['syncDestination', 'extract']);
  });

  it('abandons the child: a tick that is terminated leaves the pipeline run to finish', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { client, world, input, tick } = await setup({ hold: { extract: held } });
    const parent = await tick();
    try {
      await reached(world, 'extract');
      await parent.terminate('test: the schedule tick goes away');
    } finally {
      release();
    }
    const result = await childOf(client, input.pipelineName).result();
    expect(result.loadIds).toHaveLength(1);
    expect(world.names()).toEqual(['syncDestination', 'extract', 'normalize', 'load']);
  });
});
