/**
 * `npx tsx bench/rest-api.ts`: a paginated local API (bench/rest-api-server.ts, its own
 * process) of BENCH_ROWS (default 100,000) nested records in pages of BENCH_PAGE (1,000),
 * read first by a bare fetch loop (the API's own speed) and then by restApiSource into a
 * DuckDB file. Reports rows/s and peak RSS; nothing here asserts timings.
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
const takeStepPeak = () => mb(sampler.takeStepPeak());

try {
  // The API's own speed: fetch and parse every page, nothing else.
  let t = performance.now();
  let seen = 0;
  for (let offset = 0; offset < rows; offset += page) {
    const res = await fetch(`${baseUrl}/users?offset=${offset}&limit=${page}`);
    seen += ((await res.json()) as { data: unknown[] }).data.length;
  }
  const bareMs = performance.now() - t;
  if (seen !== rows) throw new Error(`bare loop saw ${seen} rows`);

  const p = pipeline({ pipelineName: 'bench_rest', pipelinesDir: join(out, 'pipelines'), destination: duckdb({ path: join(out, 'bench.duckdb') }), datasetName: 'bench_data' });
  const source = restApiSource({
    client: { baseUrl },
    resources: [{ name: 'users', endpoint: { path: 'users', paginator: { type: 'offset', limit: page }, dataSelector: 'data' } }],
  });
  takeStepPeak();
  t = performance.now();
  await p.extract(source);
  const t1 = performance.now();
  const rssExtract = takeStepPeak();
  await p.normalize();
  const t2 = performance.now();
  const rssNormalize = takeStepPeak();
  const info = await p.load();
  const t3 = performance.now();
  const rssLoad = takeStepPeak();
  const peakRss = sampler.stop();
  const sql = p.sqlClient();
  const n = Number((await sql.query<{ n: bigint }>('SELECT count(*) AS n FROM users'))[0]!.n);
  await sql.close();
  if (n !== rows) throw new Error(`expected ${rows} rows in users, found ${n}`);
  console.log(
    [
      `haul REST bench: ${rows.toLocaleString('en-US')} nested records, pages of ${page.toLocaleString('en-US')}, into DuckDB (${(info.rowCounts['users__items'] ?? 0).toLocaleString('en-US')} child rows)`,
      `  bare fetch loop   ${(bareMs / 1000).toFixed(2)} s  ${rate(rows, bareMs)} rows/s  (the API's own speed)`,
      `  extract (REST)    ${((t1 - t) / 1000).toFixed(2)} s  ${rate(rows, t1 - t)} rows/s  (${(((t1 - t) / bareMs - 1) * 100).toFixed(0)}% over the bare loop; peak RSS ${rssExtract} MB)`,
      `  normalize         ${((t2 - t1) / 1000).toFixed(2)} s  ${rate(rows, t2 - t1)} rows/s  (peak RSS ${rssNormalize} MB)`,
      `  load              ${((t3 - t2) / 1000).toFixed(2)} s  ${rate(rows, t3 - t2)} rows/s  (peak RSS ${rssLoad} MB)`,
      `  end to end        ${((t3 - t) / 1000).toFixed(2)} s  ${rate(rows, t3 - t)} rows/s`,
      `  peak RSS          ${mb(peakRss)} MB`,
    ].join('\n'),
  );
} finally {
  sampler.stop();
  server.kill();
}
