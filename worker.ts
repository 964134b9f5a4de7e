/**
 * haul worker entry. Runs the pipeline workflows and the activities for the sources a
 * module exports (default export or `sources`, optionally `destinations`).
 *
 *   npx tsx worker.ts --sources ./examples/sources.ts [--task-queue haul] [--pipelines-dir DIR] [--local-files [NAME]]
 *
 * Env: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE, HAUL_TASK_QUEUE,
 * HAUL_PIPELINES_DIR, HAUL_SOURCES (instead of --sources).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { DestinationRegistry, SourceRegistry } from './activities/index.js';
import { createWorker } from './src/temporal/worker.js';

export async function loadSourcesModule(path: string): Promise<{ sources: SourceRegistry; destinations?: DestinationRegistry }> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: SourceRegistry; sources?: SourceRegistry; destinations?: DestinationRegistry };
  const sources = mod.sources ?? mod.default;
  if (!sources || typeof sources !== 'object') throw new Error(`${path} must export its sources: \`export const sources = { name: mySource }\` or a default export`);
  return { sources, destinations: mod.destinations };
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sources: { type: 'string' },
      'task-queue': { type: 'string' },
      'pipelines-dir': { type: 'string' },
      'local-files': { type: 'string' },
      address: { type: 'string' },
      namespace: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const sourcesPath = values.sources ?? process.env.HAUL_SOURCES;
  if (values.help || !sourcesPath) {
    console.log('usage: worker.ts --sources ./my-sources.ts [--task-queue haul] [--pipelines-dir DIR] [--local-files NAME] [--address host:port] [--namespace ns]');
    process.exit(values.help ? 0 : 2);
  }
  const { sources, destinations } = await loadSourcesModule(sourcesPath);
  const worker = await createWorker({
    sources,
    destinations,
    taskQueue: values['task-queue'],
    pipelinesDir: values['pipelines-dir'],
    localFiles: values['local-files'],
    address: values.address,
    namespace: values.namespace,
  });
  console.log(
    `haul worker: task queue ${worker.taskQueue}${worker.localTaskQueue ? ` (+ ${worker.localTaskQueue})` : ''}, ` +
      `sources: ${Object.keys(sources).join(', ')}; Ctrl-C stops`,
  );
  await worker.run();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
