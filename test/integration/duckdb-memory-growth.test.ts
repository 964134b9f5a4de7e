/**
 * DuckDB's memory_limit starts small and grows when a job runs out of memory
 * (src/destinations/duckdb/memory-growth.ts): the job loads again with a higher limit, up to
 * `maxMemoryLimit`; a limit the user set is kept, and the failure's advice then works.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipeline, type DestinationFactory } from '../../src/index.js';
import { duckdb, DuckDBClient, memoryBudget, type DuckDBOptions } from '../../src/destinations/duckdb/index.js';
import type { JobFile, TableChainJob } from '../../src/destinations/types.js';
import type { Schema } from '../../src/schema/schema.js';
import { count, failureCause, query, tempDir } from '../helpers.js';

/** The real DuckDB destination; records memory_limit after each job. */
function recordingLimits(options: DuckDBOptions & { path: string }, limits: string[]): DestinationFactory {
  class Recording extends DuckDBClient {
    private async record(): Promise<void> {
      const [row] = await this.query<{ m: unknown }>(`SELECT current_setting('memory_limit') AS m`);
      limits.push(String(row!.m));
    }
    override async loadAppendJobs(loadId: string, schema: Schema, jobs: JobFile[]): Promise<void> {
      await super.loadAppendJobs(loadId, schema, jobs);
      await this.record();
    }
    override async loadTableChain(loadId: string, schema: Schema, chain: TableChainJob): Promise<void> {
      await super.loadTableChain(loadId, schema, chain);
      await this.record();
    }
  }
  return { ...duckdb(options), createClient: ({ datasetName }) => new Recording(options.path, datasetName, memoryBudget(options)) };
}

const users = (from: number, n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, name: `${tag} ${from + i}`, items: [{ sku: `s-${from + i}`, qty: i % 5 }] }));

/** DuckDB's JSON reader needs a 32 MiB buffer: at 32MB every job runs out of memory. */
const TOO_SMALL = '32MB';

describe('DuckDB: memory_limit grows when a job needs more', () => {
  it('loads appends and a merge that ran out of memory again with a higher limit', async () => {
    const dir = tempDir();
    const limits: string[] = [];
    const p = pipeline({
      pipelineName: 'grow',
      pipelinesDir: join(dir, 'pipelines'),
      destination: recordingLimits({ path: join(dir, 'grow.duckdb'), memoryLimit: TOO_SMALL, maxMemoryLimit: '1GB' }, limits),
      datasetName: 'grow_data',
    });
    const merge = { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' } as const;
    await p.run(users(0, 500, 'first'), merge);
    await p.run(users(250, 500, 'second'), merge);
    await p.run(users(750, 100, 'appended'), { tableName: 'events' });

    expect(await count(p, 'users')).toBe(750);
    expect(await count(p, 'users__items')).toBe(750);
    expect(await count(p, 'events')).toBe(100);
    expect(await count(p, 'events__items')).toBe(100);
    const names = await query<{ id: unknown; name: string }>(p, 'SELECT id, name FROM users WHERE id IN (0, 249, 250, 749) ORDER BY id');
    expect(names.map((r) => [Number(r.id), r.name])).toEqual([
      [0, 'first 0'],
      [249, 'first 249'],
      [250, 'second 250'],
      [749, 'second 749'],
    ]);
    // 32MB x 4 = 128MB was enough; the limit stayed there for the rest of the load
    expect(limits.length).toBeGreaterThan(0);
    for (const l of limits) expect(l).toMatch(/^122\.0 MiB$/);
  });

  it('keeps a limit the user set; the failure says to raise it, and doing so loads the package once', async () => {
    const dir = tempDir();
    const path = join(dir, 'fixed.duckdb');
    const make = (memoryLimit: string) =>
      pipeline({ pipelineName: 'fixed', pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path, memoryLimit }), datasetName: 'fixed_data' });

    const err = await failureCause(make(TOO_SMALL).run(users(0, 300, 'x'), { tableName: 'users' }));
    const message = (err as Error).message;
    expect(message).toMatch(/Out of Memory Error/);
    expect(message).toMatch(/table "users"/);
    expect(message).toContain(`duckdb({ memoryLimit: '4GB' })`);

    // the advice: more memory, and run again (the pending package loads first)
    const p = make('4GB');
    await p.run();
    expect(await count(p, 'users')).toBe(300);
    expect(await count(p, 'users__items')).toBe(300);
  });
});
