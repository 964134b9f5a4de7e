/**
 * dlt's `parallelized=True` in Node: how the resources of one extract share time.
 *
 * - Resources are put in lanes. The resources that are not parallelized share one lane and
 *   run one after another in the source's order, as without parallelism; each parallelized
 *   resource gets a lane of its own. Up to `workers` lanes run at once (dlt's `workers`,
 *   default 5). Resources that read the same data cannot run at the same time and share a
 *   lane: a transformer and its parent, two transformers of one parent, two resources
 *   holding one incremental object (it carries one cursor at a time).
 * - Concurrency is the event loop's: async resources (HTTP, databases) overlap while they
 *   wait. A sync generator cannot run in parallel with anything in one thread; it is pulled
 *   in turns with the others (it gives the event loop a turn every few thousand items), so
 *   parallelizing it changes the order of work, not the time it takes.
 * - A parallelized transformer is called for several parent items at once: at most
 *   `maxParallelItems` calls (dlt's, default 20) are in flight across the extract. Each
 *   call's output is collected whole (as dlt collects a parallelized generator in its
 *   worker) and written when the call finishes, so results land in the order calls finish.
 */
import { HaulError, InvalidOptionsError } from '../errors.js';
import type { Resource } from './resource.js';

/** dlt's defaults. */
export const DEFAULT_WORKERS = 5;
export const DEFAULT_MAX_PARALLEL_ITEMS = 20;

export interface ParallelOptions {
  /** Resources (lanes) extracted at once; default 5. */
  workers?: number;
  /** Calls of parallelized transformers in flight at once, across the extract; default 20. */
  maxParallelItems?: number;
}

export function parallelLimits(o: ParallelOptions): Required<ParallelOptions> {
  const out = { workers: o.workers ?? DEFAULT_WORKERS, maxParallelItems: o.maxParallelItems ?? DEFAULT_MAX_PARALLEL_ITEMS };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isInteger(v) || v < 1) throw new InvalidOptionsError(`extract option ${k}`, `must be a positive integer, got ${String(v)}`);
  }
  return out;
}

interface Lane {
  items: Resource[];
  keys: Set<unknown>;
  sequential: boolean;
}

/** What a resource reads: its data (by the name of the resource that yields it) and its incremental objects. */
function laneKeys(r: Resource): unknown[] {
  const root = r.pipe.parent ?? r;
  return [`resource:${root.name}`, r.incremental, r.pipe.parent?.incremental].filter((k) => k !== undefined);
}

/** Splits the selected resources into lanes (see above); each lane keeps the source's order. */
export function planLanes(resources: readonly Resource[]): Resource[][] {
  const order = new Map(resources.map((r, i) => [r, i]));
  let lanes: Lane[] = [];
  for (const r of resources) {
    const keys = laneKeys(r);
    const joined = lanes.filter((l) => (l.sequential && !r.parallelized) || keys.some((k) => l.keys.has(k)));
    const lane: Lane = joined[0] ?? { items: [], keys: new Set(), sequential: false };
    if (joined.length === 0) lanes.push(lane);
    for (const other of joined.slice(1)) {
      lane.items.push(...other.items);
      for (const k of other.keys) lane.keys.add(k);
      lane.sequential ||= other.sequential;
    }
    lanes = lanes.filter((l) => !joined.includes(l) || l === lane);
    lane.items.push(r);
    lane.items.sort((a, b) => order.get(a)! - order.get(b)!);
    for (const k of keys) lane.keys.add(k);
    lane.sequential ||= !r.parallelized;
  }
  return lanes.map((l) => l.items).sort((a, b) => order.get(a[0]!)! - order.get(b[0]!)!);
}

/**
 * Runs the lanes, up to `workers` at once, each lane's items one after another. The first
 * failure stops the rest (they see `signal` aborted at their next item), waits for them
 * to wind down, and is thrown. One lane runs with the caller's signal, as without lanes.
 */
export async function runLanes<T>(
  lanes: readonly T[][],
  workers: number,
  signal: AbortSignal | undefined,
  run: (item: T, signal: AbortSignal | undefined) => Promise<void>,
): Promise<void> {
  if (lanes.length <= 1) {
    for (const item of lanes[0] ?? []) await run(item, signal);
    return;
  }
  const stop = new AbortController();
  const laneSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let failed: { error: unknown } | undefined;
  let next = 0;
  const worker = async () => {
    while (!failed && next < lanes.length) {
      for (const item of lanes[next++]!) {
        if (failed) return;
        try {
          await run(item, laneSignal);
        } catch (error) {
          if (!failed) {
            failed = { error };
            stop.abort(new HaulError('ExtractStopped', 'extract stopped: another resource of the source failed'));
          }
          return;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, lanes.length) }, worker));
  if (failed) throw failed.error;
}

/** Counts slots (calls in flight); waiters are served in order. */
export class Semaphore {
  private readonly waiting: Array<() => void> = [];
  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

type Event<I, O> =
  | { kind: 'read'; result: IteratorResult<I> }
  | { kind: 'readFailed'; error: unknown }
  | { kind: 'done'; key: number; value: O }
  | { kind: 'failed'; key: number; error: unknown };

/**
 * `fn` over every input item, as many at once as `slots` allows (a slot is taken before an
 * item is read, so input is read ahead only while one is free); yields each result once, in
 * the order the calls finish. A failure stops reading and is thrown once the calls in
 * flight have settled; a consumer that stops early also waits for them (their results are
 * dropped) and closes the input.
 */
export async function* mapConcurrent<I, O>(input: AsyncIterable<I>, fn: (item: I) => Promise<O>, slots: Semaphore): AsyncGenerator<O> {
  const it = input[Symbol.asyncIterator]();
  const running = new Map<number, Promise<Event<I, O>>>();
  let reading: Promise<Event<I, O>> | undefined;
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  let key = 0;
  const startRead = () =>
    slots.acquire().then(
      () => it.next().then((result): Event<I, O> => ({ kind: 'read', result }), (error: unknown): Event<I, O> => ({ kind: 'readFailed', error })),
    );
  const start = (item: I) => {
    const k = key++;
    const call = Promise.resolve()
      .then(() => fn(item))
      .then(
        (value): Event<I, O> => ({ kind: 'done', key: k, value }),
        (error: unknown): Event<I, O> => ({ kind: 'failed', key: k, error }),
      )
      .finally(() => slots.release());
    running.set(k, call);
  };
  try {
    for (;;) {
      if (!reading && !exhausted && !failure) reading = startRead();
      if (!reading && running.size === 0) break;
      const ev = await Promise.race(reading ? [reading, ...running.values()] : running.values());
      if (ev.kind === 'read' || ev.kind === 'readFailed') {
        reading = undefined;
        if (ev.kind === 'read' && !ev.result.done && !failure) {
          start(ev.result.value);
          continue;
        }
        slots.release();
        exhausted = true;
        if (ev.kind === 'readFailed') failure ??= { error: ev.error };
        continue;
      }
      running.delete(ev.key);
      if (ev.kind === 'failed') failure ??= { error: ev.error };
      else if (!failure) yield ev.value;
    }
    if (failure) throw failure.error;
  } finally {
    if (reading) {
      await reading;
      slots.release();
    }
    await Promise.all(running.values());
    await it.return?.();
  }
}
