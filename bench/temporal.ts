/**
 * `npm run bench:temporal`: what Temporal orchestration costs.
 *  1. A 10-row pipeline through pipelineWorkflow once the worker is warm (median, p95).
 *  2. BENCH_ROWS (default 1,000,000) bench rows in-process vs through the workflow, two runs
 *     of each.
 * Starts a local dev server unless TEMPORAL_ADDRESS is set. Nothing here asserts timings.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { duckdb, pipeline, resource } from '../src/index.js';
import { registerSearchAttributes, runPipeline } from '../src/temporal/client.js';
import { pipelineWorkflowId } from '../src/temporal/input.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { createWorker } from '../src/temporal/worker.js';
import { benchRows } from './data.js';

Runtime.install({ logger: new DefaultLogger('WARN') });
const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const smallRuns = Number(process.env.BENCH_SMALL_RUNS ?? 20);
const out = resolve(process.env.BENCH_DIR ?? 'bench/out-temporal');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const ms = (t: number) => `${t.toFixed(0)} ms`;
const s = (t: number) => `${(t / 1000).toFixed(2)} s`;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

let server: DevServer | undefined;
let address = process.env.TEMPORAL_ADDRESS;
if (!address) {
  server = await startDevServer();
  address = server.address;
}
const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
const connection = await Connection.connect({ address });
await registerSearchAttributes(connection, namespace);
const client = new Client({ connection, namespace });
const nativeConnection = await NativeConnection.connect({ address });

const tiny = () =>
  resource(
    function* tiny() {
      for (let i = 0; i < 10; i++) yield { id: i, name: `row ${i}`, at: new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString() };
    },
    { name: 'tiny' },
  );
const bench = (opts: { n: number }) =>
  resource(
    function* users() {
      yield* benchRows(opts.n);
    },
    { name: 'users' },
  );
const taskQueue = `bench-${process.pid}`;
const worker = await createWorker({ sources: { tiny, bench }, connection: nativeConnection, namespace, taskQueue, pipelinesDir: join(out, 'wf-pipelines') });

try {
  await worker.runUntil(async () => {
    /** Where a workflow run's time went, from its history: each activity's queue wait and run time, and the rest. */
    const activityTimes = async (pipelineName: string, total: number): Promise<string> => {
      const at = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
      const scheduled = new Map<string, { name: string; at: number; started?: number; attempt?: number }>();
      const parts: string[] = [];
      let inActivities = 0;
      for (const e of (await client.workflow.getHandle(pipelineWorkflowId(pipelineName)).fetchHistory()).events ?? []) {
        const id = String(e.eventId);
        if (e.activityTaskScheduledEventAttributes) scheduled.set(id, { name: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at: at(e) });
        const started = e.activityTaskStartedEventAttributes;
        if (started) Object.assign(scheduled.get(String(started.scheduledEventId))!, { started: at(e), attempt: started.attempt ?? 1 });
        const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
        if (done) {
          const a = scheduled.get(String(done.scheduledEventId))!;
          const outcome = e.activityTaskCompletedEventAttributes ? '' : e.activityTaskFailedEventAttributes ? ' FAILED' : ' TIMED OUT';
          parts.push(`${a.name} ${s(at(e) - (a.started ?? a.at))}${(a.attempt ?? 1) > 1 ? ` (attempt ${a.attempt})` : ''}${outcome} +${ms((a.started ?? a.at) - a.at)} queued`);
          inActivities += at(e) - a.at;
        }
      }
      return `${parts.join(', ')}; outside activities ${ms(total - inActivities)}`;
    };
    // 1. Orchestration overhead on a warm worker.
    const small = { pipelineName: 'tiny', source: 'tiny', destination: 'duckdb', destinationOptions: { path: join(out, 'tiny.duckdb') } };
    for (let i = 0; i < 5; i++) await runPipeline(client, small, { taskQueue });
    const times: number[] = [];
    for (let i = 0; i < smallRuns; i++) {
      const t0 = performance.now();
      await runPipeline(client, small, { taskQueue });
      times.push(performance.now() - t0);
    }
    const ip = pipeline({ pipelineName: 'tiny_ip', pipelinesDir: join(out, 'ip-pipelines'), destination: duckdb({ path: join(out, 'tiny_ip.duckdb') }) });
    for (let i = 0; i < 5; i++) await ip.run(tiny());
    const ipTimes: number[] = [];
    for (let i = 0; i < smallRuns; i++) {
      const t0 = performance.now();
      await ip.run(tiny());
      ipTimes.push(performance.now() - t0);
    }
    console.log(`haul bench:temporal (Temporal at ${address}${server ? ', local dev server' : ''})`);
    console.log(`  10-row pipeline, warm worker, ${smallRuns} runs:`);
    console.log(`    through the workflow  median ${ms(pct(times, 50))}  p95 ${ms(pct(times, 95))}  max ${ms(Math.max(...times))}`);
    console.log(`    in-process run()      median ${ms(pct(ipTimes, 50))}  p95 ${ms(pct(ipTimes, 95))}`);
    console.log(`    the last workflow run: ${await activityTimes('tiny', times.at(-1)!)}`);

    // 2. A big load: in-process vs through the workflow (same data, same steps). Each run
    // starts after `sync`, in the order workflow, in-process, in-process, workflow: the
    // previous run's gigabyte of files would otherwise still be going to disk during the
    // next one and make whichever runs second look slower.
    const timeIp = async (i: number) => {
      const p = pipeline({ pipelineName: `big_ip${i}`, pipelinesDir: join(out, 'ip-pipelines'), destination: duckdb({ path: join(out, `big_ip${i}.duckdb`) }), datasetName: 'bench_data' });
      execFileSync('sync');
      const t0 = performance.now();
      const info = await p.run(benchRows(rows), { tableName: 'users' });
      if (info.rowCounts.users !== rows) throw new Error(`expected ${rows} users rows in-process, got ${info.rowCounts.users}`);
      return performance.now() - t0;
    };
    let childRows = 0;
    const wfSteps: string[] = [];
    const timeWf = async (i: number) => {
      execFileSync('sync');
      const t0 = performance.now();
      const r = await runPipeline(
        client,
        { pipelineName: `big_wf${i}`, source: 'bench', args: { n: rows }, destination: 'duckdb', destinationOptions: { path: join(out, `big_wf${i}.duckdb`) }, datasetName: 'bench_data' },
        { taskQueue },
      );
      if (r.rowCounts.users !== rows) throw new Error(`expected ${rows} users rows through the workflow, got ${r.rowCounts.users}`);
      childRows = r.rowCounts.users__items ?? 0;
      const total = performance.now() - t0;
      wfSteps.push(`      run ${i}: ${await activityTimes(`big_wf${i}`, total)}`);
      return total;
    };
    const wf = [await timeWf(1)];
    const inProcess = [await timeIp(1), await timeIp(2)];
    wf.push(await timeWf(2));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`  ${rows.toLocaleString('en-US')} bench rows (+${childRows.toLocaleString('en-US')} child rows) into DuckDB, two runs each:`);
    console.log(`    in-process run()      ${inProcess.map(s).join(', ')}`);
    console.log(`    through the workflow  ${wf.map(s).join(', ')}  (mean ${(mean(wf) / mean(inProcess)).toFixed(2)}x in-process)`);
    for (const line of wfSteps) console.log(line);
  });
} finally {
  await nativeConnection.close();
  await connection.close();
  await server?.stop();
}
