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
import { duckdb, pipeline, sqlDatabase } from '../src/index.js';
import { mb, rate, startRssSampler } from './rss.js';

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

  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  // The source alone (rows read from the server and dropped): what sql_database itself costs.
  // BENCH_SOURCE_ONLY=0 skips it.
  let sourceLine = '';
  if (process.env.BENCH_SOURCE_ONLY !== '0') {
    const s0 = cpu();
    const st = performance.now();
    const users = (await sqlDatabase({ credentials: url, schema, chunkSize })).resources.users!;
    let read = 0;
    for await (const chunk of users.open({ state: {} }) as AsyncIterable<unknown[]>) read += chunk.length;
    if (read !== rows) throw new Error(`source alone read ${read} rows`);
    const sMs = performance.now() - st;
    const sCpu = cpu() - s0;
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
  const c0 = cpu();
  const t0 = performance.now();
  const source = await sqlDatabase({ credentials: url, schema, chunkSize });
  await p.extract(source);
  const t1 = performance.now();
  const c1 = cpu();
  const rssExtract = takeStepPeak();
  await p.normalize();
  const t2 = performance.now();
  const c2 = cpu();
  const rssNormalize = takeStepPeak();
  await p.load();
  const t3 = performance.now();
  const c3 = cpu();
  const rssLoad = takeStepPeak();
  const peakRss = stopSampler();

  console.log(
    [
      `haul bench:sql: ${rows.toLocaleString('en-US')} rows from PostgreSQL (sqlDatabase, chunkSize ${chunkSize.toLocaleString('en-US')}) into DuckDB`,
      ...(sourceLine ? [sourceLine] : []),
      `  extract    ${((t1 - t0) / 1000).toFixed(2)} s  ${rate(rows, t1 - t0)} rows/s  (peak RSS ${mb(rssExtract)} MB, CPU ${((c1 - c0) / 1000).toFixed(2)} s)`,
      `  normalize  ${((t2 - t1) / 1000).toFixed(2)} s  ${rate(rows, t2 - t1)} rows/s  (peak RSS ${mb(rssNormalize)} MB, CPU ${((c2 - c1) / 1000).toFixed(2)} s)`,
      `  load       ${((t3 - t2) / 1000).toFixed(2)} s  ${rate(rows, t3 - t2)} rows/s  (peak RSS ${mb(rssLoad)} MB, CPU ${((c3 - c2) / 1000).toFixed(2)} s)`,
      `  end to end ${((t3 - t0) / 1000).toFixed(2)} s  ${rate(rows, t3 - t0)} rows/s  (CPU ${((c3 - c0) / 1000).toFixed(2)} s, ${rate(rows, c3 - c0)} rows per CPU-second)`,
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
