import type { StepProgressLike } from './monitor.js';

/** Progress a step reports to `onProgress` (the progress room's event, without its envelope). */
export type StepProgress = StepProgressLike;

/**
 * Per-call options for durable runners (e.g. Temporal activities): cancellation, progress
 * and a caller-chosen load id. In-process callers need none of these.
 */
export interface StepOptions {
  /** Stops the step between batches/jobs; the step throws `signal.reason`. Packages stay consistent. */
  signal?: AbortSignal;
  /** Called now and then with what the step is doing (counts only). */
  onProgress?: (p: StepProgress) => void;
  /**
   * extract only: the load id of the new package. When a package with this id exists
   * already (an earlier attempt committed it and then died), extract returns that
   * package's info instead of extracting again, so a retried extract never duplicates data.
   */
  loadId?: string;
  /**
   * extract only, with `loadId`: how often a durable extract records a checkpoint it can
   * resume from (default every 10,000 items or 10 s, at a point a resource offers), or
   * `false` for none. A package of this load id left half-built after a checkpoint is
   * resumed: its complete job files are kept and resources continue where they stopped.
   */
  checkpoint?: CheckpointPolicy | false;
  /** extract only: called after each checkpoint is on disk (ids, counts and the resume token; no rows). */
  onCheckpoint?: (c: CheckpointSummary) => void;
}

/** When an extract commits a checkpoint: after `everyItems` items or `everyMs` ms, whichever first. */
export interface CheckpointPolicy {
  everyItems?: number;
  everyMs?: number;
}

/** What one checkpoint holds, in small: never rows. */
export interface CheckpointSummary {
  /** 1, 2, ... within the load. */
  seq: number;
  /** Items extracted per table up to the checkpoint. */
  items: Record<string, number>;
  /** Job files complete at the checkpoint. */
  files: number;
  resourcesDone: string[];
  /** The resource in progress and the token it resumes from. */
  current?: { resource: string; resumeFrom: unknown };
}
