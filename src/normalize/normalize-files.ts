import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { canStartWorkers, normalizeParallel } from './parallel.js';
import { normalizeInThread } from './in-thread.js';
import type { NormalizeOptions, NormalizeResult, NormalizeTestKnobs } from './types.js';

export type { NormalizeInput, NormalizeOptions, NormalizeResult } from './types.js';

const DEFAULT_MIN_PARALLEL_BYTES = 16 * 1024 * 1024;

/**
 * Normalizes extracted items into relational rows: nested dicts flatten into `a__b`
 * columns, lists become child tables, types are inferred (or coerced into existing
 * columns, or put into variant columns), and the schema evolves in place. Writes JSONL job
 * files per table into `outDir`. Large calls spread their inputs over worker threads
 * (`workers`); the rows and the schema mean the same as in one thread.
 */
export async function normalizeFiles(opts: NormalizeOptions): Promise<NormalizeResult> {
  return normalizeFilesWithTestKnobs(opts, {});
}

/** @internal `normalizeFiles` with the knobs tests and benchmarks turn (NormalizeTestKnobs). */
export async function normalizeFilesWithTestKnobs(opts: NormalizeOptions, knobs: NormalizeTestKnobs): Promise<NormalizeResult> {
  const inputs = opts.inputs;
  const workers = Math.floor(opts.workers ?? availableParallelism());
  if (workers > 1 && inputs.length > 0 && knobs.randomBytes === undefined && canStartWorkers()) {
    const sizes = inputs.map((i) => statSync(i.path).size);
    const total = sizes.reduce((a, b) => a + b, 0);
    const minBytes = knobs.minParallelBytes ?? DEFAULT_MIN_PARALLEL_BYTES;
    // shares are cut at line starts anywhere in the byte stream, so even one file is split;
    // each thread gets at least half the threshold
    const n = Math.min(workers, Math.max(1, Math.floor((2 * total) / minBytes)));
    if (total >= minBytes && n > 1) return normalizeParallel(opts, knobs, n, sizes);
  }
  if (knobs.stats) Object.assign(knobs.stats, { workers: 0, reruns: 0 });
  const { rowCounts, files, largestRowBytes } = await normalizeInThread(opts, { fastPath: knobs.fastPath, randomBytes: knobs.randomBytes });
  return { rowCounts, files, largestRowBytes };
}
