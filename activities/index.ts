/**
 * The pipeline steps as Temporal activities. Each wraps the in-process engine step of the
 * same name (the workflow adds durability, not logic), heartbeats progress (counts and
 * table names only), honours cancellation, and maps haul errors to Temporal failures:
 * a HaulError with retryable=false becomes a non-retryable ApplicationFailure whose type
 * is the error's code; anything else is retried with backoff.
 * Credentials are resolved here, on the worker; they never travel in inputs or results.
 */
import { join, resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { z } from 'zod';
import { faultPoint } from '../src/common/faults.js';
import { formatIssue } from '../src/common/zod-issues.js';
import { redact } from '../src/config/redact.js';
import { HaulError, InvalidOptionsError } from '../src/errors.js';
import { isResource, isSource, Source, type Resource } from '../src/extract/resource.js';
import type { Extractable } from '../src/extract/to-source.js';
import { withSourceStateReader } from '../src/extract/context.js';
import { resolveDestination } from '../src/destinations/index.js';
import type { DestinationFactory } from '../src/destinations/types.js';
import { applyRefreshStep, dropSnapshotStep, restoreSnapshotStep, settleLeftoverSnapshots } from '../src/load/refresh-step.js';
import { planDrop } from '../src/pipeline/drop.js';
import { defaultPipelinesDir, type RunOptions } from '../src/pipeline/options.js';
import { pipeline, type Pipeline, type StepOptions, type StepProgress } from '../src/pipeline/pipeline.js';
import { attach } from '../src/pipeline/attach.js';
import type { CheckpointPolicy, CheckpointSummary } from '../src/progress/step-options.js';
import type {
  HaulActivities,
  HeartbeatCheckpoint,
  HeartbeatDetails,
  DropInput,
  DropResult,
  ExtractResult,
  JsonValue,
  LoadResult,
  NormalizeResult,
  PackageSummary,
  PipelineRef,
  PipelineRunInput,
  SnapshotRef,
  SyncResult,
} from '../src/temporal/types.js';
import { COMPLETED_JOBS } from '../src/storage/layout.js';
import { scheduledRunFailed, type ScheduledRunFailure } from './schedule-failures.js';

/** Something a worker can extract by name: a source factory, a resource/source, or a function returning data. */
export type SourceEntry =
  | ((...args: any[]) => unknown) // eslint-disable-line @typescript-eslint/no-explicit-any
  | Resource
  | Source
  | {
      /** The source factory (or data function). */
      source: (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
      /** Validates `args` before the source is called; bad args fail the run without retries. */
      args?: z.ZodType;
    };

export type SourceRegistry = Record<string, SourceEntry>;

/**
 * Destinations a worker knows by name. A factory made on the worker may hold credentials
 * (from env or secrets files); the workflow input only names it.
 */
export type DestinationRegistry = Record<string, DestinationFactory | ((options: Record<string, JsonValue>) => DestinationFactory)>;

export interface ActivitiesOptions {
  sources: SourceRegistry;
  destinations?: DestinationRegistry;
  /** Where pipeline working dirs live on this worker (default: HAUL_PIPELINES_DIR or ~/.haul/pipelines). */
  pipelinesDir?: string;
  /**
   * Set when this worker keeps package files on a local disk: the sync step returns this
   * queue and the workflow runs the package's other steps on it (this worker only).
   */
  localTaskQueue?: string;
  /** Extract checkpoints on this worker (a run's `tuning.checkpointEvery*` wins); default every 10,000 items or 10 s. */
  checkpoint?: CheckpointPolicy;
}

// ---- error mapping -----------------------------------------------------------------------

/**
 * Text that goes into Temporal history: known secrets, `user:password@` in URLs and
 * `password=...` pairs are hidden, in case a driver message quotes them.
 */
export function scrubSecrets(message: string): string {
  return redact(message);
}

function innermostHaulError(e: unknown): HaulError | undefined {
  let found: HaulError | undefined;
  let cur: unknown = e;
  for (let i = 0; i < 10 && cur; i++) {
    if (cur instanceof HaulError && cur.code !== 'PipelineStepFailed') found = cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return found;
}

/** HaulError(retryable=false) -> ApplicationFailure.nonRetryable(message, code); else retryable. */
export function toFailure(e: unknown): Error {
  if (e instanceof ApplicationFailure || e instanceof CancelledFailure) return e;
  const signal = Context.current().cancellationSignal;
  if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new CancelledFailure('cancelled');
  if (e instanceof HaulError) {
    const inner = innermostHaulError(e) ?? e;
    const message = scrubSecrets(e.message);
    if (!e.retryable) return ApplicationFailure.nonRetryable(message, inner.code);
    return ApplicationFailure.retryable(message, inner.code);
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return ApplicationFailure.retryable(scrubSecrets(err.message), err.name || 'Error');
}

// ---- heartbeats ----------------------------------------------------------------------------

export type { HeartbeatDetails };

/**
 * Steps of one pipeline never overlap in this process: an attempt that timed out (e.g. a
 * blocked event loop missed heartbeats) is cancelled, and its retry waits until it stopped.
 */
const pipelineLocks = new Map<string, Promise<unknown>>();

async function exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = pipelineLocks.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => undefined);
  pipelineLocks.set(key, tail);
  try {
    return await next;
  } finally {
    if (pipelineLocks.get(key) === tail) pipelineLocks.delete(key);
  }
}

/**
 * Runs a step while heartbeating: right away, then every third of the heartbeat timeout
 * with the latest progress. The engine gets the cancellation signal.
 */
async function heartbeating<T>(step: string, fn: (opts: StepOptions) => Promise<T>, lockKey?: string): Promise<T> {
  const ctx = Context.current();
  let details: HeartbeatDetails = { step };
  let checkpoint: HeartbeatCheckpoint | undefined;
  const counts: Record<string, number> = {};
  const beat = () => ctx.heartbeat(checkpoint ? { ...details, checkpoint } : details);
  const last = ctx.info.heartbeatDetails as HeartbeatDetails | undefined;
  if (last && ctx.info.attempt > 1) ctx.log.info(`${step}: attempt ${ctx.info.attempt} resumes after ${JSON.stringify(last)}`);
  beat();
  const every = Math.max(200, Math.min(10_000, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3));
  const timer = setInterval(beat, every);
  try {
    const run = () => fn({
      signal: ctx.cancellationSignal,
      onProgress: (p: StepProgress) => {
        if (p.table !== undefined && p.count !== undefined) counts[p.table] = p.count;
        details = { step, loadId: p.loadId, table: p.table, count: p.count, jobsDone: p.jobsDone, jobsTotal: p.jobsTotal, counts: { ...counts } };
      },
      onCheckpoint: (c: CheckpointSummary) => {
        checkpoint = heartbeatCheckpoint(c);
        // At once (the SDK throttles what it sends): the server should know the newest one.
        beat();
      },
    });
    return await (lockKey ? exclusive(lockKey, run) : run());
  } catch (e) {
    throw toFailure(e);
  } finally {
    clearInterval(timer);
  }
}

/**
 * A checkpoint as it may go into history: counts and ids; the resume token as JSON with
 * secrets scrubbed (a next URL may echo an API key) and cut to 300 characters.
 */
function heartbeatCheckpoint(c: CheckpointSummary): HeartbeatCheckpoint {
  const out: HeartbeatCheckpoint = { seq: c.seq, items: c.items, files: c.files, resourcesDone: c.resourcesDone };
  if (c.current) out.current = { resource: c.current.resource, resumeFrom: scrubSecrets(JSON.stringify(c.current.resumeFrom) ?? '').slice(0, 300) };
  return out;
}

// ---- the activities --------------------------------------------------------------------------

export function createActivities(opts: ActivitiesOptions): HaulActivities {
  const destinations = opts.destinations ?? {};

  /** A destination registered on this worker by that name, else a built-in one made with `options`. */
  function factoryByName(what: 'destination' | 'staging', name: string, options: Record<string, JsonValue> | undefined): DestinationFactory {
    const entry = destinations[name];
    if (entry) {
      if (typeof entry === 'function') return entry(options ?? {});
      if (options && Object.keys(options).length) {
        throw new InvalidOptionsError(what, `"${name}" is configured on the worker; do not pass destinationOptions for it`);
      }
      return entry;
    }
    try {
      return resolveDestination(name, options ?? {});
    } catch (e) {
      if (e instanceof HaulError && Object.keys(destinations).length) e.message += ` (destinations registered on this worker: ${Object.keys(destinations).join(', ')})`;
      throw e;
    }
  }

  function destinationOf(name: string, options: PipelineRef['destinationOptions']): DestinationFactory {
    return factoryByName('destination', name, options);
  }

  /**
   * The run's staging by name. The input carries no options for it: a built-in 'filesystem'
   * finds its bucket in this worker's config (`destination.filesystem.bucket_url`).
   */
  function stagingOf(ref: PipelineRef): DestinationFactory | undefined {
    return ref.staging === undefined ? undefined : factoryByName('staging', ref.staging, undefined);
  }

  /** Steps of one pipeline (working dir) are serialized in this process. */
  function keyOf(ref: PipelineRef): string {
    return join(resolve(opts.pipelinesDir ?? defaultPipelinesDir()), ref.pipelineName);
  }

  function open(ref: PipelineRef): Pipeline {
    const staging = stagingOf(ref);
    // a drop without a destination: the working dir's own (attach() names what it finds, or that it is missing)
    if (ref.destination === undefined) return attach({ pipelineName: ref.pipelineName, pipelinesDir: opts.pipelinesDir, datasetName: ref.datasetName });
    return pipeline({ pipelineName: ref.pipelineName, pipelinesDir: opts.pipelinesDir, destination: destinationOf(ref.destination, ref.destinationOptions), datasetName: ref.datasetName, ...(staging && { staging }) });
  }

  function registered(name: string): SourceEntry {
    const entry = opts.sources[name];
    if (!entry) {
      const known = Object.keys(opts.sources);
      throw new HaulError('UnknownSource', `no source named "${name}" is registered on this worker (registered: ${known.join(', ') || 'none'})`);
    }
    return entry;
  }

  /**
   * The data for a run: the registered source called with the JSON args, resources selected.
   * A factory may return a Promise (`() => sqlDatabase({...})`): it is awaited, so each run
   * reflects the database anew, as dlt's `defer_table_reflect`.
   */
  async function sourceData(p: Pipeline, input: Pick<PipelineRunInput, 'source' | 'args' | 'resources'>): Promise<Extractable> {
    const entry = registered(input.source);
    let data: unknown;
    if (isResource(entry) || isSource(entry)) {
      if (input.args !== undefined && !(Array.isArray(input.args) && input.args.length === 0)) {
        throw new HaulError('InvalidSourceArgs', `source "${input.source}" takes no args`);
      }
      data = entry;
    } else {
      const fn = typeof entry === 'function' ? entry : entry.source;
      let args = input.args;
      if (typeof entry !== 'function' && entry.args) {
        const r = entry.args.safeParse(args);
        if (!r.success) {
          throw new HaulError('InvalidSourceArgs', `bad args for source "${input.source}": ${r.error.issues.map(formatIssue).join('; ')}`);
        }
        args = r.data as typeof args;
      }
      let made: unknown;
      try {
        // sourceState() in the source's body reads this run's pipeline, whichever is active on the worker
        made = withSourceStateReader(
          (sourceName) => p.state.sources[sourceName],
          () => (Array.isArray(args) ? fn(...args) : args === undefined ? fn() : fn(args)),
        );
      } catch (e) {
        if (e instanceof HaulError) throw e;
        throw new HaulError('InvalidSourceArgs', `source "${input.source}" rejected its args: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
      // an async factory's own failure (its database is down) is passed on as it is
      data = await made;
    }
    if (input.resources?.length) {
      if (!isSource(data)) throw new HaulError('InvalidSourceArgs', `"${input.source}" is not a source with resources; do not pass resources`);
      data = data.withResources(...input.resources);
    }
    return data as Extractable;
  }

  /**
   * Drops the backup tables of a stopped run's refresh once its packages loaded
   * (refresh-step.ts). Housekeeping: a failure is logged and the next run tries again,
   * it never fails this one.
   */
  async function settleLeftovers(p: Pipeline): Promise<void> {
    const ctx = Context.current();
    try {
      const { dropped, stranded } = await settleLeftoverSnapshots(p.loadContext(), ctx.info.workflowExecution?.runId);
      if (dropped.length) ctx.log.info(`dropped ${dropped.length} table(s) that a stopped run's refresh had put aside, now that its packages loaded: ${dropped.join(', ')}`);
      if (stranded.length) {
        ctx.log.warn(
          `table(s) ${stranded.join(', ')} hold the rows from before a refresh whose packages were discarded before they loaded: ` +
            'rename them back to their tables to undo that refresh, or drop them to keep the tables as they are',
        );
      }
    } catch (e) {
      ctx.log.warn(`could not drop the tables a stopped run's refresh had put aside (the next run tries again): ${scrubSecrets((e as Error)?.message ?? String(e))}`);
    }
  }

  return {
    /** Validates source, args and destination; restores state from the destination when the working dir is behind. */
    async syncDestination(input: PipelineRef & Partial<Pick<PipelineRunInput, 'source' | 'args' | 'resources'>>): Promise<SyncResult> {
      return heartbeating('sync', async () => {
        const p = open(input);
        // before any package, a source that cannot be made (bad args, a database it cannot
        // reach) fails the run here; with packages pending, they load first (as in dlt), the
        // name is checked, and extract makes the source
        if (input.source !== undefined) {
          if (p.hasPendingData) registered(input.source);
          else await sourceData(p, { source: input.source, args: input.args, resources: input.resources });
        }
        if (!p.hasPendingData) await p.syncDestination();
        await settleLeftovers(p);
        const client = p.destination.createClient({ pipelineName: p.pipelineName, datasetName: p.datasetName });
        return {
          pending: p.pendingPackages().map(({ loadId, stage }) => ({ loadId, stage })),
          activityTaskQueue: opts.localTaskQueue,
          destinationName: p.destination.destinationName,
          datasetName: p.datasetName,
          destinationLocation: scrubSecrets(client.displayLocation),
        };
      }, keyOf(input));
    },

    /** Extracts the source into a new package with the given load id (idempotent per load id). */
    async extract(input: PipelineRunInput & { loadId: string }): Promise<ExtractResult> {
      return heartbeating('extract', async (step) => {
        const p = open(input);
        const runOpts: RunOptions = {};
        if (input.tableName) runOpts.tableName = input.tableName;
        if (input.writeDisposition) runOpts.writeDisposition = input.writeDisposition;
        if (input.primaryKey) runOpts.primaryKey = input.primaryKey;
        if (input.mergeKey) runOpts.mergeKey = input.mergeKey;
        if (input.columns) runOpts.columns = input.columns;
        if (input.refresh) runOpts.refresh = input.refresh;
        if (input.loaderFileFormat) runOpts.loaderFileFormat = input.loaderFileFormat;
        if (input.externalWindow) runOpts.externalWindow = input.externalWindow;
        const t = input.tuning;
        const checkpoint = { ...opts.checkpoint, ...(t?.checkpointEveryItems && { everyItems: t.checkpointEveryItems }), ...(t?.checkpointEveryMs && { everyMs: t.checkpointEveryMs }) };
        const heartbeat = Context.current().info.heartbeatDetails as HeartbeatDetails | undefined;
        const info = await p.extract(await sourceData(p, input), runOpts, { ...step, loadId: input.loadId, checkpoint });
        faultPoint('activity:extract:after-commit');
        const expected = heartbeat?.checkpoint?.seq;
        if (expected !== undefined && (info.resumedFrom?.checkpoint ?? 0) < expected) {
          // The checkpoint's files are on another disk (or gone): this attempt extracted from the start.
          Context.current().log.warn(`extract ${input.loadId}: the last attempt reported checkpoint ${expected}, this worker found ${info.resumedFrom ? `only ${info.resumedFrom.checkpoint}` : 'none'}; extracted from there`);
        }
        const refresh = p.pendingPackages().find((x) => x.loadId === info.loadId)?.refresh;
        return { loadId: info.loadId, sourceName: info.sourceName, itemCounts: info.itemCounts, refresh, ...(info.resumedFrom && { resumedFrom: info.resumedFrom }) };
      }, keyOf(input));
    },

    /** Normalizes every extracted package; returns every package now waiting to load. */
    async normalize(input: PipelineRef & { discardIfInvalid?: string[] }): Promise<NormalizeResult> {
      return heartbeating('normalize', async (step) => {
        const p = open(input);
        await p.normalize({ ...step, discardIfInvalid: input.discardIfInvalid });
        const packages = p.pendingPackages()
          .filter((x) => x.stage === 'normalized')
          .map((x) => ({ loadId: x.loadId, schemaName: x.schemaName, tables: x.tables.length, jobs: x.jobs, rowCounts: x.rowCounts, refresh: x.refresh && { mode: x.refresh.mode, dropTables: x.refresh.dropTables, truncateTables: x.refresh.truncateTables, applied: x.refresh.applied } }));
        return { packages };
      }, keyOf(input));
    },

    /**
     * Loads every normalized package. A retried attempt skips completed jobs and recognises
     * jobs that committed just before a crash (destination markers); packages an earlier
     * attempt already finished are reported from their archived summary.
     */
    async load(input: PipelineRef & { loadIds: string[] }): Promise<LoadResult> {
      return heartbeating('load', async (step) => {
        const p = open(input);
        const info = await p.load(step);
        const packages: PackageSummary[] = info.loadPackages.map((x) => ({
          loadId: x.loadId,
          state: x.state,
          schemaName: x.schemaName,
          schemaVersionHash: x.schemaVersionHash,
          rowCounts: x.rowCounts,
          completedJobs: x.completedJobs,
          failedJobs: x.failedJobs.length,
        }));
        const failed = info.failedJobs;
        if (failed.length) {
          const first = failed[0]!;
          throw ApplicationFailure.nonRetryable(
            scrubSecrets(`${failed.length} load job(s) failed, e.g. ${first.job} (table ${first.table}): ${first.message}. The package stays pending: see it with "haul pipeline ${input.pipelineName} failed-jobs", fix the cause and run again, or discard it with "haul pipeline ${input.pipelineName} drop-pending-packages".`),
            'FailedJobs',
          );
        }
        for (const loadId of input.loadIds) {
          if (packages.some((x) => x.loadId === loadId)) continue;
          const done = p.findLoadPackage(loadId);
          if (done?.stage !== 'loaded') continue;
          packages.push({
            loadId,
            state: 'loaded',
            schemaName: done.schemaName,
            schemaVersionHash: done.schemaVersionHash,
            rowCounts: done.rowCounts ?? {},
            completedJobs: done.jobs.filter((j) => j.state === COMPLETED_JOBS).length,
            failedJobs: 0,
          });
        }
        packages.sort((a, b) => Number(a.loadId) - Number(b.loadId));
        await settleLeftovers(p);
        return { destinationName: info.destinationName, destinationLocation: scrubSecrets(info.destinationLocation), datasetName: info.datasetName, packages };
      }, keyOf(input));
    },

    /** Copies committed schema + state aside before a destructive step. */
    async snapshot(input: PipelineRef & { snapshotId: string }): Promise<SnapshotRef> {
      return heartbeating('snapshot', async () => {
        open(input).takeSnapshot(input.snapshotId);
        return { snapshotId: input.snapshotId };
      }, keyOf(input));
    },

    /**
     * The destructive step of a refresh: the tables the package drops or truncates are
     * renamed aside under the snapshot, so the compensation can put them back.
     */
    async applyRefresh(input: PipelineRef & { loadId: string; snapshotId?: string }): Promise<void> {
      return heartbeating('refresh', async () => {
        await applyRefreshStep(open(input).loadContext(), input.loadId, input.snapshotId);
      }, keyOf(input));
    },

    /** Compensation: restores the snapshot and drops the run's pending packages. */
    async restoreSnapshot(input: PipelineRef & { snapshotId: string; loadIds: string[] }): Promise<void> {
      return heartbeating('compensate', async () => {
        await restoreSnapshotStep(open(input).loadContext(), input.snapshotId, input.loadIds);
      }, keyOf(input));
    },

    /** After success: drops the snapshot and the tables renamed aside under it. */
    async discardSnapshot(input: PipelineRef & { snapshotId: string }): Promise<void> {
      return heartbeating('snapshot', async () => dropSnapshotStep(open(input).loadContext(), input.snapshotId), keyOf(input));
    },

    /** A scheduled run failed: pauses its schedule after `pauseAfterFailures` failed runs in a row. */
    async scheduledRunFailed(input: ScheduledRunFailure) {
      return scheduledRunFailed({ ...input, error: input.error === undefined ? undefined : scrubSecrets(input.error) });
    },

    /** Writes the package that drops resources/tables and their state (dropWorkflow). */
    async planDrop(input: DropInput & { loadId: string }): Promise<DropResult> {
      return heartbeating('drop', async () => {
        const plan = planDrop(open(input).loadContext(), input);
        return { pipelineName: input.pipelineName, ...plan };
      }, keyOf(input));
    },
  };
}

export type { HaulActivities };
