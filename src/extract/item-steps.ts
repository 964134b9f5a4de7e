import type { Incremental } from './incremental.js';

/**
 * dlt's resource steps: `addMap`, `addFilter`, `addYieldMap` run on each item (the elements
 * of a yielded page one by one), after the incremental cursor has accepted it, in the order
 * they were added; `addLimit` counts what the resource yields (a page counts once, as in dlt)
 * and stops it after `maxItems` yields or `maxTimeMs`.
 */
export type ItemStep =
  | { kind: 'map'; fn: (item: unknown) => unknown }
  | { kind: 'filter'; fn: (item: unknown) => boolean }
  | { kind: 'yieldMap'; fn: (item: unknown) => Iterable<unknown> };

export interface ItemLimit {
  maxItems?: number;
  maxTimeMs?: number;
}

/** Runs one item through the steps from `from` on; every item that comes out goes to `sink`. */
export function runSteps(item: unknown, steps: readonly ItemStep[], sink: (item: unknown) => void, from = 0): void {
  if (item === undefined || item === null) return;
  if (from === steps.length) return sink(item);
  const step = steps[from]!;
  switch (step.kind) {
    case 'map':
      return runSteps(step.fn(item), steps, sink, from + 1);
    case 'filter':
      if (step.fn(item)) runSteps(item, steps, sink, from + 1);
      return;
    case 'yieldMap':
      for (const out of step.fn(item)) runSteps(out, steps, sink, from + 1);
      return;
  }
}

/**
 * What one yield of a resource becomes: each element of a page (or the item itself) is
 * filtered by the incremental cursor, then runs through the steps.
 */
export function processYield(yielded: unknown, incremental: Incremental | undefined, steps: readonly ItemStep[], sink: (item: unknown) => void): void {
  if (Array.isArray(yielded)) for (const it of yielded) processItem(it, incremental, steps, sink);
  else processItem(yielded, incremental, steps, sink);
}

/** One item of a yield (a plain function, not a closure per yield: this runs for every item). */
function processItem(item: unknown, incremental: Incremental | undefined, steps: readonly ItemStep[], sink: (item: unknown) => void): void {
  if (item === undefined) return;
  if (incremental && !incremental.accept(item)) return;
  runSteps(item, steps, sink);
}

/** Counts yields against a limit; `exceeded()` is true once the resource must stop. */
export class LimitCounter {
  private readonly startedAt = performance.now();
  /** `yields`: counted before (an extract resumed from a checkpoint); the time limit starts now. */
  constructor(private readonly limit: ItemLimit | undefined, private yields = 0) {}

  /** Yields counted so far. */
  get taken(): number {
    return this.yields;
  }

  /** Call once per yield, before processing it: false when this yield is past the limit. */
  take(): boolean {
    if (!this.limit) return true;
    if (this.limit.maxTimeMs !== undefined && performance.now() - this.startedAt > this.limit.maxTimeMs) return false;
    if (this.limit.maxItems !== undefined && this.yields >= this.limit.maxItems) return false;
    this.yields++;
    return true;
  }

  /** True when the next yield would be refused by the count (stop without waiting for it). */
  get full(): boolean {
    return this.limit?.maxItems !== undefined && this.yields >= this.limit.maxItems;
  }
}
