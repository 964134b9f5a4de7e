/**
 * Merge strategies on Temporal: the strategy and scd2 settings travel in the schema from the
 * extract activity to normalize and load, so scd2 and upsert through the workflow land what
 * they land in process.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attach } from '../../src/index.js';
import { runPipeline } from '../../src/temporal/client.js';
import { testSources } from '../fixtures/temporal-sources.js';
import { query, tempDir } from '../helpers.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';

describe('merge strategies through pipelineWorkflow', () => {
  it('scd2 over three runs and upsert with a hard delete', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    await testWorker({ sources: testSources, taskQueue, pipelinesDir: join(dir, 'wf') });
    const input = { pipelineName: 'ledger', source: 'ledger', destination: 'duckdb', destinationOptions: { path: join(dir, 'wf.duckdb') }, datasetName: 'ledger_data' };
    for (const version of [1, 2, 3]) await runPipeline(client, { ...input, args: [version] }, { taskQueue });

    const p = attach({ pipelineName: 'ledger', pipelinesDir: join(dir, 'wf') });
    expect(p.defaultSchema?.getTable('members')).toMatchObject({ mergeStrategy: 'scd2', scd2: { validFrom: '_dlt_valid_from', validTo: '_dlt_valid_to' } });
    const members = await query<Record<string, unknown>>(
      p,
      'SELECT id, tier, _dlt_valid_to IS NULL AS active, (SELECT list(value ORDER BY value) FROM members__roles AS r WHERE r._dlt_parent_id = m._dlt_id) AS roles FROM members AS m ORDER BY _dlt_valid_from, id',
    );
    expect(members.map((m) => [Number(m.id), m.tier, m.active, m.roles])).toEqual([
      [1, 'free', false, ['user']], // run 1, retired by run 2
      [2, 'pro', false, ['user']], // run 1, absent from run 2
      [1, 'pro', false, ['admin']], // run 2, retired by run 3
      [1, 'free', true, ['user']], // run 3: the first version returns
    ]);
    const balances = await query<Record<string, unknown>>(p, 'SELECT id, amount FROM balances ORDER BY id');
    expect(balances.map((b) => [Number(b.id), Number(b.amount)])).toEqual([[1, 30]]);

    // a run-level dict in the workflow input: insert-only keeps the rows loaded first
    const numbers = {
      pipelineName: 'nums',
      source: 'numbers',
      destination: 'duckdb',
      destinationOptions: { path: join(dir, 'nums.duckdb') },
      writeDisposition: { disposition: 'merge' as const, strategy: 'insert-only' as const },
      primaryKey: 'id',
    };
    await runPipeline(client, { ...numbers, args: { n: 3 } }, { taskQueue });
    await runPipeline(client, { ...numbers, args: { n: 3, offset: 2 } }, { taskQueue });
    const np = attach({ pipelineName: 'nums', pipelinesDir: join(dir, 'wf') });
    expect(np.defaultSchema?.getTable('numbers')?.mergeStrategy).toBe('insert-only');
    const rows = await query<Record<string, unknown>>(np, 'SELECT id, _dlt_load_id FROM numbers ORDER BY id');
    expect(rows.map((r) => Number(r.id))).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(rows.slice(0, 3).map((r) => r._dlt_load_id)).size).toBe(1);
  });
});
