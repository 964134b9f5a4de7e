/**
 * `haul pipeline ...`: inspect and repair a pipeline's working dir, like `dlt pipeline`.
 *
 *   haul pipeline --list
 *   haul pipeline <name> info [-v]
 *   haul pipeline <name> trace
 *   haul pipeline <name> load-package [loadId]
 *   haul pipeline <name> failed-jobs
 *   haul pipeline <name> schema [--format yaml|json] [--schema name]
 *   haul pipeline <name> sync [--yes]
 *   haul pipeline <name> drop [resources...] [--drop-all] [--state-paths ...] [--state-only] [--yes]
 *   haul pipeline <name> drop-pending-packages [--yes]
 *
 * Every command takes --pipelines-dir and --json. The name comes before the operation on
 * the command line (as in dlt); main.ts moves it behind the operation for commander.
 */
import { existsSync, rmSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { schemaToYaml } from '../schema/io.js';
import type { Schema } from '../schema/schema.js';
import type { TableSchema } from '../schema/types.js';
import { pipeline as createPipeline, type LoadPackageInfo, type Pipeline } from '../pipeline/pipeline.js';
import type { PipelineState } from '../state/state.js';
import { parseJobName } from '../storage/job-name.js';
import { COMPLETED_JOBS, STARTED_JOBS } from '../storage/layout.js';
import { PackageStorage } from '../storage/package-storage.js';
import { statePathOf, workingDirOf } from '../storage/pipelines-dir.js';
import { checkDestinationReachable, destinationOf, listPipelineNames, notFound, openPipeline, pipelinesDirOf, readStateFile } from './open.js';
import { CliError, confirm, fmtBytes, fmtSecs, loadIdTime, out, printJson, table, warn } from './output.js';
import { HaulError } from '../errors.js';

/** The operations of `haul pipeline <name> <op>`. */
export const PIPELINE_OPERATIONS = ['info', 'trace', 'load-package', 'failed-jobs', 'schema', 'sync', 'drop', 'drop-pending-packages'] as const;

interface CommonOpts {
  pipelinesDir?: string;
  json?: boolean;
}

function common(cmd: Command): Command {
  return cmd
    .option('--pipelines-dir <dir>', 'where pipeline working dirs are (default: HAUL_PIPELINES_DIR or ~/.haul/pipelines)')
    .option('--json', 'print JSON instead of text');
}

function json(value: string): Record<string, unknown> {
  try {
    const v = JSON.parse(value) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new InvalidArgumentError(`not a JSON object: ${(e as Error).message}`);
  }
}

// ---- info ------------------------------------------------------------------------------------

interface PackageView {
  loadId: string;
  stage: 'extracted' | 'normalized' | 'loaded';
  createdAt: string;
  schemaName: string;
  jobs: Record<string, number>;
  /** Some jobs completed (or started) but the package is not in _dlt_loads yet. */
  partiallyLoaded: boolean;
  /** Jobs the destination refused: every run retries them first, and fails the same way until the cause is fixed. */
  failedJobs: number;
  rowCounts?: Record<string, number>;
}

/** What a package with failed jobs means for the next runs, and the two ways out. */
function failedAdvice(pipelineName: string, loadId: string, failed: number): string {
  return (
    `package ${loadId} has ${failed} failed job(s): each run retries them first and fails the same way until the cause is fixed ` +
    `("haul pipeline ${pipelineName} failed-jobs" shows it); or discard the package with "haul pipeline ${pipelineName} drop-pending-packages"`
  );
}

function packageView(p: Pipeline, loadId: string): PackageView {
  const info = p.getLoadPackageInfo(loadId);
  const jobs: Record<string, number> = {};
  for (const j of info.jobs) jobs[j.state] = (jobs[j.state] ?? 0) + 1;
  // a failed job put nothing at the destination: only completed (or started) jobs of data
  // tables make a package partial (its state row may be there, no data of it)
  const dataJobAt = (state: string) => info.jobs.some((j) => j.state === state && !j.table.startsWith('_dlt_'));
  const partiallyLoaded = info.stage === 'normalized' && (dataJobAt(COMPLETED_JOBS) || dataJobAt(STARTED_JOBS));
  const failedJobs = info.stage === 'normalized' ? (jobs.failed_jobs ?? 0) : 0;
  return { loadId, stage: info.stage, createdAt: info.createdAt, schemaName: info.schemaName, jobs, partiallyLoaded, failedJobs, rowCounts: info.rowCounts };
}

function incrementalOf(res: Record<string, unknown>): Array<{ cursor: string; lastValue: unknown; initialValue: unknown }> {
  const inc = res.incremental as Record<string, { last_value?: unknown; initial_value?: unknown }> | undefined;
  if (!inc || typeof inc !== 'object') return [];
  return Object.entries(inc).map(([cursor, v]) => ({ cursor, lastValue: v?.last_value, initialValue: v?.initial_value }));
}

function tableView(schema: Schema, t: TableSchema, verbose: boolean) {
  return {
    name: t.name,
    parent: t.parent,
    resource: t.resource,
    writeDisposition: t.parent ? undefined : schema.writeDispositionOf(t.name),
    columns: verbose ? Object.values(t.columns).map((c) => ({ name: c.name, dataType: c.dataType, nullable: c.nullable, hints: columnHints(c) })) : Object.keys(t.columns).length,
  };
}

function columnHints(c: TableSchema['columns'][string]): string[] {
  const h: string[] = [];
  for (const k of ['primaryKey', 'mergeKey', 'unique', 'rowKey', 'parentKey', 'rootKey', 'variant', 'incomplete'] as const) if (c[k]) h.push(k);
  if (c.precision !== undefined) h.push(`precision=${c.precision}${c.scale !== undefined ? `,${c.scale}` : ''}`);
  return h;
}

function info(p: Pipeline, verbose: boolean) {
  const state = p.state;
  // the place only: a machine without the destination's credentials can still inspect the working dir (as dlt's info)
  let client: { displayLocation: string; localFile?: string } | undefined;
  try {
    client = p.destination.createClient({ pipelineName: p.pipelineName, datasetName: p.datasetName });
  } catch (e) {
    if (!(e instanceof HaulError)) throw e;
  }
  const location = client?.displayLocation ?? '(not shown: the destination is not configured here)';
  const schemas = p.schemaNames.map((n) => p.getSchema(n)).filter((s): s is Schema => s !== undefined);
  return {
    pipelineName: p.pipelineName,
    workingDir: p.workingDir,
    destination: {
      name: p.destination.destinationName,
      location,
      exists: client === undefined ? undefined : client.localFile === undefined || existsSync(client.localFile),
    },
    datasetName: p.datasetName,
    defaultSchemaName: state.default_schema_name,
    state: {
      version: state._state_version,
      versionHash: state._version_hash,
      firstRun: state._local.first_run,
      sources: Object.fromEntries(
        Object.entries(state.sources).map(([name, src]) => {
          const { resources, ...rest } = src;
          return [
            name,
            {
              keys: Object.keys(rest),
              values: verbose ? rest : undefined,
              resources: Object.fromEntries(
                Object.entries(resources ?? {}).map(([r, rs]) => {
                  const { incremental: _i, ...own } = rs;
                  void _i;
                  return [r, { incremental: incrementalOf(rs), keys: Object.keys(own), values: verbose ? own : undefined }];
                }),
              ),
            },
          ];
        }),
      ),
    },
    schemas: schemas.map((s) => ({
      name: s.name,
      version: s.version,
      versionHash: s.versionHash,
      tables: orderTables(s).map((t) => tableView(s, t, verbose)),
    })),
    packages: {
      pending: [...p.listNormalizedLoadPackages(), ...p.listExtractedLoadPackages()].sort((a, b) => Number(a) - Number(b)).map((id) => packageView(p, id)),
      completed: p.listCompletedLoadPackages(),
    },
    // tables a refresh of a workflow run put aside; after a run that stopped for good, what became of its package says what to do
    refreshBackups: p.listSnapshots().flatMap(({ snapshotId, backups }) =>
      backups.map((b) => ({ snapshotId, table: b.table, backup: b.backup, loadId: b.loadId, package: b.loadId === undefined ? undefined : (p.findLoadPackage(b.loadId)?.stage ?? 'discarded') })),
    ),
  };
}

/** Root tables, each followed by its child tables; system tables last. */
function orderTables(s: Schema): TableSchema[] {
  const roots = Object.values(s.tables).filter((t) => !t.parent);
  const sys = roots.filter((t) => t.name.startsWith('_dlt_'));
  const data = roots.filter((t) => !t.name.startsWith('_dlt_'));
  return [...data, ...sys].flatMap((r) => s.tableChain(r.name));
}

function printInfo(v: ReturnType<typeof info>, verbose: boolean): void {
  out(`Pipeline ${v.pipelineName}`);
  out(`  working dir: ${v.workingDir}`);
  out(`  destination: ${v.destination.name} at ${v.destination.location}${v.destination.exists === false ? ' (file does not exist here)' : ''}`);
  out(`  dataset: ${v.datasetName}`);
  out(`  state: version ${v.state.version}${v.state.firstRun ? ' (never loaded)' : ''}`);
  const sources = Object.entries(v.state.sources);
  if (sources.length === 0) out('  sources: none');
  for (const [name, src] of sources) {
    out(`  source ${name}${src.keys.length ? ` (state keys: ${src.keys.join(', ')})` : ''}`);
    if (verbose && src.values && Object.keys(src.values).length) out(`    state: ${JSON.stringify(src.values)}`);
    for (const [r, rs] of Object.entries(src.resources)) {
      const parts = rs.incremental.map((i) => `incremental ${i.cursor}: last value ${JSON.stringify(i.lastValue)}`);
      if (rs.keys.length) parts.push(`state keys: ${rs.keys.join(', ')}`);
      out(`    resource ${r}${parts.length ? `: ${parts.join('; ')}` : ''}`);
      if (verbose && rs.values && Object.keys(rs.values).length) out(`      state: ${JSON.stringify(rs.values)}`);
    }
  }
  for (const s of v.schemas) {
    out(`Schema ${s.name}${s.name === v.defaultSchemaName ? ' (default)' : ''}: version ${s.version}, hash ${s.versionHash}, ${s.tables.length} table(s)`);
    for (const t of s.tables) {
      const what = t.parent ? `child of ${t.parent}` : `${t.writeDisposition}${t.resource ? `, resource ${t.resource}` : ''}`;
      const cols = Array.isArray(t.columns) ? t.columns : undefined;
      out(`  ${t.parent ? '  ' : ''}${t.name} (${what})${cols ? '' : `: ${t.columns} column(s)`}`);
      if (cols) for (const line of table(cols.map((c) => [c.name, c.dataType, c.nullable ? 'nullable' : 'not null', c.hints.join(' ')]), t.parent ? '      ' : '    ')) out(line);
    }
  }
  if (v.schemas.length === 0) out('Schemas: none yet');
  if (v.packages.pending.length === 0) out('Pending packages: none');
  else {
    const blocked = v.packages.pending.some((pk) => pk.failedJobs > 0);
    out(`Pending packages: ${v.packages.pending.length} (${blocked ? 'the next run loads them first: those with failed jobs fail again until the cause is fixed' : 'they load on the next run'})`);
    for (const pk of v.packages.pending) {
      const jobs = Object.entries(pk.jobs).map(([s, n]) => `${n} ${s.replace('_jobs', '')}`).join(', ');
      out(`  ${pk.loadId} ${pk.stage}, schema ${pk.schemaName}, created ${pk.createdAt}${jobs ? `, jobs: ${jobs}` : ''}`);
      if (pk.partiallyLoaded) out(`  WARNING: package ${pk.loadId} is partially loaded: some jobs reached the destination, the package is not complete. Run the pipeline again to finish it, or see "haul pipeline ${v.pipelineName} failed-jobs"`);
      if (pk.failedJobs > 0) out(`  WARNING: ${failedAdvice(v.pipelineName, pk.loadId, pk.failedJobs)}`);
    }
  }
  const done = v.packages.completed;
  out(`Completed packages: ${done.length}${done.length ? ` (last ${done[done.length - 1]}, ${loadIdTime(done[done.length - 1]!)})` : ''}`);
  if (v.refreshBackups.length) {
    out(`Refresh backups: ${v.refreshBackups.length} table(s) a refresh put aside (a workflow run's; a run that stopped for good leaves them)`);
    for (const b of v.refreshBackups) {
      const fate =
        b.package === 'loaded' ? "its refresh loaded: the run's cleanup or the next workflow run drops the backup"
        : b.package === 'discarded' ? `its package ${b.loadId} was discarded: rename ${b.backup} back to ${b.table} to undo the refresh, or drop it`
        : b.package ? `its package ${b.loadId} is pending: once it loads, the backup is dropped`
        : 'from an older haul: drop it once the refresh is done';
      out(`  ${b.table} -> ${b.backup} (snapshot ${b.snapshotId}): ${fate}`);
    }
  }
}

// ---- load-package / failed-jobs ------------------------------------------------------------------

function validLoadId(loadId: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(loadId) && loadId !== '.' && loadId !== '..';
}

function allLoadIds(p: Pipeline): string[] {
  return [...p.listCompletedLoadPackages(), ...p.listNormalizedLoadPackages(), ...p.listExtractedLoadPackages()].sort((a, b) => Number(a) - Number(b));
}

function loadPackageView(p: Pipeline, loadId: string | undefined) {
  const ids = allLoadIds(p);
  const id = loadId ?? ids[ids.length - 1];
  if (!id) throw new CliError(`pipeline "${p.pipelineName}" has no load packages yet: run it first`);
  if (!validLoadId(id) || !ids.includes(id)) {
    const recent = ids.slice(-5).join(', ');
    throw new CliError(`pipeline "${p.pipelineName}" has no load package ${JSON.stringify(id)}${recent ? ` (most recent: ${recent})` : ''}; see "haul pipeline ${p.pipelineName} info" for its packages`);
  }
  const pkg: LoadPackageInfo = p.getLoadPackageInfo(id);
  const view = packageView(p, id);
  return {
    loadId: id,
    stage: pkg.stage,
    state: pkg.stage === 'loaded' ? 'loaded' : pkg.stage === 'normalized' ? (view.partiallyLoaded ? 'partially loaded' : view.failedJobs > 0 ? 'failed jobs' : 'normalized') : 'extracted',
    schemaName: pkg.schemaName,
    createdAt: pkg.createdAt,
    partiallyLoaded: view.partiallyLoaded,
    failedJobs: view.failedJobs,
    pipelineName: p.pipelineName,
    rowCounts: pkg.rowCounts ?? {},
    jobs: pkg.jobs.map((j) => {
      let format = '';
      try {
        format = parseJobName(j.job).format;
      } catch {
        format = '?';
      }
      return { job: j.job, table: j.table, state: j.state.replace('_jobs', ''), format, sizeBytes: j.sizeBytes, modifiedAt: j.modifiedAt.toISOString(), error: j.failedMessage };
    }),
  };
}

function printLoadPackage(v: ReturnType<typeof loadPackageView>, verbose: boolean): void {
  out(`Load package ${v.loadId} of schema ${v.schemaName}: ${v.state.toUpperCase()}`);
  out(`  created ${v.createdAt}${loadIdTime(v.loadId) ? ` (load id time ${loadIdTime(v.loadId)})` : ''}`);
  if (v.partiallyLoaded) out('  WARNING: partially loaded: some jobs are at the destination, the package is not complete; run the pipeline again to finish it');
  if (v.failedJobs > 0) out(`  WARNING: ${failedAdvice(v.pipelineName, v.loadId, v.failedJobs)}`);
  const rows = Object.entries(v.rowCounts).filter(([t]) => verbose || !t.startsWith('_dlt_'));
  if (rows.length) out(`  rows: ${rows.map(([t, n]) => `${t} ${n}`).join(', ')}`);
  out(`  ${v.jobs.length} job(s):`);
  for (const line of table([['TABLE', 'STATE', 'FORMAT', 'SIZE', 'TIME', 'JOB'], ...v.jobs.map((j) => [j.table, j.state, j.format, fmtBytes(j.sizeBytes), j.modifiedAt, j.job])], '    ')) out(line);
  for (const j of v.jobs) if (j.error) out(`  failed ${j.job}: ${j.error.split('\n')[0]}`);
}

function failedJobs(p: Pipeline) {
  return allLoadIds(p).flatMap((id) => p.listFailedJobs(id));
}

// ---- registration -----------------------------------------------------------------------------

/** Adds `pipeline` (with its operations) to the haul program. */
export function registerPipelineCommands(program: Command): void {
  const pipelineCmd = common(
    program
      .command('pipeline')
      .usage('<name> <operation> [options] | --list')
      .description('inspect and repair pipeline working dirs: haul pipeline <name> <operation> (like dlt pipeline)')
      // Its own options (--list, --pipelines-dir, --json) only before an operation; after one they are the operation's.
      .enablePositionalOptions(),
  )
    .option('-l, --list', 'list the pipelines in the pipelines dir')
    // the operations are typed after the pipeline's name (haul pipeline shop info): list them so
    .configureHelp({ subcommandTerm: (c) => ['<name>', c.name(), c.usage().replace(/^\[options\] <name>/, '').trim(), '[options]'].filter(Boolean).join(' ') })
    .action((o: CommonOpts & { list?: boolean }, cmd: Command) => {
      if (!o.list) {
        cmd.outputHelp({ error: true });
        throw new CliError('name a pipeline and an operation, e.g. "haul pipeline my_pipeline info", or pass --list', 2);
      }
      const dir = pipelinesDirOf(o.pipelinesDir);
      const names = listPipelineNames(dir);
      const rows = names.map((name) => {
        const st = readStateFile(dir, name);
        return st.ok
          ? { name, destination: st.state.destination_name, datasetName: st.state.dataset_name, stateVersion: st.state._state_version }
          : { name, error: st.why };
      });
      if (o.json) return printJson({ pipelinesDir: dir, pipelines: rows });
      out(`${names.length} pipeline(s) in ${dir}${names.length ? ':' : ''}`);
      for (const r of rows) out('error' in r ? `  ${r.name} (unreadable: ${r.error})` : `  ${r.name} (${r.destination ?? '?'}, dataset ${r.datasetName})`);
    });

  const sub = (name: (typeof PIPELINE_OPERATIONS)[number], description: string) => {
    const cmd = common(pipelineCmd.command(name).description(description).argument('<name>', 'pipeline name'));
    cmd.configureHelp({ commandUsage: (c) => `haul pipeline <name> ${c.name()} ${c.usage().replace(/^\[options\] <name> ?/, '')}[options]` });
    return cmd;
  };

  sub('info', 'destination, dataset, state (sources, resources, incremental cursors), schemas and tables, pending and completed packages')
    .option('-v, --verbose', 'also columns and state values')
    .action((name: string, o: CommonOpts & { verbose?: boolean }) => {
      const p = openPipeline(name, o.pipelinesDir);
      const v = info(p, o.verbose === true);
      if (o.json) printJson(v);
      else printInfo(v, o.verbose === true);
    });

  sub('trace', "the last run's steps: timings, load ids, row counts and errors").action((name: string, o: CommonOpts) => {
    const p = openPipeline(name, o.pipelinesDir);
    const t = p.lastTrace;
    if (o.json) return printJson(t ?? null);
    if (!t) {
      warn(`pipeline "${name}" has no trace yet: it records one on every run`);
      return;
    }
    const total = t.finishedAt ? Date.parse(t.finishedAt) - Date.parse(t.startedAt) : undefined;
    const failed = t.steps.find((s) => s.error);
    out(`Run of pipeline ${t.pipelineName} started ${t.startedAt}${total !== undefined ? `, took ${fmtSecs(total)}` : ' (not finished)'}: ${failed ? `FAILED in ${failed.step}` : 'OK'}`);
    for (const s of t.steps) {
      const dur = s.finishedAt ? fmtSecs(Date.parse(s.finishedAt) - Date.parse(s.startedAt)) : '(running)';
      const rows = Object.entries(s.rowCounts ?? {}).filter(([k]) => !k.startsWith('_dlt_'));
      out(`  ${s.step.padEnd(9)} ${dur.padStart(9)}${s.loadIds.length ? `  load ${s.loadIds.join(', ')}` : ''}${rows.length ? `  ${s.step === 'extract' ? 'items' : 'rows'}: ${rows.map(([k, n]) => `${k} ${n}`).join(', ')}` : ''}`);
      if (s.error) out(`    error: ${s.error.split('\n').join(' ')}`);
    }
  });

  sub('load-package', "a package's state and each job (table, state, format, size, time); default: the most recent")
    .argument('[loadId]', 'load id (see info)')
    .option('-v, --verbose', 'also system tables')
    .action((name: string, loadId: string | undefined, o: CommonOpts & { verbose?: boolean }) => {
      const p = openPipeline(name, o.pipelinesDir);
      const v = loadPackageView(p, loadId);
      if (o.json) printJson(v);
      else printLoadPackage(v, o.verbose === true);
    });

  sub('failed-jobs', 'every failed job of the pending packages, with its error').action((name: string, o: CommonOpts) => {
    const p = openPipeline(name, o.pipelinesDir);
    const jobs = failedJobs(p);
    if (o.json) return printJson(jobs);
    if (jobs.length === 0) return out(`pipeline "${name}" has no failed jobs`);
    out(`${jobs.length} failed job(s):`);
    for (const j of jobs) {
      out(`  ${j.loadId} ${j.job} (table ${j.table})`);
      out(`    ${j.message.split('\n').join('\n    ')}`);
    }
    out(`Fix the cause and run the pipeline again, or discard the package with "haul pipeline ${name} drop-pending-packages"`);
  });

  sub('schema', 'the schema as YAML or JSON (default: the default schema)')
    .addOption(new Option('--format <format>', 'yaml or json').choices(['yaml', 'json']).default('yaml'))
    .option('--schema <schema>', 'schema name (see info)')
    .action(async (name: string, o: CommonOpts & { format: 'yaml' | 'json'; schema?: string }) => {
      const p = openPipeline(name, o.pipelinesDir);
      const schemaName = o.schema ?? p.state.default_schema_name ?? p.schemaNames[0];
      const s = schemaName ? p.getSchema(schemaName) : undefined;
      if (!s) {
        throw new CliError(o.schema ? `pipeline "${name}" has no schema "${o.schema}" (schemas: ${p.schemaNames.join(', ') || 'none'})` : `pipeline "${name}" has no schema yet: run it first`);
      }
      if (o.json || o.format === 'json') printJson(s.toStored());
      else process.stdout.write(await schemaToYaml(s));
    });

  sub('sync', 'drop the local state, schemas and pending packages and restore them from the destination')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--destination <name>', 'destination, when state.json cannot tell (e.g. duckdb)')
    .option('--destination-options <json>', 'destination options, when state.json cannot tell (e.g. {"path":"x.duckdb"})', json)
    .option('--dataset-name <name>', 'dataset, when state.json cannot tell')
    .action(async (name: string, o: CommonOpts & { yes?: boolean; destination?: string; destinationOptions?: Record<string, unknown>; datasetName?: string }) => {
      const dir = pipelinesDirOf(o.pipelinesDir);
      const wdExists = existsSync(workingDirOf(dir, name));
      const st = existsSync(statePathOf(dir, name)) ? readStateFile(dir, name) : undefined;
      const state: PipelineState | undefined = st?.ok ? st.state : undefined;
      if (!wdExists && !o.destination) throw notFound(name, dir);
      if (st && !st.ok && !(o.destination && o.datasetName)) {
        throw new CliError(`${st.why}; pass --destination, --destination-options and --dataset-name so sync knows where to restore it from`);
      }
      const datasetName = o.datasetName ?? state?.dataset_name;
      if (!datasetName) throw new CliError(`pipeline "${name}": its dataset is unknown; pass --dataset-name`);
      const destination = destinationOf(name, o, state);
      const target = { destination, pipelineName: name, datasetName };
      const location = checkDestinationReachable(target);
      // Look before wiping: a destination with no state of this pipeline restores nothing.
      const client = destination.createClient({ pipelineName: name, datasetName });
      await client.open();
      let remote;
      try {
        remote = (await client.isStorageInitialized()) ? await client.getStoredState(name) : undefined;
      } finally {
        await client.close();
      }
      if (!remote) throw new CliError(`${destination.destinationName} at ${location}, dataset ${datasetName}, has no state of pipeline "${name}": nothing to restore; the working dir was left as it is`);
      const pending = st?.ok ? new PackageStorage(workingDirOf(dir, name)).pendingPackages().map((pk) => pk.loadId) : [];
      await confirm(
        `About to drop the local state, schemas${pending.length ? ` and ${pending.length} PENDING package(s) (${pending.join(', ')})` : ''} of pipeline "${name}" and restore state version ${remote.version} from ${destination.destinationName} at ${location}, dataset ${datasetName}. The destination is not changed. Proceed?`,
        { yes: o.yes, what: `sync pipeline "${name}"` },
      );
      rmSync(workingDirOf(dir, name), { recursive: true, force: true });
      const p = createPipeline({ pipelineName: name, pipelinesDir: dir, destination, datasetName });
      await p.syncDestination();
      const restored = { pipelineName: name, stateVersion: p.state._state_version, schemas: p.schemaNames, droppedPackages: pending, destination: destination.destinationName, location, datasetName };
      if (o.json) return printJson(restored);
      out(`Restored pipeline "${name}" from ${destination.destinationName} at ${location}, dataset ${datasetName}: state version ${restored.stateVersion}, schemas: ${restored.schemas.join(', ') || 'none'}`);
      if (pending.length) out(`Dropped pending packages: ${pending.join(', ')}`);
    });

  sub('drop', 'drop resources: their tables at the destination and in the schema, and their state (like dlt pipeline drop)')
    .argument('[resources...]', "resource names, or re:<regex>")
    .option('--drop-all', "every resource of the schema: tables and state (the source's own state keys stay, as dlt's)")
    .option('--state-paths <paths...>', 'source state paths to reset, e.g. resources.users.incremental or last_page')
    .option('--state-only', "reset the resources' state only; keep their tables")
    .option('--schema <schema>', 'schema (source) to drop from (default: the default schema)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (name: string, resources: string[], o: CommonOpts & { dropAll?: boolean; statePaths?: string[]; stateOnly?: boolean; schema?: string; yes?: boolean }) => {
      const p = openPipeline(name, o.pipelinesDir);
      const opts = { dropAll: o.dropAll, statePaths: o.statePaths, stateOnly: o.stateOnly, schemaName: o.schema };
      // Pending packages refuse here, before anything is asked.
      const plan = await p.dropResources(resources, { ...opts, dryRun: true });
      if (plan.tables.length === 0 && plan.statePaths.length === 0) {
        if (o.json) return printJson({ ...plan, dropped: false });
        return out(`Nothing to drop in schema ${plan.schemaName} of pipeline "${name}" (resources matched: ${plan.resources.join(', ') || 'none'})`);
      }
      const location = checkDestinationReachable(p);
      const lines = [
        `About to drop from pipeline "${name}" (schema ${plan.schemaName}; ${p.destination.destinationName} at ${location}, dataset ${p.datasetName}):`,
        `  resources: ${plan.resources.join(', ') || '(none)'}`,
        `  tables (dropped at the destination, with their data): ${plan.tables.join(', ') || '(none)'}`,
        `  state: ${plan.statePaths.join(', ') || '(none)'}`,
      ];
      if (!o.json || !o.yes) for (const l of lines) (o.json ? warn : out)(l);
      await confirm('Proceed?', { yes: o.yes, what: `drop from pipeline "${name}"` });
      const done = await p.dropResources(resources, opts);
      if (o.json) return printJson({ ...done, loadInfo: done.loadInfo?.toJSON(), dropped: true });
      out(`Dropped ${done.tables.length} table(s) and ${done.statePaths.length} state path(s); load package ${done.loadId} carried the new schema and state to the destination`);
    });

  sub('drop-pending-packages', 'delete the extracted and normalized packages that have not loaded (state stays as committed)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (name: string, o: CommonOpts & { yes?: boolean }) => {
      const p = openPipeline(name, o.pipelinesDir);
      const pending = [...p.listNormalizedLoadPackages(), ...p.listExtractedLoadPackages()].map((id) => packageView(p, id));
      if (pending.length === 0) {
        if (o.json) return printJson({ dropped: [] });
        return out(`pipeline "${name}" has no pending packages`);
      }
      const partial = pending.filter((pk) => pk.partiallyLoaded);
      await confirm(
        `About to delete ${pending.length} pending package(s) of pipeline "${name}": ${pending.map((pk) => `${pk.loadId} (${pk.stage})`).join(', ')}.` +
          (partial.length ? ` WARNING: ${partial.map((pk) => pk.loadId).join(', ')} partially loaded: rows already at the destination stay there.` : '') +
          ' Proceed?',
        { yes: o.yes, what: `drop pending packages of pipeline "${name}"` },
      );
      p.dropPendingPackages();
      if (o.json) return printJson({ dropped: pending.map((pk) => pk.loadId) });
      out(`Dropped ${pending.length} pending package(s): ${pending.map((pk) => pk.loadId).join(', ')}`);
    });
}
