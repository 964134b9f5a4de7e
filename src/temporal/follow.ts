/**
 * Following a run from a client: what the Temporal UI would show, as lines — each failed
 * attempt of a step (`attempt 3/10 of extract: ...`), a warning when no worker polls the
 * task queue, and the root cause when the run fails.
 */
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';

export interface FollowOptions {
  taskQueue: string;
  /** Receives one line per event (default: process.emitWarning). */
  report?: (line: string) => void;
  /** How often the run is looked at (ms, default 1000). */
  pollMs?: number;
  /** How long to wait for a worker before warning (ms, default 3000). */
  noWorkerAfterMs?: number;
}

/** What to do when no worker polls a run's task queue. */
export const START_A_WORKER = 'start one (haul worker --sources <module>) or pass the queue your workers poll (--task-queue)';

/** Waits for the run's result, reporting failed attempts and a missing worker on the way. */
export async function followRun<T>(client: Client, handle: WorkflowHandle, opts: FollowOptions): Promise<T> {
  const report = opts.report ?? ((line: string) => process.emitWarning(line, { code: 'HAUL_RUN' }));
  const seen = new Set<string>();
  const started = Date.now();
  let warned = false;
  let done = false;
  const result = handle.result().finally(() => (done = true));
  const watch = async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
      if (done) return;
      try {
        const desc = await handle.describe();
        for (const act of desc.raw.pendingActivities ?? []) {
          const attempt = act.attempt ?? 1;
          const message = act.lastFailure?.message;
          const key = `${act.activityId}:${attempt}`;
          if (attempt > 1 && message && !seen.has(key)) {
            seen.add(key);
            const max = act.maximumAttempts ? String(act.maximumAttempts) : '∞';
            report(`attempt ${attempt - 1}/${max} of ${act.activityType?.name ?? 'a step'} failed: ${message}; retrying`);
          }
        }
        if (!warned && Date.now() - started >= (opts.noWorkerAfterMs ?? 3000) && !(await hasPollers(client, opts.taskQueue))) {
          warned = true;
          report(`no worker is polling task queue ${opts.taskQueue}: ${START_A_WORKER}`);
        }
      } catch {
        /* describe races the end of the run: the result tells */
      }
    }
  };
  void watch();
  return (await result) as T;
}

/** Whether a worker polls the task queue's workflow tasks (the server lists pollers for a few minutes after they stop). */
export async function hasPollers(client: Client, taskQueue: string): Promise<boolean> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW (the proto enums package is CJS-only)
  });
  return (res.pollers ?? []).length > 0;
}

/** The innermost failure's message and type: what actually went wrong in a failed run. */
export function rootCause(e: unknown): string {
  let cur: unknown = e;
  let last = e instanceof Error ? e.message : String(e);
  let type: string | undefined;
  while (cur instanceof Error) {
    last = cur.message;
    type = (cur as { type?: string }).type ?? type;
    // a compensated run's own failure says what the compensation did; its cause is the step's error
    if (type === 'RefreshUndone') break;
    cur = cur.cause;
  }
  const head = e instanceof WorkflowFailedError ? 'run failed' : 'failed';
  return `${head}: ${last}${type ? ` (${type})` : ''}`;
}
