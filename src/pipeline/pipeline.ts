import { existsSync, readdirSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { DEFAULT_DESTINATION, resolveDestination } from '../destinations/index.js';
import type { DestinationClient, DestinationFactory } from '../destinations/types.js';
import { HaulError, PipelineNotFoundError, PipelineStepFailed, type PipelineStep } from '../errors.js';
import { extractSourceToDir } from '../extract/extract.js';
import { toSource, type Extractable } from '../extract/to-source.js';
import { loadPackage, type FailedJob } from '../load/load-package.js';
import { normalizeFiles } from '../normalize/index.js';
import { readSchemaFile, writeSchemaFile } from '../schema/io.js';
import { Schema } from '../schema/schema.js';
import type { PackageState } from '../storage/package-state.js';
import { newLoadId, parseJobName, writeJsonFileAtomic, JOB_STATES, type JobState } from '../storage/package-storage.js';
import { faultPoint } from '../common/faults.js';
import { FailedJobsError, LoadInfo, type LoadPackageSummary } from './load-info.js';
import { defaultPipelineName, defaultPipelinesDir, devModeSuffix, parsePipelineOptions, parseRunOptions, type PipelineOptions, type RunOptions } from './options.js';
import { planRefresh } from './refresh.js';
import { bumpStateVersion, type PipelineState } from '../state/state.js';
import { readTrace, writeTrace, type PipelineTrace, type StepTrace } from './trace.js';
import { WorkingDir } from '../storage/working-dir.js';
import { writeStateRowJob } from '../extract/state-row.js';
import { mergeSchemaSnapshot } from './schema-merge.js';
import { planDropResources, type DropResourcesInfo, type DropResourcesOptions } from './drop.js';
import { redact } from '../config/redact.js';
import { createMonitor, type ProgressMonitor, type StepProgressLike } from '../progress/monitor.js';

export interface ExtractInfo {
  loadId: string;
  sourceName: string;
  /** Items extracted per root table. */
  itemCounts: Record<string, number>;
}

export interface NormalizeInfo {
  loadIds: string[];
  rowCounts: Record<string, number>;
}

export interface LoadPackageInfo {
  loadId: string;
  stage: 'extracted' | 'normalized' | 'loaded';
  schemaName: string;
  createdAt: string;
  jobs: Array<{ job: string; table: string; state: JobState; sizeBytes: number; modifiedAt: Date; failedMessage?: string }>;
  rowCounts?: Record<string, number>;
}

/**
 * Per-call options for durable runners (e.g. Temporal activities): cancellation, progress
 * and a caller-chosen load id. In-process callers need none of these.
 */
export interface StepOptions {
  /** Stops the step between batches/jobs; the step throws `signal.reason`. Packages stay consistent. */
  signal?: AbortSignal;
  /** Called now and then with what the step is doing (counts only). */
  onProgress?: (p: StepProgress) => void;
  /**
   * extract only: the load id of the new package. When a package with this id exists
   * already (an earlier attempt committed it and then died), extract returns that
   * package's info instead of extracting again, so a retried extract never duplicates data.
   */
  loadId?: string;
}

/** Progress a step reports to `onProgress` (the progress room's event, without its envelope). */
export type StepProgress = StepProgressLike;

/** A query handle on the pipeline's dataset. */
export interface SqlClient {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * A pipeline moves data from TypeScript into a destination dataset through load packages
 * in its working dir. `run()` = sync destination, finish pending packages, extract,
 * normalize, load. Each step can also be called alone.
 */
export class Pipeline {
  readonly pipelineName: string;
  readonly pipelinesDir: string;
  readonly workingDir: string;
  readonly datasetName: string;
  readonly destination: DestinationFactory;
  readonly devMode: boolean;
  private readonly opts: PipelineOptions;
  private readonly wd: WorkingDir;
  private queue: Promise<unknown> = Promise.resolve();
  private trace?: PipelineTrace;
  private readonly progress?: ProgressMonitor;

  constructor(options: PipelineOptions & { attached?: PipelineState }) {
    const { attached, ...rest } = options;
    this.opts = parsePipelineOptions(rest);
    this.pipelineName = this.opts.pipelineName ?? defaultPipelineName();
    this.pipelinesDir = resolve(this.opts.pipelinesDir ?? defaultPipelinesDir());
    this.workingDir = join(this.pipelinesDir, this.pipelineName);
    this.devMode = this.opts.devMode ?? false;
    this.wd = new WorkingDir(this.workingDir);
    if (this.devMode) this.wd.wipe();
    const committed = attached ?? (this.wd.exists() ? this.wd.readState(this.pipelineName, '') : undefined);
    const baseDataset = this.opts.datasetName ?? `${this.pipelineName}_dataset`;
    // An existing pipeline keeps its dataset unless the caller names another one.
    this.datasetName = this.devMode ? baseDataset + devModeSuffix() : this.opts.datasetName ?? committed?.dataset_name ?? baseDataset;
    this.destination = resolveDestination(this.opts.destination ?? restoreDestination(committed) ?? DEFAULT_DESTINATION);
    this.wd.create();
    const st = this.wd.readState(this.pipelineName, this.datasetName);
    st.dataset_name = this.datasetName;
    st.destination_name = this.destination.destinationName;
    st._local.destination_options = this.destination.options ?? {};
    this.wd.writeState(st);
    this.progress = createMonitor(this.opts.progress, this.pipelineName, this.workingDir);
  }

  // ---- public steps --------------------------------------------------------------------

  /** Syncs, finishes pending packages, then extracts, normalizes and loads `data`. */
  async run(data?: Extractable, options: RunOptions = {}): Promise<LoadInfo> {
    const runOpts = parseRunOptions(options);
    return this.exclusive(async () => {
      this.beginTrace();
      try {
        if (this.wd.pendingPackages().length === 0) await this.step('sync', () => this.doSync());
        // Finish what an earlier run left behind first, like dlt.
        const earlier = this.wd.pendingPackages().length > 0 ? await this.normalizeAndLoad() : undefined;
        if (earlier) this.raiseOnFailedJobs(earlier);
        if (data === undefined) return earlier ?? this.emptyLoadInfo();
        await this.step('extract', () => this.doExtract(data, runOpts));
        const info = await this.normalizeAndLoad();
        this.raiseOnFailedJobs(info);
        if (earlier) info.loadPackages.unshift(...earlier.loadPackages);
        await this.exportSchemas();
        return info;
      } finally {
        this.endTrace();
      }
    });
  }

  async extract(data: Extractable, options: RunOptions = {}, stepOptions: StepOptions = {}): Promise<ExtractInfo> {
    const runOpts = parseRunOptions(options);
    return this.exclusive(() => this.traced(() => this.step('extract', () => this.doExtract(data, runOpts, stepOptions))));
  }

  async normalize(stepOptions: StepOptions = {}): Promise<NormalizeInfo> {
    return this.exclusive(() => this.traced(() => this.step('normalize', () => this.doNormalize(stepOptions))));
  }

  async load(stepOptions: StepOptions = {}): Promise<LoadInfo> {
    return this.exclusive(() =>
      this.traced(async () => {
        const info = await this.step('load', () => this.doLoad(stepOptions));
        await this.exportSchemas();
        return info;
      }),
    );
  }

  /**
   * Restores state and schemas from the destination when the destination's state is newer
   * (e.g. the working dir was deleted). Does nothing while packages are pending.
   */
  async syncDestination(): Promise<void> {
    return this.exclusive(() => this.step('sync', () => this.doSync()));
  }

  // ---- inspection ----------------------------------------------------------------------

  get state(): PipelineState {
    return this.wd.readState(this.pipelineName, this.datasetName);
  }

  get schemaNames(): string[] {
    return this.wd.schemaNames();
  }

  /** The default schema (the first source's), as committed by the last load. */
  get defaultSchema(): Schema | undefined {
    const name = this.state.default_schema_name ?? this.schemaNames[0];
    return name ? this.wd.readSchema(name) : undefined;
  }

  getSchema(name: string): Schema | undefined {
    return this.wd.readSchema(name);
  }

  get hasPendingData(): boolean {
    return this.wd.pendingPackages().length > 0;
  }

  get lastTrace(): PipelineTrace | undefined {
    return this.trace ?? readTrace(this.wd.tracePath);
  }

  listExtractedLoadPackages(): string[] {
    return this.wd.storage.list('extracted');
  }

  listNormalizedLoadPackages(): string[] {
    return this.wd.storage.list('normalized');
  }

  listCompletedLoadPackages(): string[] {
    return this.wd.storage.list('loaded');
  }

  getLoadPackageInfo(loadId: string): LoadPackageInfo {
    const s = this.wd.storage;
    const stage = (['normalized', 'extracted', 'loaded'] as const).find((st) => existsSync(s.packageDir(st, loadId)));
    if (!stage) throw new HaulError('UnknownLoadId', `pipeline "${this.pipelineName}" has no load package ${loadId}; list them with listCompletedLoadPackages()`);
    const ps = this.wd.packageState(stage, loadId);
    const jobs: LoadPackageInfo['jobs'] = [];
    for (const state of JOB_STATES) {
      for (const job of s.jobs(loadId, state, stage)) {
        const st = statSync(s.jobPath(loadId, state, job, stage));
        jobs.push({ job, table: parseJobName(job).table, state, sizeBytes: st.size, modifiedAt: st.mtime, failedMessage: state === 'failed_jobs' ? s.readJobException(loadId, job, stage) : undefined });
      }
    }
    return { loadId, stage, schemaName: ps.schemaName, createdAt: ps.createdAt, jobs, rowCounts: ps.rowCounts };
  }

  listFailedJobs(loadId: string): FailedJob[] {
    return this.getLoadPackageInfo(loadId)
      .jobs.filter((j) => j.state === 'failed_jobs')
      .map((j) => ({ loadId, job: j.job, table: j.table, message: j.failedMessage ?? '' }));
  }

  /** Deletes every extracted and normalized package that has not loaded. State stays as committed. */
  dropPendingPackages(): void {
    for (const p of this.wd.pendingPackages()) this.wd.storage.deletePackage(p.stage, p.loadId);
  }

  /** Deletes the local working dir (state, schemas, packages). The destination is not touched. */
  drop(): void {
    this.wd.wipe();
  }

  /**
   * Drops resources like `dlt pipeline <name> drop`: their tables (with child tables) at the
   * destination and in the schema, and their state (plus `statePaths`; everything with
   * `dropAll`), applied through a load package so the destination's schema and state
   * change with it. Syncs from the destination first; refuses while packages are pending.
   * `dryRun` only tells what would be dropped.
   */
  async dropResources(resources: string[] = [], options: DropResourcesOptions = {}): Promise<DropResourcesInfo> {
    const ctx = { wd: this.wd, pipelineName: this.pipelineName, datasetName: this.datasetName };
    if (options.dryRun) return this.exclusive(async () => planDropResources(ctx, resources, options));
    return this.exclusive(() =>
      this.traced(async () => {
        if (this.wd.pendingPackages().length === 0) await this.step('sync', () => this.doSync());
        const plan = await this.step('drop', async () => planDropResources(ctx, resources, options));
        if (!plan.loadId) return plan;
        await this.step('normalize', () => this.doNormalize());
        const loadInfo = await this.step('load', () => this.doLoad());
        this.raiseOnFailedJobs(loadInfo);
        return { ...plan, loadInfo };
      }),
    );
  }

  /** A client that queries the dataset (open until `close()`). */
  sqlClient(): SqlClient {
    const client = this.newClient();
    let opened: Promise<void> | undefined;
    return {
      query: async <T,>(sql: string, params?: unknown[]) => {
        opened ??= client.open();
        await opened;
        return client.query<T>(sql, params);
      },
      close: async () => {
        if (opened) await client.close();
      },
    };
  }

  // ---- steps ---------------------------------------------------------------------------

  private async doExtract(data: Extractable, runOpts: RunOptions, stepOptions: StepOptions = {}): Promise<ExtractInfo> {
    const wd = this.wd;
    wd.storage.recover();
    if (stepOptions.loadId) {
      const done = (['extracted', 'normalized', 'loaded'] as const).find((st) => existsSync(wd.storage.packageDir(st, stepOptions.loadId!)));
      if (done) {
        const pkg = wd.packageState(done, stepOptions.loadId);
        return { loadId: pkg.loadId, sourceName: pkg.sourceName, itemCounts: pkg.itemCounts };
      }
    }
    const { schema: schemaName, refresh: runRefresh, loaderFileFormat: _f, ...hints } = runOpts;
    void _f;
    const source = toSource(data, { ...hints, sourceName: schemaName ?? this.pipelineName });
    const state = structuredClone(wd.effectiveState(this.pipelineName, this.datasetName));
    const schema = wd.effectiveSchema(source.schemaName)?.clone() ?? (await this.initialSchema(source.schemaName));
    const refreshMode = runRefresh ?? this.opts.refresh;
    const refresh = refreshMode ? planRefresh(refreshMode, source, schema, state) : undefined;

    const loadId = stepOptions.loadId ?? newLoadId();
    const tmp = wd.storage.beginPackage('extracted', loadId);
    try {
      const { signal } = stepOptions;
    const onProgress = this.progressSink(stepOptions.onProgress);
      const extracted = await extractSourceToDir({
        dir: tmp,
        source,
        schema,
        state,
        signal,
        onProgress: onProgress && ((p) => onProgress({ step: 'extract', loadId, resource: p.resource, table: p.table, count: p.items })),
      });
      state.default_schema_name ??= source.schemaName;
      if (!state.schema_names.includes(source.schemaName)) state.schema_names.push(source.schemaName);
      state.dataset_name = this.datasetName;
      state.destination_name = this.destination.destinationName;
      const changed = bumpStateVersion(state);
      if (changed) writeStateRowJob(tmp, schema, state, this.pipelineName);
      schema.bumpVersion();
      const itemCounts: Record<string, number> = {};
      for (const r of extracted) itemCounts[r.table] = (itemCounts[r.table] ?? 0) + r.items;
      const pkg: PackageState = {
        loadId,
        createdAt: new Date().toISOString(),
        schemaName: schema.name,
        sourceName: source.name,
        pipelineState: changed || refresh ? state : null,
        chainRoots: [...new Set(extracted.map((r) => r.table))],
        itemCounts,
        refresh,
      };
      writeJsonFileAtomic(join(tmp, 'schema.json'), schema.toStored());
      writeJsonFileAtomic(join(tmp, 'package_state.json'), pkg);
      faultPoint('extract:before-commit');
      wd.storage.commitPackage('extracted', loadId);
      return { loadId, sourceName: source.name, itemCounts };
    } catch (e) {
      wd.storage.abortPackage('extracted', loadId);
      throw e;
    }
  }

  private async doNormalize(stepOptions: StepOptions = {}): Promise<NormalizeInfo> {
    const { signal } = stepOptions;
    const onProgress = this.progressSink(stepOptions.onProgress);
    const wd = this.wd;
    wd.storage.recover();
    const info: NormalizeInfo = { loadIds: [], rowCounts: {} };
    for (const loadId of wd.storage.list('extracted')) {
      const exDir = wd.storage.packageDir('extracted', loadId);
      const pkg = wd.packageState('extracted', loadId);
      const snapshot = wd.packageSchema('extracted', loadId);
      // Build on what earlier packages already decided (types, variants), then add this one's hints.
      const base = wd.effectiveSchema(snapshot.name, { skipExtracted: true });
      const schema = base ? mergeSchemaSnapshot(base.clone(), snapshot, pkg.refresh) : snapshot;
      const tmp = wd.storage.beginPackage('normalized', loadId);
      try {
        const inputs = wd.storage.jobs(loadId, 'new_jobs', 'extracted').map((job) => ({ table: parseJobName(job).table, path: join(exDir, 'new_jobs', job) }));
        const res = await normalizeFiles({
          schema,
          loadId,
          inputs,
          outDir: join(tmp, 'new_jobs'),
          nextFileId: () => randomBytes(5).toString('hex'),
          signal,
          onProgress: onProgress && ((p) => onProgress({ step: 'normalize', loadId, table: p.table, count: p.rows })),
        });
        faultPoint('normalize:mid');
        schema.bumpVersion();
        pkg.rowCounts = res.rowCounts;
        pkg.normalizedAt = new Date().toISOString();
        writeJsonFileAtomic(join(tmp, 'schema.json'), schema.toStored());
        writeJsonFileAtomic(join(tmp, 'package_state.json'), pkg);
        faultPoint('normalize:before-commit');
        wd.storage.commitPackage('normalized', loadId);
        faultPoint('normalize:after-commit');
      } catch (e) {
        wd.storage.abortPackage('normalized', loadId);
        throw new PipelineStepFailed(this.pipelineName, 'normalize', loadId, e);
      }
      info.loadIds.push(loadId);
      for (const [t, n] of Object.entries(pkg.rowCounts)) info.rowCounts[t] = (info.rowCounts[t] ?? 0) + n;
    }
    return info;
  }

  private async doLoad(stepOptions: StepOptions = {}): Promise<LoadInfo> {
    const { signal } = stepOptions;
    const onProgress = this.progressSink(stepOptions.onProgress);
    const startedAt = new Date();
    const packages: LoadPackageSummary[] = [];
    const loadIds = this.wd.storage.list('normalized');
    if (loadIds.length === 0) return this.emptyLoadInfo();
    const client = this.newClient();
    await client.open();
    try {
      for (const loadId of loadIds) {
        let res;
        try {
          res = await loadPackage(this.wd.storage, loadId, client, onProgress && ((p) => onProgress({ step: 'load', ...p })), signal);
        } catch (e) {
          throw new PipelineStepFailed(this.pipelineName, 'load', loadId, e);
        }
        const loaded = res.failedJobs.length === 0;
        if (loaded) {
          faultPoint('load:after-complete');
          this.commitPackage(res.schema, res.packageState);
        }
        packages.push({
          loadId,
          state: loaded ? 'loaded' : 'pending',
          schemaName: res.schema.name,
          schemaVersionHash: res.schema.versionHash,
          rowCounts: res.packageState.rowCounts ?? {},
          completedJobs: res.completedJobs.length,
          failedJobs: res.failedJobs,
        });
        if (!loaded) break; // later packages wait: their state builds on this one
      }
    } finally {
      await client.close();
    }
    return new LoadInfo(this.pipelineName, this.destination.destinationName, this.newClient().displayLocation, this.datasetName, packages, startedAt, new Date());
  }

  /** After `_dlt_loads` has the package: commit its state and schema locally, then archive it. */
  private commitPackage(schema: Schema, pkg: PackageState): void {
    const local = this.wd.readState(this.pipelineName, this.datasetName);
    if (pkg.pipelineState) {
      const next = { ...pkg.pipelineState, _local: { ...local._local, first_run: false } };
      this.wd.writeState(next);
    } else if (local._local.first_run) {
      local._local.first_run = false;
      this.wd.writeState(local);
    }
    this.wd.writeSchema(schema);
    this.wd.storage.archivePackage(pkg.loadId);
  }

  private async doSync(): Promise<void> {
    const local = this.wd.readState(this.pipelineName, this.datasetName);
    const client = this.newClient();
    await client.open();
    try {
      if (!(await client.isStorageInitialized())) return;
      const row = await client.getStoredState(this.pipelineName);
      if (!row || row.version <= local._state_version) return;
      const remote = JSON.parse(row.state) as Omit<PipelineState, '_local'>;
      const restored: PipelineState = { ...remote, _local: { ...local._local, first_run: false } } as PipelineState;
      for (const name of remote.schema_names ?? []) {
        const stored = await client.getStoredSchema(name);
        if (stored) this.wd.writeSchema(Schema.fromStored(stored));
      }
      this.wd.writeState(restored);
    } finally {
      await client.close();
    }
  }

  private async normalizeAndLoad(): Promise<LoadInfo> {
    if (this.wd.storage.list('extracted').length > 0) await this.step('normalize', () => this.doNormalize());
    return this.step('load', () => this.doLoad());
  }

  // ---- helpers -------------------------------------------------------------------------

  /** run() fails when jobs failed; the package stays pending for the next attempt. */
  private raiseOnFailedJobs(info: LoadInfo): void {
    if (info.hasFailedJobs) throw new PipelineStepFailed(this.pipelineName, 'load', info.failedJobs[0]!.loadId, new FailedJobsError(info.failedJobs));
  }

  private newClient(): DestinationClient {
    return this.destination.createClient({ pipelineName: this.pipelineName, datasetName: this.datasetName });
  }

  private async initialSchema(name: string): Promise<Schema> {
    if (this.opts.importSchemaPath) {
      for (const ext of ['.schema.yaml', '.schema.yml', '.schema.json', '.yaml', '.yml', '.json']) {
        const p = join(this.opts.importSchemaPath, name + ext);
        if (existsSync(p)) {
          const s = await readSchemaFile(p);
          s.name = name;
          s.bumpVersion();
          return s;
        }
      }
    }
    return new Schema(name);
  }

  private async exportSchemas(): Promise<void> {
    if (!this.opts.exportSchemaPath) return;
    const { mkdir } = await import('node:fs/promises');
    await mkdir(this.opts.exportSchemaPath, { recursive: true });
    for (const name of this.schemaNames) {
      const s = this.wd.readSchema(name);
      if (s) await writeSchemaFile(join(this.opts.exportSchemaPath, `${name}.schema.yaml`), s);
    }
  }

  private emptyLoadInfo(): LoadInfo {
    const now = new Date();
    return new LoadInfo(this.pipelineName, this.destination.destinationName, this.newClient().displayLocation, this.datasetName, [], now, now);
  }

  /** Steps of one pipeline never overlap within a process. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async step<T>(name: PipelineStep, fn: () => Promise<T>): Promise<T> {
    const st: StepTrace = { step: name as StepTrace['step'], startedAt: new Date().toISOString(), finishedAt: '', loadIds: [] };
    this.trace?.steps.push(st);
    this.progress?.stepStart(name);
    try {
      const out = await fn();
      const o = (out ?? {}) as { loadIds?: string[]; loadId?: string; rowCounts?: Record<string, number>; itemCounts?: Record<string, number> };
      st.loadIds = o.loadIds ?? (o.loadId ? [o.loadId] : []);
      st.rowCounts = o.rowCounts ?? o.itemCounts;
      return out;
    } catch (e) {
      st.error = redact(e instanceof Error ? e.message : String(e));
      if (e instanceof PipelineStepFailed) throw e;
      throw new PipelineStepFailed(this.pipelineName, name, undefined, e);
    } finally {
      st.finishedAt = new Date().toISOString();
      this.progress?.stepEnd(st);
    }
  }

  /** The step's onProgress: the caller's callback, plus the progress collector if any. */
  private progressSink(next?: (p: StepProgress) => void): ((p: StepProgress) => void) | undefined {
    return this.progress ? this.progress.sink(next) : next;
  }

  private async traced<T>(fn: () => Promise<T>): Promise<T> {
    this.beginTrace();
    try {
      return await fn();
    } finally {
      this.endTrace();
    }
  }

  private beginTrace(): void {
    this.trace = { pipelineName: this.pipelineName, startedAt: new Date().toISOString(), steps: [] };
    this.progress?.runStart();
  }

  private endTrace(): void {
    if (!this.trace) return;
    this.trace.finishedAt = new Date().toISOString();
    if (existsSync(this.workingDir)) writeTrace(this.wd.tracePath, this.trace);
    this.progress?.runEnd(this.trace.steps.find((st) => st.error)?.error);
  }
}

function restoreDestination(state: PipelineState | undefined): DestinationFactory | undefined {
  if (!state?.destination_name) return undefined;
  return resolveDestination(state.destination_name, state._local.destination_options);
}

/** Creates (or opens) a pipeline. */
export function pipeline(options: PipelineOptions = {}): Pipeline {
  return new Pipeline(options);
}

/** Re-opens an existing pipeline's working dir; fails clearly if there is none. */
export function attach(options: { pipelineName: string; pipelinesDir?: string; destination?: PipelineOptions['destination'] }): Pipeline {
  const dir = resolve(options.pipelinesDir ?? defaultPipelinesDir());
  const wd = new WorkingDir(join(dir, options.pipelineName));
  if (!wd.exists()) {
    const known = existsSync(dir) ? readdirSync(dir).filter((n) => existsSync(join(dir, n, 'state.json'))) : [];
    const err = new PipelineNotFoundError(options.pipelineName, dir);
    if (known.length) err.message += ` (pipelines there: ${known.join(', ')})`;
    throw err;
  }
  const state = wd.readState(options.pipelineName, '');
  return new Pipeline({ pipelineName: options.pipelineName, pipelinesDir: dir, datasetName: state.dataset_name, destination: options.destination, attached: state });
}
