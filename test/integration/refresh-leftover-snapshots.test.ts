/**
 * A run stopped for good (a terminated workflow) after its refresh put tables aside never
 * runs its compensation or its cleanup. Once the packages of that refresh have loaded, the
 * backups are only old rows: settleLeftoverSnapshots drops them. Until then they are kept.
 */
import { describe, expect, it } from 'vitest';
import { applyRefreshStep, settleLeftoverSnapshots } from '../../src/load/refresh-step.js';
import { count, query, tempDir, testPipeline } from '../helpers.js';

const backupsOf = (p: ReturnType<typeof testPipeline>) =>
  query<{ table_name: string }>(p, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%\\_\\_bak\\_%' ESCAPE '\\' ORDER BY 1").then((r) => r.map((x) => x.table_name));

const stoppedRun = '019af0c2-7b44-7d01-8e2f-0a9b8c7d6e5f';

/** Users 1 and 2 loaded; then what the stopped run did: extract and normalize user 3 with a refresh, snapshot, put `users` aside. */
async function stoppedRefresh(name: string): Promise<{ p: ReturnType<typeof testPipeline>; backups: string[] }> {
  const p = testPipeline(tempDir(`haul-${name}-`), name);
  await p.run([{ id: 1 }, { id: 2 }], { tableName: 'users' });
  const { loadId } = await p.extract([{ id: 3 }], { tableName: 'users', refresh: 'drop_sources' });
  await p.normalize();
  p.takeSnapshot(stoppedRun);
  await applyRefreshStep(p.loadContext(), loadId, stoppedRun);
  const backups = await backupsOf(p);
  expect(backups).toHaveLength(1);
  return { p, backups };
}

describe('backups a stopped refresh run left behind', () => {
  it('are kept while the refresh is pending and dropped once its package loaded', async () => {
    const { p, backups } = await stoppedRefresh('leftover');

    // the next run, before its load: the refresh has not loaded, so the backup may still be needed
    expect(await settleLeftoverSnapshots(p.loadContext(), 'the-next-run')).toEqual({ dropped: [], stranded: [] });
    expect(await query(p, `SELECT id::INT AS id FROM ${p.datasetName}."${backups[0]}" ORDER BY id`)).toEqual([{ id: 1 }, { id: 2 }]);
    // and never the current run's own snapshot
    await p.load();
    expect(await settleLeftoverSnapshots(p.loadContext(), stoppedRun)).toEqual({ dropped: [], stranded: [] });
    expect(await backupsOf(p)).toEqual(backups);

    // the refresh finished (its package loaded): its backups go, and the snapshot with them
    expect(await settleLeftoverSnapshots(p.loadContext(), 'the-next-run')).toEqual({ dropped: backups, stranded: [] });
    expect(await backupsOf(p)).toEqual([]);
    expect(await query(p, 'SELECT id::INT AS id FROM users')).toEqual([{ id: 3 }]);
    expect(await count(p, 'users')).toBe(1);
    expect(await settleLeftoverSnapshots(p.loadContext(), 'the-next-run')).toEqual({ dropped: [], stranded: [] });
  });

  it('are reported, not dropped, when the refresh\'s package was discarded; once renamed back the snapshot goes', async () => {
    const { p, backups: [backup] } = await stoppedRefresh('stranded');
    p.dropPendingPackages(); // the refresh will never load

    expect(await settleLeftoverSnapshots(p.loadContext(), 'the-next-run')).toEqual({ dropped: [], stranded: [backup] });
    expect(await query(p, `SELECT count(*)::INT AS n FROM ${p.datasetName}."${backup}"`)).toEqual([{ n: 2 }]);
    // what the warning advises: rename it back (undoing the refresh); then nothing is left to report
    await query(p, `ALTER TABLE ${p.datasetName}."${backup}" RENAME TO users`);
    expect(await settleLeftoverSnapshots(p.loadContext(), 'the-next-run')).toEqual({ dropped: [], stranded: [] });
    expect(await count(p, 'users')).toBe(2);
    expect(p.loadContext().wd.snapshots.list()).toEqual([]);
  });
});
