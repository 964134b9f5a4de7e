import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attach, type Pipeline } from '../../src/index.js';
import { query, runFixture, tempDir } from '../helpers.js';

/*
 * Kill the process (SIGKILL) at each fault point, run again, and check every row is there
 * exactly once, the incremental state is right and no package is left behind.
 * The load order of a crash-runner package is listed in test/fixtures/crash-runner.ts.
 */
const FAULTS = [
  'extract:after-resource',
  'extract:before-commit',
  'normalize:mid',
  'normalize:before-commit',
  'normalize:after-commit',
  'load:after-commit',
  'load:before-complete',
  'load:after-complete',
];

/** `load:after-commit` after a later job: `after` earlier commits pass first. */
const LOAD_KILLS = [
  { after: 1, committed: ['events'], what: 'the events job (a data table), before events__tags' },
  { after: 3, committed: ['orders'], what: 'the orders merge chain, before the customers merge chain' },
  { after: 5, committed: ['products', 'products__variants'], what: 'the products replace chain, before the categories replace chain' },
];

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function column<T = number>(p: Pipeline, sql: string): Promise<T[]> {
  const rows = await query<{ v: unknown }>(p, sql);
  return rows.map((r) => (typeof r.v === 'bigint' ? Number(r.v) : r.v) as T);
}

/**
 * Every table holds exactly what batches 1..`batch` produce, each row once, from `loads`
 * completed loads, and nothing is left pending.
 */
async function expectLoaded(dir: string, batch: number, loads: number): Promise<void> {
  const p = attach({ pipelineName: 'crash', pipelinesDir: join(dir, 'pipelines') });
  // append, incremental: every event once, two tags each, linked to their event
  expect(await column(p, 'SELECT id AS v FROM events ORDER BY id')).toEqual(range(1, batch * 100));
  expect(await column(p, 'SELECT e.id AS v FROM events__tags t JOIN events e ON t._dlt_parent_id = e._dlt_id GROUP BY e.id HAVING count(*) = 2 ORDER BY e.id')).toEqual(range(1, batch * 100));
  expect(await column(p, 'SELECT count(*) AS v FROM events__tags')).toEqual([batch * 200]);
  // merge without a key appends: every order once
  expect(await column(p, 'SELECT id AS v FROM orders ORDER BY id')).toEqual(range(1, batch * 10));
  // merge on id: the newest version of each customer, with its two addresses
  expect(await column(p, 'SELECT id AS v FROM customers ORDER BY id')).toEqual(range(1, 20));
  expect(await column(p, 'SELECT DISTINCT version AS v FROM customers')).toEqual([batch]);
  expect(await column(p, 'SELECT c.id AS v FROM customers__addresses a JOIN customers c ON a._dlt_root_id = c._dlt_id GROUP BY c.id HAVING count(*) = 2 ORDER BY c.id')).toEqual(range(1, 20));
  expect(await column(p, 'SELECT count(*) AS v FROM customers__addresses')).toEqual([40]);
  expect(await column<string>(p, "SELECT DISTINCT city AS v FROM customers__addresses WHERE city LIKE 'town%'")).toEqual([`town${batch}`]);
  // replace: only the last batch
  expect(await column(p, 'SELECT id AS v FROM products ORDER BY id')).toEqual(range(batch * 100 + 1, batch * 100 + 5));
  expect(await column<string>(p, 'SELECT sku AS v FROM products__variants ORDER BY sku')).toEqual(
    range(batch * 100 + 1, batch * 100 + 5).flatMap((id) => [`${id}-a`, `${id}-b`]),
  );
  expect(await column<string>(p, 'SELECT name AS v FROM categories ORDER BY id')).toEqual([1, 2, 3].map((i) => `cat${i}-b${batch}`));

  // one state row per load (each changed the incremental state), no version twice
  expect(await column(p, 'SELECT version AS v FROM _dlt_pipeline_state GROUP BY version HAVING count(*) > 1')).toEqual([]);
  expect(await column(p, 'SELECT count(*) AS v FROM _dlt_pipeline_state')).toEqual([loads]);
  expect(await column(p, 'SELECT count(*) AS v FROM _dlt_loads WHERE status = 0')).toEqual([loads]);
  expect(await column(p, 'SELECT count(*) AS v FROM _haul_jobs')).toEqual([0]);

  const resources = p.state.sources.shop!.resources!;
  expect(resources.events!.incremental!.ts!.last_value).toBe(batch * 100);
  expect(resources.orders!.incremental!.id!.last_value).toBe(batch * 10);
  expect(p.hasPendingData).toBe(false);
  expect(readdirSync(join(dir, 'pipelines', 'crash', 'normalize', 'extracted'))).toEqual([]);
  expect(readdirSync(join(dir, 'pipelines', 'crash', 'load', 'normalized'))).toEqual([]);
  expect(existsSync(join(dir, 'crash.duckdb'))).toBe(true);
}

/** Batch 1 loads; batch 2 dies at the fault; returns the dir. */
function loadThenKill(fault: string, after = 0): string {
  const dir = tempDir();
  const first = runFixture('crash-runner.ts', [dir, '1']);
  expect(first.status, first.stderr).toBe(0);
  const killed = runFixture('crash-runner.ts', [dir, '2'], { HAUL_FAULT: fault, HAUL_FAULT_AFTER: String(after) });
  expect(killed.signal, `${fault} after ${after}: ${killed.stdout}${killed.stderr}`).toBe('SIGKILL');
  return dir;
}

describe('crash safety (SIGKILL at fault points)', () => {
  for (const fault of FAULTS) {
    it(`recovers after a kill at ${fault}`, async () => {
      const dir = loadThenKill(fault);
      // The next run finishes the pending package and loads batch 3.
      const again = runFixture('crash-runner.ts', [dir, '3']);
      expect(again.status, again.stderr).toBe(0);
      // A kill during extract loses that package entirely (nothing committed); otherwise it completes.
      await expectLoaded(dir, 3, fault.startsWith('extract') ? 2 : 3);
    });
  }

  // With extract's files rotating at 1 KB, normalize takes most of them from the background
  // pre-normalizer's scratch folder: a kill while it writes, after normalize moved its files
  // into the package, or before the commit loses and duplicates nothing.
  for (const fault of ['prenormalize:before-manifest', 'normalize:mid', 'normalize:before-commit']) {
    it(`recovers after a kill at ${fault} with pre-normalized files`, async () => {
      const small = { HAUL_EXTRACT_FILE_BYTES: '1024' };
      const dir = tempDir();
      const first = runFixture('crash-runner.ts', [dir, '1'], small);
      expect(first.status, first.stderr).toBe(0);
      const killed = runFixture('crash-runner.ts', [dir, '2'], { ...small, HAUL_FAULT: fault });
      expect(killed.signal, `${fault}: ${killed.stdout}${killed.stderr}`).toBe('SIGKILL');
      const again = runFixture('crash-runner.ts', [dir, '3'], small);
      expect(again.status, again.stderr).toBe(0);
      await expectLoaded(dir, 3, 3);
      expect(readdirSync(join(dir, 'pipelines', 'crash', 'normalize', 'prenormalized'))).toEqual([]);
    });
  }

  // The kill above lands after the first job, which is always _dlt_pipeline_state. These land
  // later; the rerun only finishes the package, so a replace cannot hide what went wrong.
  for (const { after, committed, what } of LOAD_KILLS) {
    it(`finishes a package killed after ${what}`, async () => {
      const dir = loadThenKill('load:after-commit', after);
      // The kill landed where intended: the last commit's jobs are still in started_jobs.
      const normalized = join(dir, 'pipelines', 'crash', 'load', 'normalized');
      const [loadId] = readdirSync(normalized);
      const started = readdirSync(join(normalized, loadId!, 'started_jobs')).map((j) => j.split('.')[0]);
      expect(started.sort()).toEqual(committed);
      const jobs = ['new_jobs', 'started_jobs', 'completed_jobs'].flatMap((d) => readdirSync(join(normalized, loadId!, d))).filter((f) => !f.endsWith('.exception'));
      const again = runFixture('crash-runner.ts', [dir, 'pending']);
      expect(again.status, again.stderr).toBe(0);
      // the finished package counts the jobs the killed run completed too (it counted only its own)
      expect(JSON.parse(again.stdout.trim().split('\n').pop()!).completedJobs).toEqual([jobs.length]);
      await expectLoaded(dir, 2, 2);
    });
  }
});
