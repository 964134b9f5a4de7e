import { totalmem } from 'node:os';
import type { SqlExecutor } from '../sql/dialect.js';
import { memoryLimitBytes, setMemoryLimitMiB } from './settings.js';

/*
 * DuckDB's memory_limit starts small and grows when a job needs more. DuckDB keeps the
 * pages it writes cached up to its limit, so a load's RSS follows the limit, not the data
 * (docs/performance.md, section 19); most loads need far less than they would fill. A job
 * that runs out of memory aborted its transaction, so it can simply run again with a higher
 * limit: each step multiplies the limit by GROWTH_FACTOR, up to the most the user allows.
 */

const GROWTH_FACTOR = 4;

/** The ceiling when the user set none: half of the machine's memory. */
export function defaultMaxMemoryBytes(): number {
  return Math.floor(totalmem() / 2);
}

/** True when DuckDB's "Out of Memory Error" is the error or one of its causes. */
export function isOutOfMemory(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (/Out of Memory Error/i.test(e.message)) return true;
  }
  return false;
}

const MIB = 2 ** 20;

/** The next memory_limit in whole MiB after `current` bytes, or undefined when `max` is reached. */
export function nextMemoryLimitMiB(current: number, max: number): number | undefined {
  const next = Math.floor(Math.min(max, current * GROWTH_FACTOR) / MIB);
  return next > Math.floor(current / MIB) ? next : undefined;
}

/**
 * Runs `fn`, and again with memory_limit raised each time it runs out of memory, until it
 * succeeds or the limit is at `maxBytes` (then the last error stands). The limit stays
 * raised for the rest of this instance's work: a job that needed more is seldom the last.
 */
export async function withMemoryToGrow<T>(ex: SqlExecutor, maxBytes: number, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isOutOfMemory(err)) throw err;
      const current = await memoryLimitBytes(ex);
      const next = current === undefined ? undefined : nextMemoryLimitMiB(current, maxBytes);
      if (next === undefined) throw err;
      await setMemoryLimitMiB(ex, next);
    }
  }
}
