/**
 * The 'log' progress collector: pino lines when a step starts, every `periodMs` while it
 * runs, and when it ends: items per resource (extract), rows per table (normalize, load),
 * jobs and files, elapsed time, rate, and memory/CPU (`systemStats`, on by default as in
 * dlt's LogCollector).
 */
import type { Logger } from 'pino';
import { createLogger, type LoggerOptions } from './logger.js';
import type { ProgressCollector, ProgressEvent, ProgressStep } from './events.js';

export interface LogCollectorOptions extends LoggerOptions {
  /** How often a running step logs (default 1000 ms). */
  periodMs?: number;
  /** Adds rss/heap (MB) and CPU % of this process to each line (default true). */
  systemStats?: boolean;
  /** Use this logger instead of creating one (its redaction is then up to you). */
  logger?: Logger;
}

interface StepCounters {
  step: ProgressStep;
  startedAt: number;
  /** extract: items per resource; normalize: rows per table. */
  counts: Map<string, number>;
  /** load: jobs done/total per package. */
  jobs: Map<string, { done: number; total: number }>;
  cpu: NodeJS.CpuUsage;
  cpuAt: number;
}

const UNIT: Record<ProgressStep, string> = { extract: 'items', normalize: 'rows', load: 'rows' };

export class LogCollector implements ProgressCollector {
  readonly logger: Logger;
  private readonly periodMs: number;
  private readonly systemStats: boolean;
  private current?: StepCounters;
  private timer?: NodeJS.Timeout;

  constructor(opts: LogCollectorOptions = {}) {
    this.logger = opts.logger ?? createLogger(opts);
    this.periodMs = opts.periodMs ?? 1000;
    this.systemStats = opts.systemStats ?? true;
  }

  on(e: ProgressEvent): void {
    switch (e.type) {
      case 'step_start':
        this.stopTimer();
        this.current = { step: e.step, startedAt: Date.now(), counts: new Map(), jobs: new Map(), cpu: process.cpuUsage(), cpuAt: Date.now() };
        this.logger.info({ pipeline: e.pipelineName, step: e.step }, `${e.step} started`);
        this.timer = setInterval(() => this.tick(e.pipelineName), this.periodMs);
        this.timer.unref();
        break;
      case 'progress': {
        const c = this.current;
        if (!c || c.step !== e.step) break;
        if (e.step === 'load') {
          if (e.loadId && e.jobsTotal !== undefined) c.jobs.set(e.loadId, { done: e.jobsDone ?? 0, total: e.jobsTotal });
        } else {
          const key = (e.step === 'extract' ? e.resource : undefined) ?? e.table;
          if (key && e.count !== undefined) c.counts.set(key, e.count);
        }
        break;
      }
      case 'step_end': {
        this.stopTimer();
        const c = this.current;
        // System tables (_dlt_pipeline_state...) are not the user's rows.
        const counts = Object.fromEntries(Object.entries(e.counts).filter(([k]) => !k.startsWith('_dlt_')));
        const total = sum(Object.values(counts));
        const line: Record<string, unknown> = {
          pipeline: e.pipelineName,
          step: e.step,
          elapsed_s: round(e.elapsedMs / 1000),
          [UNIT[e.step]]: counts,
          total,
          files: e.files,
          load_ids: e.loadIds,
          ...(c ? this.stats(c) : {}),
        };
        if (e.error) {
          line.error = e.error;
          this.logger.error(line, `${e.step} failed after ${fmtSecs(e.elapsedMs)}: ${e.error}`);
        } else {
          this.logger.info(line, `${e.step} done: ${total} ${UNIT[e.step]}${describe(counts)}, ${e.files} file(s) in ${fmtSecs(e.elapsedMs)}`);
        }
        this.current = undefined;
        break;
      }
      case 'run_end':
        this.stopTimer();
        if (e.error) this.logger.error({ pipeline: e.pipelineName, elapsed_s: round(e.elapsedMs / 1000), error: e.error }, `run failed after ${fmtSecs(e.elapsedMs)}`);
        else this.logger.info({ pipeline: e.pipelineName, elapsed_s: round(e.elapsedMs / 1000) }, `run done in ${fmtSecs(e.elapsedMs)}`);
        break;
      default:
        break;
    }
  }

  /** One periodic line for the running step. */
  tick(pipelineName: string): void {
    const c = this.current;
    if (!c) return;
    const elapsedMs = Date.now() - c.startedAt;
    const line: Record<string, unknown> = { pipeline: pipelineName, step: c.step, elapsed_s: round(elapsedMs / 1000) };
    let msg: string;
    if (c.step === 'load') {
      let done = 0;
      let total = 0;
      for (const j of c.jobs.values()) {
        done += j.done;
        total += j.total;
      }
      line.jobs_done = done;
      line.jobs_total = total;
      msg = `load: ${done}/${total} jobs`;
    } else {
      const counts = Object.fromEntries(c.counts);
      const total = sum(c.counts.values());
      line[UNIT[c.step]] = counts;
      line.total = total;
      line.rate_per_s = elapsedMs > 0 ? Math.round((total * 1000) / elapsedMs) : 0;
      msg = `${c.step}: ${total} ${UNIT[c.step]}${describe(counts)}`;
    }
    Object.assign(line, this.stats(c));
    this.logger.info(line, `${msg} | ${fmtSecs(elapsedMs)}`);
  }

  private stats(c: StepCounters): Record<string, number> {
    if (!this.systemStats) return {};
    const mem = process.memoryUsage();
    const now = Date.now();
    const cpu = process.cpuUsage(c.cpu);
    const wall = Math.max(1, now - c.cpuAt) * 1000;
    c.cpu = process.cpuUsage();
    c.cpuAt = now;
    return { rss_mb: Math.round(mem.rss / 2 ** 20), heap_mb: Math.round(mem.heapUsed / 2 ** 20), cpu_pct: Math.round(((cpu.user + cpu.system) / wall) * 100) };
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stopTimer();
    this.current = undefined;
  }
}

/** A collector that logs progress with pino (what `progress: 'log'` uses). */
export function logCollector(opts: LogCollectorOptions = {}): LogCollector {
  return new LogCollector(opts);
}

function sum(xs: Iterable<number>): number {
  let n = 0;
  for (const x of xs) n += x;
  return n;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function fmtSecs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function describe(counts: Record<string, number>): string {
  const parts = Object.entries(counts).filter(([k]) => !k.startsWith('_dlt_'));
  return parts.length ? ` (${parts.map(([k, n]) => `${k}: ${n}`).join(', ')})` : '';
}
