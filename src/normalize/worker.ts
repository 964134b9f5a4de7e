/**
 * Entry of a normalize worker thread (see parallel.ts): runs its share (share.ts) of the
 * inputs given as workerData, then ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runShare } from './share.js';
import type { MainMessage, WorkerInput, WorkerMessage } from './worker-protocol.js';

const port = parentPort!;
const ac = new AbortController();
port.on('message', (m: MainMessage) => {
  if (m.t === 'abort') ac.abort(new Error('normalize worker aborted'));
});
// the port must not keep the thread alive once the work is done
port.unref();

void runShare(workerData as WorkerInput, (m: WorkerMessage) => port.postMessage(m), ac.signal);
