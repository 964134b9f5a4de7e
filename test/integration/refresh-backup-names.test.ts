/**
 * A refresh's backup tables: a table is never put aside under a name another snapshot's
 * backup already holds. That happened with two workflow runs started within a minute (their
 * UUIDv7 ids shared the first characters the name was made from): the second refresh skipped
 * the rename, kept the old rows and loaded the table again, so every row was there twice.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DestinationError } from '../../src/errors.js';
import { applyRefreshPlan, backupTableName } from '../../src/load/refresh.js';
import { SnapshotStore } from '../../src/storage/snapshots.js';
import { query, tempDir, testPipeline } from '../helpers.js';

describe('refresh backup tables', () => {
  it('refuses to put a table aside under a name that is not its snapshot\'s backup, and touches nothing', async () => {
    const dir = tempDir();
    const p = testPipeline(dir, 'bak_names');
    await p.run([{ id: 1 }, { id: 2 }], { tableName: 'users' });
    const snapshotId = '019af0c2-7b44-7d01-8e2f-0a9b8c7d6e5f';
    const client = p.destination.createClient({ pipelineName: p.pipelineName, datasetName: p.datasetName });
    await client.open();
    try {
      const backup = backupTableName('users', snapshotId, client.capabilities.maxIdentifierLength);
      await query(p, `CREATE TABLE ${p.datasetName}.${backup} (id BIGINT)`);
      const wd = join(dir, 'wd');
      mkdirSync(wd, { recursive: true });
      const store = new SnapshotStore(wd, join(wd, 'state.json'), join(wd, 'schemas'));
      store.take(snapshotId);
      const err = await applyRefreshPlan(client, { mode: 'drop_sources', dropTables: ['users'], truncateTables: [] }, { store, id: snapshotId, loadId: '1' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DestinationError);
      expect((err as DestinationError).retryable).toBe(false);
      expect((err as Error).message).toContain(`"${backup}" already exists and is not this run's backup`);
    } finally {
      await client.close();
    }
    expect(await query(p, `SELECT count(*)::INT AS n FROM ${p.datasetName}.users`)).toEqual([{ n: 2 }]);
  });
});
