import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type DestinationRegistry, type SourceRegistry } from '../../activities/index.js';
import { HaulError, TemporalUnreachableError } from '../errors.js';
import type { CheckpointPolicy } from '../progress/step-options.js';
import { DEFAULT_TASK_QUEUE } from './types.js';

export interface CreateWorkerOptions {
  /** The sources this worker can run, by the name a workflow input uses. */
  sources: SourceRegistry;
  /** Destinations configured on this worker (may hold credentials), by name. */
  destinations?: DestinationRegistry;
  /** Default 'haul' (or HAUL_TASK_QUEUE). */
  taskQueue?: string;
  /** A connection to reuse; otherwise one to `address` (default TEMPORAL_ADDRESS or localhost:7233). */
  connection?: NativeConnection;
  address?: string;
  namespace?: string;
  /** Where pipeline working dirs live (default HAUL_PIPELINES_DIR or ~/.haul/pipelines). */
  pipelinesDir?: string;
  /**
   * `true` (or a stable name) when `pipelinesDir` is a local disk other workers cannot see:
   * the worker also polls its own queue `<taskQueue>@<name>` (default name: the host name)
   * and every step after sync of a run it started runs there. Leave it off when
   * `pipelinesDir` is a volume shared by all workers.
   */
  localFiles?: boolean | string;
  /** A prebuilt workflow bundle (see bundleHaulWorkflows); default: bundle now (HAUL_WORKFLOW_BUNDLE names a prebuilt file). */
  workflowBundle?: WorkflowBundleOption;
  /** How often extracts record a checkpoint a retried attempt resumes from (a run's `tuning.checkpointEvery*` wins; default every 10,000 items or 10 s). */
  checkpoint?: CheckpointPolicy;
  /** Extra Temporal worker options (identity, concurrency, sticky queue timeout...). */
  workerOptions?: Partial<Omit<WorkerOptions, 'connection' | 'taskQueue' | 'activities' | 'workflowBundle' | 'workflowsPath'>>;
}

export interface HaulWorker {
  readonly taskQueue: string;
  /** The worker's own queue when `localFiles` is on. */
  readonly localTaskQueue?: string;
  readonly connection: NativeConnection;
  /** Polls until shutdown() (or SIGINT/SIGTERM, handled by the SDK). */
  run(): Promise<void>;
  /** Runs the worker while `fn` runs, then shuts it down. */
  runUntil<T>(fn: Promise<T> | (() => Promise<T>)): Promise<T>;
  shutdown(): Promise<void>;
}

/** The workflow code file: workflows/index.ts from source, dist/workflows/index.js when built. */
export function workflowsPath(): string {
  for (const ext of ['.ts', '.js']) {
    const p = fileURLToPath(new URL(`../../workflows/index${ext}`, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('haul: cannot find the workflow code (workflows/index.ts or .js next to src/)');
}

/** Bundles haul's workflow code once; pass the result to several workers. */
export async function bundleHaulWorkflows(): Promise<{ code: string }> {
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quietLogger });
  return { code };
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string, meta?: unknown) => console.warn(m, meta ?? ''),
  error: (m: string, meta?: unknown) => console.error(m, meta ?? ''),
};

/** How often a step's heartbeat (progress counts, cancellation) reaches the server. */
const HEARTBEAT_EVERY = '2s';

/**
 * A Temporal worker that runs haul's workflows and the pipeline activities for the given
 * sources. `worker.ts` at the repo root is the command-line entry.
 */
export async function createWorker(opts: CreateWorkerOptions): Promise<HaulWorker> {
  const taskQueue = opts.taskQueue ?? process.env.HAUL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  const ownConnection = !opts.connection;
  const address = opts.address ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const connection = opts.connection ?? (await connectNative(address));
  const namespace = opts.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default';
  const localName = opts.localFiles === true ? hostname() : opts.localFiles || undefined;
  const localTaskQueue = localName ? `${taskQueue}@${localName}` : undefined;
  const activities = createActivities({ sources: opts.sources, destinations: opts.destinations, pipelinesDir: opts.pipelinesDir, localTaskQueue, checkpoint: opts.checkpoint });
  const bundlePath = process.env.HAUL_WORKFLOW_BUNDLE;
  const workflowBundle = opts.workflowBundle ?? (bundlePath ? { codePath: bundlePath } : await bundleHaulWorkflows());

  // The SDK sends a step's heartbeat at most every 0.8 x heartbeatTimeout (24 s by default): its
  // progress counts and a cancellation would wait that long. Every 2 s they are live.
  const workerOptions = { defaultHeartbeatThrottleInterval: HEARTBEAT_EVERY, maxHeartbeatThrottleInterval: HEARTBEAT_EVERY, ...opts.workerOptions };
  const main = await Worker.create({ ...workerOptions, connection, namespace, taskQueue, activities, workflowBundle });
  const local = localTaskQueue ? await Worker.create({ ...workerOptions, connection, namespace, taskQueue: localTaskQueue, activities }) : undefined;
  const workers = [main, ...(local ? [local] : [])];

  let running: Promise<void> | undefined;
  const run = () => (running ??= Promise.all(workers.map((w) => w.run())).then(async () => {
    if (ownConnection) await connection.close();
  }));
  const shutdown = async () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await running;
  };
  return {
    taskQueue,
    localTaskQueue,
    connection,
    run,
    shutdown,
    async runUntil<T>(fn: Promise<T> | (() => Promise<T>)): Promise<T> {
      const r = run();
      try {
        return await (typeof fn === 'function' ? fn() : fn);
      } finally {
        await shutdown();
        await r;
      }
    },
  };
}

/**
 * Loads a module that exports a worker's sources: `export const sources = {...}` or a
 * default export, and optionally `export const destinations = {...}`.
 */
export async function loadSourcesModule(path: string): Promise<{ sources: SourceRegistry; destinations?: DestinationRegistry }> {
  let mod: { default?: SourceRegistry; sources?: SourceRegistry; destinations?: DestinationRegistry };
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as typeof mod;
  } catch (e) {
    // Node cannot load TypeScript alone: the worker registers tsx when the project has it
    if ((e as { code?: string }).code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new HaulError('InvalidSourcesModule', `${path} is TypeScript, which needs tsx in this project: \`npm install -D tsx\` (haul registers it), or pass a compiled .js module`, { cause: e });
    }
    throw e;
  }
  const sources = mod.sources ?? mod.default;
  if (!sources || typeof sources !== 'object') {
    throw new HaulError('InvalidSourcesModule', `${path} must export its sources: \`export const sources = { name: mySource }\` or a default export`);
  }
  return { sources, destinations: mod.destinations };
}

async function connectNative(address: string): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ address });
  } catch (e) {
    throw new TemporalUnreachableError(address, e);
  }
}
