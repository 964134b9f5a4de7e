import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { attach } from '../../src/index.js';
import { dropPipelineData, pipelineProgress, runPipeline } from '../../src/temporal/client.js';
import { parseDropInput } from '../../src/temporal/input.js';
import { testSources } from '../fixtures/temporal-sources.js';
import { count, query, tempDir } from '../helpers.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';
import { failingDuckdb } from '../fixtures/failing-destination.js';


async function tables(pipelineName: string, pipelinesDir: string): Promise<string[]> {
  const p = attach({ pipelineName, pipelinesDir });
  const rows = await query<{ table_name: string }>(p, 'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [p.datasetName]);
  return rows.map((r) => r.table_name);
}

async function setup() {
  const dir = tempDir();
  const client = await testClient();
  const taskQueue = uniqueQueue();
  const failing = { on: false };
  const pipelinesDir = join(dir, 'p');
  await testWorker({ sources: testSources, destinations: { warehouse: failingDuckdb(join(dir, 'w.duckdb'), failing) }, taskQueue, pipelinesDir });
  const pipelineName = `refresh_${taskQueue.replace(/-/g, '_')}`;
  const input = { pipelineName, source: 'shop', destination: 'warehouse', datasetName: 'shop_data', tuning: { maximumAttempts: 2, initialIntervalMs: 100 } };
  return { dir, client, taskQueue, failing, pipelinesDir, pipelineName, input };
}

describe('refresh and drop as compensated workflow steps', () => {
  it('a refresh whose load fails restores the previous schema, state and tables', async () => {
    const { client, taskQueue, failing, pipelinesDir, pipelineName, input } = await setup();
    await runPipeline(client, { ...input, args: [1] }, { taskQueue });
    const stateFile = join(pipelinesDir, pipelineName, 'state.json');
    const stateBefore = readFileSync(stateFile, 'utf8');
    const schemaBefore = attach({ pipelineName, pipelinesDir }).getSchema('shop')!.toStored();
    const tablesBefore = await tables(pipelineName, pipelinesDir);
    expect(tablesBefore).toEqual(expect.arrayContaining(['events', 'events__tags', 'customers', 'customers__addresses']));

    failing.on = true;
    const err = await runPipeline(client, { ...input, args: [2], refresh: 'drop_sources' }, { taskQueue }).catch((e: unknown) => e);
    failing.on = false;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    // the run's own failure says the refresh was undone; its cause is the load's
    const undone = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(undone.type).toBe('RefreshUndone');
    expect(undone.message).toContain('disk full (test)');
    expect(undone.message).toContain('The refresh was undone');
    let cause: unknown = undone.cause;
    while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as Error).cause;
    expect((cause as ApplicationFailure).type).toBe('FailedJobs');
    expect((cause as ApplicationFailure).message).toContain('disk full (test)');

    // The destructive step ran (tables renamed aside), then the compensation.
    const history = await client.workflow.getHandle(`pipeline/${pipelineName}`).fetchHistory();
    const steps = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(steps).toEqual(['syncDestination', 'extract', 'normalize', 'snapshot', 'applyRefresh', 'load', 'restoreSnapshot']);

    const progress = await pipelineProgress(client, pipelineName);
    expect(progress.stage).toBe('failed');
    expect(progress.note).toMatch(/compensation restored/);

    // As it was: state file, schema, tables and their rows; nothing pending, no backups left.
    expect(readFileSync(stateFile, 'utf8')).toBe(stateBefore);
    const p = attach({ pipelineName, pipelinesDir });
    expect(p.getSchema('shop')!.toStored()).toEqual(schemaBefore);
    expect(p.hasPendingData).toBe(false);
    expect(await tables(pipelineName, pipelinesDir)).toEqual(tablesBefore);
    expect(await count(p, 'events')).toBe(100);
    expect(await count(p, 'events__tags')).toBe(200);
    expect(await count(p, 'customers__addresses')).toBe(40);
    expect(existsSync(join(pipelinesDir, pipelineName, 'snapshots', (await client.workflow.getHandle(`pipeline/${pipelineName}`).describe()).runId))).toBe(false);
    expect(await query(p, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%__bak_%'")).toEqual([]);

    // The next run continues from the restored incremental state: no row twice, none lost.
    await runPipeline(client, { ...input, args: [2] }, { taskQueue });
    expect(await count(p, 'events')).toBe(200);
    expect(await query(p, 'SELECT id FROM events GROUP BY id HAVING count(*) > 1')).toEqual([]);
  });

  it('a refresh that succeeds replaces the data and leaves no backup tables', async () => {
    const { client, taskQueue, pipelinesDir, pipelineName, input } = await setup();
    await runPipeline(client, { ...input, args: [1] }, { taskQueue });
    const r = await runPipeline(client, { ...input, args: [2], refresh: 'drop_sources' }, { taskQueue });
    // drop_sources reset the incremental state: events 1..200 in one go, nothing from before.
    expect(r.rowCounts.events).toBe(200);
    const p = attach({ pipelineName, pipelinesDir });
    expect(await count(p, 'events')).toBe(200);
    expect(await count(p, 'customers')).toBe(20);
    expect(await query(p, "SELECT DISTINCT city FROM customers__addresses WHERE city LIKE 'town%'")).toEqual([{ city: 'town2' }]);
    expect(await query(p, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%__bak_%'")).toEqual([]);
    expect(p.state.sources.shop!.resources!.events!.incremental!.ts!.last_value).toBe(200);
  });

  it('a drop whose load fails after the tables were dropped restores tables, schema and state', async () => {
    const { client, taskQueue, failing, pipelinesDir, pipelineName, input } = await setup();
    await runPipeline(client, { ...input, args: [1] }, { taskQueue });
    const stateFile = join(pipelinesDir, pipelineName, 'state.json');
    const stateBefore = readFileSync(stateFile, 'utf8');
    const schemaBefore = attach({ pipelineName, pipelinesDir }).getSchema('shop')!.toStored();
    const tablesBefore = await tables(pipelineName, pipelinesDir);
    expect(tablesBefore).toEqual(expect.arrayContaining(['events', 'events__tags', 'customers', 'customers__addresses']));

    failing.on = true;
    const drop = { pipelineName, destination: 'warehouse', datasetName: 'shop_data', resources: ['events'], tuning: input.tuning };
    const err = await dropPipelineData(client, drop, { taskQueue }).catch((e: unknown) => e);
    failing.on = false;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const undone = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(undone.type).toBe('RefreshUndone');
    expect(undone.message).toContain('The drop was undone');
    let cause: unknown = undone.cause;
    while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as Error).cause;
    expect((cause as ApplicationFailure).type).toBe('FailedJobs');

    // The destructive step (events tables renamed aside) ran before the failing load.
    const handle = client.workflow.getHandle(`pipeline/${pipelineName}`);
    const history = await handle.fetchHistory();
    const steps = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(steps).toEqual(['syncDestination', 'snapshot', 'planDrop', 'normalize', 'applyRefresh', 'load', 'restoreSnapshot']);
    expect((await pipelineProgress(client, pipelineName)).note).toMatch(/compensation restored/);

    // As it was: state file, schema, every table with its rows; nothing pending, no backups.
    expect(readFileSync(stateFile, 'utf8')).toBe(stateBefore);
    const p = attach({ pipelineName, pipelinesDir });
    expect(p.getSchema('shop')!.toStored()).toEqual(schemaBefore);
    expect(p.hasPendingData).toBe(false);
    expect(await tables(pipelineName, pipelinesDir)).toEqual(tablesBefore);
    expect(await count(p, 'events')).toBe(100);
    expect(await count(p, 'events__tags')).toBe(200);
    expect(await count(p, 'customers')).toBe(20);
    expect(await query(p, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%__bak_%'")).toEqual([]);
    expect(existsSync(join(pipelinesDir, pipelineName, 'snapshots', (await handle.describe()).runId))).toBe(false);
    // The destination's newest state still knows the events resource.
    const rows = await query<{ state: string }>(p, 'SELECT state FROM _dlt_pipeline_state ORDER BY version DESC LIMIT 1');
    expect(JSON.parse(rows[0]!.state).sources.shop.resources.events.incremental.ts.last_value).toBe(100);

    // The next run continues from the kept incremental state: no event twice, none lost.
    const again = await runPipeline(client, { ...input, args: [2] }, { taskQueue });
    expect(again.rowCounts.events).toBe(100);
    expect(await count(p, 'events')).toBe(200);
    expect(await query(p, 'SELECT id FROM events GROUP BY id HAVING count(*) > 1')).toEqual([]);
  });

  it('dropWorkflow drops a resource’s tables and state, like dlt pipeline drop', async () => {
    const { client, taskQueue, pipelinesDir, pipelineName, input } = await setup();
    await runPipeline(client, { ...input, args: [1] }, { taskQueue });
    const res = await dropPipelineData(client, { pipelineName, destination: 'warehouse', datasetName: 'shop_data', resources: ['events'] }, { taskQueue });
    expect(res.droppedTables.sort()).toEqual(['events', 'events__tags']);
    expect(res.resetResources).toEqual(['events']);
    expect(await tables(pipelineName, pipelinesDir)).not.toContain('events');
    expect(await tables(pipelineName, pipelinesDir)).toContain('customers');
    const p = attach({ pipelineName, pipelinesDir });
    expect(p.getSchema('shop')!.getTable('events')).toBeUndefined();
    expect(p.state.sources.shop!.resources!.events).toBeUndefined();
    expect(p.hasPendingData).toBe(false);
    // The destination has the new state too (a fresh working dir would restore it).
    const rows = await query<{ state: string }>(p, 'SELECT state FROM _dlt_pipeline_state ORDER BY version DESC LIMIT 1');
    expect(JSON.parse(rows[0]!.state).sources.shop.resources.events).toBeUndefined();
    // The next run starts the dropped resource from scratch.
    const again = await runPipeline(client, { ...input, args: [2] }, { taskQueue });
    expect(again.rowCounts.events).toBe(200);
    expect(await count(p, 'events')).toBe(200);
    expect(await count(p, 'customers')).toBe(20);
  });

  it('dropWorkflow without a destination drops at the one stored with the pipeline, as dlt pipeline drop does', async () => {
    const { client, taskQueue, pipelinesDir, pipelineName, input } = await setup();
    await runPipeline(client, { ...input, args: [1] }, { taskQueue });
    // before, the CLI sent duckdb by default: the sync step found no dataset there and wiped the working dir's state
    const res = await dropPipelineData(client, { pipelineName, resources: ['customers'] }, { taskQueue });
    expect(res.droppedTables.sort()).toEqual(['customers', 'customers__addresses']);
    expect(await tables(pipelineName, pipelinesDir)).not.toContain('customers');
    expect(await tables(pipelineName, pipelinesDir)).toContain('events');
    const p = attach({ pipelineName, pipelinesDir });
    expect(p.state.sources.shop!.resources!.events!.incremental).toBeDefined();
    expect(p.datasetName).toBe('shop_data');
    expect(await count(p, 'events')).toBe(100);
    // a pipeline this worker has never run has nothing stored to drop from
    const err = await dropPipelineData(client, { pipelineName: `${pipelineName}_unknown`, resources: ['customers'] }, { taskQueue }).catch((e: unknown) => e);
    let root: unknown = err;
    while (root instanceof Error && root.cause) root = root.cause;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((root as ApplicationFailure).type).toBe('PipelineNotFound');
    expect(() => parseDropInput({ pipelineName, destinationOptions: { path: 'x' }, resources: ['a'] })).toThrow(/destinationOptions need a destination/);
  });
});
