/**
 * The haul the benches measure: the built package (`dist/`, what `npm install haul` gives;
 * the bench scripts build it first), or the TypeScript sources run through tsx with
 * `HAUL_BENCH_SOURCE=1`. Under tsx every worker thread loads the sources through tsx again,
 * which costs each normalize thread a few hundred ms (docs/performance.md, section 12).
 */
import type * as Haul from '../src/index.js';

const specifier: string = process.env.HAUL_BENCH_SOURCE ? '../src/index.js' : '../dist/src/index.js';
const haul = (await import(specifier)) as typeof Haul;

export const from = process.env.HAUL_BENCH_SOURCE ? 'sources (tsx)' : 'the built package (dist/)';
export const { duckdb, filesystem, filesystemSource, pipeline, postgres, readJsonl, readParquet, restApiSource, sqlDatabase } = haul;
export type { LoaderFileFormat, Resource, RunOptions } from '../src/index.js';
