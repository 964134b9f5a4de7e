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
}
