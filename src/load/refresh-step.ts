import { HaulError } from '../errors.js';
import type { RefreshPlan } from '../storage/package-state.js';
import { applyRefreshPlan, dropTableBackups, restoreTableBackups } from './refresh.js';
import { newDestinationClient, type LoadContext } from './step.js';
import { tablesToCreate } from '../schema/system.js';

/**
 * The refresh as a step of its own, for durable runners: a workflow applies a normalized
 * package's refresh plan before the load (which then skips it), under a snapshot its
 * compensation can restore. The same `applyRefreshPlan` the in-process load uses does the
 * work, so the plan reaches the destination in one way only.
 */
export async function applyRefreshStep(ctx: LoadContext, loadId: string, snapshotId?: string): Promise<RefreshPlan | undefined> {
  const { storage, snapshots } = ctx.wd;
  if (!storage.has('normalized', loadId)) throw new HaulError('UnknownLoadId', `pipeline "${ctx.pipelineName}" has no normalized package ${loadId}`);
  const pkg = storage.readPackageState('normalized', loadId);
  if (!pkg.refresh || pkg.refreshApplied) return pkg.refresh;
  if (snapshotId && !snapshots.exists(snapshotId)) {
    throw new HaulError('SnapshotMissing', `snapshot ${snapshotId} of pipeline "${ctx.pipelineName}" does not exist; take it before the refresh`);
  }
  await withClient(ctx, (client) => applyRefreshPlan(client, pkg.refresh!, snapshotId ? { store: snapshots, id: snapshotId, loadId } : undefined));
  pkg.refreshApplied = true;
  storage.writePackageState('normalized', pkg);
  return pkg.refresh;
}

/**
 * Compensation: drops the given pending packages, puts the snapshot's state and schemas
 * back, returns the tables a refresh renamed aside, and re-creates at the destination the
 * tables of the restored schemas (a refresh may have dropped them; their rows are not
 * restored). Idempotent.
 */
export async function restoreSnapshotStep(ctx: LoadContext, snapshotId: string, loadIds: string[]): Promise<void> {
  const { wd } = ctx;
  for (const id of loadIds) wd.storage.deletePending(id);
  if (!wd.snapshots.exists(snapshotId)) return; // already restored and discarded
  wd.snapshots.restoreLocal(snapshotId);
  const schemas = wd.schemas();
  const backups = wd.snapshots.readBackups(snapshotId);
  if (schemas.length || backups.length) {
    await withClient(ctx, async (client) => {
      await client.initializeStorage();
      await restoreTableBackups(client, backups);
      for (const s of schemas) await client.updateStoredSchema(s, tablesToCreate(s));
    });
  }
  wd.snapshots.discard(snapshotId);
}

/** The run succeeded: drops the snapshot and the tables a refresh renamed aside under it. */
export async function dropSnapshotStep(ctx: LoadContext, snapshotId: string): Promise<void> {
  const backups = ctx.wd.snapshots.readBackups(snapshotId);
  if (backups.length) await withClient(ctx, (client) => dropTableBackups(client, backups));
  ctx.wd.snapshots.discard(snapshotId);
}

/** What settleLeftoverSnapshots did with the snapshots other runs left behind. */
export interface LeftoverSnapshots {
  /** Backup tables dropped: their refresh has loaded. */
  dropped: string[];
  /** Backup tables kept although no package will load their refresh (its packages were deleted): a person decides. */
  stranded: string[];
}

/**
 * Snapshots another run left behind: a run terminated (not cancelled) after its refresh put
 * tables aside never ran its compensation or its cleanup. Once every package whose refresh
 * put a table aside under such a snapshot has loaded (this run finished it, or it had loaded
 * before the run stopped), the refresh is complete and the backups are only old rows: they
 * are dropped and the snapshot discarded. A snapshot with a package still pending is kept
 * (the package loads next); one whose packages are gone is reported as stranded, since only
 * a person can tell whether its old tables should come back. Runs of one pipeline do not
 * overlap (one workflow id), so a snapshot that is not `currentSnapshotId`'s belongs to a
 * stopped run.
 */
export async function settleLeftoverSnapshots(ctx: LoadContext, currentSnapshotId: string | undefined): Promise<LeftoverSnapshots> {
  const { storage, snapshots } = ctx.wd;
  const out: LeftoverSnapshots = { dropped: [], stranded: [] };
  for (const id of snapshots.list()) {
    if (id === currentSnapshotId) continue;
    const backups = snapshots.readBackups(id);
    // snapshots from before backups recorded their load ids are left alone
    if (backups.length === 0 || backups.some((b) => b.loadId === undefined)) continue;
    const stages = backups.map((b) => storage.findStage(b.loadId!));
    if (stages.every((stage) => stage === 'loaded')) {
      await withClient(ctx, (client) => dropTableBackups(client, backups));
      snapshots.discard(id);
      out.dropped.push(...backups.map((b) => b.backup));
    } else if (stages.every((stage) => stage === undefined || stage === 'loaded')) {
      // once the person has renamed the tables back or dropped them, the snapshot has done its job
      const existing = new Set(await withClient(ctx, (client) => client.listTables()));
      const left = backups.filter((b) => existing.has(b.backup)).map((b) => b.backup);
      if (left.length === 0) snapshots.discard(id);
      out.stranded.push(...left);
    }
  }
  return out;
}

async function withClient<T>(ctx: LoadContext, fn: (c: ReturnType<typeof newDestinationClient>) => Promise<T>): Promise<T> {
  const client = newDestinationClient(ctx);
  await client.open();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
