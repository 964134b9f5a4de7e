import { JOB_STATES, type JobState, type PackageStage, type PendingStage } from './layout.js';
import { parseJobName } from './job-name.js';
import type { PackageStorage } from './package-storage.js';
import type { RefreshPlan } from './package-state.js';

/** A package and each of its job files, as the CLI and `getLoadPackageInfo` show them. */
export interface LoadPackageInfo {
  loadId: string;
  stage: PackageStage;
  schemaName: string;
  /** The version hash of the schema the package carries. */
  schemaVersionHash: string;
  createdAt: string;
  jobs: Array<{ job: string; table: string; state: JobState; sizeBytes: number; modifiedAt: Date; failedMessage?: string }>;
  rowCounts?: Record<string, number>;
}

/** A pending package in brief, for a UI or a workflow summary. */
export interface PendingPackageInfo {
  loadId: string;
  stage: PendingStage;
  schemaName: string;
  /** Data tables with job files (normalized packages). */
  tables: string[];
  jobs: number;
  rowCounts: Record<string, number>;
  refresh?: RefreshPlan & { applied: boolean };
}

/** The package with this load id in whatever stage it is, or undefined. */
export function describePackage(storage: PackageStorage, loadId: string): LoadPackageInfo | undefined {
  const stage = storage.findStage(loadId);
  if (!stage) return undefined;
  const ps = storage.readPackageState(stage, loadId);
  const jobs: LoadPackageInfo['jobs'] = [];
  for (const state of JOB_STATES) {
    for (const job of storage.jobs(loadId, state, stage)) {
      jobs.push({
        job,
        table: parseJobName(job).table,
        state,
        ...storage.jobStat(loadId, state, job, stage),
        failedMessage: state === 'failed_jobs' ? storage.readJobException(loadId, job, stage) : undefined,
      });
    }
  }
  return { loadId, stage, schemaName: ps.schemaName, schemaVersionHash: storage.readPackageSchema(stage, loadId).versionHash, createdAt: ps.createdAt, jobs, rowCounts: ps.rowCounts };
}

/** Pending packages, oldest first, in brief. */
export function describePendingPackages(storage: PackageStorage): PendingPackageInfo[] {
  storage.recover();
  return storage.pendingPackages().map(({ loadId, stage }) => {
    const pkg = storage.readPackageState(stage, loadId);
    const jobs = stage === 'normalized' ? JOB_STATES.flatMap((s) => storage.jobs(loadId, s, stage)) : [];
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
