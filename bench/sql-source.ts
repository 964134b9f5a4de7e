/**
 * `npm run bench:sql`: rows/s, CPU time and peak RSS of sqlDatabase() reading a PostgreSQL
 * table into a DuckDB file, per step and end to end, and of the source alone (rows read and
 * dropped; BENCH_SOURCE_ONLY=0 skips it). BENCH_ROWS (default 1,000,000) sets the size,
 * BENCH_POSTGRES_URL the server (default the local test server); the table lives in a schema
 * of its own that is dropped afterwards. Nothing here asserts timings.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { duckdb, pipeline, sqlDatabase, from } from './haul.js';
import { cpuMs, mb, rate, startRssSampler, timeStep } from './rss.js';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const url = process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const chunkSize = Number(process.env.BENCH_CHUNK_SIZE ?? 50_000);
const schema = `bench_sqlsrc_${process.pid}`;
const out = resolve(process.env.BENCH_DIR ?? 'bench/out-sql');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const admin = new pg.Client({ connectionString: url });
await admin.connect();
try {
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.query(`CREATE TABLE "${schema}".users (
    id bigint PRIMARY KEY, name text NOT NULL, email varchar(100), age integer, score double precision, active boolean,
    created_at timestamptz, amount numeric(12,2), category text, country char(2))`);
  await admin.query(
    `INSERT INTO "${schema}".users
     SELECT g, 'user ' || g, 'user' || g || '@example.com', 18 + g % 60, (g % 1000) / 7.0, g % 3 <> 0,
            timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', round(g * 13.37 / 100, 2),
            (ARRAY['books','games','music','tools','garden'])[1 + g % 5], (ARRAY['DE','US','FR','JP','BR','IN'])[1 + g % 6]
     FROM generate_series(1, $1::bigint) g`,
    [rows],
  );
  await admin.query(`ANALYZE "${schema}".users`);

  // The source alone (rows read from the server and dropped): what sql_database itself costs.
  // BENCH_SOURCE_ONLY=0 skips it.
  let sourceLine = '';
  if (process.env.BENCH_SOURCE_ONLY !== '0') {
    const s0 = cpuMs();
    const st = performance.now();
    const users = (await sqlDatabase({ credentials: url, schema, chunkSize })).resources.users!;
    let read = 0;
    for await (const chunk of users.open({ state: {} }) as AsyncIterable<unknown[]>) read += chunk.length;
    if (read !== rows) throw new Error(`source alone read ${read} rows`);
    const sMs = performance.now() - st;
    const sCpu = cpuMs() - s0;
    sourceLine = `  source alone ${(sMs / 1000).toFixed(2)} s  ${rate(rows, sMs)} rows/s  (CPU ${(sCpu / 1000).toFixed(2)} s, ${rate(rows, sCpu)} rows per CPU-second; not part of end to end)`;
  }

  const { takeStepPeak, stop: stopSampler } = startRssSampler();

  const p = pipeline({
    pipelineName: 'bench_sql',
    pipelinesDir: join(out, 'pipelines'),
    destination: duckdb({ path: join(out, 'bench_sql.duckdb') }),
    datasetName: 'bench_sql_data',
  });
  takeStepPeak();
  // CPU time of this process per step: steadier than wall clock on a shared machine.
  const ex = await timeStep(async () => p.extract(await sqlDatabase({ credentials: url, schema, chunkSize })), takeStepPeak);
  const nm = await timeStep(() => p.normalize(), takeStepPeak);
  const ld = await timeStep(() => p.load(), takeStepPeak);
  const total = ex.ms + nm.ms + ld.ms;
  const totalCpu = ex.cpuMs + nm.cpuMs + ld.cpuMs;
  const peakRss = stopSampler();

  console.log(
    [
      `haul bench:sql: ${rows.toLocaleString('en-US')} rows from PostgreSQL (sqlDatabase, chunkSize ${chunkSize.toLocaleString('en-US')}) into DuckDB; haul from ${from}`,
      ...(sourceLine ? [sourceLine] : []),
      `  extract    ${(ex.ms / 1000).toFixed(2)} s  ${rate(rows, ex.ms)} rows/s  (peak RSS ${mb(ex.peakRss)} MB, CPU ${(ex.cpuMs / 1000).toFixed(2)} s)`,
      `  normalize  ${(nm.ms / 1000).toFixed(2)} s  ${rate(rows, nm.ms)} rows/s  (peak RSS ${mb(nm.peakRss)} MB, CPU ${(nm.cpuMs / 1000).toFixed(2)} s)`,
      `  load       ${(ld.ms / 1000).toFixed(2)} s  ${rate(rows, ld.ms)} rows/s  (peak RSS ${mb(ld.peakRss)} MB, CPU ${(ld.cpuMs / 1000).toFixed(2)} s)`,
      `  end to end ${(total / 1000).toFixed(2)} s  ${rate(rows, total)} rows/s  (CPU ${(totalCpu / 1000).toFixed(2)} s, ${rate(rows, totalCpu)} rows per CPU-second)`,
      `  peak RSS   ${mb(peakRss)} MB`,
    ].join('\n'),
  );
  const sql = p.sqlClient();
  const check = await sql.query<{ n: bigint | number }>('SELECT count(*) AS n FROM users');
  await sql.close();
  if (Number(check[0]!.n) !== rows) throw new Error(`expected ${rows} rows in users, found ${check[0]!.n}`);
} finally {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
}
