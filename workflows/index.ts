/**
 * Temporal workflow code ONLY: deterministic, no fs, no drivers. Imports types and the
 * search attribute keys; every step that touches files or a destination is an activity.
 *
 * pipelineWorkflow: syncDestination -> finish pending packages -> extract -> normalize
 * -> [refresh: snapshot, registered compensation] -> load -> a small LoadInfo summary.
 * Only ids, counts and schema hashes pass through history.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ChildWorkflowFailure,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { HaulDataset, HaulDestination, HaulLoadId, HaulPipeline, HaulStage, TemporalScheduledStartTime } from '../src/temporal/search-attributes.js';
import type {
  HaulActivities,
  ActivityTuning,
  DropInput,
  DropResult,
  NormalizedPackage,
  PackageSummary,
  PipelineProgress,
  PipelineRef,
  PipelineRunInput,
  PipelineRunResult,
  PipelineStage,
  ScheduledRunOptions,
} from '../src/temporal/types.js';

export const progressQuery = defineQuery<PipelineProgress>('progress');

/** Activity options from the input's tuning (durations in ms). */
function activityOptions(t: ActivityTuning = {}, taskQueue?: string): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout: t.startToCloseTimeoutMs ?? 24 * 3600_000,
    heartbeatTimeout: t.heartbeatTimeoutMs ?? 30_000,
    // A cancelled run ends only after its step stopped, so the next run cannot overlap it.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: t.initialIntervalMs ?? 1_000,
      backoffCoefficient: 2,
      maximumInterval: t.maximumIntervalMs ?? 60_000,
      // 0 means unlimited: Temporal retries forever when the policy names no maximum.
      maximumAttempts: t.maximumAttempts === 0 ? undefined : (t.maximumAttempts ?? 10),
    },
  };
}

function add(into: Record<string, number>, counts: Record<string, number>): void {
  for (const [k, n] of Object.entries(counts)) into[k] = (into[k] ?? 0) + n;
}

function describeLoad(pkgs: NormalizedPackage[]): string {
  if (pkgs.length === 1) {
    const p = pkgs[0]!;
    return `load ${p.loadId}: ${p.tables} tables, ${p.jobs} jobs`;
  }
  const tables = pkgs.reduce((a, p) => a + p.tables, 0);
  const jobs = pkgs.reduce((a, p) => a + p.jobs, 0);
  return `load ${pkgs.length} packages (${pkgs.map((p) => p.loadId).join(', ')}): ${tables} tables, ${jobs} jobs`;
}

/** A load id from workflow time (deterministic on replay); load ids sort by time. */
function newLoadId(): string {
  return (Date.now() / 1000).toFixed(6);
}

/** What went wrong: an ActivityFailure only says "Activity task failed", its cause says why. */
function failureMessage(e: unknown): string | undefined {
  let cur = e as Error | undefined;
  while ((cur instanceof ActivityFailure || cur instanceof ChildWorkflowFailure) && cur.cause) cur = cur.cause;
  return cur?.message;
}

class Run {
  readonly progress: PipelineProgress;
  readonly ref: PipelineRef;
  acts: ReturnType<typeof proxyActivities<HaulActivities>>;

  constructor(readonly input: PipelineRunInput | DropInput) {
    this.ref = {
      pipelineName: input.pipelineName,
      destination: input.destination,
      destinationOptions: input.destinationOptions,
      datasetName: input.datasetName,
      ...(input.staging !== undefined && { staging: input.staging }),
    };
    this.progress = { pipelineName: input.pipelineName, stage: 'starting', loadIds: [], extracted: {}, normalized: {}, loaded: {} };
    this.acts = proxyActivities<HaulActivities>(activityOptions(input.tuning));
    setHandler(progressQuery, () => this.progress);
  }

  /** While finishing pending packages, the stage stays 'finish_pending' through normalize and load. */
  private finishing = false;

  stage(stage: PipelineStage): void {
    if (stage === 'finish_pending') this.finishing = true;
    else if (stage === 'normalize' || stage === 'load') {
      if (this.finishing) return;
    } else this.finishing = false;
    this.progress.stage = stage;
    upsertSearchAttributes([{ key: HaulStage, value: stage }]);
  }

  loadId(loadId: string): void {
    if (!this.progress.loadIds.includes(loadId)) this.progress.loadIds.push(loadId);
    upsertSearchAttributes([{ key: HaulLoadId, value: loadId }]);
  }

  /** Routes the package activities to the queue the sync step named (worker-local files). */
  route(taskQueue: string | undefined): void {
    this.routeQueue = taskQueue;
  }

  /**
   * A compensation or a cleanup after a refresh or drop: it runs also when the run was
   * cancelled (a cancelled scope would never start it, leaving the tables renamed aside), and
   * retries until it succeeds, as a saga's compensation must (a destination that is away for a
   * while otherwise left the tables aside for good). A non-retryable failure still ends it.
   */
  compensate<K extends keyof HaulActivities>(name: K, summary: string, arg: Parameters<HaulActivities[K]>[0]): Promise<Awaited<ReturnType<HaulActivities[K]>>> {
    return CancellationScope.nonCancellable(() => this.step(name, summary, arg, { untilDone: true }));
  }

  /**
   * Runs one activity with a one-line summary for the UI, on the routed task queue.
   * `untilDone`: retried without the run's attempt limit.
   */
  step<K extends keyof HaulActivities>(name: K, summary: string, arg: Parameters<HaulActivities[K]>[0], opts: { untilDone?: boolean } = {}): Promise<Awaited<ReturnType<HaulActivities[K]>>> {
    const fn = this.acts[name] as unknown as {
      executeWithOptions(o: ActivityOptions, a: [typeof arg]): Promise<Awaited<ReturnType<HaulActivities[K]>>>;
    };
    const options = activityOptions(this.input.tuning, this.routeQueue);
    if (opts.untilDone) options.retry = { ...options.retry, maximumAttempts: undefined };
    return fn.executeWithOptions({ ...options, summary }, [arg]);
  }

  /** `discardIfInvalid`: the package this run extracted, deleted if normalize refuses its data. */
  async normalize(summary = 'normalize extracted packages', discardIfInvalid?: string[]): Promise<NormalizedPackage[]> {
    this.stage('normalize');
    const res = await this.step('normalize', summary, discardIfInvalid ? { ...this.ref, discardIfInvalid } : this.ref);
    for (const p of res.packages) {
      this.loadId(p.loadId);
      add(this.progress.normalized, p.rowCounts);
    }
    return res.packages;
  }

  async load(pkgs: NormalizedPackage[]): Promise<PackageSummary[]> {
    if (pkgs.length === 0) return [];
    this.stage('load');
    const res = await this.step('load', describeLoad(pkgs), { ...this.ref, loadIds: pkgs.map((p) => p.loadId) });
    for (const p of res.packages) add(this.progress.loaded, p.rowCounts);
    const failed = res.packages.filter((p) => p.state !== 'loaded');
    if (failed.length) {
      throw ApplicationFailure.nonRetryable(`load packages still pending: ${failed.map((p) => p.loadId).join(', ')}`, 'PackagesPending');
    }
    return res.packages;
  }

  private routeQueue?: string;

  async withStage<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      this.stage('done');
      return out;
    } catch (e) {
      this.progress.error = failureMessage(e);
      this.stage('failed');
      throw e;
    }
  }
}

/**
 * The failure of a run whose compensation restored the snapshot: the step's own advice
 * ("pending data is kept; run again to finish it") no longer holds, since the compensation
 * discarded the run's packages. A cancellation stays one (the run ends cancelled).
 */
function undone(e: unknown, what: 'refresh' | 'drop'): unknown {
  if (isCancellation(e)) return e;
  // errors.ts's PENDING_DATA_KEPT (workflow code imports no engine module; the workflow test checks it is gone)
  const why = (failureMessage(e) ?? 'the run failed').replace('\nPending data is kept; run again to finish it.', '');
  return ApplicationFailure.create({
    type: 'RefreshUndone',
    nonRetryable: true,
    message: `${why}\nThe ${what} was undone: the tables, schema and state are as before this run and its packages were discarded; fix the cause and run again.`,
    cause: e instanceof Error ? e : undefined,
  });
}

/** Sets the search attributes that find a pipeline's runs in the Temporal UI. */
function tagRun(input: { pipelineName: string; destination?: string; datasetName?: string }): void {
  upsertSearchAttributes([
    { key: HaulPipeline, value: input.pipelineName },
    // a drop without a destination learns it (and the dataset) from its sync step
    ...(input.destination !== undefined ? [{ key: HaulDestination, value: input.destination }, { key: HaulDataset, value: input.datasetName ?? `${input.pipelineName}_dataset` }] : []),
  ]);
}

/** Runs one pipeline: sync, finish pending, extract, normalize, (refresh), load. */
export async function pipelineWorkflow(input: PipelineRunInput): Promise<PipelineRunResult> {
  const startedAt = new Date().toISOString();
  tagRun(input);
  const run = new Run(input);
  return run.withStage(async () => {
    run.stage('sync');
    const dataset = input.datasetName ?? `${input.pipelineName}_dataset`;
    const sync = await run.step('syncDestination', `sync ${input.pipelineName} with ${input.destination}/${dataset}, check source ${input.source}`, {
      ...run.ref,
      source: input.source,
      args: input.args,
      resources: input.resources,
    });
    run.route(sync.activityTaskQueue);
    upsertSearchAttributes([
      { key: HaulDestination, value: sync.destinationName },
      { key: HaulDataset, value: sync.datasetName },
    ]);
    // The UI's details name the dataset the run really uses (the static summary may not know it).
    setCurrentDetails(`${input.source} -> ${sync.destinationName} at ${sync.destinationLocation}, dataset \`${sync.datasetName}\``);
    const packages: PackageSummary[] = [];

    // Finish what an earlier run left behind first, like dlt.
    if (sync.pending.length > 0) {
      run.stage('finish_pending');
      for (const p of sync.pending) run.loadId(p.loadId);
      const ids = sync.pending.map((p) => p.loadId).join(', ');
      packages.push(...(await run.load(await run.normalize(`normalize pending ${ids}`))));
    }

    let extracted: PipelineRunResult['extracted'];
    if (!input.pendingOnly) {
      run.stage('extract');
      const loadId = newLoadId();
      const ex = await run.step('extract', `extract ${input.source}${input.resources ? ` (${input.resources.join(', ')})` : ''} into load ${loadId}`, { ...input, loadId });
      run.loadId(ex.loadId);
      add(run.progress.extracted, ex.itemCounts);
      extracted = { loadId: ex.loadId, itemCounts: ex.itemCounts };

      const normalized = await run.normalize(`normalize ${ex.loadId}`, [ex.loadId]);
      const compensations: Array<() => Promise<unknown>> = [];
      const refreshing = normalized.filter((p) => p.refresh && !p.refresh.applied);
      if (refreshing.length) {
        // The destructive part of a refresh is its own step, after extract and normalize
        // succeeded. Snapshot schema + state first and restore them if anything from here
        // on fails, so a failed refresh leaves the pipeline as it was.
        run.stage('refresh');
        const snap = await run.step('snapshot', 'snapshot schema and state before the refresh', { ...run.ref, snapshotId: workflowInfo().runId });
        compensations.push(() =>
          run.compensate('restoreSnapshot', 'compensate: restore tables, schema and state', { ...run.ref, snapshotId: snap.snapshotId, loadIds: normalized.map((p) => p.loadId) }),
        );
      }
      try {
        for (const p of refreshing) {
          const r = p.refresh!;
          const what = `refresh ${r.mode} for load ${p.loadId}: drop ${r.dropTables.length}, truncate ${r.truncateTables.length} tables`;
          await run.step('applyRefresh', what, { ...run.ref, loadId: p.loadId, snapshotId: workflowInfo().runId });
        }
        packages.push(...(await run.load(normalized)));
      } catch (e) {
        if (compensations.length === 0) throw e;
        run.stage('compensate');
        log.warn('load failed after a refresh; restoring the schema/state snapshot', { error: failureMessage(e) });
        for (const c of compensations.reverse()) await c();
        run.progress.note = 'refresh failed; compensation restored the schema, state and tables';
        throw undone(e, 'refresh');
      }
      if (compensations.length) await run.compensate('discardSnapshot', 'refresh done: drop the snapshot and backup tables', { ...run.ref, snapshotId: workflowInfo().runId });
    }

    const rowCounts: Record<string, number> = {};
    for (const p of packages) add(rowCounts, p.rowCounts);
    return {
      pipelineName: input.pipelineName,
      source: input.source,
      destinationName: sync.destinationName,
      destinationLocation: sync.destinationLocation,
      datasetName: sync.datasetName,
      extracted,
      loadIds: packages.map((p) => p.loadId),
      rowCounts,
      packages,
      startedAt,
      finishedAt: new Date().toISOString(),
    };
  });
}

/**
 * Drops resources/tables and their state from a pipeline, like `dlt pipeline <name> drop`:
 * pending packages are finished first; the drop is a package of its own that changes the
 * destination only when it loads; a failure restores the schema/state snapshot.
 */
export async function dropWorkflow(input: DropInput): Promise<DropResult> {
  tagRun(input);
  const run = new Run(input);
  return run.withStage(async () => {
    run.stage('sync');
    const sync = await run.step('syncDestination', `sync ${input.pipelineName} with ${input.destination ?? 'its stored destination'}`, { ...run.ref });
    run.route(sync.activityTaskQueue);
    if (input.destination === undefined) {
      upsertSearchAttributes([
        { key: HaulDestination, value: sync.destinationName },
        { key: HaulDataset, value: sync.datasetName },
      ]);
    }
    if (sync.pending.length > 0) {
      run.stage('finish_pending');
      await run.load(await run.normalize());
    }
    run.stage('refresh');
    const snap = await run.step('snapshot', 'snapshot schema and state before the drop', { ...run.ref, snapshotId: workflowInfo().runId });
    const loadId = newLoadId();
    let planned: DropResult;
    try {
      const what = [...(input.resources ?? []).map((r) => `resource ${r}`), ...(input.tables ?? []).map((t) => `table ${t}`)].join(', ');
      planned = await run.step('planDrop', `plan drop of ${what}${input.stateOnly ? ' (state only)' : ''} as load ${loadId}`, { ...input, loadId });
      if (planned.loadId) {
        run.loadId(planned.loadId);
        const pkgs = await run.normalize();
        for (const p of pkgs) {
          if (p.refresh && !p.refresh.applied) await run.step('applyRefresh', `drop ${p.refresh.dropTables.length} tables for load ${p.loadId}`, { ...run.ref, loadId: p.loadId, snapshotId: snap.snapshotId });
        }
        await run.load(pkgs);
      }
    } catch (e) {
      run.stage('compensate');
      await run.compensate('restoreSnapshot', 'compensate: restore tables, schema and state', { ...run.ref, snapshotId: snap.snapshotId, loadIds: [loadId] });
      run.progress.note = 'drop failed; compensation restored the schema, state and tables';
      throw undone(e, 'drop');
    }
    await run.compensate('discardSnapshot', 'drop done: drop the snapshot and backup tables', { ...run.ref, snapshotId: snap.snapshotId });
    return planned;
  });
}

export interface ScheduledRunResult {
  /** True when the pipeline already had a run in progress, so this tick did nothing. */
  skipped: boolean;
  reason?: string;
  result?: PipelineRunResult;
}

/**
 * What a Temporal Schedule starts: runs `pipelineWorkflow` as a child with the pipeline's
 * workflow id `pipeline/<name>`, so scheduled, manual and CLI runs of one pipeline can
 * never overlap (a tick while a run is in progress is skipped, not queued).
 * `schedule` (absent in schedules made before it existed): the run's window ends at its
 * scheduled time (the TemporalScheduledStartTime the server sets, a backfill's past time
 * included) and lasts `windowMs`; a failure may pause the schedule (`pauseAfterFailures`).
 */
export async function scheduledPipelineWorkflow(input: PipelineRunInput, schedule?: ScheduledRunOptions): Promise<ScheduledRunResult> {
  tagRun(input);
  const runInput = schedule?.windowMs ? withScheduledWindow(input, schedule.windowMs) : input;
  try {
    const result = await executeChild(pipelineWorkflow, {
      workflowId: `pipeline/${input.pipelineName}`,
      args: [runInput],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: workflowInfo().workflowId + (runInput.externalWindow ? ` [${runInput.externalWindow.start}, ${runInput.externalWindow.end})` : ''),
    });
    return { skipped: false, result };
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      log.info('pipeline already running; this scheduled run is skipped', { pipeline: input.pipelineName });
      return { skipped: true, reason: `pipeline/${input.pipelineName} is already running` };
    }
    // A cancelled run is an operator's act, not a failure of the pipeline.
    if (schedule?.pauseAfterFailures && !isCancellation(e)) await countFailure(schedule.scheduleId, schedule.pauseAfterFailures, failureMessage(e));
    throw e;
  }
}

/** The run input with the window `[scheduled time - windowMs, scheduled time)`. */
function withScheduledWindow(input: PipelineRunInput, windowMs: number): PipelineRunInput {
  const scheduledAt = workflowInfo().typedSearchAttributes.get(TemporalScheduledStartTime);
  if (!scheduledAt) return input; // started by hand, not by the schedule: no window
  return { ...input, externalWindow: { start: new Date(scheduledAt.getTime() - windowMs).toISOString(), end: scheduledAt.toISOString() } };
}

/** Tells the schedule-failure activity; its own trouble never hides the run's failure. */
async function countFailure(scheduleId: string, pauseAfterFailures: number, error: string | undefined): Promise<void> {
  const { scheduledRunFailed } = proxyActivities<HaulActivities>({ startToCloseTimeout: 60_000, retry: { maximumAttempts: 5 } });
  const info = workflowInfo();
  try {
    const r = await scheduledRunFailed({ scheduleId, pauseAfterFailures, workflowId: info.workflowId, runId: info.runId, error });
    if (r.paused) log.warn('schedule paused after failed runs in a row', { scheduleId, failures: r.failures });
  } catch (err) {
    log.warn('could not count this failure against the schedule', { scheduleId, error: failureMessage(err) });
  }
}

/** Answers 'pong': lets tools check that a worker polls the task queue. */
export async function pingWorkflow(): Promise<string> {
  return 'pong';
}
