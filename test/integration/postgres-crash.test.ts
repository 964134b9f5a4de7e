/**
 * Crash safety on PostgreSQL: the crash-runner (test/fixtures/crash-runner.ts, which lists
 * its load order) is SIGKILLed right after a job's or chain's transaction committed
 * (`load:after-commit`: rows and marker are in, the local job still says "started") or
 * before the load completes; the next run must recognise committed jobs by their markers
 * and load nothing twice.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attach, postgres, type Pipeline } from '../../src/index.js';
import { query, runFixture, tempDir } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';

const datasets: string[] = [];
afterAll(async () => {
  await dropPgSchemas(...datasets);
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function column<T = number>(p: Pipeline, sql: string): Promise<T[]> {
  const rows = await query<{ v: T }>(p, sql);
  return rows.map((r) => r.v);
}

/** Every table holds exactly what batches 1..`batch` produce, each row once, from `loads` loads. */
async function expectLoaded(dir: string, batch: number, loads: number): Promise<void> {
  const p = attach({ pipelineName: 'crash', pipelinesDir: join(dir, 'pipelines'), destination: postgres({ credentials: PG_URL }) });
  expect(await column(p, 'SELECT id AS v FROM events ORDER BY id')).toEqual(range(1, batch * 100));
  expect(await column(p, 'SELECT count(*) AS v FROM events__tags')).toEqual([batch * 200]);
  expect(await column(p, 'SELECT id AS v FROM orders ORDER BY id')).toEqual(range(1, batch * 10));
  expect(await column(p, 'SELECT id AS v FROM customers ORDER BY id')).toEqual(range(1, 20));
  expect(await column(p, 'SELECT DISTINCT version AS v FROM customers')).toEqual([batch]);
  expect(await column(p, 'SELECT count(*) AS v FROM customers__addresses')).toEqual([40]);
  expect(await column<string>(p, "SELECT DISTINCT city AS v FROM customers__addresses WHERE city LIKE 'town%'")).toEqual([`town${batch}`]);
  expect(await column(p, 'SELECT id AS v FROM products ORDER BY id')).toEqual(range(batch * 100 + 1, batch * 100 + 5));
  expect(await column(p, 'SELECT count(*) AS v FROM products__variants')).toEqual([10]);
  expect(await column(p, 'SELECT count(*) AS v FROM _dlt_pipeline_state')).toEqual([loads]);
  expect(await column(p, 'SELECT count(*) AS v FROM _dlt_loads WHERE status = 0')).toEqual([loads]);
  expect(await column(p, 'SELECT count(*) AS v FROM _haul_jobs')).toEqual([0]);
  expect(p.state.sources.shop!.resources!.events!.incremental!.ts!.last_value).toBe(batch * 100);
  expect(p.hasPendingData).toBe(false);
}

const CASES = [
  { fault: 'load:after-commit', after: 0, rerun: '3', what: 'the first job (_dlt_pipeline_state), then batch 3' },
  { fault: 'load:after-commit', after: 4, rerun: 'pending', what: 'the customers merge chain, before the products replace chain' },
  { fault: 'load:before-complete', after: 0, rerun: 'pending', what: 'every job, before _dlt_loads' },
];

describe('crash safety on postgres (SIGKILL at fault points)', () => {
  for (const { fault, after, rerun, what } of CASES) {
    it(`finishes a package killed at ${fault} after ${what}, every row once`, async () => {
      const dir = tempDir();
      const dataset = pgDatasetName('hcrash');
      datasets.push(dataset);
      const env = { CRASH_POSTGRES_URL: PG_URL, CRASH_DATASET: dataset };
      const first = runFixture('crash-runner.ts', [dir, '1'], env);
      expect(first.status, first.stderr).toBe(0);
      const killed = runFixture('crash-runner.ts', [dir, '2'], { ...env, HAUL_FAULT: fault, HAUL_FAULT_AFTER: String(after) });
      expect(killed.signal, `${fault}: ${killed.stdout}${killed.stderr}`).toBe('SIGKILL');
      const again = runFixture('crash-runner.ts', [dir, rerun], env);
      expect(again.status, again.stderr).toBe(0);
      await expectLoaded(dir, rerun === 'pending' ? 2 : 3, rerun === 'pending' ? 2 : 3);
    });
  }
});
