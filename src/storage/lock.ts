import { closeSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PipelineAlreadyRunningError } from '../errors.js';
import { LOCK_FILE } from './layout.js';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** A holder touches its lock this often; a lock of another host untouched for STALE_MS is taken over. */
const TOUCH_MS = 10_000;
const STALE_MS = 60_000;

/**
 * The working dir's lock: one run (in-process, or a Temporal activity) at a time per
 * pipeline, across processes. Created with O_EXCL; a lock whose process is dead (same
 * host) or that has not been touched for a minute (another host sharing the volume) is
 * stale and taken over, so a crash never blocks the next run.
 */
export class WorkingDirLock {
  private timer?: ReturnType<typeof setInterval>;
  private held = false;
  private readonly path: string;

  constructor(workingDir: string, private readonly pipelineName: string) {
    this.path = join(workingDir, LOCK_FILE);
  }

  acquire(): void {
    if (this.held) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.tryCreate()) {
        this.held = true;
        this.timer = setInterval(() => this.touch(), TOUCH_MS);
        this.timer.unref();
        return;
      }
      const owner = this.readOwner();
      if (owner && !this.isStale(owner)) {
        throw new PipelineAlreadyRunningError(
          this.pipelineName,
          `process ${owner.pid} on ${owner.host} has held ${this.path} since ${owner.since}`,
          `wait for it to finish; if that process is gone, delete ${this.path}`,
        );
      }
      rmSync(this.path, { force: true }); // stale (or unreadable, half-written): take it over
    }
    throw new PipelineAlreadyRunningError(this.pipelineName, `another process keeps taking ${this.path}`, 'try again in a moment');
  }

  release(): void {
    if (!this.held) return;
    clearInterval(this.timer);
    this.held = false;
    const owner = this.readOwner();
    if (owner?.pid === process.pid && owner.host === hostname()) rmSync(this.path, { force: true });
  }

  private tryCreate(): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    try {
      const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
      writeSync(fd, JSON.stringify(owner));
    } finally {
      closeSync(fd);
    }
    return true;
  }

  private readOwner(): (LockOwner & { touchedAt: number }) | undefined {
    try {
      const text = readFileSync(this.path, 'utf8');
      const owner = JSON.parse(text) as LockOwner;
      const { mtimeMs } = statSync(this.path);
      return typeof owner.pid === 'number' ? { ...owner, touchedAt: mtimeMs } : undefined;
    } catch {
      return undefined;
    }
  }

  private isStale(owner: LockOwner & { touchedAt: number }): boolean {
    if (owner.host === hostname()) return !processAlive(owner.pid);
    return Date.now() - owner.touchedAt > STALE_MS;
  }

  private touch(): void {
    const now = new Date();
    try {
      utimesSync(this.path, now, now);
    } catch {
      /* removed by hand: the next acquire re-creates it */
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
