import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { afterAll, expect } from 'vitest';
import { duckdb, pipeline, type Pipeline, type PipelineOptions } from '../src/index.js';
import { PipelineStepFailed } from '../src/errors.js';

/** A temp folder removed after the test file. */
export function tempDir(prefix = 'haul-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A pipeline with its own working dir and DuckDB file under `dir`. */
export function testPipeline(dir: string, name: string, extra: PipelineOptions = {}): Pipeline {
  return pipeline({
    pipelineName: name,
    pipelinesDir: join(dir, 'pipelines'),
    destination: duckdb({ path: join(dir, `${name}.duckdb`) }),
    datasetName: `${name}_data`,
    ...extra,
  });
}

/** Runs `fn` on the pipeline's dataset and closes the client. */
export async function query<T = Record<string, unknown>>(p: Pipeline, sql: string, params?: unknown[]): Promise<T[]> {
  const c = p.sqlClient();
  try {
    return await c.query<T>(sql, params);
  } finally {
    await c.close();
  }
}

/** Plain numbers for counts and ids coming back from the database. */
export async function count(p: Pipeline, table: string): Promise<number> {
  const rows = await query<{ n: unknown }>(p, `SELECT count(*) AS n FROM "${table}"`);
  return Number(rows[0]!.n);
}

/** Runs a TypeScript fixture in a child process (tsx), e.g. to SIGKILL it at a fault point. */
export function runFixture(file: string, args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', file), ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

/** The error a run must fail with, unwrapped: run() wraps step errors in PipelineStepFailed. */
export async function failureCause(run: Promise<unknown>): Promise<unknown> {
  const err = await run.then(() => undefined, (e: unknown) => e);
  expect(err).toBeDefined();
  return err instanceof PipelineStepFailed ? err.cause : err;
}

/**
 * Rewrites the first new job file of `table` in normalized package `loadId` with `edit` (to
 * make a bad file for load to refuse); returns its name and its text before the edit.
 */
export function editNormalizedJob(p: Pipeline, loadId: string, table: string, edit: (text: string) => string): { job: string; original: string } {
  const jobs = join(p.workingDir, 'load', 'normalized', loadId, 'new_jobs');
  const job = readdirSync(jobs).find((f) => f.startsWith(`${table}.`))!;
  const original = readFileSync(join(jobs, job), 'utf8');
  writeFileSync(join(jobs, job), edit(original));
  return { job, original };
}
