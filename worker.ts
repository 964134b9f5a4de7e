/**
 * haul worker entry. Runs the pipeline workflows and the activities for the sources a
 * module exports (`export const sources = {...}` or a default export, optionally
 * `export const destinations = {...}`).
 *
 *   npx tsx worker.ts --sources ./examples/sources.ts [--task-queue haul] [--pipelines-dir DIR] [--local-files NAME]
 *
 * Same as `haul worker`. Env: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE,
 * HAUL_TASK_QUEUE, HAUL_PIPELINES_DIR, HAUL_SOURCES (instead of --sources).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createWorker, loadSourcesModule } from './src/temporal/worker.js';

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
