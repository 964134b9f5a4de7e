/**
 * `npm run bench [-- --destination duckdb|postgres|filesystem] [--format jsonl|parquet|csv] [--memory-limit 96MB]`: rows/s per step and peak RSS
 * for the in-process engine into a DuckDB file (default), PostgreSQL (BENCH_POSTGRES_URL,
 * default the local test server; the dataset is dropped afterwards) or the filesystem
 * destination (a bucket folder under bench/out; the count is read back through dataset()). BENCH_ROWS (default 1,000,000)
 * sets the size. `--format` is the job file format normalize writes (default: the destination's
 * preferred one). `--disposition merge|upsert|scd2|insert-only` loads with that merge strategy
 * (merge = delete-insert; primary key `id`, scd2 a full extract without keys) twice: a first
 * load into the empty table and a second of the same rows with every 10th row changed, so the
 * second one matches, updates/retires and inserts. Nothing here asserts timings.
 */
import { rmSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { duckdb, filesystem, pipeline, postgres, type LoaderFileFormat, type RunOptions, from } from './haul.js';
import { benchRows } from './data.js';
import { mb, rate, startRssSampler, timeStep } from './rss.js';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const argIdx = process.argv.indexOf('--destination');
const destinationName = argIdx >= 0 ? process.argv[argIdx + 1] : 'duckdb';
if (destinationName !== 'duckdb' && destinationName !== 'postgres' && destinationName !== 'filesystem') {
  throw new Error(`--destination must be duckdb, postgres or filesystem, not ${destinationName}`);
}
/** `--create-indexes false`: postgres without the UNIQUE constraint on `_dlt_id` (dlt's create_indexes). */
const ciIdx = process.argv.indexOf('--create-indexes');
const createIndexes = ciIdx >= 0 ? process.argv[ciIdx + 1] !== 'false' : undefined;
const fmtIdx = process.argv.indexOf('--format');
const loaderFileFormat = fmtIdx >= 0 ? (process.argv[fmtIdx + 1] as LoaderFileFormat) : undefined;
/** `--memory-limit 96MB`: DuckDB's memory_limit (duckdb({ memoryLimit }); default 128MB). Other DuckDB settings: env DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG (JSON). */
const memIdx = process.argv.indexOf('--memory-limit');
const memoryLimit = memIdx >= 0 ? process.argv[memIdx + 1] : undefined;
const dispIdx = process.argv.indexOf('--disposition');
const disposition = dispIdx >= 0 ? process.argv[dispIdx + 1] : undefined;
const STRATEGIES: Record<string, RunOptions> = {
  merge: { writeDisposition: { disposition: 'merge', strategy: 'delete-insert' }, primaryKey: 'id' },
  upsert: { writeDisposition: { disposition: 'merge', strategy: 'upsert' }, primaryKey: 'id' },
  'insert-only': { writeDisposition: { disposition: 'merge', strategy: 'insert-only' }, primaryKey: 'id' },
  scd2: { writeDisposition: { disposition: 'merge', strategy: 'scd2' } },
};
if (disposition !== undefined && !(disposition in STRATEGIES)) throw new Error(`--disposition must be one of ${Object.keys(STRATEGIES).join(', ')}`);
const runOptions: RunOptions = disposition ? STRATEGIES[disposition]! : {};
const out = resolve(process.env.BENCH_DIR ?? 'bench/out');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const { takeStepPeak, stop: stopSampler } = startRssSampler();

const p = pipeline({
  pipelineName: 'bench',
  pipelinesDir: join(out, 'pipelines'),
  destination:
    destinationName === 'postgres'
      ? postgres({ credentials: process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test', createIndexes })
      : destinationName === 'filesystem'
        ? filesystem({ bucketUrl: join(out, 'bucket') })
        : duckdb({ path: join(out, 'bench.duckdb'), ...(memoryLimit && { memoryLimit }) }),
  datasetName: destinationName === 'postgres' ? `bench_data_${process.pid}` : 'bench_data',
});

takeStepPeak();
const ex = await timeStep(() => p.extract(benchRows(rows), { tableName: 'users', ...runOptions, ...(loaderFileFormat && { loaderFileFormat }) }), takeStepPeak);
const nm = await timeStep(() => p.normalize(), takeStepPeak);
const ld = await timeStep(() => p.load(), takeStepPeak);
const norm = nm.result;
const info = ld.result;
const total = ex.ms + nm.ms + ld.ms;
/** The second merge load: the same rows, every 10th one changed. */
let second: string[] = [];
if (disposition) {
  function* changed() {
    for (const r of benchRows(rows)) yield r.id % 10 === 0 ? { ...r, name: `${r.name} (changed)` } : r;
  }
  const s0 = performance.now();
  await p.extract(changed(), { tableName: 'users', ...runOptions, ...(loaderFileFormat && { loaderFileFormat }) });
  await p.normalize();
  const s1 = performance.now();
  const rssNorm2 = takeStepPeak();
  await p.load();
  const s2 = performance.now();
  const rssLoad2 = takeStepPeak();
  second = [
    `  second ${disposition} load of the same ${rows.toLocaleString('en-US')} rows, every 10th changed:`,
    `    extract+normalize ${((s1 - s0) / 1000).toFixed(2)} s  ${rate(rows, s1 - s0)} rows/s  (peak RSS ${mb(rssNorm2)} MB)`,
    `    load              ${((s2 - s1) / 1000).toFixed(2)} s  ${rate(rows, s2 - s1)} source rows/s  (peak RSS ${mb(rssLoad2)} MB)`,
  ];
}
const peakRss = stopSampler();

const childRows = info.rowCounts['users__items'] ?? 0;
const lines = [
  `haul bench: ${rows.toLocaleString('en-US')} source rows (${childRows.toLocaleString('en-US')} child rows) ${disposition ? ` (${disposition})` : ''} into ${destinationName === 'postgres' ? `PostgreSQL${createIndexes === false ? ' (createIndexes: false)' : ''}` : destinationName === 'filesystem' ? 'filesystem' : 'DuckDB'}${loaderFileFormat ? `, ${loaderFileFormat} job files` : ''}; haul from ${from}`,
  `  extract    ${(ex.ms / 1000).toFixed(2)} s  ${rate(rows, ex.ms)} rows/s  (peak RSS ${mb(ex.peakRss)} MB)`,
  `  normalize  ${(nm.ms / 1000).toFixed(2)} s  ${rate(rows, nm.ms)} source rows/s, ${rate(Object.values(norm.rowCounts).reduce((a, b) => a + b, 0), nm.ms)} output rows/s  (peak RSS ${mb(nm.peakRss)} MB)`,
  `  load       ${(ld.ms / 1000).toFixed(2)} s  ${rate(rows, ld.ms)} source rows/s, ${rate(Object.values(info.rowCounts).reduce((a, b) => a + b, 0), ld.ms)} table rows/s  (peak RSS ${mb(ld.peakRss)} MB)`,
  `  end to end ${(total / 1000).toFixed(2)} s  ${rate(rows, total)} rows/s`,
  ...second,
  `  peak RSS   ${mb(peakRss)} MB`,
  `  load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (1/5/15 min; the machine is shared)`,
];
console.log(lines.join('\n'));
const check = await p.dataset().query<{ n: bigint | number }>('SELECT count(*) AS n FROM users');
const expected = disposition === 'scd2' ? rows + Math.ceil(rows / 10) : rows;
if (Number(check[0]!.n) !== expected) throw new Error(`expected ${expected} rows in users, found ${check[0]!.n}`);
if (destinationName === 'postgres') {
  // a shared server: leave nothing behind
  const c = p.destination.createClient({ pipelineName: p.pipelineName, datasetName: p.datasetName });
  await c.open();
  await c.dropDataset();
  await c.close();
}
