import type { Incremental } from './incremental.js';

/**
 * dlt's resource steps: `addMap`, `addFilter`, `addYieldMap` run on each item (the elements
 * of a yielded page one by one) in the order they were added, before the model's validation
 * and the incremental cursor (dlt's placement affinities); `addLimit` comes last: it counts
 * the yields that kept items (a page counts once, as in dlt) and stops the resource after
 * `maxItems` of them or `maxTimeMs`.
 */
export type ItemStep =
  | { kind: 'map'; fn: (item: unknown) => unknown }
  | { kind: 'filter'; fn: (item: unknown) => boolean }
  | { kind: 'yieldMap'; fn: (item: unknown) => Iterable<unknown> };

export interface ItemLimit {
  maxItems?: number;
  maxTimeMs?: number;
}

/** Runs one item through the steps from `from` on; what comes out goes to `last`. Returns how many `last` kept. */
function runSteps(item: unknown, steps: readonly ItemStep[], last: (item: unknown) => boolean, from = 0): number {
  if (item === undefined || item === null) return 0;
  if (from === steps.length) return last(item) ? 1 : 0;
  const step = steps[from]!;
  switch (step.kind) {
    case 'map':
      return runSteps(step.fn(item), steps, last, from + 1);
    case 'filter':
      return step.fn(item) ? runSteps(item, steps, last, from + 1) : 0;
    case 'yieldMap': {
      let kept = 0;
      for (const out of step.fn(item)) kept += runSteps(out, steps, last, from + 1);
      return kept;
    }
  }
}

/**
 * What one yield of a resource becomes, in dlt's step order: each element of a page (or the
 * item itself) runs through the steps, and what comes out goes to `last` (the model's
 * validation, the incremental cursor and the writer), which says whether it kept the item.
 * Returns how many items were kept: addLimit counts a yield only when some were, as dlt's
 * limit sits behind the incremental.
 */
export function processYield(yielded: unknown, steps: readonly ItemStep[], last: (item: unknown) => boolean): number {
  if (!Array.isArray(yielded)) return runSteps(yielded, steps, last);
  let kept = 0;
  for (const it of yielded) kept += runSteps(it, steps, last);
  return kept;
}

/** The incremental's filter as the last step before `keep` (a plain function: it runs for every item). */
export function afterIncremental(incremental: Incremental | undefined, keep: (item: unknown) => void): (item: unknown) => boolean {
  if (!incremental) {
    return (item) => {
      keep(item);
      return true;
    };
  }
  return (item) => {
    if (!incremental.accept(item)) return false;
    keep(item);
    return true;
  };
}

/**
 * Counts yields against a limit: `open()` before each yield says whether the resource may go
 * on (count and time), `count(kept)` after it counts the yield when it kept items.
 */
export class LimitCounter {
  private readonly startedAt = performance.now();
  /** `yields`: counted before (an extract resumed from a checkpoint); the time limit starts now. */
  constructor(private readonly limit: ItemLimit | undefined, private yields = 0) {}

  /** Yields counted so far. */
  get taken(): number {
    return this.yields;
  }

  /** Call before processing a yield: false when the resource must stop (count reached or out of time). */
  open(): boolean {
    if (!this.limit) return true;
    if (this.limit.maxTimeMs !== undefined && performance.now() - this.startedAt > this.limit.maxTimeMs) return false;
    return !this.full;
  }

  /** Call after processing a yield with how many items it kept. */
  count(kept: number): void {
    if (kept > 0) this.yields++;
  }

  /** True when the count is reached (stop without waiting for the next yield). */
  get full(): boolean {
    return this.limit?.maxItems !== undefined && this.yields >= this.limit.maxItems;
  }
}
