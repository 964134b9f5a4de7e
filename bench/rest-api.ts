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
import { duckdb, pipeline, restApiSource, from, nodeArgsFor } from './haul.js';
import { cpuMs, mb, rate, startRssSampler, timeStep } from './rss.js';

const rows = Number(process.env.BENCH_ROWS ?? 100_000);
const page = Number(process.env.BENCH_PAGE ?? 1000);
const out = resolve(process.env.BENCH_DIR ?? 'bench/out-rest');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const server = spawn(process.execPath, nodeArgsFor('rest-api-server'), { env: { ...process.env, BENCH_ROWS: String(rows) }, stdio: ['ignore', 'pipe', 'inherit'] });
const baseUrl = await new Promise<string>((r) => createInterface({ input: server.stdout! }).once('line', r));

const sampler = startRssSampler();
const secs = (ms: number): string => (ms / 1000).toFixed(2);
/** `1.24x (+24%)`: how much longer than the bare loop. */
const ratio = (ms: number, bare: number): string => `${(ms / bare).toFixed(2)}x (${ms >= bare ? '+' : ''}${((ms / bare - 1) * 100).toFixed(0)}%)`;
const takeStepPeak = () => sampler.takeStepPeak();

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
  const bare = await timeStep(bareLoop, takeStepPeak);
  const bareMs = bare.ms;

  const p = pipeline({ pipelineName: 'bench_rest', pipelinesDir: join(out, 'pipelines'), destination: duckdb({ path: join(out, 'bench.duckdb') }), datasetName: 'bench_data' });
  const source = restApiSource({
    client: { baseUrl },
    resources: [{ name: 'users', endpoint: { path: 'users', paginator: { type: 'offset', limit: page }, dataSelector: 'data' } }],
  });
  takeStepPeak();
  const ex = await timeStep(() => p.extract(source), takeStepPeak);
  const nm = await timeStep(() => p.normalize(), takeStepPeak);
  const ld = await timeStep(() => p.load(), takeStepPeak);
  const info = ld.result;
  const total = ex.ms + nm.ms + ld.ms;
  const peakRss = sampler.stop();
  const sql = p.sqlClient();
  const n = Number((await sql.query<{ n: bigint }>('SELECT count(*) AS n FROM users'))[0]!.n);
  await sql.close();
  if (n !== rows) throw new Error(`expected ${rows} rows in users, found ${n}`);
  console.log(
    [
      `haul REST bench: ${rows.toLocaleString('en-US')} nested records, pages of ${page.toLocaleString('en-US')}, into DuckDB (${(info.rowCounts['users__items'] ?? 0).toLocaleString('en-US')} child rows); haul from ${from}`,
      `  bare fetch loop   ${(bareMs / 1000).toFixed(2)} s  ${rate(rows, bareMs)} rows/s  (the API's own speed; client CPU ${secs(bare.cpuMs)} s)`,
      `  extract (REST)    ${(ex.ms / 1000).toFixed(2)} s  ${rate(rows, ex.ms)} rows/s  (CPU ${secs(ex.cpuMs)} s, peak RSS ${mb(ex.peakRss)} MB)`,
      `  normalize         ${(nm.ms / 1000).toFixed(2)} s  ${rate(rows, nm.ms)} rows/s  (CPU ${secs(nm.cpuMs)} s, peak RSS ${mb(nm.peakRss)} MB)`,
      `  load              ${(ld.ms / 1000).toFixed(2)} s  ${rate(rows, ld.ms)} rows/s  (CPU ${secs(ld.cpuMs)} s, peak RSS ${mb(ld.peakRss)} MB)`,
      `  end to end        ${(total / 1000).toFixed(2)} s  ${rate(rows, total)} rows/s  (CPU ${secs(ex.cpuMs + nm.cpuMs + ld.cpuMs)} s)`,
      `  over the API      extract ${ratio(ex.ms, bareMs)}, end to end ${ratio(total, bareMs)} of the bare loop's time (target: haul adds < 30%)`,
      `  peak RSS          ${mb(peakRss)} MB`,
    ].join('\n'),
  );
} finally {
  sampler.stop();
  server.kill();
}
