/**
 * Stub activities for workflow-logic tests (not a test file). Same names and types as
 * `HaulActivities`, but they touch no files and no destination: a tiny in-memory "world"
 * (packages waiting to normalize, to load) answers them, and every call is recorded with
 * its input, attempt and task queue. The workflows run for real on the suite's dev server.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, expect, inject } from 'vitest';
import type { HaulActivities, NormalizedPackage, PackageSummary, PendingPackage, RefreshModeName } from '../../src/temporal/types.js';

export type ActivityName = keyof HaulActivities;

export interface Call {
  name: ActivityName;
  input: Record<string, unknown>;
  attempt: number;
  taskQueue: string;
}

export interface StubOptions {
  /** Packages an earlier run left behind, reported by syncDestination. */
  pending?: PendingPackage[];
  /** The refresh plan every package this run extracts carries (as the engine writes it). */
  refresh?: { mode: RefreshModeName; dropTables: string[]; truncateTables: string[]; applied?: boolean };
  /** The queue syncDestination names for the package steps (a worker's localTaskQueue). */
  localTaskQueue?: string;
  /** Make a step fail: called on every attempt; an error fails that attempt, undefined lets it run. */
  fail?: Partial<Record<ActivityName, (attempt: number) => ApplicationFailure | Error | undefined>>;
  /** Hold a step until the promise settles (to query a run while it is in progress). */
  hold?: Partial<Record<ActivityName, Promise<void>>>;
  /** Load leaves these packages pending instead of loading them. */
  loadLeavesPending?: boolean;
  /** Steps that heartbeat until their run is cancelled, then fail as cancelled. */
  untilCancelled?: ActivityName[];
}

/** Rows per table the stub engine reports for a package (counts only, like the real one). */
export const ROWS_PER_PACKAGE = { items: 3, items__tags: 6 };

export interface StubWorld {
  activities: HaulActivities;
  calls: Call[];
  /** Names of the calls, in order (one entry per attempt). */
  names(): ActivityName[];
  /** The calls of one activity. */
  of(name: ActivityName): Call[];
}

export function stubWorld(opts: StubOptions = {}): StubWorld {
  const calls: Call[] = [];
  const refreshOf = new Map<string, NonNullable<StubOptions['refresh']>>();
  const extracted: string[] = (opts.pending ?? []).filter((p) => p.stage === 'extracted').map((p) => p.loadId);
  const normalized: NormalizedPackage[] = (opts.pending ?? []).filter((p) => p.stage === 'normalized').map((p) => pkg(p.loadId));

  function pkg(loadId: string): NormalizedPackage {
    const r = refreshOf.get(loadId);
    return {
      loadId,
      schemaName: 'stub',
      tables: 2,
      jobs: 2,
      rowCounts: { ...ROWS_PER_PACKAGE },
      ...(r && { refresh: { mode: r.mode, dropTables: r.dropTables, truncateTables: r.truncateTables, applied: r.applied ?? false } }),
    };
  }

  /** Records the call, waits where told to, and fails where told to. */
  async function enter(name: ActivityName, input: object): Promise<void> {
    const info = Context.current().info;
    calls.push({ name, input: structuredClone(input) as Record<string, unknown>, attempt: info.attempt, taskQueue: info.taskQueue });
    await opts.hold?.[name];
    if (opts.untilCancelled?.includes(name)) {
      const ctx = Context.current();
      for (;;) {
        ctx.heartbeat();
        await ctx.sleep(100); // rejects with CancelledFailure once the cancellation arrives
      }
    }
    const err = opts.fail?.[name]?.(info.attempt);
    if (err) throw err;
  }

  const activities: HaulActivities = {
    async syncDestination(input) {
      await enter('syncDestination', input);
      return {
        pending: (opts.pending ?? []).map((p) => ({ ...p })),
        activityTaskQueue: opts.localTaskQueue,
        destinationName: 'duckdb',
        datasetName: input.datasetName ?? `${input.pipelineName}_dataset`,
        destinationLocation: '/stub/warehouse.duckdb',
      };
    },
    async extract(input) {
      await enter('extract', input);
      if (!extracted.includes(input.loadId)) extracted.push(input.loadId);
      if (opts.refresh) refreshOf.set(input.loadId, opts.refresh);
      return { loadId: input.loadId, sourceName: input.source, itemCounts: { items: ROWS_PER_PACKAGE.items } };
    },
    async normalize(input) {
      await enter('normalize', input);
      for (const id of extracted.splice(0)) normalized.push(pkg(id));
      return { packages: normalized.map((p) => structuredClone(p)) };
    },
    async load(input) {
      await enter('load', input);
      const packages: PackageSummary[] = normalized.map((p) => ({
        loadId: p.loadId,
        state: opts.loadLeavesPending ? 'pending' : 'loaded',
        schemaName: p.schemaName,
        schemaVersionHash: `hash-${p.loadId}`,
        rowCounts: p.rowCounts,
        completedJobs: p.jobs,
        failedJobs: 0,
      }));
      if (!opts.loadLeavesPending) normalized.splice(0);
      return { destinationName: 'duckdb', destinationLocation: '/stub/warehouse.duckdb', datasetName: input.datasetName ?? `${input.pipelineName}_dataset`, packages };
    },
    async snapshot(input) {
      await enter('snapshot', input);
      return { snapshotId: input.snapshotId };
    },
    async applyRefresh(input) {
      await enter('applyRefresh', input);
    },
    async restoreSnapshot(input) {
      await enter('restoreSnapshot', input);
    },
    async discardSnapshot(input) {
      await enter('discardSnapshot', input);
    },
    async scheduledRunFailed(input) {
      await enter('scheduledRunFailed', input);
      return { failures: 1, paused: input.pauseAfterFailures <= 1 };
    },
    async planDrop(input) {
      await enter('planDrop', input);
      if (input.stateOnly) return { pipelineName: input.pipelineName, droppedTables: [], resetResources: input.resources ?? [] };
      extracted.push(input.loadId);
      refreshOf.set(input.loadId, { mode: 'drop_resources', dropTables: input.tables ?? ['items'], truncateTables: [] });
      return { pipelineName: input.pipelineName, droppedTables: input.tables ?? ['items'], resetResources: input.resources ?? [], loadId: input.loadId };
    },
  };

  return {
    activities,
    calls,
    names: () => calls.map((c) => c.name),
    of: (name) => calls.filter((c) => c.name === name),
  };
}

// ---- workers -------------------------------------------------------------------------------

let connection: NativeConnection | undefined;
const running: Array<{ worker: Worker; run: Promise<void> }> = [];

afterAll(async () => {
  for (const { worker, run } of running.splice(0)) {
    worker.shutdown();
    await run;
  }
  await connection?.close();
  connection = undefined;
});

/**
 * A worker on `taskQueue` with the stub activities; with `workflows` (default true) it also
 * runs haul's workflows from the suite's prebuilt bundle. Shut down after the file.
 */
export async function stubWorker(activities: HaulActivities, taskQueue: string, opts: { workflows?: boolean } = {}): Promise<Worker> {
  connection ??= await NativeConnection.connect({ address: inject('temporalAddress') });
  const worker = await Worker.create({
    connection,
    namespace: inject('temporalNamespace'),
    taskQueue,
    activities,
    ...(opts.workflows === false ? {} : { workflowBundle: { codePath: inject('workflowBundlePath') } }),
    stickyQueueScheduleToStartTimeout: '2s',
    shutdownGraceTime: '1s',
    // as createWorker: heartbeats (and so cancellations) reach the stubs within 2 s
    defaultHeartbeatThrottleInterval: '2s',
    maxHeartbeatThrottleInterval: '2s',
  });
  running.push({ worker, run: worker.run() });
  return worker;
}

// ---- reading history ---------------------------------------------------------------------------

type History = temporal.api.history.v1.IHistory;

/** Activity types in the order the workflow scheduled them. */
export function scheduledActivities(history: History): string[] {
  return (history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

/** The values the workflow upserted for one search attribute, in order. */
export function upserted(history: History, key: string): unknown[] {
  return (history.events ?? []).flatMap((e) => {
    const p = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[key];
    return p ? [defaultPayloadConverter.fromPayload(p)] : [];
  });
}

/** The ApplicationFailure at the root of a failed workflow. */
export function rootFailure(e: unknown): ApplicationFailure {
  expect(e).toBeInstanceOf(WorkflowFailedError);
  // the innermost: a compensated run's own RefreshUndone failure wraps the step's
  let found: ApplicationFailure | undefined;
  for (let cur: unknown = e; cur; cur = (cur as Error).cause) if (cur instanceof ApplicationFailure) found = cur;
  expect(found).toBeInstanceOf(ApplicationFailure);
  return found!;
}
