/**
 * Config and secrets with real pipelines: the DuckDB file from dlt's
 * `destination.duckdb.credentials`, and a secret from .dlt/secrets.toml that must appear in
 * no log line, trace file, error message or CLI output.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { pipeline } from '../../src/index.js';
import { count, tempDir } from '../helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC_INDEX = pathToFileURL(join(ROOT, 'src', 'index.ts')).href;
const BIN = join(ROOT, 'src', 'cli', 'haul.js');
/** tsx's loader by path: the scripts run in a project dir outside this repo. */
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

describe('destination.duckdb.credentials from config', () => {
  it('env DESTINATION__DUCKDB__CREDENTIALS (pipeline-scoped first) and .dlt/config.toml give the DuckDB file', async () => {
    const dir = tempDir();
    const pipelinesDir = join(dir, 'pipelines');

    process.env.DESTINATION__DUCKDB__CREDENTIALS = join(dir, 'from-env.duckdb');
    const a = pipeline({ pipelineName: 'cfg_a', pipelinesDir, destination: 'duckdb' });
    await a.run([{ x: 1 }], { tableName: 't' });
    expect(existsSync(join(dir, 'from-env.duckdb'))).toBe(true);
    expect(await count(a, 't')).toBe(1);

    process.env.CFG_B__DESTINATION__DUCKDB__CREDENTIALS = `duckdb:///${join(dir, 'scoped.duckdb')}`;
    const b = pipeline({ pipelineName: 'cfg_b', pipelinesDir, destination: 'duckdb' });
    await b.run([{ x: 1 }], { tableName: 't' });
    expect(existsSync(join(dir, 'scoped.duckdb'))).toBe(true);

    delete process.env.DESTINATION__DUCKDB__CREDENTIALS;
    delete process.env.CFG_B__DESTINATION__DUCKDB__CREDENTIALS;
    const project = join(dir, 'project');
    mkdirSync(join(project, '.dlt'), { recursive: true });
    writeFileSync(join(project, '.dlt', 'config.toml'), `[destination.duckdb.credentials]\ndatabase = ${JSON.stringify(join(dir, 'from-toml.duckdb'))}\n`);
    process.env.DLT_PROJECT_DIR = project;
    const c = pipeline({ pipelineName: 'cfg_c', pipelinesDir, destination: 'duckdb' });
    await c.run([{ x: 1 }, { x: 2 }], { tableName: 't' });
    expect(existsSync(join(dir, 'from-toml.duckdb'))).toBe(true);
    expect(await count(c, 't')).toBe(2);
  });
});

describe('pipeline options from config, as dlt\'s PipelineConfiguration', () => {
  it('DATASET_NAME, PIPELINES_DIR and DEV_MODE in the environment, dataset_name in .dlt/config.toml (pipeline-scoped first); code wins', async () => {
    const dir = tempDir();
    process.env.PIPELINES_DIR = join(dir, 'from-env-pipelines');
    process.env.DATASET_NAME = 'from_env_dataset';
    const a = pipeline({ pipelineName: 'cfg_opts', destination: 'duckdb' });
    expect(a.pipelinesDir).toBe(join(dir, 'from-env-pipelines'));
    expect(a.datasetName).toBe('from_env_dataset');
    expect(a.devMode).toBe(false);
    expect(pipeline({ pipelineName: 'cfg_opts', datasetName: 'from_code', destination: 'duckdb' }).datasetName).toBe('from_code');
    process.env.DEV_MODE = 'true';
    expect(pipeline({ pipelineName: 'cfg_dev', destination: 'duckdb' }).datasetName).toMatch(/^from_env_dataset_\d{14}$/);
    delete process.env.DEV_MODE;
    delete process.env.DATASET_NAME;
    const project = join(dir, 'project');
    mkdirSync(join(project, '.dlt'), { recursive: true });
    writeFileSync(join(project, '.dlt', 'config.toml'), 'dataset_name = "from_toml"\n[cfg_scoped]\ndataset_name = "scoped_toml"\n');
    process.env.DLT_PROJECT_DIR = project;
    expect(pipeline({ pipelineName: 'cfg_toml', destination: 'duckdb' }).datasetName).toBe('from_toml');
    expect(pipeline({ pipelineName: 'cfg_scoped', destination: 'duckdb' }).datasetName).toBe('scoped_toml');
  });
});

describe('secret redaction', () => {
  it('a secret from .dlt/secrets.toml appears in no log line, trace file, error message or CLI output', () => {
    const SECRET = 'tok_9f8e7d6c5b4a';
    const dir = tempDir();
    const project = join(dir, 'project');
    mkdirSync(join(project, '.dlt'), { recursive: true });
    writeFileSync(join(project, '.dlt', 'secrets.toml'), `[sources.api]\ntoken = "${SECRET}"\n`);
    const pipelinesDir = join(dir, 'pipelines');
    const script = join(project, 'run.mts');
    writeFileSync(
      script,
      `import { pipeline, duckdb, resource, resourceState, secrets, createLogger } from ${JSON.stringify(SRC_INDEX)};
const p = pipeline({ pipelineName: 'secretive', pipelinesDir: ${JSON.stringify(pipelinesDir)}, destination: duckdb({ path: ${JSON.stringify(join(dir, 's.duckdb'))} }), progress: 'log' });
const log = createLogger({ bindings: { pipeline: 'secretive' } });
const api = resource(function* api() {
  const token = secrets.get('sources.api.token', undefined, { pipelineName: 'secretive' });
  resourceState().last_token = token;
  log.info({ token, credentials: { password: token }, note: 'with ' + token }, 'calling the api with ' + token);
  log.error(new Error('bad auth ' + token), 'request failed');
  yield { id: 1 };
  if (process.env.FAIL) throw new Error('401 from https://api.example.com/?access_token=' + token + ' (token ' + token + ')');
});
try {
  await p.run(api);
  console.log('ok');
} catch (e) {
  console.log('caught: ' + e.message);
  console.log('stack: ' + e.stack);
}
`,
    );
    const env = { ...process.env, HOME: join(dir, 'home') };
    const run = (extra: Record<string, string>) => spawnSync(process.execPath, ['--import', TSX, script], { cwd: project, env: { ...env, ...extra }, encoding: 'utf8', timeout: 60_000 });

    const good = run({});
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toContain('ok');
    const bad = run({ FAIL: '1' });
    expect(bad.status, bad.stderr).toBe(0);
    expect(bad.stdout).toMatch(/caught: pipeline "secretive" failed in step extract: resource "api" raised: 401 from https:\/\/api\.example\.com\/\?access_token=\*\*\* \(token \*\*\*\)/);

    for (const r of [good, bad]) {
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      const lines = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      const apiLine = lines.find((l) => l.msg === 'calling the api with ***');
      expect(apiLine).toMatchObject({ token: '***', credentials: '***', note: 'with ***' });
      expect(lines.find((l) => l.msg === 'request failed')).toMatchObject({ err: { message: 'bad auth ***' } });
      expect(lines.some((l) => l.msg === 'extract started')).toBe(true); // the progress log
    }
    const trace = readFileSync(join(pipelinesDir, 'secretive', 'trace.json'), 'utf8');
    expect(trace).toContain('access_token=***');
    expect(trace).not.toContain(SECRET);

    // The CLI, run where the secrets live, never prints it either (state holds it as data).
    expect(readFileSync(join(pipelinesDir, 'secretive', 'state.json'), 'utf8')).toContain(SECRET);
    for (const args of [['pipeline', 'secretive', 'info', '-v'], ['pipeline', 'secretive', 'info', '--json', '-v'], ['pipeline', 'secretive', 'trace'], ['pipeline', 'secretive', 'trace', '--json']]) {
      const r = spawnSync(process.execPath, [BIN, ...args, '--pipelines-dir', pipelinesDir], { cwd: project, env, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      expect(r.stdout).toContain('***');
    }
  });
});
