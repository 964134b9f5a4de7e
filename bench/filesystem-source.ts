/**
 * `npm run bench:fs`: rows/s and peak RSS of filesystemSource() + readJsonl() / readParquet()
 * reading one file of BENCH_ROWS rows (default 1,000,000) into a DuckDB file, per step and
 * end to end. The files are written first (parquet by DuckDB). Nothing here asserts timings.
 */
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdb, filesystemSource, pipeline, readJsonl, readParquet, type Resource, from } from './haul.js';
import { mb, rate, startRssSampler, timeStep } from './rss.js';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const out = resolve(process.env.BENCH_DIR ?? 'bench/out-fs');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'files'), { recursive: true });

// the same 8 columns in both files
const jsonl = createWriteStream(join(out, 'files', 'users.jsonl'));
for (let i = 1; i <= rows; i++) {
  const line = JSON.stringify({ id: i, name: `user ${i}`, email: `user${i}@example.com`, age: 18 + (i % 60), score: (i % 1000) / 7, active: i % 3 !== 0, created_at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(), category: ['books', 'games', 'music'][i % 3] });
  if (!jsonl.write(line + '\n')) await new Promise<void>((r) => jsonl.once('drain', () => r()));
}
await new Promise<void>((r) => jsonl.end(() => r()));
{
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (SELECT i AS id, 'user ' || i AS name, 'user' || i || '@example.com' AS email, 18 + i % 60 AS age, (i % 1000) / 7.0 AS score,
    i % 3 <> 0 AS active, TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL 1 SECOND AS created_at, ['books','games','music'][1 + i % 3] AS category
    FROM range(1, ${rows + 1}) t(i)) TO '${join(out, 'files', 'users.parquet')}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
}

const { takeStepPeak, stop: stopSampler } = startRssSampler();

async function bench(label: string, data: Resource): Promise<void> {
  const p = pipeline({ pipelineName: `bench_fs_${label}`, pipelinesDir: join(out, 'pipelines'), destination: duckdb({ path: join(out, `${label}.duckdb`) }), datasetName: 'bench_fs_data' });
  takeStepPeak();
  const ex = await timeStep(() => p.extract(data), takeStepPeak);
  const nm = await timeStep(() => p.normalize(), takeStepPeak);
  const ld = await timeStep(() => p.load(), takeStepPeak);
  const total = ex.ms + nm.ms + ld.ms;
  const sql = p.sqlClient();
  const check = await sql.query<{ n: bigint | number }>(`SELECT count(*) AS n FROM ${data.name}`);
  await sql.close();
  if (Number(check[0]!.n) !== rows) throw new Error(`expected ${rows} rows in ${data.name}, found ${check[0]!.n}`);
  console.log(
    [
      `haul bench:fs ${label}: ${rows.toLocaleString('en-US')} rows from one file into DuckDB; haul from ${from}`,
      `  extract    ${(ex.ms / 1000).toFixed(2)} s  ${rate(rows, ex.ms)} rows/s  (CPU ${(ex.cpuMs / 1000).toFixed(2)} s, peak RSS ${mb(ex.peakRss)} MB)`,
      `  normalize  ${(nm.ms / 1000).toFixed(2)} s  ${rate(rows, nm.ms)} rows/s  (CPU ${(nm.cpuMs / 1000).toFixed(2)} s, peak RSS ${mb(nm.peakRss)} MB)`,
      `  load       ${(ld.ms / 1000).toFixed(2)} s  ${rate(rows, ld.ms)} rows/s  (CPU ${(ld.cpuMs / 1000).toFixed(2)} s, peak RSS ${mb(ld.peakRss)} MB)`,
      `  end to end ${(total / 1000).toFixed(2)} s  ${rate(rows, total)} rows/s  (CPU ${((ex.cpuMs + nm.cpuMs + ld.cpuMs) / 1000).toFixed(2)} s)`,
    ].join('\n'),
  );
}

const bucketUrl = join(out, 'files');
await bench('jsonl', filesystemSource({ bucketUrl, fileGlob: '*.jsonl' }).pipeTo(readJsonl()));
await bench('parquet', filesystemSource({ bucketUrl, fileGlob: '*.parquet' }).pipeTo(readParquet()));
console.log(`  peak RSS (whole process) ${mb(stopSampler())} MB`);
