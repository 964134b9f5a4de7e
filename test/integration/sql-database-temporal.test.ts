/**
 * A sql_database source on a Temporal worker, registered as the README says: the Source
 * itself (reflected once when the worker starts) or a factory returning its Promise
 * (reflected in each run). Two workflow runs load the table, the second only the new rows
 * (incremental state travels with the pipeline).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { attach, incremental, resource, SourceUnreachableError, sqlDatabase } from '../../src/index.js';
import { failingDuckdb } from '../fixtures/failing-destination.js';
import { runPipeline } from '../../src/temporal/client.js';
import { rootCause } from '../../src/temporal/follow.js';
import { query, tempDir } from '../helpers.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';

describe('sqlDatabase on a Temporal worker', () => {
  it('runs as a registered Source, incrementally across two workflow runs', async () => {
    const dir = tempDir('haul-sqlsrc-temporal-');
    const file = join(dir, 'orders.db');
    const db = new Database(file);
    db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, updated_at INTEGER NOT NULL, status TEXT); INSERT INTO orders VALUES (1, 10, 'open'), (2, 20, 'open')");

    const taskQueue = uniqueQueue('sqlsrc');
    const orders = await sqlDatabase({ credentials: `sqlite:///${file}`, incremental: incremental('updated_at') });
    await testWorker({ sources: { orders }, taskQueue, pipelinesDir: join(dir, 'pipelines') });
    const client = await testClient();
    const input = { pipelineName: 'sqlsrc_wf', source: 'orders', destination: 'duckdb', destinationOptions: { path: join(dir, 'wf.duckdb') }, datasetName: 'orders_data' };

    const r1 = await runPipeline(client, input, { taskQueue });
    expect(r1.rowCounts.orders).toBe(2);
    db.exec("INSERT INTO orders VALUES (3, 30, 'new')");
    db.close();
    const r2 = await runPipeline(client, input, { taskQueue });
    expect(r2.rowCounts.orders).toBe(1);

    const p = attach({ pipelineName: 'sqlsrc_wf', pipelinesDir: join(dir, 'pipelines') });
    const rows = await query<{ id: number; status: string }>(p, 'SELECT id, status FROM orders ORDER BY id');
    expect(rows).toEqual([{ id: 1, status: 'open' }, { id: 2, status: 'open' }, { id: 3, status: 'new' }]);
  });

  it('runs as a registered factory, reflecting the table in each run: a column added between runs is loaded', async () => {
    const dir = tempDir('haul-sqlsrc-temporal-factory-');
    const file = join(dir, 'orders.db');
    const db = new Database(file);
    db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, updated_at INTEGER NOT NULL, status TEXT); INSERT INTO orders VALUES (1, 10, 'open')");

    const taskQueue = uniqueQueue('sqlsrc-factory');
    const orders = () => sqlDatabase({ credentials: `sqlite:///${file}`, incremental: incremental('updated_at') });
    await testWorker({ sources: { orders }, taskQueue, pipelinesDir: join(dir, 'pipelines') });
    const client = await testClient();
    const input = { pipelineName: 'sqlsrc_factory_wf', source: 'orders', destination: 'duckdb', destinationOptions: { path: join(dir, 'wf.duckdb') }, datasetName: 'orders_data' };

    expect((await runPipeline(client, input, { taskQueue })).rowCounts.orders).toBe(1);
    db.exec("ALTER TABLE orders ADD COLUMN note TEXT; INSERT INTO orders VALUES (2, 20, 'open', 'rush')");
    db.close();
    expect((await runPipeline(client, input, { taskQueue })).rowCounts.orders).toBe(1);

    const p = attach({ pipelineName: 'sqlsrc_factory_wf', pipelinesDir: join(dir, 'pipelines') });
    expect(await query(p, 'SELECT id::INT AS id, status, note FROM orders ORDER BY id')).toEqual([
      { id: 1, status: 'open', note: null },
      { id: 2, status: 'open', note: 'rush' },
    ]);
  });

  it('a factory that cannot reach its database does not keep pending packages from loading', async () => {
    const dir = tempDir('haul-sqlsrc-temporal-pending-');
    const failing = { on: true };
    let reachable = true;
    const taskQueue = uniqueQueue('sqlsrc-pending');
    const orders = async () => {
      if (!reachable) throw new SourceUnreachableError('sqlite:///orders.db', 'the database is down (test)');
      return resource([{ id: 1 }, { id: 2 }], { name: 'orders' });
    };
    await testWorker({ sources: { orders }, destinations: { warehouse: failingDuckdb(join(dir, 'w.duckdb'), failing) }, taskQueue, pipelinesDir: join(dir, 'pipelines') });
    const client = await testClient();
    const input = { pipelineName: 'sqlsrc_pending_wf', source: 'orders', destination: 'warehouse', datasetName: 'orders_data', tuning: { maximumAttempts: 1 } };

    // the load fails: the package stays pending
    await expect(runPipeline(client, input, { taskQueue })).rejects.toThrow();
    failing.on = false;
    reachable = false;
    // the database is down now: the pending package loads, then the extract fails on the source
    const err = await runPipeline(client, input, { taskQueue }).catch((e: unknown) => e);
    expect(rootCause(err)).toMatch(/the database is down \(test\).*\(SourceUnreachable\)/);
    const p = attach({ pipelineName: 'sqlsrc_pending_wf', pipelinesDir: join(dir, 'pipelines') });
    expect(await query(p, 'SELECT id::INT AS id FROM orders ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(p.hasPendingData).toBe(false);
  });
});
