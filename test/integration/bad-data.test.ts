import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  IdentifierCollisionError,
  incremental,
  NullValueError,
  MissingPrimaryKeyError,
  UnboundColumnError,
  PipelineStepFailed,
  resource,
  attach,
  type Pipeline,
} from '../../src/index.js';
import { runPipeline } from '../../src/temporal/client.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';
import { count, query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir();

async function failure(promise: Promise<unknown>): Promise<PipelineStepFailed> {
  const e = await promise.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(PipelineStepFailed);
  return e as PipelineStepFailed;
}

/** The run was refused whole: no package left behind, nothing loaded, the advice says so. */
function expectDiscarded(p: Pipeline, e: PipelineStepFailed): void {
  expect(e.step).toBe('normalize');
  expect(e.discarded).toBe(true);
  expect(e.message).toContain(`its load package ${e.loadId} was discarded and the pipeline state did not move. Fix the data and run again.`);
  expect(e.message).not.toMatch(/Pending data is kept/);
  expect(p.hasPendingData).toBe(false);
}

describe('bad data does not block the runs after it', () => {
  it('a null primary key: the bad run is refused whole, the next run with good data loads', async () => {
    const p = testPipeline(dir, 'null_key');
    const e = await failure(p.run([{ id: 1 }, { id: null }], { tableName: 't', writeDisposition: 'merge', primaryKey: 'id' }));
    expect(e.cause).toBeInstanceOf(NullValueError);
    expectDiscarded(p, e);
    await p.run([{ id: 2 }, { id: 3 }], { tableName: 't', writeDisposition: 'merge', primaryKey: 'id' });
    expect(await query(p, 'SELECT id FROM t ORDER BY id')).toEqual([{ id: 2 }, { id: 3 }]);
  });

  it('colliding names: refused with both names; an incremental cursor does not move, so the good run reads the same range', async () => {
    const p = testPipeline(dir, 'collide');
    const rows = (bad: boolean) =>
      resource(
        function* () {
          yield bad ? { id: 1, updated_at: 10, 'a b': 1, a_b: 2 } : { id: 1, updated_at: 10, a_b: 2 };
          yield { id: 2, updated_at: 20, a_b: 3 };
        },
        { name: 'items', incremental: incremental('updated_at') },
      );
    const e = await failure(p.run(rows(true)));
    expect(e.cause).toBeInstanceOf(IdentifierCollisionError);
    expect(e.message).toMatch(/"a b" and "a_b" both normalize to "a_b"/);
    expectDiscarded(p, e);
    expect(p.state.sources?.[p.pipelineName]?.resources?.items).toBeUndefined();

    const info = await p.run(rows(false));
    expect(info.hasFailedJobs).toBe(false);
    expect(await query(p, 'SELECT id, a_b FROM items ORDER BY id')).toEqual([{ id: 1, a_b: 2 }, { id: 2, a_b: 3 }]);
  });

  it('merge with a primary key column that never appears is a MissingPrimaryKeyError naming table and column, not an append', async () => {
    const p = testPipeline(dir, 'nopk');
    const e = await failure(p.run([{ name: 'a' }, { name: 'b' }], { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' }));
    expect(e.cause).toBeInstanceOf(MissingPrimaryKeyError);
    expect(e.cause).toMatchObject({ table: 'users', column: 'id', code: 'MissingPrimaryKey' });
    expect(e.message).toMatch(/table "users" uses write disposition merge with primary key column "id", but no row of load \S+ has a value for it/);
    expectDiscarded(p, e);

    await p.run([{ id: 1, name: 'a' }], { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' });
    await p.run([{ id: 1, name: 'a2' }, { id: 2, name: 'b' }], { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' });
    expect(await query(p, 'SELECT id, name FROM users ORDER BY id')).toEqual([{ id: 1, name: 'a2' }, { id: 2, name: 'b' }]);
  });

  it("a key or not-nullable hint no row gives a value is an UnboundColumnError on append too (dlt's UnboundColumnException); the advice works", async () => {
    const p = testPipeline(dir, 'unbound');
    const e = await failure(p.run([{ user_id: 1 }], { tableName: 'events', primaryKey: 'userid' }));
    expect(e.cause).toBeInstanceOf(UnboundColumnError);
    expect(e.message).toMatch(/table "events": column "userid" is a primary key, but no row of load \S+ has a value for it.*remove the hint/);
    expectDiscarded(p, e);
    const n = await failure(p.run([{ id: 1 }], { tableName: 'events', columns: { ghost: { nullable: false } } }));
    expect(n.message).toMatch(/column "ghost" is marked not nullable/);
    // as the message says: the hint fixed, the rows load
    await p.run([{ user_id: 1 }], { tableName: 'events', primaryKey: 'user_id' });
    expect(await count(p, 'events')).toBe(1);
  });

  it('merge with a primary key that is null in every row is refused, including a compound key with one part missing', async () => {
    const p = testPipeline(dir, 'nullpk');
    const e = await failure(p.run([{ id: null, name: 'a' }, { id: null, name: 'b' }], { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' }));
    expect(e.cause).toMatchObject({ table: 'users', column: 'id' });
    expectDiscarded(p, e);

    const e2 = await failure(p.run([{ id: 1, region: null, name: 'a' }], { tableName: 'users', writeDisposition: 'merge', primaryKey: ['id', 'region'] }));
    expect(e2.cause).toMatchObject({ table: 'users', column: 'region' });
    expectDiscarded(p, e2);
    await p.run([{ id: 1, region: 'eu', name: 'a' }], { tableName: 'users', writeDisposition: 'merge', primaryKey: ['id', 'region'] });
    expect(await count(p, 'users')).toBe(1);
  });

  it('a pending package whose data normalize refuses says exactly what to run, and that advice works', async () => {
    const p = testPipeline(dir, 'stuck');
    // extract() alone commits the package; normalize() does not discard what it did not extract.
    const ex = await p.extract([{ userId: 1, user_id: 2 }], { tableName: 'users' });
    const e = await failure(p.normalize());
    expect(e.discarded).toBe(false);
    expect(e.message).toContain(`The load package stays pending, and every later run finishes pending packages first, so they will stop here too.`);
    expect(e.message).toContain(`"haul pipeline stuck failed-jobs" or "haul pipeline stuck load-package ${ex.loadId}"`);
    expect(e.message).toContain(`"haul pipeline stuck drop-pending-packages" (pipeline.dropPendingPackages() in code)`);
    expect(e.message).not.toMatch(/Pending data is kept/);
    // Every later run stops there until the package goes.
    const again = await failure(p.run([{ id: 1 }], { tableName: 'ok' }));
    expect(again.loadId).toBe(ex.loadId);
    p.dropPendingPackages();
    await p.run([{ id: 1 }], { tableName: 'ok' });
    expect(await count(p, 'ok')).toBe(1);
  });

  it('a job the destination refuses leaves the package pending with the commands to inspect and drop it', async () => {
    const p = testPipeline(dir, 'notnull');
    await p.run([{ id: 1, name: 'a' }], { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' });
    // A row without the key (absent, not null: a null key is refused in normalize, as in
    // dlt): the destination's NOT NULL refuses the job.
    const e = await failure(p.run([{ name: 'x' }, { id: 2, name: 'b' }], { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' }));
    expect(e.step).toBe('load');
    expect(e.message).toContain('"haul pipeline notnull failed-jobs"');
    expect(e.message).toContain('"haul pipeline notnull drop-pending-packages"');
    expect(e.message.match(/drop-pending-packages/g)).toHaveLength(1);
    p.dropPendingPackages();
    await p.run([{ id: 2, name: 'b' }], { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' });
    expect(await query(p, 'SELECT id, name FROM users ORDER BY id')).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
  });

  it('NaN and ±Infinity load as NULL (as in dlt), next to the row\'s other values', async () => {
    const p = testPipeline(dir, 'nan');
    await p.run([{ id: 1, x: NaN, y: Infinity, z: -Infinity }, { id: 2, x: 1.5, y: 2.5, z: 3.5 }], { tableName: 'm' });
    expect(await query(p, 'SELECT id, x, y, z FROM m ORDER BY id')).toEqual([
      { id: 1, x: null, y: null, z: null },
      { id: 2, x: 1.5, y: 2.5, z: 3.5 },
    ]);
  });

  it('on Temporal too: a run whose data normalize refuses discards its package, the next run loads', async () => {
    const client = await testClient();
    const taskQueue = uniqueQueue();
    const users = (opts: { withKey: boolean }) =>
      resource(
        function* users() {
          yield opts.withKey ? { id: 1, name: 'a' } : { name: 'a' };
        },
        { primaryKey: 'id', writeDisposition: 'merge' },
      );
    const pipelinesDir = join(dir, 'temporal');
    await testWorker({ sources: { users }, taskQueue, pipelinesDir });
    const input = { pipelineName: 'tbad', source: 'users', destination: 'duckdb', destinationOptions: { path: join(dir, 'tbad.duckdb') }, datasetName: 'tbad_data' };
    const e = await runPipeline(client, { ...input, args: { withKey: false } }, { taskQueue }).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(WorkflowFailedError);
    let cause: unknown = (e as WorkflowFailedError).cause;
    while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as Error).cause;
    expect((cause as ApplicationFailure).type).toBe('MissingPrimaryKey');
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    expect((cause as ApplicationFailure).message).toMatch(/was discarded and the pipeline state did not move/);
    expect(attach({ pipelineName: 'tbad', pipelinesDir }).hasPendingData).toBe(false);

    const ok = await runPipeline(client, { ...input, args: { withKey: true } }, { taskQueue });
    expect(ok.rowCounts).toMatchObject({ users: 1 });
    expect(await query(attach({ pipelineName: 'tbad', pipelinesDir }), 'SELECT id, name FROM users')).toEqual([{ id: 1, name: 'a' }]);
  });
});
