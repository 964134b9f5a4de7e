/**
 * The activity behind `pauseAfterFailures`: a scheduled run that failed asks the schedule
 * itself how its recent runs ended and pauses it when the failures in a row reach the
 * limit. The schedule's own record (its recent actions, kept by the server) is the count,
 * so nothing is stored elsewhere and a run retried or replayed counts once.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { ScheduleFailureResult } from '../src/temporal/types.js';

export interface ScheduledRunFailure {
  scheduleId: string;
  pauseAfterFailures: number;
  workflowId: string;
  runId: string;
  error?: string;
}

/** Run states that count as a failed run (a terminate or cancel is an operator's act). */
const FAILED = new Set(['FAILED', 'TIMED_OUT']);

export async function scheduledRunFailed(input: ScheduledRunFailure, client: Client = Context.current().client): Promise<ScheduleFailureResult> {
  const handle = client.schedule.getHandle(input.scheduleId);
  const desc = await handle.describe();
  // recentActions run oldest to newest; this run is failing now, so it counts without asking.
  let failures = 1;
  for (const action of [...desc.info.recentActions].reverse()) {
    const wf = action.action.workflow;
    // Runs of one schedule in the same second share a workflow id: the run id tells them apart.
    if (wf.workflowId === input.workflowId && wf.firstExecutionRunId === input.runId) continue;
    const status = (await client.workflow.getHandle(wf.workflowId, wf.firstExecutionRunId).describe()).status.name;
    if (!FAILED.has(status)) break;
    failures++;
  }
  if (failures < input.pauseAfterFailures) return { failures, paused: false };
  if (desc.state.paused) return { failures, paused: true };
  const error = input.error ? `: ${input.error.length > 300 ? `${input.error.slice(0, 300)}...` : input.error}` : '';
  await handle.pause(
    `haul paused this schedule after ${failures} failed runs in a row (pauseAfterFailures ${input.pauseAfterFailures}); ` +
      `the last, ${input.workflowId}, failed${error}. Fix the cause, then "haul schedule unpause ${input.scheduleId}"`,
  );
  return { failures, paused: true };
}
