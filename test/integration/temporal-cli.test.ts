import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runPipeline } from '../../src/temporal/client.js';
import { testSources } from '../fixtures/temporal-sources.js';
import { tempDir } from '../helpers.js';
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

    const created = await haul(['schedule', 'create', name, ...common, '--args', '{"n":2}', '--every', '1h']);
    expect(created.status, created.out).toBe(0);
    expect(created.out).toContain(`schedule pipeline/${name} created`);
    let listed = '';
    for (let i = 0; i < 20 && !listed.includes(`pipeline/${name}`); i++) listed = (await haul(['schedule', 'list', name])).out;
    expect(listed).toContain(`pipeline/${name}\tactive\tevery 3600s`);
    expect((await haul(['schedule', 'trigger', name])).status).toBe(0);
    expect((await haul(['schedule', 'pause', name])).status).toBe(0);
    expect((await haul(['schedule', 'delete', name])).status).toBe(0);
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
