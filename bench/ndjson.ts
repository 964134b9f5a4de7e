/**
 * `npm run bench:ndjson`: the NDJSON case of docs/performance.md. BENCH_ROWS (default 200,000)
 * nested rows (bench/data.ts) in an NDJSON file, read by a generator that parses each line,
 * into a DuckDB file, by
 *   - haul (run(): extract, normalize, load),
 *   - DuckDB's own reader (read_json_auto, the list unnested into a child table; no ids, no
 *     schema: the floor for this data), and
 *   - dlt 1.31 with its defaults and with parquet + 2 normalize workers, when a venv with dlt
 *     exists at bench/.venv-dlt (see docs/performance.md; never a project dependency).
 * haul runs twice, each in a process of its own (bench/ndjson-haul.ts): with the case's
 * generator, and with its own filesystem source, whose lines are not parsed at extract.
 * Prints rows/s and peak RSS of each and haul's ratios (generator / readJsonl) to the
 * others, from the same run.
 * Nothing here asserts timings.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';
import { benchRows } from './data.js';
import { rate } from './rss.js';
import { benchDir, from, nodeArgsFor } from './haul.js';

const rows = Number(process.env.BENCH_ROWS ?? 200_000);
const out = resolve(process.env.BENCH_DIR ?? 'bench/out-ndjson');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const file = join(out, 'users.ndjson');
writeFileSync(file, Array.from(benchRows(rows), (r) => JSON.stringify(r)).join('\n') + '\n');

const results: Array<{ name: string; seconds: number; peakMb?: number; haul?: boolean }> = [];

// haul, each way in a process of its own (bench/ndjson-haul.ts)
for (const mode of ['generator', 'readJsonl']) {
  // each run starts with the previous writes on disk (the NDJSON file's, the other run's)
  execFileSync('sync');
  const r = JSON.parse(execFileSync(process.execPath, [...nodeArgsFor('ndjson-haul'), mode, file, out], { encoding: 'utf8' }).trim().split('\n').pop()!) as { rows: number; seconds: number; peakRssMb: number };
  if (r.rows !== rows) throw new Error(`haul (${mode}) loaded ${r.rows} users, expected ${rows}`);
  const name = mode === 'generator' ? 'haul, a generator parsing each line' : "haul, filesystemSource + readJsonl()";
  results.push({ name, seconds: r.seconds, peakMb: Math.round(r.peakRssMb), haul: true });
}
let t: number;

// DuckDB's own reader: the floor (no ids, no schema inference of ours, no packages)
{
  const db = await DuckDBInstance.create(join(out, 'native.duckdb'));
  const c = await db.connect();
  execFileSync('sync');
  t = performance.now();
  const src = `read_json_auto('${file}', format = 'newline_delimited')`;
  await c.run(`CREATE TABLE users AS SELECT * EXCLUDE (items) FROM ${src}`);
  await c.run(`CREATE TABLE users__items AS SELECT unnest(items, recursive := true) FROM ${src}`);
  c.closeSync();
  db.closeSync();
  results.push({ name: "DuckDB's read_json_auto (no ids, no schema)", seconds: (performance.now() - t) / 1000 });
}

// dlt, when its venv exists
const python = join(benchDir, '.venv-dlt', 'bin', 'python');
if (existsSync(python)) {
  for (const mode of ['defaults', 'parquet']) {
    execFileSync('sync');
    const r = JSON.parse(execFileSync(python, [join(benchDir, 'ndjson_dlt.py'), file, mode, out], { encoding: 'utf8' }).trim().split('\n').pop()!) as { rows: number; seconds: number; peakRssMb: number };
    if (r.rows !== rows) throw new Error(`dlt (${mode}) loaded ${r.rows} users, expected ${rows}`);
    results.push({ name: `dlt 1.31, ${mode === 'parquet' ? 'parquet, 2 normalize workers' : 'defaults'}`, seconds: r.seconds, peakMb: Math.round(r.peakRssMb) });
  }
} else {
  console.log(`(dlt skipped: no ${python}; see docs/performance.md to create it)`);
}

const hauls = results.filter((r) => r.haul);
console.log(`NDJSON case: ${rows.toLocaleString('en-US')} nested rows (${(rows * 3).toLocaleString('en-US')} child rows) from ${file} into DuckDB; haul from ${from}`);
for (const r of results) {
  const ratio = r.haul ? '' : `  haul is ${hauls.map((h) => `${(r.seconds / h.seconds).toFixed(2)}x`).join(' / ')} this`;
  console.log(`  ${r.name.padEnd(44)} ${r.seconds.toFixed(2).padStart(7)} s  ${rate(rows, r.seconds * 1000).padStart(9)} rows/s${r.peakMb !== undefined ? `  peak RSS ${r.peakMb} MB` : ''}${ratio}`);
}
console.log(`  load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (1/5/15 min; the machine is shared)`);
