/*
 * Appends of different tables at once, one DuckDB thread each. An INSERT on DuckDB's two
 * threads leaves a partly filled row group per thread, one of them mid-table: the commit
 * gathers them and the checkpoint at close merges them, rewriting the row groups after it.
 * Two tables loaded side by side with one thread each leave one partial group per table, at
 * its end, and keep both cores busy (docs/performance.md, section 16). This pays only when
 * the two sides are about even: a large table alone on one thread takes twice as long.
 */

/** Below this many bytes in all, appends run one table after the other. */
const MIN_CONCURRENT_APPEND_BYTES = 8 * 1024 * 1024;

/** A batch this small (a state row, a few rows of a table) loads on its own, before the others. */
const SMALL_BATCH_BYTES = 1024 * 1024;

/** The larger side may hold at most this share of the bytes. */
const MAX_LARGER_SIDE = 0.6;

/**
 * Which append batches (by their sizes in bytes) to load at once: the large ones, when there
 * are two or more, enough data and two about even sides; undefined otherwise.
 */
export function batchesToLoadAtOnce(sizes: number[]): number[] | undefined {
  const large = sizes.map((_, i) => i).filter((i) => sizes[i]! >= SMALL_BATCH_BYTES);
  if (large.length < 2) return undefined;
  const total = large.reduce((n, i) => n + sizes[i]!, 0);
  if (total < MIN_CONCURRENT_APPEND_BYTES) return undefined;
  const sides = twoSides(large.map((i) => sizes[i]!));
  const bytes = sides.map((side) => side.reduce((n, j) => n + sizes[large[j]!]!, 0));
  return Math.max(...bytes) > MAX_LARGER_SIDE * total ? undefined : large;
}

/** Indexes of `sizes` over two sides of about equal bytes (largest first, each to the lighter side), each in input order. */
export function twoSides(sizes: number[]): [number[], number[]] {
  const sides: [number[], number[]] = [[], []];
  const load = [0, 0];
  for (const i of sizes.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]!)) {
    const s = load[0]! <= load[1]! ? 0 : 1;
    sides[s].push(i);
    load[s]! += sizes[i]!;
  }
  return [sides[0].sort((a, b) => a - b), sides[1].sort((a, b) => a - b)];
}
