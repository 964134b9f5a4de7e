/**
 * Progress events. A collector (`progress: collector` on `pipeline()`) receives them for
 * every run and step; the built-in 'log' and 'bar' collectors are made from the same events.
 * Counts are cumulative within a step.
 */
export type ProgressStep = 'extract' | 'normalize' | 'load';

export type ProgressEvent =
  | { type: 'run_start'; pipelineName: string; at: Date }
  | { type: 'step_start'; pipelineName: string; step: ProgressStep; at: Date }
  | {
      type: 'progress';
      pipelineName: string;
      step: ProgressStep;
      loadId?: string;
      /** extract: the resource that yielded the items. */
      resource?: string;
      table?: string;
      /** extract: items of `resource` so far; normalize: rows of `table` so far (cumulative). */
      count?: number;
      /** load: jobs done / total in the package. */
      jobsDone?: number;
      jobsTotal?: number;
    }
  | {
      type: 'step_end';
      pipelineName: string;
      step: ProgressStep;
      loadIds: string[];
      /** extract: items per table; normalize: rows per table; load: rows per table loaded. */
      counts: Record<string, number>;
      /** Job files the step wrote (extract, normalize) or loaded (load). */
      files: number;
      elapsedMs: number;
      /** Redacted message when the step failed. */
      error?: string;
    }
  | { type: 'run_end'; pipelineName: string; elapsedMs: number; error?: string };

/** Receives progress events. `close()` (optional) is called when the pipeline is done with it. */
export interface ProgressCollector {
  on(event: ProgressEvent): void;
  close?(): void;
}
