/**
 * haul as a package: `npm pack` the repo, install the tarball into a fresh project (one
 * `npm install` for the whole file: the tarball plus typescript, @types/node and tsx),
 * then use it there as a user would — by name, from plain ESM and from TypeScript, through
 * the library, Temporal and the `haul` bin. Nothing here runs the repo's source.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { runPipeline } from '../../src/temporal/client.js';
import { tempDir } from '../helpers.js';
import { testClient, uniqueQueue } from './temporal-env.js';

const REPO = join(import.meta.dirname, '..', '..');
const ours = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

/** The environment of a user's shell: none of the npm script variables of `npm test` (npm_config_local_prefix would point npm at this repo), no loader in NODE_OPTIONS. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|command$|config_local_prefix$)/.test(k) || k === 'INIT_CWD' || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: userEnv(extra), encoding: 'utf8', timeout: 600_000 });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function duckdbRows(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

describe('haul installed from its tarball', () => {
  const dir = tempDir('haul-package-');
  const project = join(dir, 'consumer');
  let tarball = '';

  beforeAll(() => {
    ok(run('npm', ['pack', '--pack-destination', dir], REPO), 'npm pack');
    tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
    ok(run('mkdir', ['-p', project], dir), 'mkdir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
    const deps = ['typescript', '@types/node', 'tsx'].map((d) => `${d}@${ours.devDependencies[d]}`);
    ok(run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, ...deps], project), 'npm install <tarball>');
  }, 900_000);

  it('the tarball holds the build, its types and the bin, and no tests, benches or TypeScript sources', () => {
    const files = ok(run('tar', ['-tzf', tarball], dir), 'tar').split('\n').filter(Boolean);
    for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/temporal/index.js', 'dist/src/temporal/index.d.ts', 'dist/workflows/index.js', 'dist/activities/index.js', 'src/cli/haul.js', 'package.json', 'README.md']) {
      expect(files).toContain(`package/${f}`);
    }
    expect(files.filter((f) => /^package\/(test|bench|examples|scripts)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('an ESM script imports haul by name and loads nested rows into DuckDB; the installed bin reads its working dir', async () => {
    writeFileSync(
      join(project, 'load.mjs'),
      `import { pipeline } from 'haul';
const p = pipeline({ pipelineName: 'pkg_load', destination: 'duckdb', datasetName: 'pkg_data', pipelinesDir: './pipelines' });
const info = await p.run([{ id: 1, name: 'a', tags: ['x', 'y'] }, { id: 2, name: 'b', tags: [] }], { tableName: 'items' });
console.log(info.toString());
`,
    );
    ok(run('node', ['load.mjs'], project), 'node load.mjs');
    const db = join(project, 'pkg_load.duckdb');
    expect(await duckdbRows(db, 'SELECT id, name FROM pkg_data.items ORDER BY id')).toEqual([
      { id: '1', name: 'a' },
      { id: '2', name: 'b' },
    ]);
    expect(await duckdbRows(db, 'SELECT value, _dlt_list_idx FROM pkg_data.items__tags ORDER BY _dlt_list_idx')).toEqual([
      { value: 'x', _dlt_list_idx: '0' },
      { value: 'y', _dlt_list_idx: '1' },
    ]);
    const list = JSON.parse(ok(run('npx', ['haul', 'pipeline', '--list', '--pipelines-dir', './pipelines', '--json'], project), 'haul pipeline --list')) as unknown;
    expect(JSON.stringify(list)).toContain('pkg_load');
  });

  it('npx haul --help runs the installed bin', () => {
    const out = ok(run('npx', ['haul', '--help'], project), 'npx haul --help');
    expect(out).toContain('Usage: haul');
    for (const command of ['pipeline', 'worker', 'temporal', 'schedule']) expect(out).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('reading SQLite needs better-sqlite3, which the install leaves out; the error says to install it, and with it the rows load', async () => {
    const db = new Database(join(project, 'shop.db'));
    db.exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'ada'), (2, 'grace');`);
    db.close();
    writeFileSync(
      join(project, 'sqlite.mjs'),
      `import { pipeline, sqlDatabase, SourceDriverMissingError } from 'haul';
try {
  const source = await sqlDatabase({ credentials: 'sqlite:///shop.db' });
  const info = await pipeline({ pipelineName: 'pkg_sqlite', destination: 'duckdb', datasetName: 'shop', pipelinesDir: './pipelines' }).run(source);
  console.log(JSON.stringify({ rows: info.rowCounts }));
} catch (e) {
  console.log(JSON.stringify({ missing: e instanceof SourceDriverMissingError, message: e.message }));
}
`,
    );
    const missing = JSON.parse(ok(run('node', ['sqlite.mjs'], project), 'node sqlite.mjs').trim().split('\n').pop()!) as { missing: boolean; message: string };
    expect(missing.missing).toBe(true);
    expect(missing.message).toContain(`reading sqlite ${join(project, 'shop.db')} needs the better-sqlite3 package`);
    const advice = /run "npm install (better-sqlite3@[^"]+)"/.exec(missing.message)![1]!;
    expect(advice).toBe(`better-sqlite3@${ours.devDependencies['better-sqlite3']}`);

    // what that install gives the project, without building the native module again: the repo's build
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    symlinkSync(join(REPO, 'node_modules', 'better-sqlite3'), join(project, 'node_modules', 'better-sqlite3'), 'dir');
    const loaded = JSON.parse(ok(run('node', ['sqlite.mjs'], project), 'node sqlite.mjs').trim().split('\n').pop()!) as { rows: Record<string, number> };
    expect(loaded.rows).toMatchObject({ customers: 2 });
    expect(await duckdbRows(join(project, 'pkg_sqlite.duckdb'), 'SELECT id, name FROM shop.customers ORDER BY id')).toEqual([
      { id: '1', name: 'ada' },
      { id: '2', name: 'grace' },
    ]);
  });

  it('haul/temporal: a worker bundles the shipped workflow code and runs a pipeline on the dev server', async () => {
    const taskQueue = uniqueQueue('haul-package');
    writeFileSync(
      join(project, 'durable.mjs'),
      `import { resource } from 'haul';
import { connectClient, createWorker, runPipeline } from 'haul/temporal';
const squares = (opts) => resource(function* squares() { for (let i = 1; i <= opts.n; i++) yield { id: i, square: i * i }; });
const worker = await createWorker({ sources: { squares }, taskQueue: process.env.QUEUE, pipelinesDir: './pipelines' });
const client = await connectClient();
const result = await worker.runUntil(() => runPipeline(client, {
  pipelineName: process.env.QUEUE.replace(/-/g, '_'), source: 'squares', args: { n: 5 },
  destination: 'duckdb', destinationOptions: { path: 'durable.duckdb' }, datasetName: 'durable_data',
}, { taskQueue: process.env.QUEUE }));
await client.connection.close();
console.log(JSON.stringify(result.rowCounts));
`,
    );
    const out = ok(run('node', ['durable.mjs'], project, { QUEUE: taskQueue, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace') }), 'node durable.mjs');
    expect(JSON.parse(out.trim().split('\n').pop()!)).toMatchObject({ squares: 5 });
    expect(await duckdbRows(join(project, 'durable.duckdb'), 'SELECT sum(square)::INT AS s, count(*)::INT AS n FROM durable_data.squares')).toEqual([{ s: 55, n: 5 }]);
  });

  it('npx haul worker runs a TypeScript sources module when the project has tsx', async () => {
    const taskQueue = uniqueQueue('haul-package');
    writeFileSync(
      join(project, 'sources.ts'),
      `import { resource } from 'haul';
export const sources = { letters: (opts: { word: string }) => resource(function* letters() { yield* [...opts.word].map((letter, i) => ({ i, letter })); }) };
`,
    );
    const worker = spawn('npx', ['haul', 'worker', '--sources', './sources.ts', '--task-queue', taskQueue, '--pipelines-dir', './pipelines'], {
      cwd: project,
      env: userEnv({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace') }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: npx, sh and node stop together
    });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        worker.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('haul worker:')) resolve();
        });
        worker.stderr.on('data', (d: Buffer) => (out += d.toString()));
        worker.on('exit', (code) => reject(new Error(`haul worker exited (${code}):\n${out}`)));
      });
      expect(out).toContain(`task queue ${taskQueue}, sources: letters`);
      const db = join(project, 'letters.duckdb');
      const r = await runPipeline(await testClient(), { pipelineName: taskQueue.replace(/-/g, '_'), source: 'letters', args: { word: 'haul' }, destination: 'duckdb', destinationOptions: { path: db }, datasetName: 'letters_data' }, { taskQueue });
      expect(r.rowCounts.letters).toBe(4);
      expect((await duckdbRows(db, 'SELECT letter FROM letters_data.letters ORDER BY i')).map((row) => row.letter).join('')).toBe('haul');
    } finally {
      if (worker.exitCode === null) {
        const exited = new Promise((r) => worker.on('exit', r));
        process.kill(-worker.pid!, 'SIGTERM');
        await exited;
      }
    }
  });

  it('a TypeScript project typechecks against the shipped .d.ts', () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { pipeline, resource, incremental, type LoadInfo, type PipelineOptions } from 'haul';
import { createWorker, type HaulWorker, type PipelineRunInput } from 'haul/temporal';

const options: PipelineOptions = { pipelineName: 'typed', destination: 'duckdb', datasetName: 'typed_data' };
const orders = resource(function* orders() { yield { id: 1, updated_at: '2024-01-01T00:00:00Z' }; }, {
  primaryKey: 'id', writeDisposition: 'merge', incremental: incremental('updated_at'),
});
export async function load(): Promise<number> {
  const info: LoadInfo = await pipeline(options).run(orders);
  return info.loadPackages.length;
}
export const input: PipelineRunInput = { pipelineName: 'typed', source: 'orders', destination: 'duckdb', writeDisposition: 'merge' };
export const start = (): Promise<HaulWorker> => createWorker({ sources: { orders } });
// The types are real, not any: each misuse below must be an error.
// @ts-expect-error writeDisposition is one of append | replace | merge | skip
export const bad: PipelineRunInput = { pipelineName: 'x', source: 'y', destination: 'duckdb', writeDisposition: 'upsert' };
// @ts-expect-error run() returns a LoadInfo, not a string
export const text: Promise<string> = pipeline(options).run([]);
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, include: ['consumer.ts'] }),
    );
    // skipLibCheck, as most projects have it: the @ts-expect-error lines above fail the check
    // if the shipped types are missing or `any`.
    ok(run('npx', ['tsc', '-p', 'tsconfig.json'], project), 'tsc --noEmit in the consumer project');
  });
});
