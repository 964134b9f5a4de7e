import { existsSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { InputSlice, NormalizeInput, NormalizeOptions, NormalizeResult, NormalizeTestKnobs } from './types.js';
import { normalizeInThread } from './in-thread.js';
import { mergeWorkerSchema, typedColumns } from './merge-schema.js';
import { lineStartAtOrAfter } from './reader.js';
import type { PrenormalizeRequest } from './prenormalize-worker.js';
import { takeParkedThread } from './warm-thread.js';
import { rebuildError, serializeError, type MainMessage, type SerializedError, type WorkerInput, type WorkerMessage, type WorkerOutput } from './worker-protocol.js';

/*
 * Parallel normalize
 * ------------------
 * The inputs, taken as one stream of bytes in their order, are cut into one contiguous
 * share per thread of about equal size (cuts fall on line starts, so a file may be split).
 * The calling thread normalizes the first share itself, straight into `opts.schema` (one
 * thread would have started there too). Every other share goes to a worker thread, which
 * normalizes it against a snapshot of the schema from before the call, writing job files
 * with random ids, and returns its row counts, files and evolved schema. The calling thread
 * then merges the workers' schemas into `opts.schema` in input order (mergeWorkerSchema).
 * A worker whose output might differ from what one thread would have written (it typed a
 * column differently than the earlier shares did) is a conflict: its files are deleted and
 * its share is normalized again in this thread, starting from the merged schema. Every file
 * then agrees with the final schema, and the schema (column order included) is the one a
 * single thread would have built.
 */

/**
 * done: the share's result. error: normalize failed on the share (bad input, or a schema
 * conflict). crash: the thread failed otherwise (could not load, ran out of memory, exited).
 */
type Outcome = { kind: 'done'; output: WorkerOutput } | { kind: 'error' | 'crash'; error: SerializedError };

interface Handle {
  outcome: Promise<Outcome>;
  /** Ids of the job files the worker created (announced before each file is opened). */
  fileIds: string[];
  /** Resolves once the thread is gone. */
  exited: Promise<void>;
  abort(): void;
}

/** A worker's share after it was accepted or re-run. */
interface Share {
  rowCounts: Record<string, number>;
  files: Array<{ table: string; file: string }>;
  largestRowBytes: number;
}

/** How long an aborted worker gets to close its files before it is terminated. */
const ABORT_GRACE_MS = 2000;

export async function normalizeParallel(opts: NormalizeOptions, knobs: NormalizeTestKnobs, workers: number, sizes: number[]): Promise<NormalizeResult> {
  const { signal, onProgress } = opts;
  signal?.throwIfAborted();
  const shares = planSlices(opts.inputs, sizes, workers);
  const stats = knobs.stats ?? { workers: 0, reruns: 0 };
  Object.assign(stats, { workers: shares.length, reruns: 0 });

  // progress: the latest row count per table of each share, summed
  const rowsOf: Array<Map<string, number>> = shares.map(() => new Map());
  const progress = (w: number, table: string, rows: number) => {
    rowsOf[w].set(table, rows);
    if (!onProgress) return;
    let sum = 0;
    for (const m of rowsOf) sum += m.get(table) ?? 0;
    onProgress({ table, rows: sum });
  };

  // A table's first rows make most of its type decisions (e.g. an integer first, so later
  // fractions go to a variant). This thread normalizes them before the workers start, so the
  // workers begin from those decisions instead of making others and being re-run.
  const [seedSlices, restOfFirst] = seedSplit(shares[0], knobs.seedBytes ?? SEED_BYTES);
  const seeded = await normalizeInThread({ ...opts, inputs: seedSlices, onProgress: (p) => progress(0, p.table, p.rows) }, { fastPath: knobs.fastPath });
  signal?.throwIfAborted();
  const base = opts.schema.toStored();
  const typedBefore = typedColumns(base);

  const handles: Handle[] = [];
  const abortAll = () => {
    for (const h of handles) h.abort();
  };
  const onAbort = () => abortAll();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // share 0 is this thread's; worker threads take the others (handles[w - 1])
    for (let w = 1; w < shares.length; w++) {
      handles.push(
        startWorker(
          { schema: base, loadId: opts.loadId, inputs: shares[w], outDir: opts.outDir, maxFileBytes: opts.maxFileBytes, fastPath: knobs.fastPath, maxIdentifierLength: opts.maxIdentifierLength, crashForTest: knobs.crashWorkersForTest },
          (table, rows) => progress(w, table, rows),
        ),
      );
    }
    // a worker that fails on bad input makes the later shares pointless
    handles.forEach((h, i) =>
      void h.outcome.then((o) => {
        if (o.kind === 'error' && o.error.props.code !== 'SchemaConflict') for (const later of handles.slice(i + 1)) later.abort();
      }),
    );
    // The first share starts from the schema one thread would have: the rest of it is
    // normalized right here, into opts.schema, while the workers run. It never needs a merge.
    const done: Share[] = [seeded];
    if (restOfFirst.length > 0) {
      const before = (t: string) => seeded.rowCounts[t] ?? 0;
      done.push(await normalizeInThread({ ...opts, inputs: restOfFirst, onProgress: (p) => progress(0, p.table, before(p.table) + p.rows) }, { fastPath: knobs.fastPath }));
    }
    for (let w = 1; w < shares.length; w++) {
      const h = handles[w - 1];
      const o = await h.outcome;
      signal?.throwIfAborted();
      if (o.kind === 'done' && mergeWorkerSchema(opts.schema, base, typedBefore, o.output.schema, o.output.created)) {
        done.push(o.output);
        continue;
      }
      if (o.kind === 'error' && o.error.props.code !== 'SchemaConflict') {
        // bad input (corrupt line, identifier collision, ...): the same in one thread; the
        // earlier shares succeeded, so this is the first error in input order
        throw rebuildError(o.error);
      }
      // A conflict, an error that depends on the schema the worker started from, or a
      // thread that died: normalize this share again here, from the schema merged so far.
      // Every file the worker created goes first (load takes all files in the folder).
      await h.exited;
      deleteOutput(opts.outDir, idsToFiles(opts.outDir, h.fileIds));
      rowsOf[w].clear();
      stats.reruns++;
      const r = await normalizeInThread(
        { ...opts, inputs: shares[w], onProgress: (p) => progress(w, p.table, p.rows) },
        { fastPath: knobs.fastPath },
      );
      done.push(r);
    }
    return combine(opts.outDir, done);
  } catch (e) {
    abortAll();
    await Promise.allSettled(handles.map((h) => h.exited));
    throw signal?.aborted ? signal.reason : e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** How much of the first share this thread normalizes before the workers start. */
const SEED_BYTES = 256 * 1024;

/** The first share as [its first ~seedBytes in input order, cut at a line start; the rest of it]. */
function seedSplit(share: InputSlice[], seedBytes: number): [InputSlice[], InputSlice[]] {
  const seed: InputSlice[] = [];
  let bytes = 0;
  for (let i = 0; i < share.length; i++) {
    const slice = share[i]!;
    const start = slice.start ?? 0;
    const end = slice.end ?? statSync(slice.path).size;
    const room = seedBytes - bytes;
    const cut = end - start > room ? lineStartAtOrAfter(slice.path, start + room) : end;
    if (cut >= end) {
      seed.push(slice);
      bytes += end - start;
      continue;
    }
    if (cut > start) seed.push({ ...slice, start, end: cut });
    return [seed, [{ ...slice, start: cut, end }, ...share.slice(i + 1)]];
  }
  return [seed, []];
}

/**
 * Cuts the inputs (sizes in bytes) into `n` contiguous shares of about equal size, at line
 * starts. Shares keep the inputs' order; empty inputs go to the share at their position;
 * empty shares are left out.
 */
export function planSlices(inputs: NormalizeInput[], sizes: number[], n: number, lineStart = lineStartAtOrAfter): InputSlice[][] {
  const offsets: number[] = [];
  let total = 0;
  for (const s of sizes) {
    offsets.push(total);
    total += s;
  }
  const cuts = [0];
  for (let j = 1; j < n; j++) {
    const target = Math.floor((total * j) / n);
    let cut = total;
    for (let i = 0; i < inputs.length; i++) {
      if (sizes[i] > 0 && offsets[i] + sizes[i] > target) {
        cut = offsets[i] + lineStart(inputs[i].path, target - offsets[i]);
        break;
      }
    }
    cuts.push(Math.max(cut, cuts[cuts.length - 1]));
  }
  cuts.push(total);
  const shares: InputSlice[][] = [];
  for (let w = 0; w < n; w++) {
    const lo = cuts[w];
    const hi = cuts[w + 1];
    const last = w === n - 1;
    const share: InputSlice[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const s = offsets[i];
      const e = s + sizes[i];
      if (sizes[i] === 0) {
        if (s >= lo && (s < hi || last)) share.push({ ...inputs[i], start: 0, end: 0 });
        continue;
      }
      const a = Math.max(s, lo);
      const b = Math.min(e, hi);
      if (b > a) share.push({ ...inputs[i], start: a - s, end: b - s });
    }
    if (share.length > 0) shares.push(share);
  }
  return shares;
}

/** Adds up the shares: row counts summed; one empty file per empty replace table at most. */
export function combine(outDir: string, shares: Share[]): NormalizeResult {
  const total = new Map<string, number>();
  for (const s of shares) for (const [t, n] of Object.entries(s.rowCounts)) total.set(t, (total.get(t) ?? 0) + n);
  const rowCounts: Record<string, number> = {};
  const byTable = new Map<string, string[]>();
  const drop: string[] = [];
  for (const s of shares) {
    for (const { table, file } of s.files) {
      const list = byTable.get(table) ?? [];
      // a share with no rows for a table only wrote the empty file of a replace table: one
      // thread writes it only when no input had rows, and only once
      if (s.rowCounts[table] === 0 && (total.get(table)! > 0 || list.length > 0)) {
        drop.push(file);
        continue;
      }
      list.push(file);
      byTable.set(table, list);
    }
  }
  deleteOutput(outDir, drop);
  const files: NormalizeResult['files'] = [];
  for (const [table, list] of byTable) {
    rowCounts[table] = total.get(table)!;
    for (const file of list) files.push({ table, file });
  }
  return { rowCounts, files, largestRowBytes: Math.max(0, ...shares.map((s) => s.largestRowBytes)) };
}

function deleteOutput(outDir: string, files: string[]): void {
  for (const f of files) {
    const p = join(outDir, f);
    if (existsSync(p)) unlinkSync(p);
  }
}

/** Job files `<table>.<id>.<retry>.<format>` in outDir with one of the given ids. */
function idsToFiles(outDir: string, ids: string[]): string[] {
  if (ids.length === 0) return [];
  const set = new Set(ids);
  return readdirSync(outDir).filter((f) => {
    const parts = f.split('.');
    return parts.length >= 4 && set.has(parts[parts.length - 3]);
  });
}

// ---- worker threads ---------------------------------------------------------------------

function startWorker(data: WorkerInput, onProgress: (table: string, rows: number) => void): Handle {
  // the package's pre-normalize thread when it is parked (warm-thread.ts), else a new one
  const warm = takeParkedThread(data.loadId);
  warm?.postMessage({ t: 'share', input: data } satisfies PrenormalizeRequest);
  const worker = warm ?? spawn(data);
  let settled = false;
  let resolveOutcome!: (o: Outcome) => void;
  const outcome = new Promise<Outcome>((res) => (resolveOutcome = res));
  const settle = (o: Outcome) => {
    if (!settled) {
      settled = true;
      resolveOutcome(o);
    }
  };
  const fileIds: string[] = [];
  worker.on('message', (m: WorkerMessage) => {
    if (m.t === 'file') fileIds.push(m.id);
    else if (m.t === 'progress') onProgress(m.table, m.rows);
    else if (m.t === 'done') settle({ kind: 'done', output: m.output });
    else if (m.t === 'error') settle({ kind: 'error', error: m.error });
  });
  worker.on('error', (e) => settle({ kind: 'crash', error: serializeError(e) }));
  const exited = new Promise<void>((res) => {
    worker.once('exit', (code) => {
      // messages posted before the exit are delivered first; settle after them
      setImmediate(() => {
        settle({ kind: 'crash', error: { name: 'Error', message: `normalize worker exited with code ${code} before it finished`, props: {} } });
        res();
      });
    });
  });
  let aborting = false;
  return {
    outcome,
    fileIds,
    exited,
    abort() {
      if (aborting) return;
      aborting = true;
      // let it close its files between chunks; terminate it if it does not stop in time
      worker.postMessage({ t: 'abort' } satisfies MainMessage);
      const timer = setTimeout(() => void worker.terminate(), ABORT_GRACE_MS);
      timer.unref();
      void exited.then(() => clearTimeout(timer));
    },
  };
}

/**
 * Starts worker.js next to this file (after `tsc`). When running from the TypeScript source
 * (tsx, vitest), the worker is worker.ts: a small ES module bootstrap registers tsx in the
 * new thread, then imports it (Node 20 does not apply loader hooks from `--import` to a
 * worker's `.ts` entry).
 */
function spawn(data: WorkerInput): Worker {
  return spawnNormalizeThread('worker', data);
}

/** Starts a thread on `<entry>.js` (or `.ts` from sources) of this folder with `data` as workerData. */
export function spawnNormalizeThread(entry: 'worker' | 'prenormalize-worker', data: unknown): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${entry}.js`, here), { workerData: data });
  const entryUrl = new URL(`./${entry}.ts`, here).href;
  const api = tsxEsmApi();
  if (api === undefined) throw new Error('normalize workers need tsx to run from TypeScript sources');
  const code =
    `import { register } from ${JSON.stringify(api)};\n` +
    `register();\n` +
    `await import(${JSON.stringify(entryUrl)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { workerData: data });
}

/**
 * Worker threads can be started: always from `dist/`; from TypeScript sources only when tsx
 * is installed (another TypeScript runner gets the single-threaded path).
 */
export function canStartWorkers(): boolean {
  return !import.meta.url.endsWith('.ts') || tsxEsmApi() !== undefined;
}

let tsxApi: string | undefined | null;
function tsxEsmApi(): string | undefined {
  if (tsxApi === undefined) {
    tsxApi = null;
    try {
      const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
      const api = join(pkg, '..', 'dist', 'esm', 'api', 'index.mjs');
      if (existsSync(api)) tsxApi = pathToFileURL(api).href;
    } catch {
      // not installed
    }
  }
  return tsxApi ?? undefined;
}
