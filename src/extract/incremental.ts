import { createHash } from 'node:crypto';
import { z } from 'zod';
import { HaulError, InvalidOptionsError } from '../errors.js';
import type { IncrementalState, ResourceState } from '../state/state.js';
import { formatIssue } from '../common/zod-issues.js';

export type LastValueFunc = 'max' | 'min' | ((values: unknown[]) => unknown);

export interface IncrementalOptions {
  initialValue?: unknown;
  /** Load only items with cursor < endValue; state is not changed in this (backfill) mode. */
  endValue?: unknown;
  lastValueFunc?: LastValueFunc;
  /** When items arrive sorted by the cursor, stop reading once past the range. */
  rowOrder?: 'asc' | 'desc';
  /** Keys used to recognise items already loaded at the boundary (default: the resource's primary key). */
  primaryKey?: string | string[];
  /**
   * Like dlt's `allow_external_schedulers`: when the run has a window from its scheduler (a
   * Temporal Schedule's run, or a backfill of one: `externalWindow` in run options), load
   * exactly `[start, end)` of the cursor and leave the stored cursor as it is. Without a
   * window the cursor works as usual. The window's times take the type of `initialValue`:
   * unix seconds when it is a number, ISO strings otherwise (a Date cursor compares as one).
   */
  allowExternalSchedulers?: boolean;
}

/** The time window an external scheduler gives a run (ISO 8601 instants, end exclusive). */
export interface ExternalWindow {
  start: string;
  end: string;
}

const optionsSchema = z
  .object({
    initialValue: z.unknown().optional(),
    endValue: z.unknown().optional(),
    lastValueFunc: z.union([z.enum(['max', 'min']), z.custom<(v: unknown[]) => unknown>((v) => typeof v === 'function')]).optional(),
    rowOrder: z.enum(['asc', 'desc']).optional(),
    primaryKey: z.union([z.string(), z.array(z.string())]).optional(),
    allowExternalSchedulers: z.boolean().optional(),
  })
  .strict();

export class IncrementalCursorMissingError extends HaulError {
  constructor(resource: string, cursorPath: string) {
    super(
      'IncrementalCursorMissing',
      `resource "${resource}": an item has no value at incremental cursor path "${cursorPath}"; make sure every item has it or choose another cursor`,
    );
  }
}

/**
 * An incremental cursor, like dlt's `dlt.sources.incremental`: keeps the last seen cursor
 * value per resource, drops items already loaded (older, or equal and seen before), and
 * stores the new value in the resource's state, which is saved when the package loads.
 */
export class Incremental {
  readonly cursorPath: string;
  readonly options: IncrementalOptions;
  private readonly path: string[];
  private state?: IncrementalState;
  private resourceName = '';
  private keyFields?: string[];
  private lastValue: unknown;
  private boundaryHashes = new Set<string>();
  private seenHashes = new Set<string>();
  private newLast: unknown;
  private newHashes: string[] = [];
  private stopped = false;
  /** The exclusive end of this run's range: the scheduler's window end, else `endValue`. */
  private end: unknown;
  /** This run loads a window of an external scheduler: the stored cursor stays as it is. */
  private windowed = false;

  constructor(cursorPath: string, options: IncrementalOptions = {}) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) throw new InvalidOptionsError('incremental options', parsed.error.issues.map(formatIssue).join('; '));
    if (!cursorPath) throw new InvalidOptionsError('incremental', 'cursorPath is empty');
    this.cursorPath = cursorPath;
    this.options = options;
    this.path = cursorPath.split('.');
  }

  /** The value this run starts from: the stored last value, else `initialValue`. */
  get startValue(): unknown {
    return this.lastValue;
  }

  get lastValueSeen(): unknown {
    return this.newLast;
  }

  get endValue(): unknown {
    return this.end;
  }

  /** True once rowOrder said no later item can be in range. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Binds to the resource's state for one extract (and to the scheduler's window, if any). */
  bind(resourceName: string, resourceState: ResourceState, primaryKey?: string | string[], window?: ExternalWindow): void {
    this.resourceName = resourceName;
    const pk = this.options.primaryKey ?? primaryKey;
    this.keyFields = pk === undefined ? undefined : Array.isArray(pk) ? pk : [pk];
    this.seenHashes = new Set();
    this.stopped = false;
    this.windowed = this.options.allowExternalSchedulers === true && window !== undefined;
    if (this.windowed) {
      // The window alone decides what loads; the state is neither read nor written.
      this.state = undefined;
      this.lastValue = this.windowValue(window!.start);
      this.end = this.windowValue(window!.end);
      this.boundaryHashes = new Set();
      this.newLast = this.lastValue;
      this.newHashes = [];
      return;
    }
    this.end = this.options.endValue;
    const all = (resourceState.incremental ??= {});
    let st = all[this.cursorPath];
    if (!st || !sameValue(st.initial_value, toComparable(this.options.initialValue))) {
      // A new cursor, or the user changed initialValue: start over as dlt does.
      st = { initial_value: toComparable(this.options.initialValue) ?? null, last_value: toComparable(this.options.initialValue) ?? null, unique_hashes: [] };
      all[this.cursorPath] = st;
    }
    this.state = st;
    this.lastValue = st.last_value ?? undefined;
    this.boundaryHashes = new Set(st.unique_hashes);
    this.newLast = this.lastValue;
    this.newHashes = [...st.unique_hashes];
  }

  /** A window instant in the cursor's terms: unix seconds for a numeric cursor, else ISO text. */
  private windowValue(iso: string): unknown {
    return typeof this.options.initialValue === 'number' ? Date.parse(iso) / 1000 : new Date(iso).toISOString();
  }

  /** Returns true if the item is new and should be kept. Updates the running last value. */
  accept(item: unknown): boolean {
    const raw = readPath(item, this.path);
    if (raw === undefined || raw === null) throw new IncrementalCursorMissingError(this.resourceName, this.cursorPath);
    const v = toComparable(raw);
    const end = toComparable(this.end);
    const fn = this.options.lastValueFunc ?? 'max';
    const before = (a: unknown, b: unknown) => (fn === 'min' ? compare(a, b) > 0 : compare(a, b) < 0);
    if (end !== undefined && !before(v, end)) {
      if (this.options.rowOrder === (fn === 'min' ? 'desc' : 'asc')) this.stopped = true;
      return false;
    }
    if (this.lastValue !== undefined && typeof fn === 'string') {
      if (before(v, this.lastValue)) {
        if (this.options.rowOrder === (fn === 'min' ? 'asc' : 'desc')) this.stopped = true;
        return false;
      }
      if (compare(v, this.lastValue) === 0 && this.boundaryHashes.has(this.hashOf(item))) return false;
    }
    this.advance(v, item);
    return true;
  }

  /** Writes the new cursor into the bound state (not in backfill mode with endValue). */
  commit(): void {
    if (!this.state || this.windowed || this.end !== undefined) return;
    if (this.newLast === undefined) return;
    this.state.last_value = this.newLast;
    this.state.unique_hashes = this.newHashes;
  }

  private advance(v: unknown, item: unknown): void {
    const fn = this.options.lastValueFunc ?? 'max';
    let next: unknown;
    if (this.newLast === undefined) next = v;
    else if (fn === 'max') next = compare(v, this.newLast) > 0 ? v : this.newLast;
    else if (fn === 'min') next = compare(v, this.newLast) < 0 ? v : this.newLast;
    else next = toComparable(fn([this.newLast, v]));
    if (!sameValue(next, this.newLast)) {
      this.newLast = next;
      this.newHashes = [];
      this.seenHashes = new Set();
    }
    if (sameValue(v, this.newLast)) {
      const h = this.hashOf(item);
      if (!this.seenHashes.has(h)) {
        this.seenHashes.add(h);
        this.newHashes.push(h);
      }
    }
  }

  private hashOf(item: unknown): string {
    const key = this.keyFields ? this.keyFields.map((k) => readPath(item, k.split('.'))) : item;
    return createHash('sha256').update(JSON.stringify(key) ?? '').digest('base64url').slice(0, 20);
  }
}

export function incremental(cursorPath: string, options: IncrementalOptions = {}): Incremental {
  return new Incremental(cursorPath, options);
}

function readPath(item: unknown, path: string[]): unknown {
  let cur = item;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** Dates become ISO strings so they compare and serialize the same way as in state. */
function toComparable(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return Number(v);
  return v;
}

const ISO_UTC = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

/** UTC ISO timestamps with any number of fraction digits compare by instant (`...:00Z` = `...:00.000Z`). */
function sortKey(v: unknown): string {
  const s = String(v);
  const m = ISO_UTC.exec(s);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z` : s;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = sortKey(a);
  const sb = sortKey(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (a == null && b == null) || JSON.stringify(a) === JSON.stringify(b);
}
