import { z } from 'zod';
import { HaulError, InvalidOptionsError } from '../errors.js';
import type { IncrementalState, ResourceState } from '../state/state.js';
import { formatIssue } from '../common/zod-issues.js';
import { IncomparableValuesError, applyLag, compare, dedupHash, legacyDedupHash, sameValue, toComparable } from './incremental-values.js';

export type LastValueFunc = 'max' | 'min' | ((values: unknown[]) => unknown);

export interface IncrementalOptions {
  initialValue?: unknown;
  /**
   * Load only items with cursor before endValue (a backfill): the run starts at
   * `initialValue` (required), and the stored cursor is neither read nor changed.
   */
  endValue?: unknown;
  lastValueFunc?: LastValueFunc;
  /**
   * The items arrive ordered by the cursor, as `lastValueFunc` orders it: `asc` stops reading
   * once an item is past `endValue`, `desc` once one is before the start (as dlt's row_order).
   */
  rowOrder?: 'asc' | 'desc';
  /**
   * Keys used to recognise items already loaded at the boundary (default: the resource's
   * primary key; none: the whole item). `[]` turns that deduplication off.
   */
  primaryKey?: string | string[];
  /** An item whose cursor is missing or null: `raise` (default), `include` it, or `exclude` it. */
  onCursorValueMissing?: 'raise' | 'include' | 'exclude';
  /** `open`: items equal to the start value are not loaded (no deduplication needed). Default `closed`. */
  rangeStart?: 'open' | 'closed';
  /** `closed`: items equal to `endValue` are loaded. Default `open`. */
  rangeEnd?: 'open' | 'closed';
  /**
   * Starts this far before the stored cursor (for `max`; after it for `min`), to reload late
   * changes: seconds for timestamps, days for dates (`YYYY-MM-DD`), units for numbers. Never
   * before `initialValue`; turns boundary deduplication off.
   */
  lag?: number;
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
    onCursorValueMissing: z.enum(['raise', 'include', 'exclude']).optional(),
    rangeStart: z.enum(['open', 'closed']).optional(),
    rangeEnd: z.enum(['open', 'closed']).optional(),
    lag: z.number().nonnegative().optional(),
    allowExternalSchedulers: z.boolean().optional(),
  })
  .strict();

/** The running progress of an incremental inside one extract (kept in checkpoints). */
export interface IncrementalProgress {
  lastValue: unknown;
  hashes: string[];
}

export class IncrementalCursorMissingError extends HaulError {
  constructor(resource: string, cursorPath: string, isNull = false) {
    super(
      'IncrementalCursorMissing',
      `resource "${resource}": an item ${isNull ? 'has null' : 'has no value'} at incremental cursor path "${cursorPath}"; ` +
        "make sure every item has a value there, choose another cursor, or pass onCursorValueMissing: 'include' (or 'exclude') to incremental()",
    );
  }
}

/** A cursor value that cannot be compared with the start or end value (dlt's IncrementalCursorInvalidCoercion). */
export class IncrementalCursorInvalidValueError extends HaulError {
  constructor(resource: string, cursorPath: string, value: unknown, against: unknown, what: string, why: string) {
    super(
      'IncrementalCursorInvalidValue',
      `resource "${resource}": the value ${show(value)} at incremental cursor path "${cursorPath}" cannot be compared with the ${what} ${show(against)} (${why}); ` +
        'make the cursor values one type (e.g. convert them in addMap, which runs before the incremental), or fix initialValue/endValue',
    );
  }
}

/** `pick` was given one value (dlt's `last_value_func((row_value,))`). */
const ONE = Symbol('one value');

function show(v: unknown): string {
  return `${JSON.stringify(v) ?? String(v)}`.slice(0, 80) + ` (${typeof v})`;
}

/**
 * An incremental cursor, like dlt's `dlt.sources.incremental`: keeps the last seen cursor
 * value per resource, drops items already loaded (before the start, or at it and seen
 * before), and stores the new value in the resource's state, which is saved when the
 * package loads. The filter follows dlt's JsonIncremental step by step, with any
 * `lastValueFunc` (`max`, `min` or the user's).
 */
export class Incremental {
  readonly cursorPath: string;
  readonly options: IncrementalOptions;
  private readonly path: string[];
  private state?: IncrementalState;
  private resourceName = '';
  private keyFields?: string[];
  /** Deduplicate items at the start value by their keys (off for `[]`, lag, an open start or a range). */
  private dedup = true;
  /** Where this run starts (the stored cursor, lagged; or initialValue/the window in a range). */
  private start: unknown;
  private boundaryHashes = new Set<string>();
  private seenHashes = new Set<string>();
  /** The running last value (starts at the stored cursor) and the hashes of its items. */
  private newLast: unknown;
  /** The stored cursor when this run bound (dlt's raw range start). */
  private boundLast: unknown;
  private newHashes: string[] = [];
  private stopped = false;
  /** The end of this run's range: the scheduler's window end, else `endValue`. */
  private end: unknown;
  /** This run loads a range (endValue or a scheduler's window): the stored cursor stays as it is. */
  private ranged = false;

  constructor(cursorPath: string, options: IncrementalOptions = {}) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) throw new InvalidOptionsError('incremental options', parsed.error.issues.map(formatIssue).join('; '));
    this.cursorPath = cursorPath;
    this.options = options;
    this.path = cursorPathParts(cursorPath);
    checkRange(options, this.pick);
  }

  /** The value this run starts from: the stored last value (lagged), else `initialValue`. */
  get startValue(): unknown {
    return this.start;
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
    const { options } = this;
    const windowed = options.allowExternalSchedulers === true && window !== undefined;
    this.ranged = windowed || options.endValue !== undefined;
    this.dedup = !this.ranged && this.keyFields?.length !== 0 && options.rangeStart !== 'open' && !(options.lag && typeof this.fn === 'string');
    if (this.ranged) {
      // A range alone decides what loads (dlt's throwaway state): the stored cursor is
      // neither read nor written.
      this.state = undefined;
      this.start = windowed ? this.windowValue(window!.start) : toComparable(options.initialValue);
      this.end = windowed ? this.windowValue(window!.end) : toComparable(options.endValue);
      this.boundaryHashes = new Set();
      this.newLast = this.start;
      this.newHashes = [];
      return;
    }
    this.end = undefined;
    const all = (resourceState.incremental ??= {});
    // The stored cursor wins over a changed initialValue, as in dlt: only a new cursor starts there.
    const initial = toComparable(options.initialValue) ?? null;
    const st = (all[this.cursorPath] ??= { initial_value: initial, last_value: initial, unique_hashes: [], start_value: initial });
    this.state = st;
    const last = st.last_value ?? undefined;
    this.boundLast = st.last_value;
    this.start = options.lag && last !== undefined && typeof this.fn === 'string' ? this.lagged(options.lag, last) : last;
    this.boundaryHashes = new Set(this.dedup ? st.unique_hashes : []);
    this.newLast = last;
    this.newHashes = this.dedup ? [...st.unique_hashes] : [];
  }

  private lagged(lag: number, last: unknown): unknown {
    try {
      return applyLag(lag, last, toComparable(this.options.initialValue), this.fn as 'max' | 'min');
    } catch (e) {
      throw this.invalid(last, this.options.initialValue, 'initialValue', e);
    }
  }

  /** A window instant in the cursor's terms: unix seconds for a numeric cursor, else ISO text. */
  private windowValue(iso: string): unknown {
    return typeof this.options.initialValue === 'number' ? Date.parse(iso) / 1000 : new Date(iso).toISOString();
  }

  private get fn(): LastValueFunc {
    return this.options.lastValueFunc ?? 'max';
  }

  /**
   * The last value function over one or two cursor values (dlt calls it with a tuple): `max`
   * and `min` without an array (this runs for every item), the user's with one.
   */
  private readonly pick = (a: unknown, b: unknown = ONE): unknown => {
    const fn = this.options.lastValueFunc ?? 'max';
    if (typeof fn === 'function') return toComparable(fn(b === ONE ? [a] : [a, b]));
    if (b === ONE) return a;
    const c = compare(b, a);
    return (fn === 'max' ? c > 0 : c < 0) ? b : a;
  };

  /** `pick` of an item's value and another; an error names the item's value and what it met. */
  private pickFor(v: unknown, other: unknown, what: string): unknown {
    try {
      return this.pick(v, other);
    } catch (e) {
      throw this.invalid(v, other, what, e);
    }
  }

  private invalid(value: unknown, against: unknown, what: string, e: unknown): HaulError {
    const why = e instanceof IncomparableValuesError ? 'values of different types' : e instanceof Error ? e.message : String(e);
    return new IncrementalCursorInvalidValueError(this.resourceName, this.cursorPath, value, against, what, why);
  }

  /** Returns true if the item is new and should be kept. Updates the running last value. */
  accept(item: unknown): boolean {
    const raw = readPath(item, this.path);
    if (raw === undefined || raw === null) {
      const mode = this.options.onCursorValueMissing ?? 'raise';
      if (mode === 'raise') throw new IncrementalCursorMissingError(this.resourceName, this.cursorPath, raw === null);
      return mode === 'include';
    }
    const v = toComparable(raw);
    const { end, start } = this;
    if (end !== undefined) {
      const past = !sameValue(this.pickFor(v, end, 'endValue'), end) || (this.options.rangeEnd !== 'closed' && sameValue(this.pick(v), end));
      if (past) {
        if (this.options.rowOrder === 'asc') this.stopped = true;
        return false;
      }
    }
    const last = this.newLast;
    const next = last === undefined ? this.pick(v) : this.pickFor(v, last, this.ranged ? 'start value' : 'stored cursor');
    if (last !== undefined && sameValue(next, last)) {
      // not past the running last value: it may be at or before the start
      const processed = this.pick(v);
      if (this.options.rangeStart === 'open' && sameValue(processed, start)) return this.beforeStart();
      if (start !== undefined && sameValue(this.pickFor(v, start, 'start value'), start)) {
        if (!sameValue(processed, start)) return this.beforeStart();
        if (this.dedup && this.seenAtStart(item)) return this.beforeStart();
      }
      if (this.dedup && sameValue(processed, last)) this.remember(item);
      return true;
    }
    this.newLast = next;
    this.newHashes = [];
    this.seenHashes = new Set();
    if (this.dedup) this.remember(item);
    return true;
  }

  private beforeStart(): false {
    if (this.options.rowOrder === 'desc') this.stopped = true;
    return false;
  }

  private seenAtStart(item: unknown): boolean {
    if (this.boundaryHashes.size === 0) return false;
    if (this.boundaryHashes.has(this.hashOf(item))) return true;
    // a whole-item hash stored before haul sorted the keys
    return this.keyFields === undefined && this.boundaryHashes.has(legacyDedupHash(item));
  }

  private remember(item: unknown): void {
    const h = this.hashOf(item);
    if (!this.seenHashes.has(h)) {
      this.seenHashes.add(h);
      this.newHashes.push(h);
    }
  }

  /**
   * What this extract has seen so far (the running last value and its boundary hashes),
   * for a checkpoint; the stored state keeps the start value until `commit()`.
   */
  progress(): IncrementalProgress {
    return { lastValue: this.newLast ?? null, hashes: [...this.newHashes] };
  }

  /** Continues from a checkpoint's `progress()` after `bind()`: the start value stays as bound. */
  restoreProgress(p: IncrementalProgress): void {
    this.newLast = p.lastValue ?? undefined;
    this.newHashes = [...p.hashes];
    this.seenHashes = new Set(p.hashes);
  }

  /** Writes the new cursor into the bound state (not for a range: endValue or a window). */
  commit(): void {
    if (!this.state || this.ranged) return;
    if (this.newLast === undefined) return;
    // dlt keeps the cursor this run started from as `start_value` once the cursor moves on
    if (!sameCursor(this.newLast, this.boundLast)) this.state.start_value = this.boundLast;
    this.state.last_value = this.newLast;
    this.state.unique_hashes = this.newHashes;
  }

  private hashOf(item: unknown): string {
    return dedupHash(this.keyFields ? this.keyFields.map((k) => readPath(item, k.split('.'))) : item);
  }
}

/** dlt's checks of a range: endValue needs initialValue, and must not come before it. */
function checkRange(o: IncrementalOptions, pick: (a: unknown, b?: unknown) => unknown): void {
  if (o.endValue === undefined) return;
  if (o.initialValue === undefined) throw new InvalidOptionsError('incremental', 'endValue needs an initialValue: a range loads from initialValue up to endValue');
  const end = toComparable(o.endValue);
  let chosen: unknown;
  try {
    chosen = pick(end, toComparable(o.initialValue));
  } catch {
    throw new InvalidOptionsError('incremental', `initialValue ${show(o.initialValue)} and endValue ${show(o.endValue)} are not comparable; give them one type`);
  }
  if (!sameValue(chosen, end)) {
    const fn = o.lastValueFunc ?? 'max';
    const order = fn === 'max' ? 'higher than' : fn === 'min' ? 'lower than' : 'what lastValueFunc picks over';
    throw new InvalidOptionsError('incremental', `endValue ${show(o.endValue)} must be ${order} initialValue ${show(o.initialValue)}`);
  }
}

/** `a.b`, or the same as JSONPath (`$.a.b`, `$['a.b']`); other JSONPath is refused up front. */
function cursorPathParts(cursorPath: string): string[] {
  if (typeof cursorPath !== 'string') {
    throw new InvalidOptionsError('incremental', `the first argument is the cursor path, a string; got ${cursorPath === null ? 'null' : typeof cursorPath}: use incremental('updated_at', { initialValue, ... })`);
  }
  if (!cursorPath) throw new InvalidOptionsError('incremental', 'cursorPath is empty');
  const p = cursorPath.startsWith('$') ? cursorPath.slice(1) : cursorPath;
  const parts: string[] = [];
  const re = /\.?([^.[\]]+)|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < p.length && (m = re.exec(p)) !== null) {
    parts.push(m[1] ?? m[2] ?? m[3]!);
    at = re.lastIndex;
  }
  if (at !== p.length || parts.length === 0) {
    throw new InvalidOptionsError(
      'incremental',
      `cursor path "${cursorPath}" is not a field path; use dotted fields (\`data.updated_at\`, also as \`$.data.updated_at\` or \`$['a.b']\`), ` +
        'or derive the cursor in addMap, which runs before the incremental',
    );
  }
  return parts;
}

export function incremental(cursorPath: string, options: IncrementalOptions = {}): Incremental {
  return new Incremental(cursorPath, options);
}

/** Cursor values as the state holds them (numbers, ISO strings, null; rarely lists). */
function sameCursor(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b));
}

function readPath(item: unknown, path: string[]): unknown {
  let cur = item;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}
