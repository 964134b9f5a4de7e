/**
 * `npm run bench:temporal`: what Temporal orchestration costs.
 *  1. A 10-row pipeline through pipelineWorkflow once the worker is warm (median, p95).
 *  2. BENCH_ROWS (default 1,000,000) bench rows in-process vs through the workflow.
 * Starts a local dev server unless TEMPORAL_ADDRESS is set. Nothing here asserts timings.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { duckdb, pipeline, resource } from '../src/index.js';
import { registerSearchAttributes, runPipeline } from '../src/temporal/client.js';
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

    // 2. A big load: in-process vs through the workflow (same data, same steps).
    const p = pipeline({ pipelineName: 'big_ip', pipelinesDir: join(out, 'ip-pipelines'), destination: duckdb({ path: join(out, 'big_ip.duckdb') }), datasetName: 'bench_data' });
    const t0 = performance.now();
    const info = await p.run(benchRows(rows), { tableName: 'users' });
    const tIp = performance.now() - t0;
    const t1 = performance.now();
    const r = await runPipeline(
      client,
      { pipelineName: 'big_wf', source: 'bench', args: { n: rows }, destination: 'duckdb', destinationOptions: { path: join(out, 'big_wf.duckdb') }, datasetName: 'bench_data' },
      { taskQueue },
    );
    const tWf = performance.now() - t1;
    if (r.rowCounts.users !== rows || info.rowCounts.users !== rows) throw new Error(`expected ${rows} users rows, got ${r.rowCounts.users} / ${info.rowCounts.users}`);
    console.log(`  ${rows.toLocaleString('en-US')} bench rows (+${(r.rowCounts.users__items ?? 0).toLocaleString('en-US')} child rows) into DuckDB:`);
    console.log(`    in-process run()      ${s(tIp)}`);
    console.log(`    through the workflow  ${s(tWf)}  (${(tWf / tIp).toFixed(2)}x in-process)`);
  });
} finally {
  await nativeConnection.close();
  await connection.close();
  await server?.stop();
}
