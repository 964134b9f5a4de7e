/**
 * `npm run bench:rest`: a paginated local API (bench/rest-api-server.ts, its own process)
 * of BENCH_ROWS (default 100,000) nested records in pages of BENCH_PAGE (1,000), read first
 * by a bare fetch loop (the API's own speed: fetch + JSON.parse of every page, after one
 * untimed pass that warms the server up) and then by restApiSource into a DuckDB file.
 * Reports rows/s, this process's CPU time, peak RSS, and how much longer than the bare loop
 * haul's extract and the whole pipeline take (issue 10: haul adds < 30% over the server's
 * own speed). Nothing here asserts timings.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { duckdb, pipeline, restApiSource } from '../src/index.js';
import { mb, rate, startRssSampler } from './rss.js';

const rows = Number(process.env.BENCH_ROWS ?? 100_000);
const page = Number(process.env.BENCH_PAGE ?? 1000);
const out = resolve(process.env.BENCH_DIR ?? 'bench/out-rest');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const server = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'rest-api-server.ts')], { env: { ...process.env, BENCH_ROWS: String(rows) }, stdio: ['ignore', 'pipe', 'inherit'] });
const baseUrl = await new Promise<string>((r) => createInterface({ input: server.stdout! }).once('line', r));

const sampler = startRssSampler();
const secs = (ms: number): string => (ms / 1000).toFixed(2);
/** `1.24x (+24%)`: how much longer than the bare loop. */
const ratio = (ms: number, bare: number): string => `${(ms / bare).toFixed(2)}x (${ms >= bare ? '+' : ''}${((ms / bare - 1) * 100).toFixed(0)}%)`;
const takeStepPeak = () => mb(sampler.takeStepPeak());

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The API's own speed: fetch and parse every page, nothing else. */
async function bareLoop(): Promise<void> {
  let seen = 0;
  for (let offset = 0; offset < rows; offset += page) {
    const res = await fetch(`${baseUrl}/users?offset=${offset}&limit=${page}`);
    seen += ((await res.json()) as { data: unknown[] }).data.length;
  }
  if (seen !== rows) throw new Error(`bare loop saw ${seen} rows`);
}

try {
  await bareLoop(); // warm-up: the server's first pass runs unoptimized code
  let t = performance.now();
  const cBare = cpu();
  await bareLoop();
  const bareMs = performance.now() - t;
  const bareCpu = cpu() - cBare;

  const p = pipeline({ pipelineName: 'bench_rest', pipelinesDir: join(out, 'pipelines'), destination: duckdb({ path: join(out, 'bench.duckdb') }), datasetName: 'bench_data' });
  const source = restApiSource({
    client: { baseUrl },
    resources: [{ name: 'users', endpoint: { path: 'users', paginator: { type: 'offset', limit: page }, dataSelector: 'data' } }],
  });
  takeStepPeak();
  t = performance.now();
  const c0 = cpu();
  await p.extract(source);
  const t1 = performance.now();
  const c1 = cpu();
  const rssExtract = takeStepPeak();
  await p.normalize();
  const t2 = performance.now();
  const c2 = cpu();
  const rssNormalize = takeStepPeak();
  const info = await p.load();
  const t3 = performance.now();
  const c3 = cpu();
  const rssLoad = takeStepPeak();
  const peakRss = sampler.stop();
  const sql = p.sqlClient();
  const n = Number((await sql.query<{ n: bigint }>('SELECT count(*) AS n FROM users'))[0]!.n);
  await sql.close();
  if (n !== rows) throw new Error(`expected ${rows} rows in users, found ${n}`);
  console.log(
    [
      `haul REST bench: ${rows.toLocaleString('en-US')} nested records, pages of ${page.toLocaleString('en-US')}, into DuckDB (${(info.rowCounts['users__items'] ?? 0).toLocaleString('en-US')} child rows)`,
      `  bare fetch loop   ${(bareMs / 1000).toFixed(2)} s  ${rate(rows, bareMs)} rows/s  (the API's own speed; client CPU ${secs(bareCpu)} s)`,
      `  extract (REST)    ${((t1 - t) / 1000).toFixed(2)} s  ${rate(rows, t1 - t)} rows/s  (CPU ${secs(c1 - c0)} s, peak RSS ${rssExtract} MB)`,
      `  normalize         ${((t2 - t1) / 1000).toFixed(2)} s  ${rate(rows, t2 - t1)} rows/s  (CPU ${secs(c2 - c1)} s, peak RSS ${rssNormalize} MB)`,
      `  load              ${((t3 - t2) / 1000).toFixed(2)} s  ${rate(rows, t3 - t2)} rows/s  (CPU ${secs(c3 - c2)} s, peak RSS ${rssLoad} MB)`,
      `  end to end        ${((t3 - t) / 1000).toFixed(2)} s  ${rate(rows, t3 - t)} rows/s  (CPU ${secs(c3 - c0)} s)`,
      `  over the API      extract ${ratio(t1 - t, bareMs)}, end to end ${ratio(t3 - t, bareMs)} of the bare loop's time (target: haul adds < 30%)`,
      `  peak RSS          ${mb(peakRss)} MB`,
    ].join('\n'),
  );
} finally {
  sampler.stop();
  server.kill();
}
