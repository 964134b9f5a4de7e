import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { connectClient, runPipeline } from '../../src/temporal/client.js';
import { testSources } from '../fixtures/temporal-sources.js';
import { attach, duckdb, TemporalUnreachableError } from '../../src/index.js';
import { query, tempDir } from '../helpers.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

/** Runs the CLI in a child process (async: the in-process test worker must keep running). */
function haul(args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace') },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('close', (status) => resolve({ status, out }));
  });
}

describe('haul CLI on Temporal', () => {
  it('no server at TEMPORAL_ADDRESS: a typed error naming the address and how to start one', async () => {
    const err = await connectClient({ address: '127.0.0.1:1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemporalUnreachableError);
    expect((err as TemporalUnreachableError).retryable).toBe(true);
    expect((err as Error).message).toMatch(/^cannot reach a Temporal server at 127\.0\.0\.1:1 \(TEMPORAL_ADDRESS.*temporal server start-dev/);
  });

  it('temporal run, schedule create/list/trigger/pause/delete, progress', async () => {
    const dir = tempDir();
    const taskQueue = uniqueQueue();
    await testWorker({ sources: testSources, taskQueue, pipelinesDir: join(dir, 'p') });
    const name = `cli_${taskQueue.replace(/-/g, '_')}`;
    const common = ['--task-queue', taskQueue, '--source', 'numbers', '--destination', 'duckdb', '--destination-options', JSON.stringify({ path: join(dir, 'x.duckdb') })];

    const run = await haul(['temporal', 'run', name, ...common, '--args', '{"n":4}']);
    expect(run.status, run.out).toBe(0);
    expect(run.out).toContain(`workflow pipeline/${name}`);
    expect(run.out).toMatch(/numbers: 4/);

    const progress = await haul(['temporal', 'progress', name, '--json']);
    expect(JSON.parse(progress.out.slice(progress.out.indexOf('{')))).toMatchObject({ stage: 'done', loaded: { numbers: 4 } });

    const bad = await haul(['temporal', 'run', name, ...common, '--args', '{"n":4}', '--write-disposition', 'upsert']);
    expect(bad.status).toBe(1);
    expect(bad.out).toMatch(/writeDisposition/);

    const tooMany = await haul(['schedule', 'create', name, ...common, '--every', '1h', '--pause-after-failures', '11']);
    expect(tooMany.status).toBe(1);
    expect(tooMany.out).toMatch(/pauseAfterFailures must be a whole number from 1 to 10/);
    const created = await haul(['schedule', 'create', name, ...common, '--args', '{"n":2}', '--every', '1h', '--pause-after-failures', '2']);
    expect(created.status, created.out).toBe(0);
    expect(created.out).toContain(`schedule pipeline/${name} created`);
    const client = await testClient();
    const handle = client.schedule.getHandle(`pipeline/${name}`);
    const action = (await handle.describe()).action as { args?: unknown[] };
    expect(action.args?.[1]).toEqual({ scheduleId: `pipeline/${name}`, pauseAfterFailures: 2, windowMs: 3_600_000 });
    let listed = '';
    for (let i = 0; i < 20 && !listed.includes(`pipeline/${name}`); i++) listed = (await haul(['schedule', 'list', name])).out;
    expect(listed).toContain(`pipeline/${name}\tactive\tevery 3600s`);
    expect((await haul(['schedule', 'trigger', name])).status).toBe(0);
    expect((await haul(['schedule', 'pause', name, '--note', 'warehouse maintenance'])).status).toBe(0);
    expect((await handle.describe()).state).toMatchObject({ paused: true, note: 'warehouse maintenance' });

    const badTime = await haul(['schedule', 'backfill', name, '--from', 'yesterday', '--to', '2026-01-01T02:00:00Z']);
    expect(badTime.status).toBe(2);
    expect(badTime.out).toMatch(/--from "yesterday" is not a time; use ISO 8601/);
    const backfill = await haul(['schedule', 'backfill', name, '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-01T02:00:00Z']);
    expect(backfill.status, backfill.out).toBe(0);
    expect(backfill.out).toContain(`schedule pipeline/${name}: backfill of [2026-01-01T00:00:00.000Z, 2026-01-01T02:00:00.000Z) started`);
    // The trigger and the past hours in [00:00, 02:00): 00:00 and 01:00, not 02:00.
    let d = await handle.describe();
    for (let i = 0; i < 300 && (d.info.numActionsTaken < 3 || d.info.runningActions.length > 0); i++) {
      await new Promise((r) => setTimeout(r, 100));
      d = await handle.describe();
    }
    expect(d.info.numActionsTaken).toBe(3);
    expect(d.info.recentActions.map((a) => a.scheduledAt.toISOString()).slice(1)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z']);
    expect((await haul(['schedule', 'delete', name])).status).toBe(0);
  });

  it('temporal run while the pipeline runs: an error naming --attach, and --attach follows that run', async () => {
    const dir = tempDir();
    const taskQueue = uniqueQueue('no-worker'); // nothing polls it: the run stays open
    const name = `cli_busy_${taskQueue.replace(/-/g, '_')}`;
    const args = ['temporal', 'run', name, '--task-queue', taskQueue, '--source', 'numbers', '--destination', 'duckdb', '--destination-options', JSON.stringify({ path: join(dir, 'x.duckdb') })];
    const started = await haul([...args, '--no-wait']);
    expect(started.status, started.out).toBe(0);
    const runId = /\(run ([^)]+)\)/.exec(started.out)?.[1];
    expect(runId).toBeDefined();
    const handle = (await testClient()).workflow.getHandle(`pipeline/${name}`);
    try {
      const again = await haul(args);
      expect(again.status).toBe(1);
      expect(again.out).toContain(`run ${runId}`);
      expect(again.out).toMatch(/pass --attach to follow it/);
      const attached = await haul([...args, '--attach', '--no-wait']);
      expect(attached.status, attached.out).toBe(0);
      expect(attached.out).toContain(`workflow pipeline/${name} (run ${runId})`);
    } finally {
      await handle.terminate('test done');
    }
  });

  it('temporal run --columns (a list), --staging filesystem and --loader-file-format reach the run', async () => {
    const dir = tempDir();
    const taskQueue = uniqueQueue();
    const pipelinesDir = join(dir, 'p');
    await testWorker({ sources: testSources, taskQueue, pipelinesDir });
    const name = `cli_flags_${taskQueue.replace(/-/g, '_')}`;
    // the worker's own config gives the bucket; the input names the staging destination only
    const key = `${name.toUpperCase()}__DESTINATION__FILESYSTEM__BUCKET_URL`;
    const bucket = join(dir, 'bucket');
    process.env[key] = bucket;
    try {
      const db = join(dir, 'x.duckdb');
      const run = await haul([
        'temporal', 'run', name, '--task-queue', taskQueue, '--source', 'numbers', '--args', '{"n":3}',
        '--destination', 'duckdb', '--destination-options', JSON.stringify({ path: db }), '--dataset', 'flags',
        '--columns', JSON.stringify([{ name: 'value', dataType: 'decimal', precision: 10, scale: 2 }]),
        '--staging', 'filesystem', '--loader-file-format', 'parquet',
      ]);
      expect(run.status, run.out).toBe(0);
      const p = attach({ pipelineName: name, pipelinesDir, destination: duckdb({ path: db }) });
      expect(await query(p, "SELECT data_type FROM information_schema.columns WHERE table_schema = 'flags' AND table_name = 'numbers' AND column_name = 'value'")).toEqual([{ data_type: 'DECIMAL(10,2)' }]);
      expect(await query(p, 'SELECT id::INT AS id, value::VARCHAR AS value FROM flags.numbers ORDER BY id')).toEqual([
        { id: 1, value: '1.50' },
        { id: 2, value: '3.00' },
        { id: 3, value: '4.50' },
      ]);
      expect(readdirSync(join(bucket, 'flags', 'numbers')).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
      const bad = await haul(['temporal', 'run', name, '--task-queue', taskQueue, '--source', 'numbers', '--loader-file-format', 'xml']);
      expect(bad.status).toBe(1);
      expect(bad.out).toMatch(/loaderFileFormat/);
    } finally {
      delete process.env[key];
    }
  });

  it('haul worker --sources runs pipelines for the sources a module exports', async () => {
    const dir = tempDir();
    const taskQueue = uniqueQueue();
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'worker', '--sources', join(import.meta.dirname, '..', 'fixtures', 'temporal-sources.ts'), '--task-queue', taskQueue, '--pipelines-dir', join(dir, 'p')],
      { env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), HAUL_WORKFLOW_BUNDLE: inject('workflowBundlePath') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('haul worker:')) resolve();
        });
        proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
        proc.on('exit', (code) => reject(new Error(`worker exited (${code}):\n${out}`)));
      });
      expect(out).toContain(`task queue ${taskQueue}, sources: shop, numbers, numbersChecked`);
      const client = await testClient();
      const r = await runPipeline(client, { pipelineName: `w_${taskQueue.replace(/-/g, '_')}`, source: 'numbers', args: { n: 6 }, destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') } }, { taskQueue });
      expect(r.rowCounts.numbers).toBe(6);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r(undefined) : proc.on('exit', r)));
    }
  });
});
