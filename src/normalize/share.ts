import { randomBytes } from 'node:crypto';
import { Schema } from '../schema/schema.js';
import type { NormalizeBuffers } from './buffers.js';
import { normalizeInThread } from './in-thread.js';
import { serializeError, type WorkerInput, type WorkerMessage } from './worker-protocol.js';

/**
 * A worker thread's share of a parallel normalize (parallel.ts): normalizes its slices
 * against the schema snapshot, writing job files with ids of its own, and reports progress,
 * then the result and the schema it evolved, or the error. Run by a fresh normalize thread
 * (worker.ts) or by the pre-normalize thread the step took over (prenormalize-worker.ts).
 */
export async function runShare(data: WorkerInput, send: (m: WorkerMessage) => void, signal: AbortSignal, buffers?: NormalizeBuffers): Promise<void> {
  const schema = Schema.fromStored(data.schema);
  let chunks = 0;
  try {
    const r = await normalizeInThread(
      {
        schema,
        loadId: data.loadId,
        inputs: data.inputs,
        outDir: data.outDir,
        maxFileBytes: data.maxFileBytes,
        maxIdentifierLength: data.maxIdentifierLength,
        signal,
        // ids from this thread: random like the pipeline's, so no coordination is needed
        nextFileId: () => {
          const id = randomBytes(5).toString('hex');
          send({ t: 'file', id });
          return id;
        },
        onProgress: (p) => {
          send({ t: 'progress', table: p.table, rows: p.rows });
          if (data.crashForTest && ++chunks === 2) process.exit(3);
        },
      },
      { fastPath: data.fastPath, ...(buffers && { buffers }) },
    );
    send({ t: 'done', output: { rowCounts: r.rowCounts, files: r.files, largestRowBytes: r.largestRowBytes, created: r.created, schema: schema.toStored() } });
  } catch (e) {
    send({ t: 'error', error: serializeError(e) });
  }
}
