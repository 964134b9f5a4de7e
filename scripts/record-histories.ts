/**
 * `npm run record:histories`: records real workflow histories for the replay test
 * (test/replay/replay.test.ts) into test/replay/histories/<scenario>.json.
 *
 * A private Temporal dev server, a worker with the real activities, a DuckDB file in a
 * temp dir and a few rows per run. Each scenario takes one branch of the workflow code
 * (pending packages, refresh, compensation, drop, scheduled, skipped tick).
 *
 * Re-record only for a deliberate, versioned workflow change (see docs/temporal.md,
 * "Replay test"): the old fixtures are what running workflows look like in production.
 * Keep the old files and add new ones (`<scenario>.v2.json`) when a change is made with
 * `patched()`, so both the old and the new path keep replaying.
 *
 *   npm run record:histories                 every scenario
 *   npm run record:histories -- drop scheduled  only these (file names without .json)
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { pipeline, resource } from '../src/index.js';
import { historyToJson } from '../test/replay/history-json.js';
import { createWorker, dropPipelineData, runPipeline, startDevServer, startPipeline, type PipelineRunInput } from '../src/temporal/index.js';
import { failingDuckdb } from '../test/fixtures/failing-destination.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const OUT = resolve(import.meta.dirname, '../test/replay/histories');
/** Identity of worker and client in the recorded events (instead of pid@hostname). */
const IDENTITY = 'haul-record-histories';
const TASK_QUEUE = 'haul-record';

/** A handful of rows with a child list, so normalize writes a child table too. */
const things = (opts: { n: number }) =>
  resource(
    function* things() {
      for (let i = 1; i <= opts.n; i++) yield { id: i, name: `thing ${i}`, tags: [`t${i}`] };
    },
    { name: 'things', primaryKey: 'id' },
  );

/** Waits for `gate.open()` before yielding: holds a run in progress for the skipped-tick scenario. */
const gate = (() => {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
})();
const held = () =>
  resource(
    async function* held() {
      await gate.opened;
      yield [{ id: 1 }];
    },
    { name: 'held' },
  );


// A fixed path: it shows in recorded results (destinationLocation), so re-recording changes no more than it must.
const dir = join(tmpdir(), 'haul-record-histories');
rmSync(dir, { recursive: true, force: true });
const pipelinesDir = join(dir, 'pipelines');
const dbPath = join(dir, 'warehouse.duckdb');
const failing = { on: false };
const server = await startDevServer();
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection, namespace: server.namespace, identity: IDENTITY });
const worker = await createWorker({
  sources: { things, held },
  destinations: { warehouse: failingDuckdb(dbPath, failing, 'disk full (recorded failure)') },
  taskQueue: TASK_QUEUE,
  address: server.address,
  namespace: server.namespace,
  pipelinesDir,
  workerOptions: { identity: IDENTITY },
});
const running = worker.run();

const base = { destination: 'warehouse', datasetName: 'recorded', tuning: { maximumAttempts: 2, initialIntervalMs: 100 } } as const;
const input = (pipelineName: string, extra: Partial<PipelineRunInput> = {}): PipelineRunInput => ({ ...base, pipelineName, source: 'things', args: { n: 3 }, ...extra });
const opts = { taskQueue: TASK_QUEUE };

async function save(name: string, workflowId: string, runId?: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const file = join(OUT, `${name}.json`);
  writeFileSync(file, historyToJson(history));
  console.log(`${name}: ${history.events?.length ?? 0} events -> ${file}`);
}

/** Runs `fn` and ignores the workflow failure it is expected to end with. */
async function failed(fn: () => Promise<unknown>): Promise<void> {
  const ok = await fn().then(() => true, () => false);
  if (ok) throw new Error('record-histories: a scenario that should fail succeeded');
}

const scenarios: Record<string, () => Promise<void>> = {
  /** sync -> extract -> normalize -> load. */
  async 'pipeline-basic'() {
    await runPipeline(client, input('rec_basic'), opts);
    await save('pipeline-basic', 'pipeline/rec_basic');
  },
  /** A package extracted in-process before the run: finish_pending first. */
  async 'pipeline-pending'() {
    const p = pipeline({ pipelineName: 'rec_pending', pipelinesDir, destination: failingDuckdb(dbPath, failing, 'disk full (recorded failure)'), datasetName: base.datasetName });
    await p.extract(things({ n: 2 }));
    await runPipeline(client, input('rec_pending'), opts);
    await save('pipeline-pending', 'pipeline/rec_pending');
  },
  /** snapshot -> applyRefresh -> load -> discardSnapshot. */
  async 'pipeline-refresh'() {
    await runPipeline(client, input('rec_refresh'), opts);
    await runPipeline(client, input('rec_refresh', { refresh: 'drop_sources' }), opts);
    await save('pipeline-refresh', 'pipeline/rec_refresh');
  },
  /** The load after the refresh fails: restoreSnapshot, then the run fails. */
  async 'pipeline-refresh-compensated'() {
    await runPipeline(client, input('rec_refresh_fail'), opts);
    failing.on = true;
    try {
      await failed(() => runPipeline(client, input('rec_refresh_fail', { refresh: 'drop_sources' }), opts));
    } finally {
      failing.on = false;
    }
    await save('pipeline-refresh-compensated', 'pipeline/rec_refresh_fail');
  },
  /** planDrop -> normalize -> applyRefresh -> load -> discardSnapshot. */
  async drop() {
    await runPipeline(client, input('rec_drop'), opts);
    await dropPipelineData(client, { ...base, pipelineName: 'rec_drop', resources: ['things'] }, opts);
    await save('drop', 'pipeline/rec_drop');
  },
  /** The drop's load fails: restoreSnapshot. */
  async 'drop-compensated'() {
    await runPipeline(client, input('rec_drop_fail'), opts);
    failing.on = true;
    try {
      await failed(() => dropPipelineData(client, { ...base, pipelineName: 'rec_drop_fail', resources: ['things'] }, opts));
    } finally {
      failing.on = false;
    }
    await save('drop-compensated', 'pipeline/rec_drop_fail');
  },
  /** A schedule tick: pipelineWorkflow as the child pipeline/<name>. */
  async scheduled() {
    const h = await client.workflow.start('scheduledPipelineWorkflow', { workflowId: 'schedule/rec_sched', taskQueue: TASK_QUEUE, args: [input('rec_sched')] });
    await h.result();
    await save('scheduled', h.workflowId, h.firstExecutionRunId);
  },
  /** A tick while the pipeline runs: skipped. */
  async 'scheduled-skipped'() {
    const manual = await startPipeline(client, input('rec_skip', { source: 'held', args: undefined }), opts);
    const h = await client.workflow.start('scheduledPipelineWorkflow', { workflowId: 'schedule/rec_skip', taskQueue: TASK_QUEUE, args: [input('rec_skip')] });
    const out = (await h.result()) as { skipped: boolean };
    gate.open();
    await manual.result();
    if (!out.skipped) throw new Error('record-histories: the tick was not skipped');
    await save('scheduled-skipped', h.workflowId, h.firstExecutionRunId);
  },
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in scenarios));
try {
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  mkdirSync(OUT, { recursive: true });
  for (const [name, record] of Object.entries(scenarios)) if (!wanted.length || wanted.includes(name)) await record();
} finally {
  gate.open();
  await worker.shutdown();
  await running;
  await connection.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
