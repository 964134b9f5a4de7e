/**
 * Helpers for durable runners (the Temporal activities): inspecting pending packages,
 * applying a package's refresh as its own step, schema/state snapshots for compensation,
 * and planning a drop. They work on a pipeline's working dir and destination through the
 * same storage the Pipeline uses; they hold no Temporal code.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HaulError, InvalidOptionsError } from '../errors.js';
import { normalizeTableName } from '../normalize/naming.js';
import type { Schema } from '../schema/schema.js';
import type { PackageState, RefreshPlan } from '../storage/package-state.js';
import { parseJobName, readJsonFile, writeJsonFileAtomic } from '../storage/package-storage.js';
import type { Pipeline } from './pipeline.js';
import { planDropResources } from './drop.js';
import { WorkingDir } from '../storage/working-dir.js';

export interface PendingPackageInfo {
  loadId: string;
  stage: 'extracted' | 'normalized';
  schemaName: string;
  /** Data tables with job files (normalized packages). */
  tables: string[];
  jobs: number;
  rowCounts: Record<string, number>;
  refresh?: RefreshPlan & { applied: boolean };
}

function wdOf(p: Pipeline): WorkingDir {
  return new WorkingDir(p.workingDir);
}

/** Pending packages, oldest first, with what a UI or a workflow summary needs. */
export function pendingPackages(p: Pipeline): PendingPackageInfo[] {
  const wd = wdOf(p);
  wd.storage.recover();
  return wd.pendingPackages().map(({ loadId, stage }) => {
    const pkg = wd.packageState(stage, loadId);
    const jobs = stage === 'normalized' ? ['new_jobs', 'started_jobs', 'completed_jobs', 'failed_jobs'].flatMap((s) => wd.storage.jobs(loadId, s as 'new_jobs', stage)) : [];
    const tables = [...new Set(jobs.map((j) => parseJobName(j).table))].filter((t) => !t.startsWith('_dlt_'));
    return {
      loadId,
      stage,
      schemaName: pkg.schemaName,
      tables,
      jobs: jobs.length,
      rowCounts: pkg.rowCounts ?? {},
      refresh: pkg.refresh ? { ...pkg.refresh, applied: pkg.refreshApplied === true } : undefined,
    };
  });
}

/** The package's summary in whatever stage it is (undefined if it does not exist). */
export function packageState(p: Pipeline, loadId: string): { stage: 'extracted' | 'normalized' | 'loaded'; state: PackageState; schemaVersionHash: string } | undefined {
  const wd = wdOf(p);
  for (const stage of ['loaded', 'normalized', 'extracted'] as const) {
    if (existsSync(wd.storage.packageDir(stage, loadId))) {
      return { stage, state: wd.packageState(stage, loadId), schemaVersionHash: wd.packageSchema(stage, loadId).versionHash };
    }
  }
  return undefined;
}

/** Standard SQL identifier quoting (DuckDB and PostgreSQL). */
function q(name: string): string {
  if (name.includes('\0')) throw new InvalidOptionsError('identifier', 'NUL in a table name');
  return `"${name.replace(/"/g, '""')}"`;
}

interface Backup {
  table: string;
  backup: string;
}

function backupName(table: string, snapshotId: string): string {
  return `${table}__bak_${snapshotId.replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}`;
}

async function withClient<T>(p: Pipeline, fn: (c: ReturnType<Pipeline['destination']['createClient']>) => Promise<T>): Promise<T> {
  const client = p.destination.createClient({ pipelineName: p.pipelineName, datasetName: p.datasetName });
  await client.open();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

async function existingTables(client: ReturnType<Pipeline['destination']['createClient']>, dataset: string): Promise<Set<string>> {
  const rows = await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [dataset]);
  return new Set(rows.map((r) => r.table_name));
}

/**
 * Applies a normalized package's refresh plan at the destination, once; the load step then
 * skips it. This is the destructive step a workflow compensates. With a snapshot id, the
 * tables to drop or truncate are renamed aside (`<table>__bak_<id>`) instead, so
 * restoreSnapshot can put them back and discardSnapshot drops them; the load re-creates
 * the tables the new schema keeps.
 */
export async function applyRefresh(p: Pipeline, loadId: string, snapshotId?: string): Promise<RefreshPlan | undefined> {
  const wd = wdOf(p);
  const path = join(wd.storage.packageDir('normalized', loadId), 'package_state.json');
  if (!existsSync(path)) throw new HaulError('UnknownLoadId', `pipeline "${p.pipelineName}" has no normalized package ${loadId}`);
  const pkg = readJsonFile<PackageState>(path);
  if (!pkg.refresh || pkg.refreshApplied) return pkg.refresh;
  const plan = pkg.refresh;
  await withClient(p, async (client) => {
    await client.initializeStorage();
    if (!snapshotId) {
      if (plan.dropTables.length) await client.dropTables(plan.dropTables);
      if (plan.truncateTables.length) await client.truncateTables(plan.truncateTables);
      return;
    }
    const dir = snapshotDir(p, snapshotId);
    if (!existsSync(join(dir, 'complete'))) throw new HaulError('SnapshotMissing', `snapshot ${snapshotId} of pipeline "${p.pipelineName}" does not exist; take it before the refresh`);
    const backupsPath = join(dir, 'backups.json');
    const wanted = [...new Set([...plan.dropTables, ...plan.truncateTables])];
    const backups: Backup[] = existsSync(backupsPath) ? readJsonFile<Backup[]>(backupsPath) : [];
    const existing = await existingTables(client, p.datasetName);
    for (const table of wanted) {
      if (backups.some((b) => b.table === table)) continue;
      if (existing.has(table)) backups.push({ table, backup: backupName(table, snapshotId) });
    }
    // Intent first: a crash between renames leaves a list restoreSnapshot can follow.
    writeJsonFileAtomic(backupsPath, backups);
    for (const b of backups) {
      if (existing.has(b.table) && !existing.has(b.backup)) await client.query(`ALTER TABLE ${q(b.table)} RENAME TO ${q(b.backup)}`);
    }
  });
  pkg.refreshApplied = true;
  writeJsonFileAtomic(path, pkg);
  return plan;
}

function snapshotDir(p: Pipeline, snapshotId: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(snapshotId)) throw new InvalidOptionsError('snapshot id', `${JSON.stringify(snapshotId)} must be letters, digits, _ . -`);
  return join(p.workingDir, 'snapshots', snapshotId);
}

/** Copies the committed state and schemas aside (idempotent: an existing snapshot is kept). */
export function takeSnapshot(p: Pipeline, snapshotId: string): void {
  const dir = snapshotDir(p, snapshotId);
  if (existsSync(join(dir, 'complete'))) return;
  const wd = wdOf(p);
  const tmp = `${dir}.tmp`; // same parent dir, so the final rename is atomic
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'schemas'), { recursive: true });
  if (existsSync(wd.statePath)) cpSync(wd.statePath, join(tmp, 'state.json'));
  if (existsSync(wd.storage.schemasDir)) cpSync(wd.storage.schemasDir, join(tmp, 'schemas'), { recursive: true });
  writeJsonFileAtomic(join(tmp, 'complete'), { takenAt: new Date().toISOString() });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(p.workingDir, 'snapshots'), { recursive: true });
  renameSync(tmp, dir);
}

/**
 * Compensation: drops the given pending packages, puts the snapshot's state and schemas
 * back, and re-creates at the destination the tables of the restored schemas (a refresh
 * may have dropped them; their rows are not restored). Idempotent.
 */
export async function restoreSnapshot(p: Pipeline, snapshotId: string, loadIds: string[]): Promise<void> {
  const dir = snapshotDir(p, snapshotId);
  const wd = wdOf(p);
  for (const id of loadIds) {
    wd.storage.deletePackage('extracted', id);
    wd.storage.deletePackage('normalized', id);
  }
  if (!existsSync(join(dir, 'complete'))) return; // already restored and discarded
  if (existsSync(join(dir, 'state.json'))) cpSync(join(dir, 'state.json'), wd.statePath);
  else rmSync(wd.statePath, { force: true });
  const names = existsSync(join(dir, 'schemas')) ? readdirSync(join(dir, 'schemas')) : [];
  if (existsSync(wd.storage.schemasDir)) {
    for (const f of readdirSync(wd.storage.schemasDir)) if (!names.includes(f)) rmSync(join(wd.storage.schemasDir, f), { force: true });
  }
  mkdirSync(wd.storage.schemasDir, { recursive: true });
  for (const f of names) cpSync(join(dir, 'schemas', f), join(wd.storage.schemasDir, f));
  const schemas = wd.schemaNames().map((n) => wd.readSchema(n)).filter((s): s is Schema => s !== undefined);
  const backupsPath = join(dir, 'backups.json');
  const backups: Backup[] = existsSync(backupsPath) ? readJsonFile<Backup[]>(backupsPath) : [];
  if (schemas.length || backups.length) {
    await withClient(p, async (client) => {
      await client.initializeStorage();
      // Tables a refresh renamed aside go back, replacing whatever the failed load created.
      const existing = await existingTables(client, p.datasetName);
      for (const b of backups) {
        if (!existing.has(b.backup)) continue;
        await client.query(`DROP TABLE IF EXISTS ${q(b.table)}`);
        await client.query(`ALTER TABLE ${q(b.backup)} RENAME TO ${q(b.table)}`);
      }
      for (const s of schemas) await client.updateStoredSchema(s);
    });
  }
  discardSnapshot(p, snapshotId);
}

/** Drops the snapshot and any tables a refresh renamed aside under it (the run succeeded). */
export async function dropSnapshot(p: Pipeline, snapshotId: string): Promise<void> {
  const dir = snapshotDir(p, snapshotId);
  const backupsPath = join(dir, 'backups.json');
  const backups: Backup[] = existsSync(backupsPath) ? readJsonFile<Backup[]>(backupsPath) : [];
  if (backups.length) {
    await withClient(p, async (client) => {
      for (const b of backups) await client.query(`DROP TABLE IF EXISTS ${q(b.backup)}`);
    });
  }
  discardSnapshot(p, snapshotId);
}

export function discardSnapshot(p: Pipeline, snapshotId: string): void {
  rmSync(snapshotDir(p, snapshotId), { recursive: true, force: true });
}

export interface DropPlan {
  loadId?: string;
  droppedTables: string[];
  resetResources: string[];
}

/**
 * Plans `drop` like `dlt pipeline <name> drop` for the drop workflow: the same planning as
 * `Pipeline.dropResources` (src/pipeline/drop.ts), with tables accepted as a way to name
 * their resources. Writes an extracted package carrying the new state and a refresh plan
 * that drops the tables; nothing changes at the destination until it loads. Idempotent for
 * a given load id.
 */
export function planDrop(p: Pipeline, opts: { loadId: string; resources?: string[]; tables?: string[]; stateOnly?: boolean }): DropPlan {
  const wd = wdOf(p);
  const resources = new Set(opts.resources ?? []);
  if (opts.tables?.length) {
    const state = wd.readState(p.pipelineName, p.datasetName);
    const schemaName = state.default_schema_name ?? wd.schemaNames()[0];
    const schema = schemaName ? wd.readSchema(schemaName) : undefined;
    for (const t of opts.tables) {
      const n = normalizeTableName(t);
      if (!schema?.getTable(n)) throw new InvalidOptionsError('drop', `table "${t}" is not in schema "${schemaName ?? '(none)'}"`);
      const res = schema.rootOf(n).resource;
      if (res) resources.add(res);
    }
  }
  const info = planDropResources({ wd, pipelineName: p.pipelineName, datasetName: p.datasetName }, [...resources], {
    stateOnly: opts.stateOnly,
    loadId: opts.loadId,
  });
  return { loadId: info.loadId, droppedTables: info.tables, resetResources: info.resources };
}
