import {
  Client,
  Connection,
  ScheduleOverlapPolicy,
  WorkflowExecutionAlreadyStartedError,
  type ScheduleHandle,
  type ScheduleSummary,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time.js';
import type { Duration } from '@temporalio/common';
import { HaulError, InvalidOptionsError, PipelineAlreadyRunningError, TemporalUnreachableError } from '../errors.js';
import type { dropWorkflow, pipelineWorkflow, scheduledPipelineWorkflow } from '../../workflows/index.js';
import type { temporal } from '@temporalio/proto';
import { parseDropInput, parsePipelineRunInput, pipelineWorkflowId } from './input.js';
import { HAUL_SEARCH_ATTRIBUTES, HaulDataset, HaulDestination, HaulPipeline, HaulStage } from './search-attributes.js';
import type { DropInput, DropResult, HeartbeatDetails, PipelineProgress, PipelineRunInput, PipelineRunResult, ScheduledRunOptions } from './types.js';
import { DEFAULT_TASK_QUEUE } from './types.js';
import { START_A_WORKER, followRun, hasPollers } from './follow.js';

export type PipelineHandle = WorkflowHandleWithFirstExecutionRunId<typeof pipelineWorkflow>;

export interface StartOptions {
  /** Task queue the haul workers poll (default 'haul' or HAUL_TASK_QUEUE). */
  taskQueue?: string;
  /**
   * What to do when the pipeline already has a run in progress: 'fail' (default) throws
   * PipelineAlreadyRunningError; 'attach' returns a handle on the running run instead.
   */
  ifRunning?: 'fail' | 'attach';
  /**
   * runPipeline: receives a line for each failed attempt of a step and a warning when no
   * worker polls the task queue (default: process.emitWarning).
   */
  report?: (line: string) => void;
}

/** A second start of a pipeline whose run is still in progress; `attach` names how to follow it (the CLI's flag). */
export function alreadyRunning(pipelineName: string, runId: string | undefined, attach = "{ ifRunning: 'attach' }"): PipelineAlreadyRunningError {
  return new PipelineAlreadyRunningError(pipelineName, `workflow ${pipelineWorkflowId(pipelineName)}${runId ? `, run ${runId}` : ''}`, `wait for it to finish, or pass ${attach} to follow it`, runId);
}

export { PipelineAlreadyRunningError };

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD (the proto package is CJS-only). */
const INDEXED_VALUE_TYPE_KEYWORD = 2 as temporal.api.enums.v1.IndexedValueType;

/**
 * Registers haul's search attributes (all Keyword) on an existing server's namespace.
 * Idempotent: attributes that already exist are left alone.
 */
export async function registerSearchAttributes(connection: { operatorService: Connection['operatorService'] }, namespace = 'default'): Promise<string[]> {
  const have = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(have.customAttributes ?? {}), ...Object.keys(have.systemAttributes ?? {})]);
  const missing = HAUL_SEARCH_ATTRIBUTES.filter((k) => !known.has(k.name));
  if (missing.length === 0) return [];
  const searchAttributes: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const k of missing) searchAttributes[k.name] = INDEXED_VALUE_TYPE_KEYWORD;
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (e) {
    // Another process registered them meanwhile.
    if (!/already exists/i.test((e as Error).message)) throw e;
  }
  return missing.map((k) => k.name);
}

/** Connects to TEMPORAL_ADDRESS (default localhost:7233) and namespace TEMPORAL_NAMESPACE (default 'default'). */
export async function connectClient(opts: { address?: string; namespace?: string } = {}): Promise<Client> {
  const address = opts.address ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  let connection: Connection;
  try {
    connection = await Connection.connect({ address });
  } catch (e) {
    throw new TemporalUnreachableError(address, e);
  }
  return new Client({ connection, namespace: opts.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default' });
}

export function taskQueueOf(opts: StartOptions): string {
  return opts.taskQueue ?? process.env.HAUL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
}

/**
 * The run's static summary. Without a datasetName in the input the worker takes the dataset
 * from the pipeline's state, which the client cannot know: the summary says so, and the
 * workflow's current details name the dataset once the sync step has told it.
 */
function summaryOf(input: PipelineRunInput): string {
  const dataset = input.datasetName ?? '(dataset from state)';
  const wd = input.writeDisposition;
  const disposition = typeof wd === 'object' ? (wd.disposition === 'merge' && wd.strategy ? `merge/${wd.strategy}` : wd.disposition) : wd;
  const how = [disposition, input.refresh && `refresh=${input.refresh}`, input.pendingOnly && 'pending only'].filter(Boolean).join(', ');
  return `haul ${input.pipelineName}: ${input.source} -> ${input.destination}/${dataset}${how ? ` (${how})` : ''}`;
}

function searchAttributesOf(input: { pipelineName: string; destination?: string; datasetName?: string }) {
  return [
    { key: HaulPipeline, value: input.pipelineName },
    ...(input.destination ? [{ key: HaulDestination, value: input.destination }] : []),
    ...(input.datasetName ? [{ key: HaulDataset, value: input.datasetName }] : []),
    { key: HaulStage, value: 'starting' },
  ];
}

/**
 * Starts `pipelineWorkflow` (workflow id `pipeline/<pipelineName>`) after validating the
 * input with zod. A pipeline never has two runs at once: a start while one runs throws
 * PipelineAlreadyRunningError, or attaches with `{ ifRunning: 'attach' }`.
 */
export async function startPipeline(client: Client, input: PipelineRunInput, opts: StartOptions = {}): Promise<PipelineHandle> {
  const parsed = parsePipelineRunInput(input);
  const workflowId = pipelineWorkflowId(parsed.pipelineName);
  try {
    return await withSearchAttributes(client, () => client.workflow.start<typeof pipelineWorkflow>('pipelineWorkflow', {
      workflowId,
      taskQueue: taskQueueOf(opts),
      args: [parsed],
      workflowIdConflictPolicy: opts.ifRunning === 'attach' ? 'USE_EXISTING' : 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: searchAttributesOf(parsed),
      staticSummary: summaryOf(parsed),
      staticDetails: `source \`${parsed.source}\`${parsed.resources ? ` (resources ${parsed.resources.join(', ')})` : ''}, destination \`${parsed.destination}\`, dataset ${parsed.datasetName ? `\`${parsed.datasetName}\`` : 'from the pipeline state'}`,
        }));
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      const running = await client.workflow.getHandle(workflowId).describe().catch(() => undefined);
      throw alreadyRunning(parsed.pipelineName, running?.runId);
    }
    throw e;
  }
}

/**
 * Runs `start`; when the server does not know haul's search attributes yet, registers them
 * (operator service) and tries once more, or says clearly what to do.
 */
async function withSearchAttributes<T>(client: Client, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    const text = `${(e as Error)?.message} ${((e as Error)?.cause as Error | undefined)?.message ?? ''}`;
    if (!/no mapping defined for search attribute|search attribute .* is not defined/i.test(text)) throw e;
    try {
      await registerSearchAttributes(client.connection, client.options.namespace);
    } catch (reg) {
      throw new HaulError(
        'SearchAttributesMissing',
        `the Temporal namespace "${client.options.namespace}" lacks haul's search attributes (HaulPipeline, HaulDataset, HaulDestination, HaulStage, HaulLoadId, all Keyword) ` +
          `and registering them failed: ${(reg as Error).message}. Register them once: temporal operator search-attribute create --name HaulPipeline --type Keyword (and the others)`,
        { cause: e },
      );
    }
    return start();
  }
}

/** Starts the pipeline and waits for its result (a LoadInfo summary). */
export async function runPipeline(client: Client, input: PipelineRunInput, opts: StartOptions = {}): Promise<PipelineRunResult> {
  const handle = await startPipeline(client, input, opts);
  return followRun<PipelineRunResult>(client, handle, { taskQueue: taskQueueOf(opts), report: opts.report });
}

/** How long a running run's worker gets to answer the progress query. */
const RUNNING_QUERY_DEADLINE_MS = 10_000;

/** The `progress` query of a pipeline's current (or last) run. */
export async function pipelineProgress(client: Client, pipelineName: string): Promise<PipelineProgress> {
  const handle = client.workflow.getHandle(pipelineWorkflowId(pipelineName));
  const desc = await handle.describe();
  if (desc.status.name !== 'RUNNING') {
    // A live worker answers with the run's own record (notes, compensation); without one the
    // query would wait, so it gets a few seconds before the result speaks instead.
    try {
      return await client.withDeadline(Date.now() + 3000, () => handle.query<PipelineProgress>('progress'));
    } catch {
      return closedRunProgress(handle, pipelineName, desc.status.name);
    }
  }
  // Without a worker the query would wait for one until the server gives up (tens of seconds).
  const waiting = (why: string): PipelineProgress => ({ pipelineName, stage: 'starting', loadIds: [], extracted: {}, normalized: {}, loaded: {}, note: `${why} on task queue ${desc.taskQueue}: ${START_A_WORKER}` });
  if (!(await hasPollers(client, desc.taskQueue))) return waiting('no worker has picked up this run');
  let progress: PipelineProgress;
  try {
    progress = await client.withDeadline(Date.now() + RUNNING_QUERY_DEADLINE_MS, () => handle.query<PipelineProgress>('progress'));
  } catch {
    return waiting(`no worker answered within ${RUNNING_QUERY_DEADLINE_MS / 1000} s`);
  }
  // The workflow learns counts when a step ends; the running step's heartbeats know them now.
  for (const act of desc.raw.pendingActivities ?? []) {
    const details = act.heartbeatDetails?.payloads?.[0];
    if (!details) continue;
    const hb = client.options.loadedDataConverter.payloadConverter.fromPayload<HeartbeatDetails>(details);
    if (hb?.counts && hb.step === 'extract') progress.extracted = { ...progress.extracted, ...hb.counts };
    if (hb?.counts && hb.step === 'normalize') progress.normalized = { ...progress.normalized, ...hb.counts };
  }
  return progress;
}

/** A closed run whose query no worker answers: its progress from its result (or failure). */
async function closedRunProgress(handle: WorkflowHandle, pipelineName: string, status: string): Promise<PipelineProgress> {
  const base: PipelineProgress = { pipelineName, stage: 'failed', loadIds: [], extracted: {}, normalized: {}, loaded: {} };
  try {
    const res = (await handle.result()) as Partial<PipelineRunResult>; // a drop run has no load ids
    if (!res.loadIds || !res.rowCounts) return { ...base, stage: 'done', note: `run ${status.toLowerCase()}` };
    return { ...base, stage: 'done', loadIds: res.loadIds, extracted: res.extracted?.itemCounts ?? {}, normalized: res.rowCounts, loaded: res.rowCounts };
  } catch (e) {
    let cause: unknown = e;
    while (cause instanceof Error && cause.cause) cause = cause.cause;
    return { ...base, error: cause instanceof Error ? cause.message : String(cause), note: `run ${status.toLowerCase()}` };
  }
}

/** Runs `dropWorkflow` (same workflow id as the pipeline's runs, so it never overlaps a load). */
export async function dropPipelineData(client: Client, input: DropInput, opts: StartOptions = {}): Promise<DropResult> {
  const parsed = parseDropInput(input);
  const workflowId = pipelineWorkflowId(parsed.pipelineName);
  try {
    const handle = await withSearchAttributes(client, () => client.workflow.start<typeof dropWorkflow>('dropWorkflow', {
      workflowId,
      taskQueue: taskQueueOf(opts),
      args: [parsed],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: searchAttributesOf(parsed),
      staticSummary: `haul ${parsed.pipelineName}: drop ${[...(parsed.resources ?? []), ...(parsed.tables ?? [])].join(', ')}`,
        }));
    return await handle.result();
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) throw alreadyRunning(parsed.pipelineName, undefined);
    throw e;
  }
}

// ---- schedules ---------------------------------------------------------------------------

export type SchedulePipelineInput = PipelineRunInput & {
  /** Default `pipeline/<pipelineName>`. */
  scheduleId?: string;
  /** An interval such as '1h', '15m' or milliseconds. */
  every?: string | number;
  /** A cron expression such as '0 3 * * *'. */
  cron?: string;
  /** Create paused. */
  paused?: boolean;
  /** Default SKIP: a tick while a run is in progress does nothing. */
  overlap?: 'SKIP' | 'BUFFER_ONE' | 'ALLOW_ALL';
  /**
   * Pause the schedule once this many runs in a row have failed (1-10; Temporal keeps a
   * schedule's last 10 actions), with a note saying why. Default: never.
   */
  pauseAfterFailures?: number;
  /**
   * How long the window of each run is (for incremental resources with
   * `allowExternalSchedulers`): it ends at the run's scheduled time. Default: `every`; with
   * `cron`, no window unless given (e.g. '1d' for a daily cron).
   */
  window?: string | number;
};

/** Default schedule id of a pipeline. */
export function pipelineScheduleId(pipelineName: string): string {
  return `pipeline/${pipelineName}`;
}

/**
 * Creates a Temporal Schedule that runs the pipeline `every` interval or on `cron`.
 * Each tick starts `scheduledPipelineWorkflow`, which runs the pipeline under its usual
 * workflow id, so a tick never overlaps a manual run (it is skipped).
 */
export async function schedulePipeline(client: Client, input: SchedulePipelineInput, opts: StartOptions = {}): Promise<ScheduleHandle> {
  const { scheduleId, every, cron, paused, overlap, pauseAfterFailures, window, ...runInput } = input;
  const parsed = parsePipelineRunInput(runInput);
  if ((every === undefined) === (cron === undefined)) throw new InvalidOptionsError('schedule', 'pass exactly one of every (e.g. "1h") or cron (e.g. "0 3 * * *")');
  if (pauseAfterFailures !== undefined && !(Number.isInteger(pauseAfterFailures) && pauseAfterFailures >= 1 && pauseAfterFailures <= 10)) {
    throw new InvalidOptionsError('schedule', `pauseAfterFailures must be a whole number from 1 to 10 (Temporal keeps a schedule's last 10 runs), not ${pauseAfterFailures}`);
  }
  const id = scheduleId ?? pipelineScheduleId(parsed.pipelineName);
  if (every !== undefined) durationMs('every', every);
  const windowMs = durationMs('window', window ?? every);
  const scheduled: ScheduledRunOptions = { scheduleId: id, ...(pauseAfterFailures && { pauseAfterFailures }), ...(windowMs && { windowMs }) };
  return withSearchAttributes(client, () => client.schedule.create({
    scheduleId: id,
    spec: every !== undefined ? { intervals: [{ every: every as `${number}h` }] } : { cronExpressions: [cron!] },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledPipelineWorkflow' satisfies keyof { scheduledPipelineWorkflow: typeof scheduledPipelineWorkflow },
      workflowId: `schedule/${parsed.pipelineName}`,
      taskQueue: taskQueueOf(opts),
      args: [parsed, scheduled],
      typedSearchAttributes: searchAttributesOf(parsed),
      staticSummary: summaryOf(parsed) + ' [scheduled]',
    },
    policies: { overlap: ScheduleOverlapPolicy[overlap ?? 'SKIP'] },
    state: { paused: paused ?? false, note: paused ? 'created paused' : undefined },
    memo: { haulPipeline: parsed.pipelineName, ...(pauseAfterFailures && { haulPauseAfterFailures: pauseAfterFailures }) },
    }));
}

/** '1h', '15m', '1 day' or milliseconds, as Temporal reads durations; undefined stays undefined. */
function durationMs(what: string, d: string | number | undefined): number | undefined {
  if (d === undefined) return undefined;
  let ms: number;
  try {
    ms = msToNumber(d as Duration);
  } catch {
    ms = NaN;
  }
  if (!(ms > 0)) throw new InvalidOptionsError('schedule', `${what} must be a duration such as "1h", "15m" or milliseconds, not ${JSON.stringify(d)}`);
  return ms;
}

/**
 * Runs the schedule's action for every time it would have fired in `[from, to)` (Temporal's
 * schedule backfill), one after the other. Each run's scheduled time is that past time, so
 * incremental resources with `allowExternalSchedulers` load exactly their past window and
 * leave the live cursor alone. Returns at once; the runs follow.
 */
export async function backfillSchedule(client: Client, scheduleIdOrPipeline: string, from: Date, to: Date): Promise<void> {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) {
    throw new InvalidOptionsError('backfill', `from must be a time before to (got ${from.toISOString?.() ?? from} and ${to.toISOString?.() ?? to})`);
  }
  // BUFFER_ALL: every past run happens, one after another (SKIP would run only the first).
  // Temporal's range includes its end; a time exactly at `to` belongs to the next window.
  await pipelineSchedule(client, scheduleIdOrPipeline).backfill({ start: from, end: new Date(to.getTime() - 1), overlap: ScheduleOverlapPolicy.BUFFER_ALL });
}

/** Handle of a pipeline's schedule (pause/unpause/trigger/delete/describe on it). */
export function pipelineSchedule(client: Client, scheduleIdOrPipeline: string): ScheduleHandle {
  return client.schedule.getHandle(scheduleIdOrPipeline.includes('/') ? scheduleIdOrPipeline : pipelineScheduleId(scheduleIdOrPipeline));
}

export async function pauseSchedule(client: Client, scheduleId: string, note?: string): Promise<void> {
  await pipelineSchedule(client, scheduleId).pause(note);
}

export async function unpauseSchedule(client: Client, scheduleId: string, note?: string): Promise<void> {
  await pipelineSchedule(client, scheduleId).unpause(note);
}

/** How long triggerSchedule waits for the schedule to take the action it asked for. */
const TRIGGER_TAKEN_MS = 10_000;

/**
 * Starts a run now (does not wait for the run itself). A run of the schedule already going
 * is not doubled (overlap SKIP). Otherwise this returns once the schedule has taken the
 * action (up to 10 s), so a pause or delete right after cannot drop it: seen on the dev
 * server, a trigger followed at once by a pause sometimes started nothing.
 */
export async function triggerSchedule(client: Client, scheduleId: string): Promise<void> {
  const handle = pipelineSchedule(client, scheduleId);
  const before = await handle.describe();
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  if (before.info.runningActions.length > 0) return; // SKIP: nothing will be taken
  const last = latestActionAt(before.info.recentActions);
  for (const deadline = Date.now() + TRIGGER_TAKEN_MS; Date.now() < deadline; ) {
    const now = await handle.describe();
    if (now.info.runningActions.length > 0 || latestActionAt(now.info.recentActions) > last) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** When the schedule last took an action (0: never, as far as its recent list goes). */
function latestActionAt(actions: ReadonlyArray<{ takenAt: Date }>): number {
  return Math.max(0, ...actions.map((a) => a.takenAt.getTime()));
}

export async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  await pipelineSchedule(client, scheduleId).delete();
}

/** haul's schedules (those made by schedulePipeline), optionally of one pipeline. */
export async function listSchedules(client: Client, pipelineName?: string): Promise<ScheduleSummary[]> {
  const out: ScheduleSummary[] = [];
  for await (const s of client.schedule.list()) {
    const name = s.memo?.haulPipeline;
    if (typeof name !== 'string') continue;
    if (pipelineName === undefined || name === pipelineName) out.push(s);
  }
  return out;
}

/** A LoadInfo-style text of a workflow run's result. */
export function formatRunResult(r: PipelineRunResult): string {
  const secs = ((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(2);
  const lines = [
    `Pipeline ${r.pipelineName} (source ${r.source}) completed in ${secs} s`,
    `${r.packages.length} load package(s) were loaded to destination ${r.destinationName} and into dataset ${r.datasetName}`,
    `The ${r.destinationName} destination used ${r.destinationLocation}`,
  ];
  for (const p of r.packages) lines.push(`Load package ${p.loadId} is ${p.state.toUpperCase()} and contains ${p.completedJobs} completed job(s)`);
  const counts = Object.entries(r.rowCounts).filter(([t]) => !t.startsWith('_dlt_'));
  if (counts.length) {
    lines.push('Rows loaded:');
    for (const [t, n] of counts) lines.push(`  ${t}: ${n}`);
  }
  return lines.join('\n');
}

/** The Temporal Web UI page of a workflow. */
export function workflowUiUrl(uiBaseUrl: string, workflowId: string, namespace = 'default'): string {
  return `${uiBaseUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
