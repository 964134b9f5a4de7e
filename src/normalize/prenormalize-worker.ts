/**
 * Entry of the background pre-normalizer thread (prenormalizer.ts): normalizes extracted job
 * files one at a time, in the order it gets them, from one schema it carries on from file
 * to file (as normalize's single thread would), into the package's scratch folder, and
 * writes a manifest per file once its outputs are closed. The first failure stops it: its
 * schema may be half changed, so nothing after it could be trusted.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { faultPoint } from '../common/faults.js';
import { writeJsonFileAtomic } from '../common/json-file.js';
import { Schema } from '../schema/schema.js';
import type { StoredSchema, TableSchema } from '../schema/types.js';
import { normalizeInThread } from './in-thread.js';
import { manifestName, newManifest, treeHash, treeOf } from './prenormalize-manifest.js';
import { NormalizeBuffers } from './buffers.js';
import { runShare } from './share.js';
import type { WorkerInput, WorkerMessage } from './worker-protocol.js';

export interface PrenormalizeWorkerData {
  schema: StoredSchema;
  loadId: string;
  scratchDir: string;
  maxIdentifierLength?: number;
}

export interface PrenormalizeTask {
  table: string;
  /** Where the file is while extract builds the package. */
  path: string;
  /** Where it is once extract committed (the package folder is renamed). */
  committedPath: string;
  job: string;
  sizeBytes: number;
}

/** 'share': the normalize step took this thread over as a worker (warm-thread.ts); it runs the share, then ends. */
export type PrenormalizeRequest = { t: 'file'; task: PrenormalizeTask } | { t: 'abort' } | { t: 'share'; input: WorkerInput };
export type PrenormalizeReply = { t: 'done'; job: string } | { t: 'failed'; job: string; message: string } | { t: 'progress'; job: string; bytes: number };

const port = parentPort!;
const data = workerData as PrenormalizeWorkerData;
const schema = Schema.fromStored(data.schema);
const ac = new AbortController();
let chain: Promise<void> = Promise.resolve();
let broken = false;
/** One file after another: each call takes the buffers the one before kept. */
const buffers = new NormalizeBuffers();

/** Set once the thread runs a share of the normalize step. */
let share: AbortController | undefined;

port.on('message', (m: PrenormalizeRequest) => {
  if (m.t === 'abort') {
    ac.abort(new Error('pre-normalize aborted'));
    share?.abort(new Error('normalize worker aborted'));
  } else if (m.t === 'share') {
    share = new AbortController();
    const { signal } = share;
    // its buffers, grown on extract's files, serve the share too; the thread ends after it
    chain = chain.then(() => runShare(m.input, (r: WorkerMessage) => port.postMessage(r), signal, buffers)).finally(() => port.close());
  } else chain = chain.then(() => one(m.task));
});

async function one(task: PrenormalizeTask): Promise<void> {
  if (broken || ac.signal.aborted) return port.postMessage({ t: 'failed', job: task.job, message: 'stopped' } satisfies PrenormalizeReply);
  try {
    const before = new Map(Object.entries(schema.tables).map(([n, t]) => [n, JSON.stringify(t)]));
    const startHash = treeHash(schema, task.table, data.maxIdentifierLength);
    const normalize = (path: string) =>
      normalizeInThread({
        schema,
        loadId: data.loadId,
        inputs: [{ table: task.table, path }],
        outDir: data.scratchDir,
        nextFileId: () => randomBytes(5).toString('hex'),
        maxIdentifierLength: data.maxIdentifierLength,
        signal: ac.signal,
        onProgress: (p) => port.postMessage({ t: 'progress', job: task.job, bytes: p.bytes ?? 0 } satisfies PrenormalizeReply),
      }, { buffers });
    let r: Awaited<ReturnType<typeof normalize>>;
    try {
      r = await normalize(existsSync(task.path) ? task.path : task.committedPath);
    } catch (e) {
      // extract committed between the look and the open: the file failed to open before
      // any line was read, so the schema is untouched; it is in the committed folder now
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(task.committedPath)) throw e;
      r = await normalize(task.committedPath);
    }
    const tree = new Set(treeOf(schema.tables, task.table));
    const tables: TableSchema[] = [];
    const created: string[] = [];
    for (const [n, t] of Object.entries(schema.tables)) {
      const was = before.get(n);
      if (was === JSON.stringify(t)) continue;
      // the cache rests on a file touching its own tree only
      if (!tree.has(n)) throw new Error(`normalizing ${task.job} changed table ${n} outside its tree`);
      tables.push(structuredClone(t));
      if (was === undefined) created.push(n);
    }
    if ([...before.keys()].some((n) => schema.tables[n] === undefined)) throw new Error(`normalizing ${task.job} removed a table`);
    const files = r.files.map((f) => ({ ...f, sizeBytes: statSync(join(data.scratchDir, f.file)).size }));
    faultPoint('prenormalize:before-manifest');
    const manifest = newManifest({
      loadId: data.loadId,
      input: { job: task.job, table: task.table, sizeBytes: task.sizeBytes },
      startHash,
      tables,
      created,
      rowCounts: r.rowCounts,
      files,
      largestRowBytes: r.largestRowBytes,
    });
    writeJsonFileAtomic(join(data.scratchDir, manifestName(task.job)), manifest);
    port.postMessage({ t: 'done', job: task.job } satisfies PrenormalizeReply);
  } catch (e) {
    broken = true;
    port.postMessage({ t: 'failed', job: task.job, message: e instanceof Error ? e.message : String(e) } satisfies PrenormalizeReply);
  }
}
