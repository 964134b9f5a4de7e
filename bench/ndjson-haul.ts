/**
 * One haul run of the NDJSON case, in a process of its own so its peak RSS is its own
 * (bench/ndjson.ts runs it). `node dist/bench/ndjson-haul.js <generator|readJsonl> <file> <dir>`
 * prints `{"rows":…,"seconds":…,"peakRssMb":…}`.
 *  - generator: a generator that parses each line, as a user would write it;
 *  - readJsonl: haul's filesystem source, whose lines go to the job files without a parse.
 */
import { createReadStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { duckdb, filesystemSource, pipeline, readJsonl } from './haul.js';
import { mb, startRssSampler } from './rss.js';

const [mode, file, out] = process.argv.slice(2) as [string, string, string];

async function* lines(): AsyncGenerator<unknown> {
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line) yield JSON.parse(line);
}

const sampler = startRssSampler();
const p = pipeline({ pipelineName: `ndjson_${mode}`, pipelinesDir: join(out, 'pipelines'), destination: duckdb({ path: join(out, `haul_${mode}.duckdb`) }), datasetName: 'bench' });
const t = performance.now();
const data = mode === 'generator' ? lines() : filesystemSource({ bucketUrl: dirname(file), fileGlob: basename(file) }).pipeTo(readJsonl());
const info = await p.run(data, { tableName: 'users' });
const seconds = (performance.now() - t) / 1000;
console.log(JSON.stringify({ rows: info.rowCounts['users'] ?? 0, seconds, peakRssMb: Number(mb(sampler.stop())) }));
