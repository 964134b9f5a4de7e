/**
 * The glue between a Pipeline and its progress collector: turns step starts/ends and the
 * steps' `onProgress` callbacks into ProgressEvents. A collector that throws never fails
 * a load (the error is reported once on stderr and the collector is switched off).
 */
import { redact } from '../config/redact.js';
import { COMPLETED_JOBS, JOB_STATES, NEW_JOBS } from '../storage/layout.js';
import { PackageStorage } from '../storage/package-storage.js';
import { barCollector } from './bar.js';
import type { ProgressCollector, ProgressEvent, ProgressStep } from './events.js';
import { logCollector } from './log.js';

export type ProgressSetting = 'log' | 'bar' | ProgressCollector;

/** What the pipeline's steps report: a `progress` event without its envelope. */
export type StepProgressLike = Omit<Extract<ProgressEvent, { type: 'progress' }>, 'type' | 'pipelineName'>;

/** What a finished step reports (a subset of StepTrace). */
export interface StepResultLike {
  step: string;
  startedAt: string;
  finishedAt: string;
  loadIds: string[];
  rowCounts?: Record<string, number>;
  error?: string;
}

const STEPS = new Set<string>(['extract', 'normalize', 'load']);

export class ProgressMonitor {
  private collector?: ProgressCollector;
  private runStartedAt = 0;

  constructor(
    readonly pipelineName: string,
    collector: ProgressCollector,
    private readonly workingDir: string,
  ) {
    this.collector = collector;
  }

  runStart(): void {
    this.runStartedAt = Date.now();
    this.emit({ type: 'run_start', pipelineName: this.pipelineName, at: new Date() });
  }

  runEnd(error?: unknown): void {
    this.emit({ type: 'run_end', pipelineName: this.pipelineName, elapsedMs: Date.now() - this.runStartedAt, error: error === undefined ? undefined : messageOf(error) });
  }

  stepStart(step: string): void {
    if (!STEPS.has(step)) return;
    this.emit({ type: 'step_start', pipelineName: this.pipelineName, step: step as ProgressStep, at: new Date() });
  }

  stepEnd(st: StepResultLike): void {
    if (!STEPS.has(st.step)) return;
    const step = st.step as ProgressStep;
    this.emit({
      type: 'step_end',
      pipelineName: this.pipelineName,
      step,
      loadIds: st.loadIds,
      counts: { ...(st.rowCounts ?? {}) },
      files: this.countFiles(step, st.loadIds),
      elapsedMs: Math.max(0, Date.parse(st.finishedAt || new Date().toISOString()) - Date.parse(st.startedAt)),
      error: st.error === undefined ? undefined : redact(st.error),
    });
  }

  /** A step's `onProgress`, chained with the caller's own callback. */
  sink<P extends StepProgressLike>(next?: (p: P) => void): (p: P) => void {
    return (p) => {
      next?.(p);
      this.emit({ type: 'progress', pipelineName: this.pipelineName, ...p });
    };
  }

  close(): void {
    try {
      this.collector?.close?.();
    } catch {
      /* a collector's close never fails the pipeline */
    }
  }

  private emit(e: ProgressEvent): void {
    const c = this.collector;
    if (!c) return;
    try {
      c.on(e);
    } catch (err) {
      this.collector = undefined;
      process.stderr.write(`haul: progress collector failed and was switched off: ${redact(messageOf(err))}\n`);
    }
  }

  private countFiles(step: ProgressStep, loadIds: string[]): number {
    const s = new PackageStorage(this.workingDir);
    let n = 0;
    try {
      for (const id of loadIds) {
        if (step === 'extract') n += s.jobs(id, NEW_JOBS, 'extracted').length;
        else if (step === 'normalize') for (const st of JOB_STATES) n += s.jobs(id, st, 'normalized').length + (st === COMPLETED_JOBS ? s.jobs(id, st, 'loaded').length : 0);
        else n += s.jobs(id, COMPLETED_JOBS, 'loaded').length + s.jobs(id, COMPLETED_JOBS, 'normalized').length;
      }
    } catch {
      /* a package moved on meanwhile: the count is best effort */
    }
    return n;
  }
}

/** The monitor for a `progress` option, or undefined when there is none. */
export function createMonitor(option: ProgressSetting | undefined, pipelineName: string, workingDir: string): ProgressMonitor | undefined {
  if (option === undefined) return undefined;
  const collector = option === 'log' ? logCollector() : option === 'bar' ? barCollector() : option;
  return new ProgressMonitor(pipelineName, collector, workingDir);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
