import { isDeclaredOnlyTable, tablesToCreate } from '../schema/system.js';
import type { DestinationClient, JobFile, LoaderFileFormat, StagingClient, TableChainJob } from '../destinations/types.js';
import { HaulError, LoadJobFailedError } from '../errors.js';
import { faultPoint } from '../common/faults.js';
import { Schema } from '../schema/schema.js';
import { parseJobName } from '../storage/job-name.js';
import type { PackageStorage } from '../storage/package-storage.js';
import type { PackageState } from '../storage/package-state.js';
import type { FailedJob } from './load-info.js';
import { applyRefreshPlan } from './refresh.js';
import { COMPLETED_JOBS, FAILED_JOBS, NEW_JOBS, STARTED_JOBS } from '../storage/layout.js';

export interface PackageLoadResult {
  loadId: string;
  schema: Schema;
  packageState: PackageState;
  completedJobs: string[];
  failedJobs: FailedJob[];
  /** The destination already had this load in `_dlt_loads` (a crash hit right after). */
  wasAlreadyCompleted: boolean;
}

export interface LoadProgress {
  loadId: string;
  table: string;
  jobsDone: number;
  jobsTotal: number;
}

/**
 * Loads one normalized package: applies its refresh plan once, migrates the destination,
 * resumes jobs (a job with a marker in the destination counts as done), runs the rest and
 * completes the package in `_dlt_loads`. Terminal job errors go to failed_jobs and keep the
 * package pending; transient errors are thrown and the package resumes on the next attempt.
 */
export async function loadPackage(
  storage: PackageStorage,
  loadId: string,
  client: DestinationClient,
  onProgress?: (p: LoadProgress) => void,
  signal?: AbortSignal,
  /** A staging bucket (`staging: 'filesystem'`): job files go there first and load from there. */
  staging?: DestinationClient & StagingClient,
): Promise<PackageLoadResult> {
  const schema = Schema.fromStored(storage.readPackageSchema('normalized', loadId));
  const pkg = storage.readPackageState('normalized', loadId);
  const result: PackageLoadResult = { loadId, schema, packageState: pkg, completedJobs: [], failedJobs: [], wasAlreadyCompleted: false };

  if (await client.isLoadCompleted(loadId)) {
    // the destination has all of it (an attempt stopped after its commit): every job completed
    result.wasAlreadyCompleted = true;
    result.completedJobs = [COMPLETED_JOBS, NEW_JOBS, STARTED_JOBS].flatMap((state) => storage.jobs(loadId, state));
    return result;
  }
  await client.initializeStorage();
  if (pkg.refresh && !pkg.refreshApplied) {
    await applyRefreshPlan(client, pkg.refresh);
    pkg.refreshApplied = true;
    storage.writePackageState('normalized', pkg);
  }
  // tables only declared by hints are created once rows reach them (dlt's seen-data rule)
  await client.updateStoredSchema(schema, tablesToCreate(schema));
  await staging?.initializeStorage();

  // Resume: started jobs that committed are done; the rest (and earlier failures) run again.
  const committed = await client.completedJobs(loadId);
  for (const job of storage.jobs(loadId, STARTED_JOBS)) {
    if (committed.has(job)) storage.completeJob(loadId, job);
    else storage.retryJob(loadId, job);
  }
  for (const job of storage.jobs(loadId, FAILED_JOBS)) storage.retryJob(loadId, job);
  for (const job of storage.jobs(loadId, NEW_JOBS)) if (committed.has(job)) storage.completeJob(loadId, job);
  // jobs an earlier attempt (a crashed or cancelled worker) completed are this package's too
  result.completedJobs.push(...storage.jobs(loadId, COMPLETED_JOBS));

  const pending = storage.jobs(loadId, NEW_JOBS);
  const jobsTotal = pending.length + storage.jobs(loadId, COMPLETED_JOBS).length;
  let jobsDone = jobsTotal - pending.length;
  const jobFile = (job: string): JobFile => {
    const { table, format } = parseJobName(job);
    return { jobName: job, path: storage.jobPath(loadId, STARTED_JOBS, job), table, format: format as LoaderFileFormat, maxLineBytes: pkg.largestRowBytes };
  };

  const appendJobs: string[] = [];
  const chains = new Map<string, string[]>();
  for (const root of pkg.chainRoots ?? []) {
    const d = schema.writeDispositionOf(root);
    if ((d === 'replace' || d === 'merge') && !chainHasCompletedJobs(storage, loadId, schema, root)) chains.set(root, []);
  }
  for (const job of pending) {
    const table = parseJobName(job).table;
    const disposition = schema.getTable(table) ? schema.writeDispositionOf(table) : 'append';
    if (disposition === 'skip') storage.completeJob(loadId, job);
    else if (disposition === 'append') appendJobs.push(job);
    else {
      const root = schema.rootOf(table).name;
      const list = chains.get(root) ?? [];
      list.push(job);
      chains.set(root, list);
    }
  }

  /** Marks committed jobs done. */
  const completed = (jobs: string[], table: string) => {
    faultPoint('load:after-commit');
    for (const j of jobs) {
      storage.completeJob(loadId, j);
      result.completedJobs.push(j);
    }
    jobsDone += jobs.length;
    onProgress?.({ loadId, table, jobsDone, jobsTotal });
  };
  /** Marks jobs failed for good with the destination's terminal error `e`. */
  const failed = (jobs: string[], table: string, e: HaulError) => {
    // a destination's LoadJobFailedError names the load, job and table already
    const err = e instanceof LoadJobFailedError ? e : new LoadJobFailedError(loadId, jobs.join(', '), table, e);
    for (const j of jobs) {
      storage.failJob(loadId, j, err.message);
      result.failedJobs.push({ loadId, job: j, table, message: err.message });
    }
  };
  const isTerminal = (e: unknown): e is HaulError => e instanceof HaulError && !e.retryable;

  /**
   * Runs jobs that commit together; true once committed. A terminal error fails them all,
   * or with `isolate` puts them back and returns false (the caller runs them one by one).
   */
  const run = async (jobs: string[], table: string, exec: (files: JobFile[]) => Promise<void>, isolate = false): Promise<boolean> => {
    for (const j of jobs) storage.startJob(loadId, j);
    try {
      const files = jobs.map(jobFile);
      await exec(staging ? await Promise.all(files.map((f) => staging.stageJob(loadId, schema, f))) : files);
    } catch (e) {
      if (isTerminal(e) && isolate) {
        for (const j of jobs) storage.retryJob(loadId, j);
        return false;
      }
      if (isTerminal(e)) {
        failed(jobs, table, e);
        return false;
      }
      throw e;
    }
    completed(jobs, table);
    if (signal?.aborted) throw signal.reason;
    return true;
  };

  // A table's append jobs load together where the destination can (one statement, one
  // transaction with all their markers); a batch that fails is loaded job by job, so only
  // a bad file is reported. Batches of different tables may load at once where the
  // destination says so (after the others, which include the small state row).
  const sizeOf = (job: string) => storage.jobStat(loadId, NEW_JOBS, job).sizeBytes;
  const batches = appendBatches(appendJobs, sizeOf);
  const sizes = batches.map((b) => b.reduce((n, job) => n + sizeOf(job), 0));
  const loadAtOnce = staging ? undefined : client.loadAppendBatches?.bind(client);
  const chosen = loadAtOnce && client.appendTogether?.(sizes);
  const atOnce = new Set(chosen && chosen.length > 1 ? chosen : []);
  const oneByOne = async (batch: string[]) => {
    const table = parseJobName(batch[0]!).table;
    for (const job of batch) await run([job], table, ([f]) => client.loadAppendJob(loadId, schema, f!));
  };
  for (const [i, batch] of batches.entries()) {
    if (atOnce.has(i)) continue;
    const table = parseJobName(batch[0]!).table;
    const loadAll = client.loadAppendJobs?.bind(client);
    if (batch.length > 1 && loadAll && (await run(batch, table, (files) => loadAll(loadId, schema, files), true))) continue;
    await oneByOne(batch);
  }
  if (loadAtOnce && atOnce.size > 0) {
    const together = batches.filter((_, i) => atOnce.has(i));
    for (const batch of together) for (const j of batch) storage.startJob(loadId, j);
    const outcomes = await loadAtOnce(loadId, schema, together.map((b) => b.map(jobFile)));
    const alone: string[][] = [];
    let transient: unknown;
    together.forEach((batch, i) => {
      const table = parseJobName(batch[0]!).table;
      const o = outcomes[i];
      if (o?.status === 'fulfilled') return completed(batch, table);
      const reason: unknown = o === undefined ? new Error('the destination returned no outcome for this batch') : o.reason;
      if (isTerminal(reason) && batch.length === 1) return failed(batch, table, reason);
      for (const j of batch) storage.retryJob(loadId, j);
      if (isTerminal(reason)) alone.push(batch);
      else transient ??= reason;
    });
    if (transient !== undefined) throw transient;
    if (signal?.aborted) throw signal.reason;
    for (const batch of alone) await oneByOne(batch);
  }
  for (const [root, jobs] of chains) {
    const disposition = schema.writeDispositionOf(root) as TableChainJob['disposition'];
    // a table only declared (columns or nestedHints, no rows yet) was never created: nothing to replace or merge there
    const tables = schema.tableChain(root).filter((t) => !isDeclaredOnlyTable(t)).map((t) => t.name);
    await run(jobs, root, (files) => client.loadTableChain(loadId, schema, { disposition, tables, files, createdAt: pkg.createdAt }));
  }

  if (result.failedJobs.length === 0) {
    faultPoint('load:before-complete');
    await client.completeLoad(loadId, schema.name, schema.versionHash);
  }
  return result;
}

/**
 * What one append batch reads at most: half a GB (8 of normalize's 64 MB files, or 16 of the
 * 32 MB ones extract writes while pre-normalizing: a table's files then still load in one
 * INSERT, where two leave DuckDB twice the partly filled row groups to write; load 3.3 s
 * against 2.6 s for 1M rows, docs/performance.md). A larger file goes in a batch of its own.
 */
const MAX_APPEND_BATCH_BYTES = 512 * 1024 * 1024;

/** Append jobs grouped by table and format, in order of first appearance, cut at MAX_APPEND_BATCH_BYTES. */
function appendBatches(jobs: string[], sizeOf: (job: string) => number): string[][] {
  const groups = new Map<string, string[]>();
  for (const job of jobs) {
    const { table, format } = parseJobName(job);
    const key = `${table}\u0000${format}`;
    const list = groups.get(key) ?? [];
    list.push(job);
    groups.set(key, list);
  }
  const out: string[][] = [];
  for (const list of groups.values()) {
    let batch: string[] = [];
    let bytes = 0;
    for (const job of list) {
      const size = sizeOf(job);
      if (batch.length > 0 && bytes + size > MAX_APPEND_BATCH_BYTES) {
        out.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(job);
      bytes += size;
    }
    if (batch.length > 0) out.push(batch);
  }
  return out;
}

/** A chain whose files already committed must not be replayed (e.g. a zero-file truncate). */
function chainHasCompletedJobs(storage: PackageStorage, loadId: string, schema: Schema, root: string): boolean {
  const tables = new Set(schema.tableChain(root).map((t) => t.name));
  return storage.jobs(loadId, COMPLETED_JOBS).some((j) => tables.has(parseJobName(j).table));
}
