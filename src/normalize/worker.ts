/**
 * Entry of a normalize worker thread (see parallel.ts): normalizes its slices of the inputs
 * against a snapshot of the schema, writing job files with ids of its own, and reports
 * progress, then the result and the schema it evolved, or the error.
 */
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { Schema } from '../schema/schema.js';
import { normalizeInThread } from './in-thread.js';
import { serializeError, type MainMessage, type WorkerInput, type WorkerMessage } from './worker-protocol.js';

const port = parentPort!;
const data = workerData as WorkerInput;
const ac = new AbortController();
port.on('message', (m: MainMessage) => {
  if (m.t === 'abort') ac.abort(new Error('normalize worker aborted'));
});
// the port must not keep the thread alive once the work is done
port.unref();

const send = (m: WorkerMessage) => port.postMessage(m);

let chunks = 0;

async function main(): Promise<void> {
  const schema = Schema.fromStored(data.schema);
  try {
    const r = await normalizeInThread({
      schema,
      loadId: data.loadId,
      inputs: data.inputs,
      outDir: data.outDir,
      maxFileBytes: data.maxFileBytes,
      maxIdentifierLength: data.maxIdentifierLength,
      signal: ac.signal,
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
    }, { fastPath: data.fastPath });
    send({ t: 'done', output: { rowCounts: r.rowCounts, files: r.files, largestRowBytes: r.largestRowBytes, created: r.created, schema: schema.toStored() } });
  } catch (e) {
    send({ t: 'error', error: serializeError(e) });
  }
}

void main();
