/**
 * One run per pipeline at a time: a second run (another Pipeline object, another process)
 * gets PipelineAlreadyRunningError and the first finishes intact; a lock left by a dead
 * process does not block the next run.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineAlreadyRunningError, resource } from '../../src/index.js';
import { count, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir();

describe('the working dir lock', () => {
  it('a second in-process run of the same pipeline is refused while the first runs, and the first loads every row', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const slow = resource(
      async function* slow() {
        yield { id: 1 };
        started();
        await gate;
        yield { id: 2 };
      },
      { name: 'items' },
    );
    const first = testPipeline(dir, 'locked');
    const run1 = first.run(slow);
    await running;
    const second = testPipeline(dir, 'locked');
    const err = await second.run([{ id: 3 }], { tableName: 'items' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineAlreadyRunningError);
    expect((err as Error).message).toMatch(new RegExp(`pipeline "locked" already has a run in progress \\(process ${process.pid} on .+ has held .+\\.lock since .+\\); wait for it to finish`));
    release();
    const info = await run1;
    expect(info.rowCounts.items).toBe(2);
    expect(await count(first, 'items')).toBe(2);
    // Once the first is done the lock is free again.
    await second.run([{ id: 3 }], { tableName: 'items' });
    expect(await count(first, 'items')).toBe(3);
  });

  it('a run in another process holds the lock; a lock of a dead process is taken over', async () => {
    const p = testPipeline(dir, 'crossproc');
    await p.run([{ id: 0 }], { tableName: 'items' }); // creates the working dir
    const lock = join(p.workingDir, '.lock');
    // Another live process (this test's child) holds it.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lock, JSON.stringify({ pid: child.pid, host: (await import('node:os')).hostname(), since: new Date().toISOString() }));
      await expect(p.run([{ id: 1 }], { tableName: 'items' })).rejects.toBeInstanceOf(PipelineAlreadyRunningError);
      expect(p.hasPendingData).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // The holder died without releasing: the next run takes the stale lock over.
    await p.run([{ id: 1 }], { tableName: 'items' });
    expect(await count(p, 'items')).toBe(2);
  });
});
