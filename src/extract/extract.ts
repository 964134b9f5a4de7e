import { fileURLToPath } from 'node:url';
import { DataValidationError, UnserializableValueError, InvalidOptionsError, HaulError } from '../errors.js';
import { normalizeColumnName, normalizeTableName, shortenPath } from '../schema/naming.js';
import { applyWriteDisposition, checkMergeHints } from '../schema/write-disposition.js';
import type { Schema } from '../schema/schema.js';
import { C_DLT_ID, PATH_SEPARATOR, STATE_TABLE } from '../schema/system.js';
import type { ColumnSchema, TableSchema } from '../schema/types.js';
import { RotatingJsonlWriter } from '../storage/jsonl.js';
import { newSortableFileId } from '../storage/job-name.js';
import { resourceStateOf, sourceStateOf, type PipelineState } from '../state/state.js';
import { faultPoint } from '../common/faults.js';
import { extractContext, type ResourceRunContext } from './context.js';
import { isIterable, type Resource, type Source } from './resource.js';
import { LimitCounter, afterIncremental, processYield } from './item-steps.js';
import { serializeItem } from './serialize.js';
import { JsonLines } from './json-lines.js';
import { modelValidator } from './model.js';
import { applyNestedHints } from './nested-hints.js';
import { applyColumnHint, hintedColumn } from './columns.js';
import { resolveContract } from '../schema/contract.js';
import { Incremental, type ExternalWindow } from './incremental.js';
import { inProgress, ProgressBook, type ExtractCheckpoints, type ExtractedResource, type ExtractProgressSnapshot } from './checkpoint.js';
import { mapConcurrent, parallelLimits, planLanes, runLanes, Semaphore, type ParallelOptions } from './parallel.js';

export type { ExtractedResource } from './checkpoint.js';

/** Bugs in user code: trying again cannot help, so they are not retried (on Temporal: non-retryable). */
const PROGRAMMING_ERRORS = [ReferenceError, TypeError, SyntaxError, RangeError, EvalError, URIError];

/**
 * An error a resource raised. A programming error names its kind and the first frame of
 * user code (haul's own frames and node internals skipped); an error that says it is not
 * retryable (Temporal's `ApplicationFailure.nonRetryable(...)`, whose `nonRetryable` is true)
 * is not retried either; anything else (I/O, HTTP) is retryable.
 */
function resourceFailed(resource: string, e: unknown): HaulError {
  const err = e instanceof Error ? e : undefined;
  const bug = err !== undefined && PROGRAMMING_ERRORS.some((k) => err instanceof k);
  const final = bug || (err as { nonRetryable?: unknown } | undefined)?.nonRetryable === true;
  const where = bug ? firstUserFrame(err.stack) : undefined;
  const message = bug
    ? `resource "${resource}" raised ${err.name}: ${err.message}${where ? ` (at ${where})` : ''}; this is a bug in the resource's code, fix it and run again`
    : `resource "${resource}" raised: ${err?.message ?? String(e)}`;
  return new HaulError(bug ? 'ResourceCodeError' : 'ResourceFailed', message, { cause: e, retryable: !final });
}

/** haul's own source folder (src/ in a checkout, dist/src/ when installed): its frames are not user code. */
const HAUL_SRC = fileURLToPath(new URL('..', import.meta.url));

function firstUserFrame(stack: string | undefined): string | undefined {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const frame = line.trim().replace(/^at\s+/, '');
    if (!frame || frame.includes('node:') || frame.includes('node_modules') || frame.includes(HAUL_SRC)) continue;
    return frame;
  }
  return undefined;
}

export interface ExtractProgress {
  resource: string;
  table: string;
  items: number;
}

export interface ExtractToDirOptions extends ParallelOptions {
  /** The run's window from an external scheduler (incremental resources with allowExternalSchedulers load it). */
  externalWindow?: ExternalWindow;
  /** Where the job files go: the new_jobs/ folder of the package being built. */
  jobsDir: string;
  source: Source;
  /** Schema to add resource tables and hints to (mutated). */
  schema: Schema;
  /** State to read and update (mutated; persisted only when the package loads). */
  state: PipelineState;
  maxFileBytes?: number;
  /** The first job file of each table ends at this size, each next one at twice that, up to maxFileBytes. */
  firstFileBytes?: number;
  /** A job file ended by rotation is complete on disk (the background pre-normalizer may read it). */
  onFileDone?: (table: string, path: string) => void;
  /** The destination's `capabilities.maxIdentifierLength`: longer table/column names are shortened as dlt does. */
  maxIdentifierLength?: number;
  signal?: AbortSignal;
  onProgress?: (p: ExtractProgress) => void;
  /** Records checkpoints (durable extracts); without it nothing is recorded, as before. */
  checkpoints?: ExtractCheckpoints;
  /**
   * Continue after this checkpoint: its resources done are not extracted again, the one in
   * progress reopens with `ctx.resumeFrom`, its counts and incremental progress. `state`
   * must be the checkpoint's state.
   */
  resume?: ExtractProgressSnapshot;
}

/**
 * Pulls every selected resource of the source and writes its items as JSONL files into
 * `dir/new_jobs`. Resource hints go into the schema; resource state and incremental
 * cursors into `state`. Parallelized resources run at the same time (parallel.ts).
 */
export async function extractSourceToDir(opts: ExtractToDirOptions): Promise<ExtractedResource[]> {
  const { source, schema, state } = opts;
  const out: ExtractedResource[] = [];
  const { jobsDir } = opts;
  const { checkpoints, resume } = opts;
  const selected = source.selectedResources;
  const resources = selected.map((r) => r.name);
  const startSourceState = resume?.startSourceState ?? structuredClone(sourceStateOf(state, source.name));
  // a declared source's settings replace the stored ones, as dlt's update_schema does: a
  // contract taken off the source is gone (data wrapped by run() keeps the stored settings)
  if (source.declared || source.schemaContract !== undefined) setOrDelete(schema.settings, 'schemaContract', source.schemaContract);
  if (source.declared || source.maxTableNesting !== undefined) setOrDelete(schema.settings, 'maxTableNesting', source.maxTableNesting);
  // All hints first: resources may start in any order.
  // (a resource with a dynamic table name hints each table when its first item arrives)
  for (const res of selected) if (!res.tableNameOf) applyResourceHints(schema, res, normalizeTableName(res.tableName, opts.maxIdentifierLength), opts.maxIdentifierLength);
  const { workers, maxParallelItems } = parallelLimits(opts);
  const lanes = planLanes(selected);
  const book = checkpoints && new ProgressBook(checkpoints, { sourceName: source.name, resources, done: out, state, startSourceState }, lanes.length > 1);
  // Calls of parallelized transformers in flight, across the extract.
  const transformSlots = new Semaphore(maxParallelItems);
  // Resources an earlier attempt finished are not extracted again; every checkpoint names them.
  const doneBefore = new Set<string>();
  for (const d of resume?.done ?? []) {
    if (doneBefore.has(d.resource) || !resources.includes(d.resource)) continue;
    out.push(d);
    doneBefore.add(d.resource);
  }
  await runLanes(lanes, workers, opts.signal, async (res, signal) => {
    const dynamic = res.tableNameOf;
    const table = normalizeTableName(res.tableName, opts.maxIdentifierLength);
    if (doneBefore.has(res.name)) return;
    if (dynamic ? res.hints.writeDisposition === 'skip' : (schema.getTable(table)?.writeDisposition ?? 'append') === 'skip') {
      if (!dynamic) out.push({ resource: res.name, table, items: 0, files: [] });
      return;
    }
    const cont = resume && inProgress(resume).find((r) => r.resource === res.name);
    const srcState = sourceStateOf(state, source.name);
    const resState = resourceStateOf(state, source.name, res.name);
    res.incremental?.bind(res.name, resState, res.hints.primaryKey, opts.externalWindow);
    if (cont?.incremental) res.incremental?.restoreProgress(cont.incremental);
    const newWriter = (name: string) =>
      new RotatingJsonlWriter({
        dir: jobsDir,
        table: name,
        maxFileBytes: opts.maxFileBytes ?? 64 << 20,
        ...(opts.firstFileBytes !== undefined && { firstFileBytes: opts.firstFileBytes }),
        nextFileId: newSortableFileId,
        ...(opts.onFileDone && { onFileDone: (_name: string, path: string) => opts.onFileDone!(name, path) }),
      });
    // The resource's table, or (dynamic) one writer per table its items name, made on first sight.
    const writer = newWriter(table);
    const sinks = new Map<string, { writer: RotatingJsonlWriter; items: number }>();
    const tableNames = new Map<string, string>();
    const sinkOf = (item: unknown) => {
      const raw = dynamic!(item as Record<string, unknown>);
      let name = tableNames.get(raw);
      if (name === undefined) {
        if (typeof raw !== 'string' || raw === '') throw new InvalidOptionsError(`resource "${res.name}" tableName`, `the function returned ${JSON.stringify(raw) ?? String(raw)}; it must return a table name`);
        name = normalizeTableName(raw, opts.maxIdentifierLength);
        tableNames.set(raw, name);
      }
      let sink = sinks.get(name);
      if (!sink) {
        applyResourceHints(schema, res, name, opts.maxIdentifierLength);
        sinks.set(name, (sink = { writer: newWriter(name), items: 0 }));
      }
      return { name, sink };
    };
    // Files an earlier attempt completed before its last checkpoint.
    const filesBefore = cont?.files ?? [];
    const ctx = { sourceState: srcState, resourceState: resState, sourceStateAtStart: startSourceState };
    let items = cont?.items ?? 0;
    let reportedAt = performance.now();
    const contract = resolveContract(dynamic ? res.hints.schemaContract : schema.getTable(table)!.schemaContract, schema.settings.schemaContract);
    const validate = res.model && modelValidator(res.model, contract, { schemaName: schema.name, table });
    const write = (item: unknown) => {
      if (item instanceof JsonLines) throw new InvalidOptionsError(`resource "${res.name}"`, 'a JsonLines chunk must be yielded on its own, not inside a page or from a step');
      if (dynamic) {
        const { name, sink } = sinkOf(item);
        sink.writer.write(serializeItem(item, name));
        sink.items++;
      } else writer.write(serializeItem(item, table));
      items++;
      // Report about four times a second; the clock is read once per 1,024 items only.
      if ((items & 0x3ff) === 0) reportProgress();
    };
    const reportProgress = () => {
      if (opts.onProgress && performance.now() - reportedAt >= 250) {
        reportedAt = performance.now();
        opts.onProgress({ resource: res.name, table, items });
      }
    };
    // After the steps: the model's validation, then the incremental cursor, then the writer (dlt's order).
    const validated = afterIncremental(res.incremental, write);
    const last = validate
      ? (item: unknown) => {
          const v = validate(item);
          return v !== undefined && validated(v);
        }
      : validated;
    // Chunks of JSON lines go to the job file unparsed when nothing looks inside the items.
    const raw = !res.incremental && res.pipe.steps.length === 0 && !validate && !dynamic;
    const parent = res.pipe.parent;
    // A transformer reads its parent (and theirs, up a chain) in a pass of its own. A parent
    // this extract loads too keeps its state through its own pass: this pass starts from the
    // parent's state as the extract began and drops what it changes, so both passes see the
    // same items. A parent not selected keeps what this pass changes (its cursor moves).
    const passes: AncestorPass[] = [];
    const passOf = (r: Resource): AncestorPass => {
      const own = resources.includes(r.name);
      const rState = own ? structuredClone(startSourceState.resources?.[r.name] ?? {}) : resourceStateOf(state, source.name, r.name);
      const incremental = r.incremental && (own ? new Incremental(r.incremental.cursorPath, r.incremental.options) : r.incremental);
      incremental?.bind(r.name, rState, r.hints.primaryKey);
      const pass = { res: r, ctx: { sourceState: srcState, resourceState: rState, sourceStateAtStart: startSourceState }, incremental, keeps: !own };
      passes.push(pass);
      return pass;
    };
    const limit = new LimitCounter(res.pipe.limit, cont?.yields ?? 0);
    // A resource offers checkpoints between yields: everything yielded so far has been
    // written, so the token covers exactly the items in the files named. Transformers do
    // not checkpoint inside (their position is their parent's and their own).
    let itemsAtCheckpoint = items;
    let checkpointAt = performance.now();
    book?.begin(res.name, resState, cont);
    // (not for dynamic table names: a checkpoint names the files of one table)
    const checkpoint = checkpoints && book && !parent && !dynamic
      ? (resumeToken: unknown) => {
          const { everyItems, everyMs } = checkpoints.policy;
          if (items - itemsAtCheckpoint < everyItems && performance.now() - checkpointAt < everyMs) return;
          const onDisk = writer.rotate();
          const current = { resource: res.name, table, items, files: [...filesBefore, ...writer.files], yields: limit.taken, resumeFrom: resumeToken, incremental: res.incremental?.progress() };
          // the writer's files reach the disk in the background: the book takes the
          // checkpoint now and writes it once the files it names are on disk
          book.position(current, resState, onDisk);
          itemsAtCheckpoint = items;
          checkpointAt = performance.now();
        }
      : undefined;
    try {
      const data = parent
        ? transformerYields(res, passOf(parent), passOf, ctx, transformSlots, signal)
        : extractContext.run(ctx, () => res.open({ state: resState, incremental: res.incremental, resumeFrom: cont?.resumeFrom, checkpoint }));
      await drain(data, ctx, (yielded) => {
        if (!limit.open()) return true;
        if (!(yielded instanceof JsonLines)) limit.count(processYield(yielded, res.pipe.steps, last));
        else if (!raw) limit.count(processYield(yielded.items(), res.pipe.steps, last));
        else {
          writer.writeLines(yielded.bytes, yielded.lineCount);
          items += yielded.lineCount;
          limit.count(yielded.lineCount);
          reportProgress();
        }
        return res.incremental?.isStopped === true || limit.full;
      }, signal);
    } catch (e) {
      await writer.close().catch(() => undefined);
      for (const sink of sinks.values()) await sink.writer.close().catch(() => undefined);
      await book?.settled().catch(() => undefined);
      if (e instanceof HaulError) throw e;
      if (e instanceof TypeError && /circular/i.test(e.message)) throw new UnserializableValueError(table, '', 'a circular reference');
      throw resourceFailed(res.name, e);
    }
    res.incremental?.commit();
    for (const pass of passes) if (pass.keeps) pass.incremental?.commit();
    // a durable extract's last checkpoint names these files: fsynced, as rotate does
    const finish = (w: RotatingJsonlWriter) => (checkpoints ? w.rotate() : w.close());
    const files = [...filesBefore, ...(await finish(writer))];
    opts.onProgress?.({ resource: res.name, table, items });
    if (!dynamic) out.push({ resource: res.name, table, items, files });
    for (const [name, sink] of sinks) out.push({ resource: res.name, table: name, items: sink.items, files: await finish(sink.writer) });
    // A resource done is a checkpoint too: a retry starts at the next resource.
    await book?.finish(res.name);
    faultPoint('extract:after-resource');
  });
  // In the source's order, whichever finished first.
  return resources.flatMap((name) => out.filter((r) => r.resource === name));
}

/** How a transformer reads one of its ancestors: the ancestor's state context and cursor, and whether the pass keeps what it changes. */
interface AncestorPass {
  res: Resource;
  ctx: ResourceRunContext;
  incremental: Incremental | undefined;
  keeps: boolean;
}

/**
 * A transformer's input: its parent's yields (after the parent's limit, incremental and
 * steps; a page stays a page), each passed to the transformer's function, whose results are
 * yielded in turn (iterables flattened one level, promises awaited). A parallelized one is
 * called for several parent yields at once (parallel.ts); its results follow as calls finish.
 * A parent that is a transformer itself reads its own parent the same way (`passOf`).
 */
async function* transformerYields(
  res: Resource,
  parent: AncestorPass,
  passOf: (r: Resource) => AncestorPass,
  ctx: ResourceRunContext,
  slots: Semaphore,
  signal?: AbortSignal,
): AsyncGenerator<unknown> {
  const transform = res.pipe.transform!;
  const call = (arg: unknown) => extractContext.run(ctx, () => transform(arg, { state: ctx.resourceState, incremental: res.incremental }));
  if (res.parallelized) {
    const collect = async (arg: unknown): Promise<unknown[]> => {
      const out = await call(arg);
      if (!isIterable(out)) return [out];
      const all: unknown[] = [];
      for await (const y of iterate(out, ctx, signal)) all.push(y);
      return all;
    };
    for await (const yields of mapConcurrent(parentArgs(parent, passOf, slots, signal), collect, slots)) yield* yields;
    return;
  }
  for await (const arg of parentArgs(parent, passOf, slots, signal)) {
    const out = await call(arg);
    if (isIterable(out)) yield* iterate(out, ctx, signal);
    else yield out;
  }
}

/** What a transformer is called with: its parent's yields that keep items after the parent's limit, incremental and steps. */
async function* parentArgs(pass: AncestorPass, passOf: (r: Resource) => AncestorPass, slots: Semaphore, signal?: AbortSignal): AsyncGenerator<unknown> {
  const { res: parent, ctx, incremental } = pass;
  const limit = new LimitCounter(parent.pipe.limit);
  const grandparent = parent.pipe.parent;
  const input = grandparent
    ? transformerYields(parent, passOf(grandparent), passOf, ctx, slots, signal)
    : extractContext.run(ctx, () => parent.open({ state: ctx.resourceState, incremental }));
  let accepted: unknown[] = [];
  const keep = afterIncremental(incremental, (it) => accepted.push(it));
  for await (const chunk of iterate(input, ctx, signal)) {
    if (!limit.open()) return;
    // a chunk of JSON lines reaches the transformer as the page of its objects
    const yielded = chunk instanceof JsonLines ? chunk.items() : chunk;
    accepted = [];
    limit.count(processYield(yielded, parent.pipe.steps, keep));
    if (accepted.length > 0) yield Array.isArray(yielded) ? accepted : accepted[0];
    if (incremental?.isStopped === true || limit.full) return;
  }
}

/** Sync or async data as one async stream, each step inside the resource's state context. */
async function* iterate(data: unknown, ctx: Parameters<typeof extractContext.run>[0], signal?: AbortSignal): AsyncGenerator<unknown> {
  const d = data as { [Symbol.asyncIterator]?: () => AsyncIterator<unknown>; [Symbol.iterator]?: () => Iterator<unknown> };
  const async = typeof d?.[Symbol.asyncIterator] === 'function';
  if (!async && typeof d?.[Symbol.iterator] !== 'function') throw new InvalidOptionsError('resource data', 'expected an iterable or async iterable');
  const it = extractContext.run(ctx, () => (async ? d[Symbol.asyncIterator]!() : d[Symbol.iterator]!())) as AsyncIterator<unknown> | Iterator<unknown>;
  let n = 0;
  try {
    for (;;) {
      const r = await extractContext.run(ctx, () => it.next());
      if (r.done) return;
      yield r.value;
      if ((++n & 0xfff) === 0) await new Promise((r2) => setImmediate(r2));
      if (signal?.aborted) throw signal.reason;
    }
  } finally {
    await it.return?.();
  }
}

/** Iterates sync or async data inside the resource's state context; `onItem` returning true stops. */
async function drain(
  data: unknown,
  ctx: Parameters<typeof extractContext.run>[0],
  onItem: (item: unknown) => boolean,
  signal?: AbortSignal,
): Promise<void> {
  const d = data as { [Symbol.asyncIterator]?: () => AsyncIterator<unknown>; [Symbol.iterator]?: () => Iterator<unknown> };
  const give = onItem;
  // a generator yielded by the resource is unwound one level, as dlt does (its items, not one row of {})
  onItem = (item) => {
    if (typeof item !== 'object' || item === null || typeof (item as { next?: unknown }).next !== 'function') return give(item);
    const tag = Object.prototype.toString.call(item);
    if (tag === '[object AsyncGenerator]') throw new InvalidOptionsError('resource data', 'an async generator was yielded as an item; yield its items instead (for await ... yield)');
    if (tag !== '[object Generator]') return give(item);
    for (const inner of item as Iterable<unknown>) if (give(inner)) return true;
    return false;
  };
  if (typeof d?.[Symbol.asyncIterator] === 'function') {
    const it = extractContext.run(ctx, () => d[Symbol.asyncIterator]!());
    for (;;) {
      const r = await extractContext.run(ctx, () => it.next());
      if (r.done) return;
      if (onItem(r.value)) {
        await it.return?.();
        return;
      }
      if (signal?.aborted) {
        await it.return?.();
        throw signal.reason;
      }
    }
  }
  if (typeof d?.[Symbol.iterator] === 'function') {
    const it = extractContext.run(ctx, () => d[Symbol.iterator]!());
    let n = 0;
    for (;;) {
      const r = extractContext.run(ctx, () => it.next());
      if (r.done) return;
      if (onItem(r.value)) {
        it.return?.();
        return;
      }
      // Yield to the event loop now and then so heartbeats and cancellation get through.
      if ((++n & 0x3fff) === 0) {
        await new Promise((r2) => setImmediate(r2));
        if (signal?.aborted) {
          it.return?.();
          throw signal.reason;
        }
      }
    }
  }
  throw new InvalidOptionsError('resource data', 'expected an iterable or async iterable');
}

/** Puts a resource's table hints (disposition, keys, column hints, nesting) into the schema. */
export function applyResourceHints(schema: Schema, res: Resource, table: string, maxIdentifierLength?: number): void {
  const h = res.hints;
  const t = schema.ensureTable(table, { resource: res.name });
  t.resource = res.name;
  if (h.maxTableNesting !== undefined) t.maxTableNesting = h.maxTableNesting;
  if (h.schemaContract !== undefined) t.schemaContract = h.schemaContract;
  const colName = (name: string, path = false): string =>
    path
      ? shortenPath(name.split(PATH_SEPARATOR).map((part) => normalizeColumnName(part, maxIdentifierLength)).join(PATH_SEPARATOR), maxIdentifierLength)
      : normalizeColumnName(name, maxIdentifierLength);
  const hintCol = (name: string, path = false): ColumnSchema => hintedColumn(t, colName(name, path));
  const hasRows = t.columns[C_DLT_ID] !== undefined && !t.columns[C_DLT_ID].incomplete;
  for (const [name, hint] of Object.entries(h.columns ?? {})) {
    const col = colName(name, h.columnPaths === true);
    if (hasRows && hint.dataType && !admitsHintedColumn(schema, t, col)) continue;
    applyColumnHint(t, col, hint);
  }
  // after the hinted columns: scd2's validity columns follow them, as dlt orders a new table's columns
  if (h.writeDisposition) applyWriteDisposition(t, h.writeDisposition, (n) => normalizeColumnName(n, maxIdentifierLength));
  else t.writeDisposition ??= 'append';
  const keys = (k: string | string[] | undefined) => (k === undefined ? [] : Array.isArray(k) ? k : [k]);
  if (h.primaryKey !== undefined) {
    for (const c of Object.values(t.columns)) delete c.primaryKey;
    for (const k of keys(h.primaryKey)) Object.assign(hintCol(k), { primaryKey: true, nullable: false });
  }
  if (h.mergeKey !== undefined) {
    for (const c of Object.values(t.columns)) delete c.mergeKey;
    for (const k of keys(h.mergeKey)) Object.assign(hintCol(k), { mergeKey: true, nullable: false });
  }
  checkMergeHints(t);
  if (h.nestedHints !== undefined) applyNestedHints(schema, table, h.nestedHints, maxIdentifierLength);
}

/**
 * A typed column hint that adds a column to a table holding rows is a new column to the
 * contract, as dlt checks hints in extract: `freeze` refuses it (nothing is extracted),
 * `discard_row`/`discard_value` leave it out (its values are then new-column values, which
 * normalize discards). A column the table has passes.
 */
function admitsHintedColumn(schema: Schema, t: TableSchema, col: string): boolean {
  if (t.columns[col] !== undefined) return true;
  const mode = resolveContract(t.schemaContract, schema.settings.schemaContract).columns;
  if (mode === 'evolve') return true;
  if (mode === 'freeze') {
    throw new DataValidationError(schema.name, t.name, col, 'columns', mode, '(a columns hint of the resource)', `the hint adds column "${col}" to a table that holds rows`);
  }
  return false;
}

/** The `_dlt_pipeline_state` table as dlt defines it. */
export function ensureStateTable(schema: Schema): void {
  if (schema.getTable(STATE_TABLE)) return;
  const col = (name: string, dataType: ColumnSchema['dataType']): ColumnSchema => ({ name, dataType, nullable: false });
  schema.ensureTable(STATE_TABLE, { writeDisposition: 'append', resource: STATE_TABLE });
  for (const c of [
    col('version', 'bigint'),
    col('engine_version', 'bigint'),
    col('pipeline_name', 'text'),
    col('state', 'text'),
    col('created_at', 'timestamp'),
    col('version_hash', 'text'),
  ]) schema.addColumn(STATE_TABLE, c);
}

function setOrDelete<T extends object, K extends keyof T>(o: T, key: K, value: T[K] | undefined): void {
  if (value === undefined) delete o[key];
  else o[key] = value;
}
