import { faultPoint } from '../common/faults.js';
import { HaulError, InvalidIdentifierError, InvalidOptionsError, UnsupportedWriteDispositionError } from '../errors.js';
import { normalizeTableName } from '../schema/naming.js';
import type { Schema } from '../schema/schema.js';
import type { ColumnHint, LoaderFileFormat, WriteDisposition } from '../schema/types.js';
import { dispositionName } from '../schema/write-disposition.js';
import type { StepOptions } from '../progress/step-options.js';
import { bumpStateVersion, type PipelineState } from '../state/state.js';
import { loadIdTime, newLoadId } from '../storage/job-name.js';
import type { PackageState } from '../storage/package-state.js';
import type { WorkingDir } from '../storage/working-dir.js';
import { extractSourceToDir } from './extract.js';
import { ExtractCheckpoints, isExtractProgress, summarize, type ExtractProgressSnapshot } from './checkpoint.js';
import type { ExternalWindow } from './incremental.js';
import { applyParentTables } from './parent-table.js';
import { planRefresh, type RefreshMode } from './refresh.js';
import { writeStateRowJob } from './state-row.js';
import type { Source } from './resource.js';
import type { ExtractObserver } from './observer.js';
import { toSource, type Extractable, type ToSourceHints } from './to-source.js';
import { columnRecord } from './columns.js';

export interface ExtractInfo {
  loadId: string;
  sourceName: string;
  /** Items extracted per root table. */
  itemCounts: Record<string, number>;
  /** Set when this extract continued after a checkpoint an earlier attempt left (its number and the items it held). */
  resumedFrom?: { checkpoint: number; items: Record<string, number> };
}

/** Where extract works: the pipeline's working dir and the names its package records. */
export interface ExtractContext {
  wd: WorkingDir;
  pipelineName: string;
  datasetName: string;
  destinationName: string;
  /** The schema a source starts with when the working dir has none (e.g. an imported one). */
  initialSchema(name: string): Promise<Schema>;
  /** The destination's write dispositions: another one is refused before anything is extracted. */
  supportedWriteDispositions: readonly WriteDisposition[];
  /** The destination's advice for a disposition it refuses (capabilities.unsupportedWriteDispositionAdvice). */
  unsupportedWriteDispositionAdvice?: Partial<Record<WriteDisposition, string>>;
  /** The destination's type limits: a column hint past them is refused before anything is extracted. */
  typeLimits?: { maxTimestampPrecision?: number; maxIntegerPrecision?: number };
  /** The destination's `capabilities.maxIdentifierLength`: longer names are shortened as dlt does. */
  maxIdentifierLength?: number;
  /** Job files rotate at this size (default 64 MiB). */
  maxFileBytes?: number;
  /** The first job file of a table rotates at this size, each next one at twice that (up to maxFileBytes). */
  firstFileBytes?: number;
  /** Watches the package's job files as they complete (normalize's pre-normalizer). */
  observer?: ExtractObserver;
}

export interface ExtractRequest {
  data: Extractable;
  /** Table hints for data that is not a resource (tableName, writeDisposition, columns, ...). */
  hints: Omit<ToSourceHints, 'sourceName'>;
  /** The schema (= source) name for data that is not a source; default: the pipeline name. */
  schemaName?: string;
  refresh?: RefreshMode;
  /** The job file format normalize is to write for this package. */
  loaderFileFormat?: LoaderFileFormat;
  /** The run's window from an external scheduler, for incremental resources that allow it. */
  externalWindow?: ExternalWindow;
  /** dlt's `max_parallel_items`: items of parallelized resources in flight at once (validated by the pipeline). */
  maxParallelItems?: number;
  /** dlt's extract `workers`: parallelized resources running at once (validated by the pipeline). */
  workers?: number;
}

/**
 * The extract step: pulls the data into a new extracted package and commits it atomically.
 * The package carries the schema with the resources' hints, the state the extract produced
 * (committed locally only once the package loads) and the refresh plan, if any.
 * With `stepOptions.loadId` set and that package existing already, nothing is extracted
 * again: an attempt that committed and then died is recognised.
 */
export async function extractStep(ctx: ExtractContext, req: ExtractRequest, stepOptions: StepOptions = {}): Promise<ExtractInfo> {
  const { wd } = ctx;
  wd.storage.recover();
  // A checkpointed extract of another load will not be retried any more.
  wd.storage.discardCheckpoints(stepOptions.loadId);
  if (stepOptions.loadId) {
    const done = wd.storage.findStage(stepOptions.loadId);
    if (done) {
      const pkg = wd.packageState(done, stepOptions.loadId);
      return { loadId: pkg.loadId, sourceName: pkg.sourceName, itemCounts: pkg.itemCounts };
    }
  }
  const source = toSource(req.data, { ...req.hints, sourceName: req.schemaName ?? ctx.pipelineName });
  let state = structuredClone(wd.effectiveState(ctx.pipelineName, ctx.datasetName));
  const schema = wd.effectiveSchema(source.schemaName)?.clone() ?? (await ctx.initialSchema(source.schemaName));
  checkResourceTables(ctx, source, schema);
  const refresh = req.refresh ? planRefresh(req.refresh, source, schema, state, ctx.maxIdentifierLength) : undefined;

  const loadId = stepOptions.loadId ?? newLoadId();
  // Checkpoints only serve a caller that will retry the same load id (a durable runner).
  const checkpointing = stepOptions.loadId !== undefined && stepOptions.checkpoint !== false;
  let pkgBuilder = wd.storage.beginPackage('extracted', loadId, { resume: checkpointing });
  const resume = resumable(pkgBuilder.checkpoint?.progress, source);
  // Another source or selection under this load id: start over in an empty folder.
  if (pkgBuilder.checkpoint && !resume) pkgBuilder = wd.storage.beginPackage('extracted', loadId);
  const checkpoints = checkpointing
    ? new ExtractCheckpoints(pkgBuilder, stepOptions.checkpoint || undefined, pkgBuilder.checkpoint?.seq ?? 0, stepOptions.onCheckpoint)
    : undefined;
  const watcher = ctx.observer?.begin({ loadId, schema, refresh });
  try {
    // The checkpoint's state already holds the refresh plan's changes and the resources done.
    if (resume) state = structuredClone(resume.state);
    const { signal, onProgress } = stepOptions;
    const extracted = await extractSourceToDir({
      maxFileBytes: ctx.maxFileBytes,
      firstFileBytes: ctx.firstFileBytes,
      ...(watcher && { onFileDone: (table: string, path: string) => watcher.fileDone(table, path) }),
      jobsDir: pkgBuilder.newJobsDir,
      source,
      schema,
      state,
      maxIdentifierLength: ctx.maxIdentifierLength,
      checkpoints,
      resume,
      externalWindow: req.externalWindow,
      workers: req.workers,
      maxParallelItems: req.maxParallelItems,
      signal,
      onProgress: onProgress && ((p) => onProgress({ step: 'extract', loadId, resource: p.resource, table: p.table, count: p.items })),
    });
    watcher?.end();
    applyParentTables(schema, source, ctx.maxIdentifierLength);
    state.default_schema_name ??= source.schemaName;
    if (!state.schema_names.includes(source.schemaName)) state.schema_names.push(source.schemaName);
    state.dataset_name = ctx.datasetName;
    state.destination_name = ctx.destinationName;
    pruneEmptyResourceStates(state, source.name);
    const changed = bumpStateVersion(state);
    if (changed) writeStateRowJob(pkgBuilder.newJobsDir, schema, state, ctx.pipelineName);
    schema.bumpVersion();
    const itemCounts: Record<string, number> = {};
    for (const r of extracted) itemCounts[r.table] = (itemCounts[r.table] ?? 0) + r.items;
    const pkg: PackageState = {
      loadId,
      createdAt: loadIdTime(loadId) ?? new Date().toISOString(),
      schemaName: schema.name,
      sourceName: source.name,
      pipelineState: changed || refresh ? state : null,
      // a table with parentTableName loads in its root's chain
      chainRoots: [...new Set(extracted.map((r) => (schema.getTable(r.table) ? schema.rootOf(r.table).name : r.table)))],
      itemCounts,
      refresh,
      ...(req.loaderFileFormat && { loaderFileFormat: req.loaderFileFormat }),
    };
    pkgBuilder.writeSchema(schema);
    pkgBuilder.writeState(pkg);
    faultPoint('extract:before-commit');
    pkgBuilder.commit();
    const resumedFrom = resume && pkgBuilder.checkpoint && { checkpoint: pkgBuilder.checkpoint.seq, items: summarize(0, resume, 0).items };
    return { loadId, sourceName: source.name, itemCounts, ...(resumedFrom && { resumedFrom }) };
  } catch (e) {
    watcher?.end();
    // A failure the runner retries (HTTP gave up, a connection dropped) keeps the last
    // checkpoint for the next attempt of this load id; anything else starts clean.
    const retried = !(e instanceof HaulError) || e.retryable;
    if (!(checkpoints && checkpoints.last > 0 && retried)) pkgBuilder.abort();
    throw e;
  }
}

/** A checkpoint's progress, when it belongs to this source and selection of resources. */
function resumable(progress: unknown, source: Source): ExtractProgressSnapshot | undefined {
  if (!isExtractProgress(progress)) return undefined;
  const names = source.selectedResources.map((r) => r.name);
  if (progress.sourceName !== source.name || progress.resources.join('\n') !== names.join('\n')) return undefined;
  return progress;
}

/** Job file names hold the table name; file systems allow 255 bytes per name. */
const MAX_TABLE_NAME_BYTES = 200;

/**
 * Refused up front, before a package is written: a write disposition the destination cannot
 * load (it would strand the package), and a table name too long for a job file name.
 */
function checkResourceTables(ctx: ExtractContext, source: Source, schema: Schema): void {
  for (const res of source.selectedResources) {
    const table = normalizeTableName(res.tableName, ctx.maxIdentifierLength);
    if (Buffer.byteLength(table) > MAX_TABLE_NAME_BYTES) {
      throw new InvalidIdentifierError(
        `${table.slice(0, 40)}…`,
        res.tableName.length > 60 ? `${res.tableName.slice(0, 60)}…` : res.tableName,
        `normalizes to a table name of ${Buffer.byteLength(table)} bytes; at most ${MAX_TABLE_NAME_BYTES} fit in a load package's file names: give resource "${res.name}" a shorter tableName`,
      );
    }
    const given = res.hints.writeDisposition;
    const disposition = given !== undefined ? dispositionName(given) : (schema.getTable(table)?.writeDisposition ?? 'append');
    if (!ctx.supportedWriteDispositions.includes(disposition)) {
      throw new UnsupportedWriteDispositionError(ctx.destinationName, table, res.name, disposition, ctx.supportedWriteDispositions, ctx.unsupportedWriteDispositionAdvice?.[disposition]);
    }
    if (ctx.typeLimits && res.hints.columns) checkColumnTypes(ctx.destinationName, table, columnRecord(res.hints.columns), ctx.typeLimits);
  }
}

/** A precision the destination has no type for is refused, as dlt refuses it when it creates the table. */
function checkColumnTypes(destination: string, table: string, columns: Record<string, ColumnHint>, limits: NonNullable<ExtractContext['typeLimits']>): void {
  for (const [name, c] of Object.entries(columns)) {
    const where = `column "${name}" of table "${table}"`;
    const { maxTimestampPrecision: ts, maxIntegerPrecision: int } = limits;
    if ((c.dataType === 'timestamp' || c.dataType === 'time') && c.precision !== undefined && ts !== undefined && c.precision > ts) {
      throw new InvalidOptionsError(where, `${destination} keeps at most ${ts} fractional digits of a ${c.dataType} (precision ${c.precision}); hint a precision from 0 to ${ts}`);
    }
    if (c.dataType === 'bigint' && c.precision !== undefined && int !== undefined && c.precision > int) {
      throw new InvalidOptionsError(where, `${destination} has no integer type of ${c.precision} bits (at most ${int}); hint a precision up to ${int}, or dataType 'decimal'`);
    }
  }
}

/**
 * Drops the `{}` entries extract made for resources that keep no state: dlt makes a
 * resource's entry only when the resource uses it, so an unused one changes no state (and a
 * run with nothing new then has no state row to load).
 */
function pruneEmptyResourceStates(state: PipelineState, sourceName: string): void {
  const resources = state.sources[sourceName]?.resources;
  if (!resources) return;
  for (const [name, rs] of Object.entries(resources)) if (rs && typeof rs === 'object' && Object.keys(rs).length === 0) delete resources[name];
  if (Object.keys(resources).length === 0) delete state.sources[sourceName]!.resources;
}
