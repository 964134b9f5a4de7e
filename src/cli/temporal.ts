/**
 * The durable (Temporal) commands of the `haul` CLI:
 *   haul worker --sources ./my-sources.ts
 *   haul schedule create|list|pause|unpause|trigger|backfill|delete
 *   haul temporal run|progress|drop|setup
 * All connect to TEMPORAL_ADDRESS (default localhost:7233) / --address.
 */
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_DESTINATION } from '../destinations/registry.js';
import type { Client } from '@temporalio/client';
import {
  alreadyRunning,
  connectClient,
  deleteSchedule,
  dropPipelineData,
  formatRunResult,
  listSchedules,
  pauseSchedule,
  pipelineProgress,
  registerSearchAttributes,
  schedulePipeline,
  backfillSchedule,
  startPipeline,
  taskQueueOf,
  triggerSchedule,
  unpauseSchedule,
} from '../temporal/client.js';
import { followRun, rootCause } from '../temporal/follow.js';
import type { PipelineRunInput, PipelineRunResult } from '../temporal/types.js';
import { CliError, warn } from './output.js';
import { PipelineAlreadyRunningError } from '../errors.js';
import { createWorker, loadSourcesModule } from '../temporal/worker.js';

interface ConnOpts {
  address?: string;
  namespace?: string;
  taskQueue?: string;
}

function json(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new InvalidArgumentError(`not JSON: ${(e as Error).message}`);
  }
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function connOptions(cmd: Command): Command {
  return cmd
    .option('--address <host:port>', 'Temporal frontend (default TEMPORAL_ADDRESS or localhost:7233)')
    .option('--namespace <ns>', 'Temporal namespace (default TEMPORAL_NAMESPACE or default)')
    .option('--task-queue <queue>', 'task queue of the haul workers (default HAUL_TASK_QUEUE or haul)');
}

/** Options that make a pipeline run input (shared by `temporal run` and `schedule create`). */
function runOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--source <name>', 'a source registered on the worker')
    .option('--args <json>', 'JSON args for the source (array: spread; object: one argument)', json)
    .option('--resources <a,b>', 'only these resources', list)
    .option('--destination <name>', "destination name (built-in such as 'duckdb', or registered on the worker)", DEFAULT_DESTINATION)
    .option('--destination-options <json>', 'non-secret destination options, e.g. {"path":"x.duckdb"}', json)
    .option('--dataset <name>', 'dataset name (default <pipeline>_dataset)')
    .option('--table-name <name>', 'table for plain data')
    .option('--write-disposition <d>', 'append | replace | merge | skip')
    .option('--primary-key <cols>', 'primary key column(s)', list)
    .option('--columns <json>', 'column hints: a record {"name": {"dataType": "text"}} or a list [{"name": "id", "dataType": "bigint"}]', json)
    .option('--loader-file-format <f>', 'jsonl | parquet | csv (default: the destination\'s preferred one)')
    .option('--staging <name>', "a staging destination by name ('filesystem'); the worker's config gives its bucket_url")
    .option('--refresh <mode>', 'drop_sources | drop_resources | drop_data');
}

interface RunCliOpts extends ConnOpts {
  source: string;
  args?: unknown;
  resources?: string[];
  destination: string;
  destinationOptions?: unknown;
  dataset?: string;
  tableName?: string;
  writeDisposition?: string;
  primaryKey?: string[];
  columns?: unknown;
  loaderFileFormat?: string;
  staging?: string;
  refresh?: string;
}

function toInput(pipelineName: string, o: RunCliOpts): PipelineRunInput {
  const input: Record<string, unknown> = { pipelineName, source: o.source, destination: o.destination };
  if (o.args !== undefined) input.args = o.args;
  if (o.resources) input.resources = o.resources;
  if (o.destinationOptions !== undefined) input.destinationOptions = o.destinationOptions;
  if (o.dataset) input.datasetName = o.dataset;
  if (o.tableName) input.tableName = o.tableName;
  if (o.writeDisposition) input.writeDisposition = o.writeDisposition;
  if (o.primaryKey) input.primaryKey = o.primaryKey.length === 1 ? o.primaryKey[0] : o.primaryKey;
  if (o.columns !== undefined) input.columns = o.columns;
  if (o.loaderFileFormat) input.loaderFileFormat = o.loaderFileFormat;
  if (o.staging) input.staging = o.staging;
  if (o.refresh) input.refresh = o.refresh;
  return input as unknown as PipelineRunInput; // validated by zod in startPipeline/schedulePipeline
}

async function withClient<T>(o: ConnOpts, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = await connectClient({ address: o.address, namespace: o.namespace });
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

/** Adds `worker`, `schedule` and `temporal` to the haul program. */
export function registerTemporalCommands(program: Command): void {
  program
    .command('worker')
    .description('run a haul worker: the pipeline workflows and activities for the sources a module exports')
    .requiredOption('--sources <file>', 'module exporting `sources` (or a default export), optionally `destinations`', process.env.HAUL_SOURCES)
    .option('--address <host:port>', 'Temporal frontend (default TEMPORAL_ADDRESS or localhost:7233)')
    .option('--namespace <ns>', 'Temporal namespace')
    .option('--task-queue <queue>', 'task queue (default HAUL_TASK_QUEUE or haul)')
    .option('--pipelines-dir <dir>', 'pipeline working dirs (default HAUL_PIPELINES_DIR or ~/.haul/pipelines)')
    .option('--local-files [name]', "package files stay on this worker's disk: steps after sync run on <queue>@<name>")
    .action(async (o: ConnOpts & { sources: string; pipelinesDir?: string; localFiles?: string | boolean }) => {
      const { sources, destinations } = await loadSourcesModule(o.sources);
      const worker = await createWorker({
        sources,
        destinations,
        address: o.address,
        namespace: o.namespace,
        taskQueue: o.taskQueue,
        pipelinesDir: o.pipelinesDir,
        localFiles: o.localFiles,
      });
      console.log(`haul worker: task queue ${worker.taskQueue}${worker.localTaskQueue ? ` (+ ${worker.localTaskQueue})` : ''}, sources: ${Object.keys(sources).join(', ')}; Ctrl-C stops`);
      await worker.run();
    });

  const schedule = program.command('schedule').description('Temporal Schedules that run a pipeline');
  runOptions(connOptions(schedule.command('create <pipeline>')))
    .description('create a schedule (overlap SKIP) that runs the pipeline every interval or on a cron')
    .option('--every <interval>', "e.g. '1h', '15m'")
    .option('--cron <expr>', "e.g. '0 3 * * *'")
    .option('--schedule-id <id>', 'default pipeline/<pipeline>')
    .option('--paused', 'create paused')
    .option('--pause-after-failures <n>', 'pause the schedule, with a note saying why, once n runs in a row failed (1-10)', (v) => Number(v))
    .option('--window <duration>', "each run's window for incremental resources with allowExternalSchedulers (default: --every; e.g. '1d' with a daily --cron)")
    .action(async (pipeline: string, o: RunCliOpts & { every?: string; cron?: string; scheduleId?: string; paused?: boolean; pauseAfterFailures?: number; window?: string }) => {
      await withClient(o, async (client) => {
        const h = await schedulePipeline(
          client,
          { ...toInput(pipeline, o), every: o.every, cron: o.cron, scheduleId: o.scheduleId, paused: o.paused, pauseAfterFailures: o.pauseAfterFailures, window: o.window },
          { taskQueue: o.taskQueue },
        );
        console.log(`schedule ${h.scheduleId} created`);
      });
    });
  connOptions(schedule.command('backfill <pipelineOrScheduleId>'))
    .description('run the schedule for every time it would have fired in [--from, --to), one after another; each run loads its past window')
    .requiredOption('--from <time>', "ISO 8601 time, e.g. '2026-01-01T00:00:00Z'")
    .requiredOption('--to <time>', 'ISO 8601 time (exclusive)')
    .action(async (id: string, o: ConnOpts & { from: string; to: string }) => {
      const from = new Date(o.from);
      const to = new Date(o.to);
      for (const [flag, d, text] of [['--from', from, o.from], ['--to', to, o.to]] as const) {
        if (Number.isNaN(d.getTime())) throw new CliError(`${flag} ${JSON.stringify(text)} is not a time; use ISO 8601, e.g. 2026-01-01T00:00:00Z`, 2);
      }
      await withClient(o, (client) => backfillSchedule(client, id, from, to));
      console.log(`schedule ${id.includes('/') ? id : `pipeline/${id}`}: backfill of [${from.toISOString()}, ${to.toISOString()}) started`);
    });
  connOptions(schedule.command('list [pipeline]'))
    .description("list haul's schedules")
    .action(async (pipeline: string | undefined, o: ConnOpts) => {
      await withClient(o, async (client) => {
        for (const s of await listSchedules(client, pipeline)) {
          const spec = [...(s.spec?.intervals ?? []).map((i) => `every ${Number(i.every) / 1000}s`), ...(s.spec?.calendars?.length ? ['calendar'] : [])].join(', ');
          const note = s.state.paused && s.state.note ? `\t${s.state.note}` : '';
          console.log(`${s.scheduleId}\t${s.state.paused ? 'paused' : 'active'}\t${spec}${note}`);
        }
      });
    });
  connOptions(schedule.command('pause <pipelineOrScheduleId>'))
    .description('pause a schedule')
    .option('--note <text>', "why it is paused (shown by schedule list and the Temporal UI)", 'paused with haul schedule pause')
    .action(async (id: string, o: ConnOpts & { note: string }) => {
      await withClient(o, (client) => pauseSchedule(client, id, o.note));
      console.log(`schedule ${id.includes('/') ? id : `pipeline/${id}`}: pause done`);
    });
  for (const [name, what, fn] of [
    ['unpause', 'unpause a schedule', (c: Client, id: string) => unpauseSchedule(c, id)],
    ['trigger', 'start a run now (skipped if the pipeline is running)', (c: Client, id: string) => triggerSchedule(c, id)],
    ['delete', 'delete a schedule', (c: Client, id: string) => deleteSchedule(c, id)],
  ] as const) {
    connOptions(schedule.command(`${name} <pipelineOrScheduleId>`))
      .description(what)
      .action(async (id: string, o: ConnOpts) => {
        await withClient(o, (client) => fn(client, id));
        console.log(`schedule ${id.includes('/') ? id : `pipeline/${id}`}: ${name} done`);
      });
  }

  const temporal = program.command('temporal').description('run pipelines through Temporal');
  runOptions(connOptions(temporal.command('run <pipeline>')))
    .description('run a pipeline as workflow pipeline/<pipeline> and print its LoadInfo')
    .option('--attach', 'follow the running run instead of failing when one is in progress')
    .option('--no-wait', 'start and print the workflow id only')
    .action(async (pipeline: string, o: RunCliOpts & { attach?: boolean; wait: boolean }) => {
      await withClient(o, async (client) => {
        const h = await startPipeline(client, toInput(pipeline, o), { taskQueue: o.taskQueue, ifRunning: o.attach ? 'attach' : 'fail' }).catch((e: unknown) => {
          // the API's advice names its option; here it is the flag
          if (e instanceof PipelineAlreadyRunningError) throw alreadyRunning(e.pipelineName, e.runId, '--attach');
          throw e;
        });
        console.log(`workflow ${h.workflowId} (run ${h.firstExecutionRunId})`);
        if (!o.wait) return;
        try {
          const result = await followRun<PipelineRunResult>(client, h, { taskQueue: taskQueueOf({ taskQueue: o.taskQueue }), report: (line) => warn(line) });
          console.log(formatRunResult(result));
        } catch (e) {
          throw new CliError(`workflow ${h.workflowId}: ${rootCause(e)}`);
        }
      });
    });
  connOptions(temporal.command('progress <pipeline>'))
    .description("the pipeline's current or last run: stage, counts per table (live during a step), error")
    .option('--json', 'one JSON document')
    .action(async (pipeline: string, o: ConnOpts & { json?: boolean }) => {
      await withClient(o, async (client) => {
        const p = await pipelineProgress(client, pipeline);
        if (o.json) return console.log(JSON.stringify(p, null, 2));
        const counts = (c: Record<string, number>) => Object.entries(c).map(([t, n]) => `${t} ${n}`).join(', ') || '-';
        console.log(`pipeline ${p.pipelineName}: ${p.stage}${p.loadIds.length ? ` (load ${p.loadIds.join(', ')})` : ''}`);
        console.log(`  extracted:  ${counts(p.extracted)}`);
        console.log(`  normalized: ${counts(p.normalized)}`);
        console.log(`  loaded:     ${counts(p.loaded)}`);
        if (p.note) console.log(`  note: ${p.note}`);
        if (p.error) console.log(`  error: ${p.error}`);
      });
    });
  connOptions(temporal.command('drop <pipeline>'))
    .description('drop resources/tables and their state (dropWorkflow)')
    .option('--resources <a,b>', 'resources to drop', list)
    .option('--tables <a,b>', 'tables to drop', list)
    .option('--state-only', 'reset the state only, keep the tables')
    .option('--destination <name>', 'destination (default: the one the pipeline loaded into, stored in its working dir on the worker)')
    .option('--destination-options <json>', 'non-secret destination options', json)
    .option('--dataset <name>', 'dataset name')
    .action(async (pipeline: string, o: ConnOpts & { resources?: string[]; tables?: string[]; stateOnly?: boolean; destination?: string; destinationOptions?: Record<string, never>; dataset?: string }) => {
      await withClient(o, async (client) => {
        const r = await dropPipelineData(
          client,
          { pipelineName: pipeline, destination: o.destination, destinationOptions: o.destinationOptions, datasetName: o.dataset, resources: o.resources, tables: o.tables, stateOnly: o.stateOnly },
          { taskQueue: o.taskQueue },
        );
        console.log(`dropped tables: ${r.droppedTables.join(', ') || '(none)'}; reset resources: ${r.resetResources.join(', ') || '(none)'}`);
      });
    });
  connOptions(temporal.command('setup'))
    .description("register haul's search attributes on an existing Temporal server")
    .action(async (o: ConnOpts) => {
      await withClient(o, async (client) => {
        const added = await registerSearchAttributes(client.connection, client.options.namespace);
        console.log(added.length ? `registered: ${added.join(', ')}` : 'search attributes already registered');
      });
    });
}
