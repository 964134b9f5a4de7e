/**
 * A sql_database source on a Temporal worker, registered as the README says: the Source
 * itself (reflected once when the worker starts) or a factory returning its Promise
 * (reflected in each run). Two workflow runs load the table, the second only the new rows
 * (incremental state travels with the pipeline).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { attach, incremental, sqlDatabase } from '../../src/index.js';
import { runPipeline } from '../../src/temporal/client.js';
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
});
