import { HaulError } from '../errors.js';

/** A job that failed terminally; it stays in failed_jobs/ and keeps its package pending. */
export interface FailedJob {
  loadId: string;
  job: string;
  table: string;
  message: string;
}

export interface LoadPackageSummary {
  loadId: string;
  /** `loaded` once `_dlt_loads` has it; `pending` while jobs failed or remain. */
  state: 'loaded' | 'pending';
  schemaName: string;
  schemaVersionHash: string;
  rowCounts: Record<string, number>;
  completedJobs: number;
  failedJobs: FailedJob[];
}

export class FailedJobsError extends HaulError {
  /** With a pipeline name the message says what to run; run() wraps it in PipelineStepFailed, which says it. */
  constructor(readonly failedJobs: FailedJob[], pipelineName?: string) {
    super(
      'FailedJobs',
      `${failedJobs.length} load job(s) failed:\n` + failedJobs.map((j) => `  ${j.loadId} ${j.job}: ${j.message}`).join('\n') +
        (pipelineName
          ? `\nThe package stays pending: fix the cause and run again, or discard it with "haul pipeline ${pipelineName} drop-pending-packages" (pipeline.dropPendingPackages() in code).`
          : ''),
    );
  }
}

/** What `run()` and `load()` return: which packages loaded, rows per table, failed jobs. */
export class LoadInfo {
  constructor(
    readonly pipelineName: string,
    readonly destinationName: string,
    readonly destinationLocation: string,
    readonly datasetName: string,
    readonly loadPackages: LoadPackageSummary[],
    readonly startedAt: Date,
    readonly finishedAt: Date,
  ) {}

  get loadIds(): string[] {
    return this.loadPackages.map((p) => p.loadId);
  }

  /** Rows per table over all packages (root and child tables, not system tables). */
  get rowCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.loadPackages) for (const [t, n] of Object.entries(p.rowCounts)) out[t] = (out[t] ?? 0) + n;
    return out;
  }

  get failedJobs(): FailedJob[] {
    return this.loadPackages.flatMap((p) => p.failedJobs);
  }

  get hasFailedJobs(): boolean {
    return this.failedJobs.length > 0;
  }

  raiseOnFailedJobs(): void {
    if (this.hasFailedJobs) throw new FailedJobsError(this.failedJobs, this.pipelineName);
  }

  toJSON(): Record<string, unknown> {
    return {
      pipelineName: this.pipelineName,
      destinationName: this.destinationName,
      datasetName: this.datasetName,
      loadIds: this.loadIds,
      rowCounts: this.rowCounts,
      loadPackages: this.loadPackages,
      startedAt: this.startedAt.toISOString(),
      finishedAt: this.finishedAt.toISOString(),
    };
  }

  toString(): string {
    const secs = ((this.finishedAt.getTime() - this.startedAt.getTime()) / 1000).toFixed(2);
    const lines = [
      `Pipeline ${this.pipelineName} load step completed in ${secs} s`,
      `${this.loadPackages.length} load package(s) were loaded to destination ${this.destinationName} and into dataset ${this.datasetName}`,
      `The ${this.destinationName} destination used ${this.destinationLocation}`,
    ];
    for (const p of this.loadPackages) {
      const failed = p.failedJobs.length ? `, ${p.failedJobs.length} FAILED job(s)` : '';
      lines.push(`Load package ${p.loadId} is ${p.state.toUpperCase()} and contains ${p.completedJobs} completed job(s)${failed}`);
    }
    const counts = Object.entries(this.rowCounts).filter(([t]) => !t.startsWith('_dlt_'));
    if (counts.length) {
      lines.push('Rows loaded:');
      for (const [t, n] of counts) lines.push(`  ${t}: ${n}`);
    }
    for (const j of this.failedJobs) lines.push(`Failed job ${j.job}: ${j.message}`);
    return lines.join('\n');
  }
}
