/** Shared helpers for the Temporal integration tests (not a test file). */
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { afterAll, inject } from 'vitest';
import { createWorker, type CreateWorkerOptions, type HaulWorker } from '../../src/temporal/worker.js';

// Keep the SDK quiet unless something is wrong.
Runtime.install({ logger: new DefaultLogger((process.env.HAUL_TEST_LOG_LEVEL as 'WARN') ?? 'ERROR') });

let client: Client | undefined;
let connection: Connection | undefined;
let nativeConnection: NativeConnection | undefined;
const workers: Array<{ w: HaulWorker; running: Promise<void> }> = [];

// One hook, in order: workers first, then the connections they use.
afterAll(async () => {
  for (const { w, running } of workers.splice(0)) {
    await w.shutdown();
    await running;
  }
  await nativeConnection?.close();
  await connection?.close();
  nativeConnection = undefined;
  connection = undefined;
  client = undefined;
});

/** A client on the suite's dev server. */
export async function testClient(): Promise<Client> {
  if (client) return client;
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: inject('temporalNamespace') });
  return client;
}

export async function testNativeConnection(): Promise<NativeConnection> {
  nativeConnection ??= await NativeConnection.connect({ address: inject('temporalAddress') });
  return nativeConnection;
}

/** A task queue no other test uses. */
export function uniqueQueue(prefix = 'haul-test'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** An in-process worker using the suite's prebuilt workflow bundle; shut down after the file. */
export async function testWorker(opts: Omit<CreateWorkerOptions, 'connection' | 'workflowBundle'>): Promise<HaulWorker> {
  const w = await createWorker({
    ...opts,
    namespace: inject('temporalNamespace'),
    connection: await testNativeConnection(),
    workflowBundle: { codePath: inject('workflowBundlePath') },
    workerOptions: { stickyQueueScheduleToStartTimeout: '2s', ...opts.workerOptions },
  });
  workers.push({ w, running: w.run() });
  return w;
}

/** Stops one worker started by testWorker (e.g. to hand over to another). */
export async function stopWorker(w: HaulWorker): Promise<void> {
  const i = workers.findIndex((x) => x.w === w);
  if (i < 0) return;
  const [{ running }] = workers.splice(i, 1) as [{ w: HaulWorker; running: Promise<void> }];
  await w.shutdown();
  await running;
}

/** Every byte string in a history, decoded as text (payload data is JSON bytes): what a test searches for secrets or paths. */
export function decodedStrings(history: temporal.api.history.v1.IHistory): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    else if (typeof v === 'string') out.push(v);
  };
  walk(history);
  return out;
}
