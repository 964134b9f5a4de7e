/**
 * The haul the benches measure. `npm run bench*` compiles bench/ beside the package build and
 * runs dist/bench/ with plain node: there '../src/index.js' is the built package (dist/src/),
 * what `npm install haul` gives. `npx tsx bench/<name>.ts` runs the TypeScript sources instead;
 * under tsx every process carries tsx's loader thread (10–20 MB of RSS) and every worker
 * thread loads the sources through tsx again, a few hundred ms each (docs/performance.md,
 * sections 12 and 23).
 */
import { dirname, join } from 'node:path';

export { duckdb, filesystem, filesystemSource, pipeline, postgres, readJsonl, readParquet, restApiSource, sqlDatabase } from '../src/index.js';
export type { LoaderFileFormat, Resource, RunOptions } from '../src/index.js';

const compiled = import.meta.filename.endsWith('.js');
/** Where haul comes from and which Node runs it: Node 24 and 26 size V8's young generation differently (docs/performance.md, section 32). */
export const from = `${compiled ? 'the built package (dist/)' : 'sources (tsx)'} on Node ${process.versions.node}`;

/** bench/ in the repository (the dlt venv, the Python script), from either place. */
export const benchDir = compiled ? join(dirname(dirname(import.meta.dirname)), 'bench') : import.meta.dirname;

/** Node's arguments to run another bench script (`ndjson-haul`) the way this one runs. */
export const nodeArgsFor = (script: string): string[] =>
  compiled ? [join(import.meta.dirname, `${script}.js`)] : ['--import', 'tsx', join(import.meta.dirname, `${script}.ts`)];
