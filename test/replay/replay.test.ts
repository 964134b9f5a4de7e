/**
 * Replays every recorded history in test/replay/histories/ against today's workflow code
 * (the suite's workflow bundle, built from workflows/index.ts). A change to workflow code
 * that would break runs already in flight (a step added, removed or reordered, a branch
 * taken differently) fails here with a DeterminismViolationError. Such a change needs
 * `patched()`; see docs/temporal.md, "Replay test". Fixtures: `npm run record:histories`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { beforeAll, describe, expect, it, inject } from 'vitest';
import { historyFromJson } from './history-json.js';

// Replay errors come back as results; the replay worker's own logs are noise.
Runtime.install({ logger: new DefaultLogger((process.env.HAUL_TEST_LOG_LEVEL as 'WARN') ?? 'ERROR') });

const DIR = join(import.meta.dirname, 'histories');

/** The scenarios scripts/record-histories.ts records: the branches of the three workflows. */
const REQUIRED: Record<string, { workflowType: string; activities: string[] }> = {
  'pipeline-basic': { workflowType: 'pipelineWorkflow', activities: ['syncDestination', 'extract', 'normalize', 'load'] },
  'pipeline-pending': { workflowType: 'pipelineWorkflow', activities: ['syncDestination', 'normalize', 'load', 'extract', 'normalize', 'load'] },
  'pipeline-refresh': { workflowType: 'pipelineWorkflow', activities: ['syncDestination', 'extract', 'normalize', 'snapshot', 'applyRefresh', 'load', 'discardSnapshot'] },
  'pipeline-refresh-compensated': { workflowType: 'pipelineWorkflow', activities: ['syncDestination', 'extract', 'normalize', 'snapshot', 'applyRefresh', 'load', 'restoreSnapshot'] },
  drop: { workflowType: 'dropWorkflow', activities: ['syncDestination', 'snapshot', 'planDrop', 'normalize', 'applyRefresh', 'load', 'discardSnapshot'] },
  'drop-compensated': { workflowType: 'dropWorkflow', activities: ['syncDestination', 'snapshot', 'planDrop', 'normalize', 'applyRefresh', 'load', 'restoreSnapshot'] },
  scheduled: { workflowType: 'scheduledPipelineWorkflow', activities: [] },
  'scheduled-skipped': { workflowType: 'scheduledPipelineWorkflow', activities: [] },
};

const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const fixtures = files.map((file) => {
  const history = historyFromJson(readFileSync(join(DIR, file), 'utf8'));
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return {
    name: file.replace(/\.json$/, ''),
    history,
    workflowType: started?.workflowType?.name ?? '',
    workflowId: started?.workflowId || `replay/${file}`,
    runId: started?.originalExecutionRunId ?? '',
    activities: (history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []),
  };
});

describe('replay of recorded workflow histories', () => {
  const results = new Map<string, ReplayResult>();

  beforeAll(async () => {
    const replayed = Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') }, replayName: 'haul-replay-test' },
      fixtures.map((f) => ({ workflowId: f.workflowId, history: f.history })),
    );
    for await (const r of replayed) results.set(r.runId, r);
  });

  it('has a recorded history for every scenario', () => {
    for (const [name, want] of Object.entries(REQUIRED)) {
      const f = fixtures.find((x) => x.name === name);
      expect(f, `test/replay/histories/${name}.json is missing: npm run record:histories`).toBeDefined();
      expect(f!.workflowType, name).toBe(want.workflowType);
      expect(f!.activities, name).toEqual(want.activities);
    }
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s replays against today’s workflow code', (_name, f) => {
    const r = results.get(f.runId);
    expect(r, 'the replayer returned no result for this history').toBeDefined();
    expect(r!.error).toBeUndefined();
  });
});
