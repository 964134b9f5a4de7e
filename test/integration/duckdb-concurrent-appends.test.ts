/**
 * The DuckDB destination loads append batches of different tables at once when they split
 * about evenly (src/destinations/duckdb/concurrent-appends.ts): each row lands once, DuckDB's
 * instance settings are back afterwards, a bad file fails only its own job, and a kill after
 * the two sides committed loses and doubles nothing.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipeline, type DestinationFactory, type Pipeline } from '../../src/index.js';
import { duckdb, DuckDBClient, DuckDBSqlClient } from '../../src/destinations/duckdb/index.js';
import type { JobFile } from '../../src/destinations/types.js';
import type { Schema } from '../../src/schema/schema.js';
import { editNormalizedJob, query, runFixture, tempDir } from '../helpers.js';
import { TWO_TABLE_ROWS, twoTables } from '../fixtures/two-tables.js';

/** The real DuckDB destination; records the tables of each loadAppendBatches call. */
function recording(path: string, calls: string[][]): DestinationFactory {
  class Recording extends DuckDBClient {
    override async loadAppendBatches(loadId: string, schema: Schema, batches: JobFile[][]): Promise<PromiseSettledResult<void>[]> {
      calls.push(batches.map((b) => b[0]!.table));
      return super.loadAppendBatches(loadId, schema, batches);
    }
  }
  return { ...duckdb({ path }), createClient: ({ datasetName }) => new Recording(path, datasetName) };
}

async function ids(p: Pipeline, table: string): Promise<number[]> {
  return (await query<{ id: unknown }>(p, `SELECT id FROM ${table} ORDER BY id`)).map((r) => Number(r.id));
}

async function scalar(p: Pipeline, sql: string): Promise<number> {
  const [row] = await query<{ v: unknown }>(p, sql);
  return Number(row!.v);
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('DuckDB: append batches of two tables at once', () => {
  it('lands every row once, and sets threads and insertion order back', async () => {
    const dir = tempDir();
    const path = join(dir, 'conc.duckdb');
    // an open connection keeps the instance (and what the load set on it) for us to read
    const probe = new DuckDBSqlClient(path);
    const settings = () =>
      probe.query<{ threads: unknown; order: unknown; buffered: unknown }>(
        `SELECT current_setting('threads') AS threads, current_setting('preserve_insertion_order') AS "order", current_setting('write_buffer_row_group_count') AS buffered`,
      );
    try {
      const before = await settings();
      const calls: string[][] = [];
      const p = pipeline({ pipelineName: 'conc', pipelinesDir: join(dir, 'pipelines'), destination: recording(path, calls), datasetName: 'conc_data' });
      await p.run(twoTables(0));
      await p.run(twoTables(TWO_TABLE_ROWS));
      expect(calls).toEqual([
        ['a', 'b'],
        ['a', 'b'],
      ]);
      for (const t of ['a', 'b']) {
        expect(await ids(p, t)).toEqual(range(0, 2 * TWO_TABLE_ROWS));
        expect(await scalar(p, `SELECT count(DISTINCT _dlt_id) AS v FROM ${t}`)).toBe(2 * TWO_TABLE_ROWS);
        expect(await scalar(p, `SELECT count(*) AS v FROM ${t} WHERE text <> '${t}-' || id || '-${'x'.repeat(150)}'`)).toBe(0);
      }
      expect(await scalar(p, 'SELECT count(*) AS v FROM _dlt_loads WHERE status = 0')).toBe(2);
      expect(await scalar(p, 'SELECT count(*) AS v FROM _haul_jobs')).toBe(0);
      const after = await settings();
      expect(after).toEqual(before);
      expect(String(after[0]!.order)).toBe('true');
    } finally {
      await probe.close();
    }
  });

  it('a bad file fails its own job; the other table loads, and the fixed file loads once', async () => {
    const dir = tempDir();
    const path = join(dir, 'bad.duckdb');
    const calls: string[][] = [];
    const p = pipeline({ pipelineName: 'bad', pipelinesDir: join(dir, 'pipelines'), destination: recording(path, calls), datasetName: 'bad_data' });
    const ex = await p.extract(twoTables(0));
    await p.normalize();
    const { job, original: good } = editNormalizedJob(p, ex.loadId, 'b', (text) => text.replace('"n":5,', '"n":"five",'));

    const info = await p.load({ raiseOnFailedJobs: false });
    expect(calls).toEqual([['a', 'b']]);
    expect(info.failedJobs.map((j) => [j.job, j.table])).toEqual([[job, 'b']]);
    expect(info.failedJobs[0]!.message).toMatch(/five/);
    expect(await ids(p, 'a')).toEqual(range(0, TWO_TABLE_ROWS));
    expect(await scalar(p, 'SELECT count(*) AS v FROM b')).toBe(0);
    expect(p.listNormalizedLoadPackages()).toEqual([ex.loadId]);

    writeFileSync(join(p.workingDir, 'load', 'normalized', ex.loadId, 'failed_jobs', job), good);
    const fixed = await p.load();
    expect(fixed.hasFailedJobs).toBe(false);
    expect(await ids(p, 'a')).toEqual(range(0, TWO_TABLE_ROWS));
    expect(await ids(p, 'b')).toEqual(range(0, TWO_TABLE_ROWS));
    expect(p.hasPendingData).toBe(false);
  });

  it('a kill after both sides committed: the next run finishes the package, each row once', async () => {
    const dir = tempDir();
    // the first load:after-commit is the state row's (loaded first, alone); the second is the first of the two at once
    const killed = runFixture('concurrent-append-runner.ts', [dir, 'run'], { HAUL_FAULT: 'load:after-commit', HAUL_FAULT_AFTER: '1' });
    expect(killed.signal, `${killed.stdout}${killed.stderr}`).toBe('SIGKILL');
    const normalized = join(dir, 'pipelines', 'conc', 'load', 'normalized');
    const [loadId] = readdirSync(normalized);
    // every job of both tables is still in started_jobs: both committed, neither marked done
    const started = readdirSync(join(normalized, loadId!, 'started_jobs')).map((j) => j.split('.')[0]);
    expect([...new Set(started)].sort()).toEqual(['a', 'b']);
    expect(readdirSync(join(normalized, loadId!, 'new_jobs'))).toEqual([]);

    const again = runFixture('concurrent-append-runner.ts', [dir, 'pending']);
    expect(again.status, again.stderr).toBe(0);
    const p = pipeline({ pipelineName: 'conc', pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path: join(dir, 'conc.duckdb') }), datasetName: 'conc_data' });
    for (const t of ['a', 'b']) expect(await ids(p, t)).toEqual(range(0, TWO_TABLE_ROWS));
    expect(await scalar(p, 'SELECT count(*) AS v FROM _dlt_loads WHERE status = 0')).toBe(1);
    expect(await scalar(p, 'SELECT count(*) AS v FROM _haul_jobs')).toBe(0);
    expect(p.hasPendingData).toBe(false);
  });
});
