import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import type { ExtractObserver } from '../extract/observer.js';
import type { Schema } from '../schema/schema.js';
import type { RefreshPlan } from '../storage/package-state.js';
import type { WorkingDir } from '../storage/working-dir.js';
import { NEW_JOBS } from '../storage/layout.js';
import { canStartWorkers, spawnNormalizeThread } from './parallel.js';
import { packageStartSchema } from './schema-snapshot.js';
import { parkThread } from './warm-thread.js';
import type { PrenormalizeReply, PrenormalizeRequest, PrenormalizeTask, PrenormalizeWorkerData } from './prenormalize-worker.js';

/*
 * The background pre-normalizer: while extract writes a package, each job file that
 * rotated (complete on disk) is normalized on one worker thread, into the package's scratch
 * folder, so the normalize step finds it done (normalize-cached.ts). It is a cache only:
 * whatever happens here (an error, a crash, an abort), the normalize step can do the work
 * itself. Nothing here throws to the caller or rejects unhandled.
 */

/** A file in work with less than this left is finished, whatever its share read. */
const DROP_MIN_BYTES = 4 << 20;

/** How long an aborted thread gets to stop between chunks before it is terminated. */
const ABORT_GRACE_MS = 2000;

/**
 * The thread starts once this much is done, or half of extract's first rotation (startBytes):
 * starting it (40–300 ms to load its modules) costs more than normalizing less in the step.
 * A small run whose files close at a checkpoint or at the end never starts it.
 */
const START_MIN_BYTES = 1 << 20;

class Prenormalizer {
  private worker: Worker | undefined;
  private queue: PrenormalizeTask[] = [];
  private busy = false;
  /** The file in work: its size and how much of it the thread has read. */
  private inWork = { sizeBytes: 0, readBytes: 0 };
  /** Bytes of the files done so far; the thread starts at startBytes(). */
  private doneBytes = 0;
  private sealed = false;
  /** seal() dropped the file in work: its failure is the abort, not a fault of the thread. */
  private dropping = false;
  private stopped = false;
  private resolveFinished!: () => void;
  /** Resolves once no file is in work and none will be. */
  readonly finished = new Promise<void>((res) => (this.resolveFinished = res));

  constructor(
    private readonly wd: WorkingDir,
    private readonly pkg: { loadId: string; schema: Schema; refresh: RefreshPlan | undefined },
    private readonly maxIdentifierLength: number | undefined,
    private readonly onFinish: () => void,
  ) {}

  fileDone(table: string, path: string): void {
    if (this.sealed || this.stopped) return;
    try {
      const job = basename(path);
      const committedPath = this.wd.storage.jobPath(this.pkg.loadId, NEW_JOBS, job, 'extracted');
      const sizeBytes = statSync(path).size;
      this.queue.push({ table, path, committedPath, job, sizeBytes });
      this.doneBytes += sizeBytes;
      if (this.worker === undefined && this.doneBytes < startBytes()) return;
      this.worker ??= this.start();
      this.pump();
    } catch {
      this.stop();
    }
  }

  /**
   * Extract is done: files not begun are left to the normalize step. The one in work
   * finishes, unless less than half of it is read and at least DROP_MIN_BYTES are left: then
   * it is dropped too, because the step's threads normalize it sooner than this one thread
   * finishes it while a core waits (docs/performance.md, section 17).
   */
  seal(): void {
    this.sealed = true;
    this.queue = [];
    if (!this.busy) return this.finish();
    const { sizeBytes, readBytes } = this.inWork;
    if (readBytes * 2 < sizeBytes && sizeBytes - readBytes >= DROP_MIN_BYTES) {
      debug(`sealed with ${Math.round((100 * readBytes) / Math.max(1, sizeBytes))}% of the file in work read: dropping it`);
      // the thread stops the file between chunks and is parked for the step all the same
      this.dropping = true;
      this.worker?.postMessage({ t: 'abort' } satisfies PrenormalizeRequest);
      setTimeout(() => this.stop(), ABORT_GRACE_MS).unref();
    }
  }

  abort(): void {
    if (this.worker === undefined || this.stopped) return this.stop();
    this.worker.postMessage({ t: 'abort' } satisfies PrenormalizeRequest);
    const w = this.worker;
    setTimeout(() => void w.terminate().catch(() => undefined), ABORT_GRACE_MS).unref();
  }

  private start(): Worker {
    // the schema the normalize step will start this package from (extract's live schema, copied)
    const schema = packageStartSchema(this.wd, this.pkg.schema.clone(), this.pkg.refresh);
    const data: PrenormalizeWorkerData = {
      schema: schema.toStored(),
      loadId: this.pkg.loadId,
      scratchDir: this.wd.storage.openScratch(this.pkg.loadId),
      ...(this.maxIdentifierLength !== undefined && { maxIdentifierLength: this.maxIdentifierLength }),
    };
    const t0 = performance.now();
    const w = spawnNormalizeThread('prenormalize-worker', data);
    w.once('online', () => debug(`thread online after ${(performance.now() - t0).toFixed(0)} ms`));
    w.unref();
    w.on('message', (m: PrenormalizeReply) => {
      if (m.t === 'progress') {
        this.inWork.readBytes = m.bytes;
        return;
      }
      this.busy = false;
      debug(`${(performance.now() - t0).toFixed(0)} ms ${m.t} ${m.job}${m.t === 'failed' ? `: ${m.message}` : ''}`);
      if (m.t === 'failed') return this.dropping ? this.finish() : this.stop();
      this.pump();
    });
    // a thread that fails to load or dies: no cache, nothing else
    w.on('error', (e) => {
      debug(`thread error: ${e.message}`);
      this.stop();
    });
    w.on('exit', () => this.stop());
    return w;
  }

  private pump(): void {
    const w = this.worker;
    if (w === undefined || this.stopped) return;
    if (this.busy) return;
    const task = this.queue.shift();
    if (task === undefined) {
      if (this.sealed) this.finish();
      else w.unref();
      return;
    }
    this.busy = true;
    this.inWork = { sizeBytes: task.sizeBytes, readBytes: 0 };
    // work in flight keeps the process alive (its manifest is worth waiting for)
    w.ref();
    w.postMessage({ t: 'file', task } satisfies PrenormalizeRequest);
  }

  /** Sealed and idle: the thread, warm now, waits for the normalize step (warm-thread.ts). */
  private finish(): void {
    const w = this.worker;
    if (w === undefined || this.stopped) return this.stop();
    for (const event of ['message', 'error', 'exit', 'online'] as const) w.removeAllListeners(event);
    this.worker = undefined;
    parkThread(this.pkg.loadId, w);
    this.stop();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue = [];
    this.busy = false;
    const w = this.worker;
    const done = () => {
      this.resolveFinished();
      this.onFinish();
    };
    // a thread stopped mid-file (the grace after an abort ran out) may still be writing a
    // manifest: its work is done once it has exited
    if (w) void w.terminate().catch(() => undefined).then(done);
    else done();
  }
}

/** What the thread and the step did, on stderr, under `HAUL_PRENORMALIZE_DEBUG` (measuring the cache). */
export function debug(message: string | (() => string)): void {
  if (process.env.HAUL_PRENORMALIZE_DEBUG) console.error(`prenormalize: ${typeof message === 'string' ? message : message()}`);
}

// ---- the in-process registry: the normalize step of this process waits for work in flight ----

const running = new Map<string, Prenormalizer>();
const keyOf = (wd: WorkingDir, loadId: string) => `${wd.storage.workingDir}\n${loadId}`;

/**
 * Waits until background work on `loadId` started by this process is done (or aborts it
 * when `signal` fires). Work of another process is not waited for: its manifests are
 * complete or ignored.
 */
export async function awaitPrenormalized(wd: WorkingDir, loadId: string, signal?: AbortSignal): Promise<void> {
  const p = running.get(keyOf(wd, loadId));
  if (p === undefined) return;
  if (signal?.aborted) return p.abort();
  const onAbort = () => p.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const t0 = performance.now();
  try {
    await p.finished;
  } finally {
    debug(`normalize waited ${(performance.now() - t0).toFixed(0)} ms`);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** `HAUL_PRENORMALIZE=0` turns the cache off (benches, comparisons); one core has no room for it. */
function enabled(): boolean {
  return process.env.HAUL_PRENORMALIZE !== '0' && availableParallelism() >= 2 && canStartWorkers();
}

/**
 * Extract's job file sizes: when pre-normalizing, the first file of a table ends at 4 MiB and
 * each next one at twice the last, up to 32 MiB, so the background thread starts early and
 * the last file (normalized in the step) is not large, while load still gets few files
 * (docs/performance.md, sections 10 and 17); otherwise extract's default.
 * `HAUL_EXTRACT_FILE_BYTES` sets one size for every file (tests, benches).
 */
export function extractFileBytes(): { maxFileBytes?: number; firstFileBytes?: number } {
  const env = Number(process.env.HAUL_EXTRACT_FILE_BYTES);
  if (Number.isInteger(env) && env > 0) return { maxFileBytes: env };
  return enabled() ? { maxFileBytes: PRENORMALIZE_FILE_BYTES, firstFileBytes: PRENORMALIZE_FIRST_FILE_BYTES } : {};
}

const PRENORMALIZE_FIRST_FILE_BYTES = 4 << 20;
const PRENORMALIZE_FILE_BYTES = 32 << 20;

/**
 * Done bytes that start the thread: START_MIN_BYTES, or less when extract rotates files smaller
 * than that (half a rotation: a rotated file may end a little short of the size).
 */
function startBytes(): number {
  const { firstFileBytes, maxFileBytes } = extractFileBytes();
  return Math.min(START_MIN_BYTES, (firstFileBytes ?? maxFileBytes ?? Infinity) / 2);
}

/** The observer the pipeline hands extract: a pre-normalizer per package, whose thread starts once a MiB of files is done (startBytes). */
export function prenormalizeObserver(wd: WorkingDir, opts: { maxIdentifierLength?: number }): ExtractObserver | undefined {
  if (!enabled()) return undefined;
  return {
    begin(pkg) {
      const key = keyOf(wd, pkg.loadId);
      const p: Prenormalizer = new Prenormalizer(wd, pkg, opts.maxIdentifierLength, () => {
        if (running.get(key) === p) running.delete(key);
      });
      running.get(key)?.abort();
      running.set(key, p);
      return { fileDone: (table, path) => p.fileDone(table, path), end: () => p.seal() };
    },
  };
}
