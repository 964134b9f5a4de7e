import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { attach, duckdb, pipeline, resource } from '../../src/index.js';
import { PipelineAlreadyRunningError, pipelineProgress, runPipeline, startPipeline } from '../../src/temporal/client.js';
import { HaulDataset, HaulDestination, HaulLoadId, HaulPipeline, HaulStage } from '../../src/temporal/search-attributes.js';
import { numbers, shop, testSources } from '../fixtures/temporal-sources.js';
import { query, tempDir } from '../helpers.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';

/** Rows of a table without the per-load random columns, sorted, as plain JSON. */
async function rowsOf(pipelineName: string, pipelinesDir: string, table: string, orderBy: string): Promise<unknown[]> {
  const p = attach({ pipelineName, pipelinesDir });
  const rows = await query<Record<string, unknown>>(p, `SELECT * EXCLUDE (_dlt_load_id, _dlt_id) FROM "${table}" ORDER BY ${orderBy}`).catch(async () =>
    query<Record<string, unknown>>(p, `SELECT * EXCLUDE (_dlt_id) FROM "${table}" ORDER BY ${orderBy}`),
  );
  return JSON.parse(JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
}

async function tablesOf(pipelineName: string, pipelinesDir: string): Promise<string[]> {
  const p = attach({ pipelineName, pipelinesDir });
  const rows = await query<{ table_name: string }>(p, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [p.datasetName]);
  return rows.map((r) => r.table_name);
}

describe('pipelineWorkflow on a real dev server', () => {
  it('lands the same tables and rows as the in-process run', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    await testWorker({ sources: testSources, taskQueue, pipelinesDir: join(dir, 'wf') });

    // In-process: two batches.
    const inproc = pipeline({ pipelineName: 'shop', pipelinesDir: join(dir, 'ip'), destination: duckdb({ path: join(dir, 'ip.duckdb') }), datasetName: 'shop_data' });
    await inproc.run(shop(1));
    await inproc.run(shop(2));

    // Through the workflow: the same two batches.
    const input = { pipelineName: 'shop', source: 'shop', destination: 'duckdb', destinationOptions: { path: join(dir, 'wf.duckdb') }, datasetName: 'shop_data' };
    const r1 = await runPipeline(client, { ...input, args: [1] }, { taskQueue });
    const r2 = await runPipeline(client, { ...input, args: [2] }, { taskQueue });
    expect(r1.rowCounts).toMatchObject({ events: 100, events__tags: 200, customers: 20, customers__addresses: 40 });
    expect(r2.rowCounts).toMatchObject({ events: 100, customers: 20 });
    expect(r2.loadIds).toEqual([r2.extracted!.loadId]);
    expect(r2.destinationName).toBe('duckdb');

    expect(await tablesOf('shop', join(dir, 'wf'))).toEqual(await tablesOf('shop', join(dir, 'ip')));
    for (const [table, order] of [
      ['events', 'id'],
      ['events__tags', '_dlt_parent_id, _dlt_list_idx'],
      ['customers', 'id'],
    ] as const) {
      const a = await rowsOf('shop', join(dir, 'wf'), table, order);
      const b = await rowsOf('shop', join(dir, 'ip'), table, order);
      expect(a.length).toBeGreaterThan(0);
      if (table === 'events__tags') expect(a.length).toBe(b.length);
      else expect(a).toEqual(b);
    }
    const wf = attach({ pipelineName: 'shop', pipelinesDir: join(dir, 'wf') });
    expect(wf.state.sources.shop!.resources!.events!.incremental!.ts!.last_value).toBe(200);
    expect(wf.hasPendingData).toBe(false);
  });

  it('sets search attributes, answers the progress query and keeps rows out of history', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    await testWorker({ sources: testSources, taskQueue, pipelinesDir: join(dir, 'p') });
    const pipelineName = `sa_${taskQueue.replace(/-/g, '_')}`;
    const handle = await startPipeline(
      client,
      { pipelineName, source: 'numbers', args: { n: 20_000 }, destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') }, datasetName: 'nums' },
      { taskQueue },
    );
    expect(handle.workflowId).toBe(`pipeline/${pipelineName}`);
    const result = await handle.result();
    expect(result.rowCounts.numbers).toBe(20_000);

    const desc = await handle.describe();
    expect(desc.typedSearchAttributes.get(HaulPipeline)).toBe(pipelineName);
    expect(desc.typedSearchAttributes.get(HaulDataset)).toBe('nums');
    expect(desc.typedSearchAttributes.get(HaulDestination)).toBe('duckdb');
    expect(desc.typedSearchAttributes.get(HaulStage)).toBe('done');
    expect(desc.typedSearchAttributes.get(HaulLoadId)).toBe(result.extracted!.loadId);
    expect(await desc.staticSummary()).toContain(`haul ${pipelineName}: numbers -> duckdb/nums`);

    const progress = await pipelineProgress(client, pipelineName);
    expect(progress).toMatchObject({ pipelineName, stage: 'done', loadIds: [result.extracted!.loadId], extracted: { numbers: 20_000 }, normalized: { numbers: 20_000 }, loaded: { numbers: 20_000 } });


    // Visibility is eventually consistent: poll the list query briefly.
    let found: string[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      found = [];
      for await (const w of client.workflow.list({ query: `HaulPipeline='${pipelineName}'` })) found.push(w.workflowId);
      if (!found.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).toEqual([`pipeline/${pipelineName}`]);

    // 20 000 rows went through, but history holds ids and counts only.
    const history = await handle.fetchHistory();
    const size = JSON.stringify(history).length;
    expect(size).toBeLessThan(60_000);
    // That no row value reaches history is checked on decoded payloads in temporal-history.test.ts.
    const summaries = (history.events ?? []).map((e) => e.userMetadata?.summary?.data).filter(Boolean).map((d) => Buffer.from(d as Uint8Array).toString());
    expect(summaries).toEqual([
      `"haul ${pipelineName}: numbers -> duckdb/nums"`,
      expect.stringMatching(/^"sync sa_\w+ with duckdb\/nums, check source numbers"$/),
      `"extract numbers into load ${result.extracted!.loadId}"`,
      `"normalize ${result.extracted!.loadId}"`,
      expect.stringMatching(new RegExp(`^"load ${result.extracted!.loadId.replace('.', '\\.')}: 1 tables, \\d+ jobs"$`)),
    ]);

    // A second run names no dataset: the worker takes it from state. The summary must not
    // claim <name>_dataset; the dataset the run used shows in its details and search attribute.
    const again = await startPipeline(client, { pipelineName, source: 'numbers', args: { n: 5 }, destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') } }, { taskQueue });
    await again.result();
    const desc2 = await again.describe();
    expect(await desc2.staticSummary()).toBe(`haul ${pipelineName}: numbers -> duckdb/(dataset from state)`);
    expect(desc2.typedSearchAttributes.get(HaulDataset)).toBe('nums');
    const meta = await again.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(meta.currentDetails).toMatch(/numbers -> duckdb at .*x\.duckdb, dataset `nums`/);
  });

  it('fails fast and without retries on an unknown source, bad args, a bad destination or a bug in a resource', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    const buggy = () =>
      resource(function* buggy() {
        const config = undefined as unknown as { pageSize: number };
        yield { id: config.pageSize }; // TypeError: a bug, retrying cannot help
      });
    let refusals = 0;
    const refusing = () =>
      resource(function* refusing() {
        refusals++;
        throw ApplicationFailure.nonRetryable('the API says this account is closed', 'AccountClosed');
      });
    await testWorker({ sources: { ...testSources, buggy, refusing }, taskQueue, pipelinesDir: join(dir, 'p') });
    const base = { pipelineName: `bad_${taskQueue.replace(/-/g, '_')}`, destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') } };

    const failureOf = async (input: Parameters<typeof runPipeline>[1]) => {
      const e = await runPipeline(client, input, { taskQueue }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(WorkflowFailedError);
      let cause: unknown = (e as WorkflowFailedError).cause;
      while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as Error).cause;
      return cause as ApplicationFailure;
    };
    const unknown = await failureOf({ ...base, source: 'nope' });
    expect(unknown.type).toBe('UnknownSource');
    expect(unknown.nonRetryable).toBe(true);
    expect(unknown.message).toContain('registered: shop, numbers, numbersChecked, ledger, paged, buggy, refusing');

    const bug = await failureOf({ ...base, source: 'buggy' });
    expect(bug.type).toBe('ResourceCodeError');
    expect(bug.nonRetryable).toBe(true);
    expect(bug.message).toMatch(/resource "buggy" raised TypeError: .*pageSize.* \(at .*temporal-pipeline\.test\.ts:\d+:\d+\)/);

    // an ApplicationFailure.nonRetryable from the resource's own code is not retried either (it was, four times)
    const refused = await failureOf({ ...base, source: 'refusing' });
    expect(refused.nonRetryable).toBe(true);
    expect(refused.message).toContain('the API says this account is closed');
    expect(refusals).toBe(1);

    const badArgs = await failureOf({ ...base, source: 'numbersChecked', args: { n: -1 } });
    expect(badArgs.type).toBe('InvalidSourceArgs');
    expect(badArgs.message).toContain('n:');

    const badDest = await failureOf({ ...base, source: 'numbers', args: { n: 1 }, destination: 'oracle' });
    expect(badDest.type).toBe('InvalidOptions');
    expect(badDest.message).toContain('unknown destination "oracle"');

    // Input that is wrong on its face never starts a workflow.
    await expect(startPipeline(client, { ...base, source: 'numbers', writeDisposition: 'upsert' as 'merge' }, { taskQueue })).rejects.toThrow(/writeDisposition/);
    await expect(startPipeline(client, { ...base, pipelineName: 'a/b', source: 'numbers' }, { taskQueue })).rejects.toThrow(/pipelineName/);
    await expect(
      startPipeline(client, { ...base, source: 'numbers', destinationOptions: { path: 'x', password: 'hunter2' } }, { taskQueue }),
    ).rejects.toThrow(/password: looks like a credential/);
  });

  it('columns in the run input, as dlt\'s list of column schemas or a record, reach the extract', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    await testWorker({ sources: testSources, taskQueue, pipelinesDir: join(dir, 'p') });
    const typesOf = async (pipelineName: string) => {
      const p = attach({ pipelineName, pipelinesDir: join(dir, 'p') });
      const rows = await query<{ column_name: string; data_type: string; is_nullable: string }>(p, `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'numbers'`, [p.datasetName]);
      return Object.fromEntries(rows.map((r) => [r.column_name, `${r.data_type} ${r.is_nullable}`]));
    };
    const base = { source: 'numbers', args: { n: 3 }, destination: 'duckdb' };

    const list = { ...base, pipelineName: 'cols_list', destinationOptions: { path: join(dir, 'list.duckdb') } };
    await runPipeline(client, { ...list, columns: [{ name: 'id', dataType: 'text', nullable: false }, { name: 'value', dataType: 'decimal', precision: 10, scale: 2 }] }, { taskQueue });
    expect(await typesOf('cols_list')).toMatchObject({ id: 'VARCHAR NO', value: 'DECIMAL(10,2) YES', even: 'BOOLEAN YES' });
    const record = { ...base, pipelineName: 'cols_record', destinationOptions: { path: join(dir, 'record.duckdb') } };
    await runPipeline(client, { ...record, columns: { even: { dataType: 'text' } } }, { taskQueue });
    expect(await typesOf('cols_record')).toMatchObject({ id: 'BIGINT YES', even: 'VARCHAR YES' });
    expect(await query(attach({ pipelineName: 'cols_list', pipelinesDir: join(dir, 'p') }), 'SELECT id, value FROM numbers ORDER BY id')).toEqual([
      { id: '1', value: '1.50' },
      { id: '2', value: '3.00' },
      { id: '3', value: '4.50' },
    ]);

    // a list that names a column twice never starts a workflow
    await expect(startPipeline(client, { ...list, columns: [{ name: 'id' }, { name: 'id', dataType: 'text' }] }, { taskQueue })).rejects.toThrow(/columns.*"id" is listed twice/);
  });

  it("a source's body reads its pipeline's committed state on the worker (dlt's source_state() in a source function)", async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    await testWorker({ sources: testSources, taskQueue, pipelinesDir: join(dir, 'p') });
    const input = (pipelineName: string) => ({ pipelineName, source: 'paged', args: [2], destination: 'duckdb', destinationOptions: { path: join(dir, `${pipelineName}.duckdb`) } });
    const pages = async (pipelineName: string) =>
      (await query<{ page: bigint }>(attach({ pipelineName, pipelinesDir: join(dir, 'p') }), 'SELECT page FROM pages ORDER BY page')).map((r) => Number(r.page));
    await runPipeline(client, input('paged_a'), { taskQueue });
    await runPipeline(client, input('paged_a'), { taskQueue });
    // two pipelines at once on one worker: each body reads its own run's state, not the active pipeline's
    await Promise.all([runPipeline(client, input('paged_a'), { taskQueue }), runPipeline(client, input('paged_b'), { taskQueue })]);
    expect(await pages('paged_a')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await pages('paged_b')).toEqual([1, 2]);
    expect(attach({ pipelineName: 'paged_a', pipelinesDir: join(dir, 'p') }).state.sources.paged).toMatchObject({ nextPage: 7 });
  });

  it('does not start a second load while a run of the same pipeline is in progress', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const slow = () =>
      resource(
        async function* slow() {
          calls++;
          await gate;
          yield [{ id: 1 }, { id: 2 }];
        },
        { name: 'slow' },
      );
    await testWorker({ sources: { slow }, taskQueue, pipelinesDir: join(dir, 'p') });
    const input = { pipelineName: `conc_${taskQueue.replace(/-/g, '_')}`, source: 'slow', destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') } };
    const first = await startPipeline(client, input, { taskQueue });
    // The progress query answers while the run is in its extract step.
    let stage = '';
    for (let i = 0; i < 100 && stage !== 'extract'; i++) {
      stage = (await pipelineProgress(client, input.pipelineName)).stage;
      if (stage !== 'extract') await new Promise((r) => setTimeout(r, 50));
    }
    expect(stage).toBe('extract');
    await expect(startPipeline(client, input, { taskQueue })).rejects.toBeInstanceOf(PipelineAlreadyRunningError);
    await expect(startPipeline(client, input, { taskQueue })).rejects.toThrow(/already has a run in progress/);
    const attached = await startPipeline(client, input, { taskQueue, ifRunning: 'attach' });
    expect(attached.firstExecutionRunId).toBe(first.firstExecutionRunId);
    release();
    const [a, b] = await Promise.all([first.result(), attached.result()]);
    expect(a).toEqual(b);
    expect(calls).toBe(1);
    const p = attach({ pipelineName: input.pipelineName, pipelinesDir: join(dir, 'p') });
    expect(await query(p, 'SELECT count(*)::int AS n FROM slow')).toEqual([{ n: 2 }]);
    // Once finished, the pipeline can run again under the same workflow id.
    const again = await runPipeline(client, input, { taskQueue });
    expect(again.rowCounts.slow).toBe(2);
  });
});

describe('pipelineWorkflow: pending packages, cancellation and worker-local files', () => {
  it('finishes packages an earlier run left pending before it extracts', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    await testWorker({ sources: testSources, taskQueue, pipelinesDir: join(dir, 'p') });
    const pipelineName = `pending_${taskQueue.replace(/-/g, '_')}`;
    // An in-process extract that never loaded (e.g. the process died after it).
    const p = pipeline({ pipelineName, pipelinesDir: join(dir, 'p'), destination: duckdb({ path: join(dir, 'x.duckdb') }) });
    const left = await p.extract(numbers({ n: 3 }));
    expect(p.hasPendingData).toBe(true);

    const r = await runPipeline(client, { pipelineName, source: 'numbers', args: { n: 4, offset: 3 }, destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') } }, { taskQueue });
    expect(r.loadIds).toEqual([left.loadId, r.extracted!.loadId]);
    expect(r.rowCounts.numbers).toBe(7);
    expect(await query(p, 'SELECT count(DISTINCT id)::int AS n FROM numbers')).toEqual([{ n: 7 }]);
    const history = await client.workflow.getHandle(`pipeline/${pipelineName}`).fetchHistory();
    const steps = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(steps).toEqual(['syncDestination', 'normalize', 'load', 'extract', 'normalize', 'load']);
  });

  it('cancelling a run stops its extract cleanly; the next run works', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    let yielded = 0;
    let closed = false;
    const endless = () =>
      resource(
        async function* endless() {
          try {
            for (let i = 0; ; i++) {
              yielded++;
              yield { id: i };
              await new Promise((r) => setTimeout(r, 5));
            }
          } finally {
            closed = true;
          }
        },
        { name: 'endless' },
      );
    await testWorker({ sources: { endless, ...testSources }, taskQueue, pipelinesDir: join(dir, 'p') });
    const pipelineName = `cancel_${taskQueue.replace(/-/g, '_')}`;
    const base = { pipelineName, destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') }, tuning: { heartbeatTimeoutMs: 2_000 } };
    const handle = await startPipeline(client, { ...base, source: 'endless' }, { taskQueue });
    while (yielded < 20) await new Promise((r) => setTimeout(r, 20));
    // The running step heartbeats its progress details (counts and names only).
    let details: unknown;
    for (let i = 0; i < 100 && !details; i++) {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const payload = pending[0]?.heartbeatDetails?.payloads?.[0]?.data;
      if (payload) details = JSON.parse(Buffer.from(payload).toString());
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(details).toMatchObject({ step: 'extract' });
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    // The step stopped before the workflow ended: the generator was closed, nothing committed.
    expect(closed).toBe(true);
    const p = attach({ pipelineName, pipelinesDir: join(dir, 'p') });
    expect(p.hasPendingData).toBe(false);
    const after = yielded;
    await new Promise((r) => setTimeout(r, 100));
    expect(yielded).toBe(after);
    const again = await runPipeline(client, { ...base, source: 'numbers', args: { n: 3 } }, { taskQueue });
    expect(again.rowCounts.numbers).toBe(3);
  });

  it('with localFiles, every step after sync runs on the worker that holds the files', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    const w = await testWorker({ sources: testSources, taskQueue, pipelinesDir: join(dir, 'p'), localFiles: 'disk-a' });
    expect(w.localTaskQueue).toBe(`${taskQueue}@disk-a`);
    const pipelineName = `local_${taskQueue.replace(/-/g, '_')}`;
    const handle = await startPipeline(client, { pipelineName, source: 'numbers', args: { n: 7 }, destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') } }, { taskQueue });
    expect((await handle.result()).rowCounts.numbers).toBe(7);
    const history = await handle.fetchHistory();
    const queues = (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => [e.activityTaskScheduledEventAttributes!.activityType!.name, e.activityTaskScheduledEventAttributes!.taskQueue!.name]);
    expect(queues).toEqual([
      ['syncDestination', taskQueue],
      ['extract', `${taskQueue}@disk-a`],
      ['normalize', `${taskQueue}@disk-a`],
      ['load', `${taskQueue}@disk-a`],
    ]);
  });
});
