/**
 * What travels through Temporal history for a pipeline run: small inputs, ids, counts and
 * schema hashes. Never rows, never credentials. Types and pure constants only (workflow code imports these).
 */

import type { ColumnHints } from '../extract/columns.js';
import type { LoadPackageSummary } from '../load/load-info.js';

/** The task queue workers poll and clients start runs on, unless HAUL_TASK_QUEUE or an option says otherwise. */
export const DEFAULT_TASK_QUEUE = 'haul';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export type WriteDispositionName = 'append' | 'replace' | 'merge' | 'skip';
/** dlt's write disposition dict as a workflow input (JSON only). */
export type WriteDispositionInput =
  | { disposition: Exclude<WriteDispositionName, 'merge'> }
  | {
      disposition: 'merge';
      strategy?: 'delete-insert' | 'upsert' | 'scd2' | 'insert-only';
      validityColumnNames?: [string, string];
      activeRecordTimestamp?: string | null;
      boundaryTimestamp?: string | null;
      rowVersionColumnName?: string;
    };
export type RefreshModeName = 'drop_sources' | 'drop_resources' | 'drop_data';

/** Retry and timeout knobs for the pipeline's activities (durations in ms). */
export interface ActivityTuning {
  /** A worker that stops heartbeating for this long is considered dead (default 30 000). */
  heartbeatTimeoutMs?: number;
  /** Upper bound for one attempt of one step (default 24 h). */
  startToCloseTimeoutMs?: number;
  /** Attempts per step for retryable errors (default 10; 0 = unlimited). */
  maximumAttempts?: number;
  /** First retry delay (default 1 000), doubling up to maximumIntervalMs (default 60 000). */
  initialIntervalMs?: number;
  maximumIntervalMs?: number;
  /**
   * Extract checkpoints: a retried extract continues after the last one instead of
   * starting over. One is taken every `checkpointEveryItems` items or `checkpointEveryMs`
   * ms (default 10 000 / 10 000), at a point the resource offers (e.g. after a page).
   */
  checkpointEveryItems?: number;
  checkpointEveryMs?: number;
}

/** The validated input of `pipelineWorkflow` (see src/temporal/input.ts for the zod schema). */
export interface PipelineRunInput {
  pipelineName: string;
  /** Name of a source registered on the worker (`createWorker({ sources })`). */
  source: string;
  /** JSON arguments for the source: an array is spread, an object is passed as one argument. */
  args?: JsonValue[] | { [k: string]: JsonValue };
  /** Only these resources of the source (default: the source's selected resources). */
  resources?: string[];
  /** A destination registered on the worker, or a built-in name such as 'duckdb'. */
  destination: string;
  /** Non-secret destination options (e.g. a DuckDB file path). Credentials are resolved on the worker. */
  destinationOptions?: { [k: string]: JsonValue };
  datasetName?: string;
  /**
   * dlt's staging destination, by name only: `'filesystem'` (the worker resolves its bucket from
   * its own config, `destination.filesystem.bucket_url`, pipeline-scoped first) or a staging
   * destination registered on the worker (`createWorker({ destinations })`). Job files go to
   * the bucket and the destination bulk-loads them from there. Never a bucket URL or credentials.
   */
  staging?: string;
  /** Run options applied to the source (like `pipeline.run(data, options)`). */
  tableName?: string;
  /** A shorthand or dlt's dict (`{ disposition: 'merge', strategy: 'scd2', ... }`, timestamps as ISO text). */
  writeDisposition?: WriteDispositionName | WriteDispositionInput;
  primaryKey?: string | string[];
  mergeKey?: string | string[];
  /** Column hints by name, or dlt's list of column schemas `[{ name, dataType, nullable, ... }]` (JSON; no zod model: it does not serialize). */
  columns?: ColumnHints;
  refresh?: RefreshModeName;
  /** The job file format normalize writes (default: the destination's preferred one). */
  loaderFileFormat?: 'jsonl' | 'parquet' | 'csv';
  /** Only finish packages an earlier run left pending; do not extract. */
  pendingOnly?: boolean;
  tuning?: ActivityTuning;
  /**
   * The window a scheduler gives this run (ISO instants, end exclusive): incremental
   * resources with `allowExternalSchedulers` load exactly it. Scheduled runs get it from
   * their schedule.
   */
  externalWindow?: { start: string; end: string };
}

/** What a schedule made by schedulePipeline passes its runs besides the run input. */
export interface ScheduledRunOptions {
  scheduleId: string;
  /** Pause the schedule once this many runs in a row have failed (1-10). */
  pauseAfterFailures?: number;
  /** Each run's window ends at its scheduled time and is this long (ms): `every`, or `window` with cron. */
  windowMs?: number;
}

/** What the schedule-failure activity found and did. */
export interface ScheduleFailureResult {
  /** Failed runs in a row, this one included. */
  failures: number;
  paused: boolean;
}

/**
 * Identifies the pipeline every activity opens (a subset of the run input). Without a
 * `destination` (a drop), the worker opens the pipeline's working dir with the destination
 * and dataset stored there, as `dlt pipeline <name> drop` does.
 */
export type PipelineRef = Pick<PipelineRunInput, 'pipelineName' | 'destinationOptions' | 'datasetName' | 'staging'> & { destination?: string };

export interface PendingPackage {
  loadId: string;
  stage: 'extracted' | 'normalized';
}

export interface SyncResult {
  pending: PendingPackage[];
  /** Where the package activities must run: this worker's own queue when it keeps files locally. */
  activityTaskQueue?: string;
  destinationName: string;
  datasetName: string;
  /** e.g. the DuckDB file path; never holds credentials. */
  destinationLocation: string;
}

export interface ExtractResult {
  loadId: string;
  sourceName: string;
  /** Items per root table. */
  itemCounts: Record<string, number>;
  /** Tables the package will drop/truncate at the destination when it loads (refresh). */
  refresh?: { mode: RefreshModeName; dropTables: string[]; truncateTables: string[] };
  /** Set when this attempt continued after a checkpoint an earlier attempt left (its number and the items it held). */
  resumedFrom?: { checkpoint: number; items: Record<string, number> };
}

export interface NormalizedPackage {
  loadId: string;
  schemaName: string;
  tables: number;
  jobs: number;
  rowCounts: Record<string, number>;
  refresh?: { mode: RefreshModeName; dropTables: string[]; truncateTables: string[]; applied: boolean };
}

export interface NormalizeResult {
  /** Every package now waiting to load, oldest first (also the ones an earlier attempt normalized). */
  packages: NormalizedPackage[];
}

/** A LoadInfo package summary for history: failed jobs as a count, their messages stay on disk. */
export type PackageSummary = Omit<LoadPackageSummary, 'failedJobs'> & { failedJobs: number };

export interface LoadResult {
  destinationName: string;
  destinationLocation: string;
  datasetName: string;
  packages: PackageSummary[];
}

export interface SnapshotRef {
  snapshotId: string;
}

/** What `pipelineWorkflow` returns: a LoadInfo summary. */
export interface PipelineRunResult {
  pipelineName: string;
  source: string;
  destinationName: string;
  destinationLocation: string;
  datasetName: string;
  /** The package this run extracted (absent with pendingOnly). */
  extracted?: { loadId: string; itemCounts: Record<string, number> };
  loadIds: string[];
  /** Rows per table over all loaded packages (incl. packages an earlier run left pending). */
  rowCounts: Record<string, number>;
  packages: PackageSummary[];
  startedAt: string;
  finishedAt: string;
}

export type PipelineStage =
  | 'starting'
  | 'sync'
  | 'finish_pending'
  | 'extract'
  | 'normalize'
  | 'refresh'
  | 'load'
  | 'compensate'
  | 'done'
  | 'failed';

/** Answer of the `progress` query. */
export interface PipelineProgress {
  pipelineName: string;
  stage: PipelineStage;
  /** Load ids seen by this run (pending ones first, then the extracted one). */
  loadIds: string[];
  /** Items extracted per root table. */
  extracted: Record<string, number>;
  /** Rows normalized per table (root and child tables). */
  normalized: Record<string, number>;
  /** Rows loaded per table. */
  loaded: Record<string, number>;
  /** The last heartbeat-independent note, e.g. 'compensation restored snapshot'. */
  note?: string;
  error?: string;
}

export interface DropInput extends PipelineRef {
  /** The destination; default: the one the pipeline's working dir on the worker stores (its last run's). */
  destination?: string;
  /** Resources whose tables and state are dropped. */
  resources?: string[];
  /** Tables to drop (with their child tables). */
  tables?: string[];
  /** Drop only the state of the resources, keep the tables. */
  stateOnly?: boolean;
  tuning?: ActivityTuning;
}

export interface DropResult {
  pipelineName: string;
  droppedTables: string[];
  resetResources: string[];
  loadId?: string;
}

/** What a step's heartbeats carry (counts and names only); `pipelineProgress` reads them while a step runs. */
export interface HeartbeatDetails {
  step: string;
  loadId?: string;
  table?: string;
  count?: number;
  jobsDone?: number;
  jobsTotal?: number;
  /** extract: items per table so far; normalize: rows per table so far. */
  counts?: Record<string, number>;
  /**
   * extract: the last checkpoint on the worker's disk (its number, items per table, files,
   * resources done, and the resource in progress with its resume token as redacted JSON).
   * A retried attempt resumes from the checkpoint in storage; this says what it should find.
   */
  checkpoint?: HeartbeatCheckpoint;
}

export interface HeartbeatCheckpoint {
  seq: number;
  items: Record<string, number>;
  files: number;
  resourcesDone: string[];
  current?: { resource: string; resumeFrom: string };
}

/** An input naming the pipeline and the snapshot a destructive step works under. */
export type SnapshotInput = PipelineRef & SnapshotRef;

/**
 * The activities a haul worker registers (activities/index.ts implements them). Declared
 * here, in the pure room, so workflow code types its proxies without importing activity code.
 */
export interface HaulActivities {
  /** Validates source, args and destination; restores state from the destination when the working dir is behind. */
  syncDestination(input: PipelineRef & Partial<Pick<PipelineRunInput, 'source' | 'args' | 'resources'>>): Promise<SyncResult>;
  /** Extracts the source into a new package with the given load id (idempotent per load id). */
  extract(input: PipelineRunInput & { loadId: string }): Promise<ExtractResult>;
  /**
   * Normalizes every extracted package; returns every package now waiting to load.
   * `discardIfInvalid`: the package the run just extracted, deleted if normalize refuses its data.
   */
  normalize(input: PipelineRef & { discardIfInvalid?: string[] }): Promise<NormalizeResult>;
  /** Loads every normalized package (a retry skips completed jobs). */
  load(input: PipelineRef & { loadIds: string[] }): Promise<LoadResult>;
  /** Copies committed schema + state aside before a destructive step. */
  snapshot(input: SnapshotInput): Promise<SnapshotRef>;
  /** The destructive step of a refresh, under a snapshot. */
  applyRefresh(input: PipelineRef & { loadId: string; snapshotId?: string }): Promise<void>;
  /** Compensation: restores the snapshot and drops the run's pending packages. */
  restoreSnapshot(input: SnapshotInput & { loadIds: string[] }): Promise<void>;
  /** After success: drops the snapshot and the tables renamed aside under it. */
  discardSnapshot(input: SnapshotInput): Promise<void>;
  /**
   * A scheduled run failed: counts the schedule's failed runs in a row (its recent actions,
   * newest first) and pauses it with a note when they reach `pauseAfterFailures`.
   */
  scheduledRunFailed(input: { scheduleId: string; pauseAfterFailures: number; workflowId: string; runId: string; error?: string }): Promise<ScheduleFailureResult>;
  /** Writes the package that drops resources/tables and their state (dropWorkflow). */
  planDrop(input: DropInput & { loadId: string }): Promise<DropResult>;
}
