import { tablesToCreate } from '../schema/system.js';
import { z } from 'zod';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_DESTINATION, resolveDestination } from '../destinations/index.js';
import type { DestinationClient, DestinationFactory } from '../destinations/types.js';
import { CorruptStateError, HaulError, PipelineStepFailed, type PipelineStep } from '../errors.js';
import { configuredReplaceStrategy } from '../destinations/sql/replace-strategy.js';
import { extractStep, type ExtractInfo } from '../extract/step.js';
import type { Extractable } from '../extract/to-source.js';
import { FailedJobsError, type FailedJob, type LoadInfo } from '../load/load-info.js';
import { emptyLoadInfo, loadStep, newDestinationClient, type LoadContext } from '../load/step.js';
import { syncStep } from '../load/sync.js';
import { normalizeStep, type NormalizeInfo } from '../normalize/step.js';
import { extractFileBytes, prenormalizeObserver } from '../normalize/prenormalizer.js';
import type { StepOptions } from '../progress/step-options.js';
import { Schema } from '../schema/schema.js';
import type { PipelineState } from '../state/state.js';
import type { StepProgress } from '../progress/step-options.js';
import { describePackage, describePendingPackages, type LoadPackageInfo, type PendingPackageInfo } from '../storage/package-info.js';
import { WorkingDir } from '../storage/working-dir.js';
import { WorkingDirLock } from '../storage/lock.js';
import { workingDirOf } from '../storage/pipelines-dir.js';
import { redact, redactError } from '../config/redact.js';
import { secrets } from '../config/resolve.js';
import { digest128 } from '../common/digest.js';
import { createMonitor, type ProgressMonitor } from '../progress/monitor.js';
import { getActive, setActive } from './active.js';
import { namingConvention, type NamingConvention } from './naming.js';
import type { PackageState } from '../storage/package-state.js';
import { exportSchemas, initialSchema, lazySqlClient, type SqlClient } from './schema-files.js';
import { hasTargetOptions, retarget, type Target, type TargetOptions } from './target.js';
import { checkCanStage, checkIsDirectory, checkLoaderFileFormat, restoreDestination, restoreStaging, storableOptions } from './checks.js';
import { checkWorkers, defaultPipelineName, defaultPipelinesDir, devModeSuffix, parseExtractOptions, parsePipelineOptions, parseRunOptions, warnUnusedDltSettings, withConfigDefaults } from './options.js';
import type { ExtractOptions, LoadCallOptions, NormalizeCallOptions, PipelineOptions, RunOptions } from './options.js';
import { readTrace, writeTrace, type PipelineTrace, type StepTrace } from './trace.js';
import { Dataset } from './dataset.js';
import { planDropResources, type DropResourcesInfo, type DropResourcesOptions } from './drop.js';
import { FAILED_JOBS } from '../storage/layout.js';
import type { TableBackup } from '../storage/snapshots.js';
import { checkManagedStateCall, ManagedState, openState, saveState, type ManagedStateOptions } from './managed-state.js';

export type { ExtractInfo } from '../extract/step.js';
export type { NormalizeInfo } from '../normalize/step.js';
export type { LoadPackageInfo, PendingPackageInfo } from '../storage/package-info.js';
export type { StepOptions, StepProgress } from '../progress/step-options.js';

export type { SqlClient } from './schema-files.js';

/**
 * A pipeline moves data from TypeScript into a destination dataset through load packages
 * in its working dir. `run()` = sync destination, finish pending packages, extract,
 * normalize, load. Each step can also be called alone.
 */
export class Pipeline {
  readonly pipelineName: string;
  readonly pipelinesDir: string;
  readonly workingDir: string;
  private target!: Target;
  /** Where the pipeline loads: dataset, destination and dlt's staging (a run or load may name others). */
  get datasetName(): string { return this.target.datasetName; } // prettier-ignore
  get destination(): DestinationFactory { return this.target.destination; } // prettier-ignore
  get staging(): DestinationFactory | undefined { return this.target.staging; } // prettier-ignore
  readonly devMode: boolean;
  /** See `PipelineOptions.pipelineSalt`. Redacted wherever text leaves haul. */
  readonly pipelineSalt: string;
  private readonly opts: PipelineOptions;
  private readonly wd: WorkingDir;
  private readonly lock: WorkingDirLock;
  private queue: Promise<unknown> = Promise.resolve();
  private trace?: PipelineTrace;
  private readonly progress?: ProgressMonitor;

  constructor(options: PipelineOptions & { attached?: PipelineState }) {
    const { attached, ...rest } = options;
    const parsed = parsePipelineOptions(rest);
    this.pipelineName = parsed.pipelineName ?? defaultPipelineName();
    this.opts = withConfigDefaults(parsed, this.pipelineName);
    warnUnusedDltSettings(this.pipelineName);
    this.pipelinesDir = resolve(this.opts.pipelinesDir ?? defaultPipelinesDir());
    checkIsDirectory(this.pipelinesDir);
    this.workingDir = workingDirOf(this.pipelinesDir, this.pipelineName);
    this.devMode = this.opts.devMode ?? false;
    this.pipelineSalt = secrets.getOptional('pipeline_salt', z.string(), { pipelineName: this.pipelineName, explicit: this.opts.pipelineSalt }) ?? digest128(this.pipelineName);
    this.wd = new WorkingDir(this.workingDir);
    this.lock = new WorkingDirLock(this.workingDir, this.pipelineName);
    if (this.devMode) this.wd.wipe();
    if (this.opts.restoreFromDestination && this.wd.exists()) this.setAsideIfCorrupt();
    const committed = attached ?? (this.wd.exists() ? this.wd.readState(this.pipelineName, '') : undefined);
    const baseDataset = this.opts.datasetName ?? `${this.pipelineName}_dataset`;
    // An existing pipeline keeps its dataset unless the caller names another one.
    const datasetName = this.devMode ? baseDataset + devModeSuffix() : this.opts.datasetName ?? committed?.dataset_name ?? baseDataset;
    const staging = this.opts.staging ?? restoreStaging(committed);
    this.target = {
      destination: resolveDestination(this.opts.destination ?? restoreDestination(committed) ?? DEFAULT_DESTINATION),
      datasetName,
      ...(staging !== undefined && { staging: resolveDestination(staging) }),
    };
    if (this.staging) checkCanStage(this.staging, this.pipelineName, this.datasetName);
    this.wd.create();
    this.recordTarget();
    this.progress = createMonitor(this.opts.progress, this.pipelineName, this.workingDir);
  }

  /** Keeps where the pipeline loads in state.json (non-secret options only), so attach() reopens it. */
  private recordTarget(): void {
    const st = this.wd.readState(this.pipelineName, this.datasetName);
    st.dataset_name = this.datasetName;
    st.destination_name = this.destination.destinationName;
    st._local.destination_options = storableOptions(this.destination.options);
    if (this.staging) st._local.staging = { name: this.staging.destinationName, options: storableOptions(this.staging.options) };
    this.wd.writeState(st);
  }

  /** A run's or load's own destination, dataset, credentials or staging: from this call on, as dlt. */
  private applyTarget(o: TargetOptions): void {
    if (!hasTargetOptions(o)) return;
    this.target = retarget(this.target, o, this.pipelineName);
    this.recordTarget();
  }

  /** restoreFromDestination: a broken state.json or schema goes aside; the next run's sync restores them. */
  private setAsideIfCorrupt(): void {
    try {
      this.wd.checkReadable(this.pipelineName);
    } catch (e) {
      if (!(e instanceof CorruptStateError)) throw e;
      const moved = this.wd.setCorruptStateAside();
      process.emitWarning(redact(`pipeline "${this.pipelineName}": ${e.file} is broken; moved ${moved.join(', ')} aside, the next run restores state and schemas from the destination`), { code: 'HAUL_CORRUPT_STATE' });
    }
  }

  // ---- public steps --------------------------------------------------------------------

  /** Syncs, finishes pending packages, then extracts, normalizes and loads `data`. */
  async run(data?: Extractable, options: RunOptions = {}): Promise<LoadInfo> {
    const { destination, datasetName, credentials, staging, ...runOpts } = parseRunOptions(options);
    return this.exclusive(async () => {
      this.applyTarget({ destination, datasetName, credentials, staging });
      this.beginTrace();
      try {
        if (this.wd.pendingPackages().length === 0) await this.step('sync', () => this.doSync());
        // Finish what an earlier run left behind first, like dlt.
        const earlier = this.wd.pendingPackages().length > 0 ? await this.normalizeAndLoad() : undefined;
        if (earlier) this.raiseOnFailedJobs(earlier);
        if (data === undefined) return earlier ?? this.emptyLoadInfo();
        const extracted = await this.step('extract', () => this.doExtract(data, runOpts));
        // This run's own package: data normalize refuses is discarded instead of blocking later runs.
        const info = await this.normalizeAndLoad([extracted.loadId]);
        this.raiseOnFailedJobs(info);
        if (earlier) info.loadPackages.unshift(...earlier.loadPackages);
        await exportSchemas(this.wd, this.opts.exportSchemaPath);
        return info;
      } finally {
        this.endTrace();
      }
    });
  }

  /** Extracts `data` into a new package; `maxParallelItems`/`workers` bound parallelized resources (dlt's). */
  async extract(data: Extractable, options: ExtractOptions = {}, stepOptions: StepOptions = {}): Promise<ExtractInfo> {
    const { destination, datasetName, credentials, staging, ...runOpts } = parseExtractOptions(options);
    return this.exclusive(() => {
      this.applyTarget({ destination, datasetName, credentials, staging });
      return this.traced(() => this.step('extract', () => this.doExtract(data, runOpts, stepOptions)));
    });
  }

  /**
   * Normalizes every extracted package. `discardIfInvalid`: load ids whose package is deleted
   * (with its state) when normalize refuses its data, instead of staying pending (run() and
   * the Temporal workflow pass the package they just extracted). `loaderFileFormat` overrides
   * the format the packages were extracted for; `workers` bounds the worker threads.
   */
  async normalize(options: NormalizeCallOptions = {}): Promise<NormalizeInfo> {
    checkWorkers('normalize', options.workers);
    if (options.loaderFileFormat) checkLoaderFileFormat(options.loaderFileFormat, this.destination.destinationName, this.newClient().capabilities);
    return this.exclusive(() => this.traced(() => this.step('normalize', () => this.doNormalize(options))));
  }

  /**
   * Loads the normalized packages, into another destination/dataset/staging when given (from
   * this call on, as dlt). Failed jobs keep their package pending and throw FailedJobsError, as
   * in dlt 1.x, unless `raiseOnFailedJobs: false`. `workers` is validated; jobs load one at a time (see LoadCallOptions).
   */
  async load(options: LoadCallOptions = {}): Promise<LoadInfo> {
    const { destination, datasetName, credentials, staging, raiseOnFailedJobs, workers, ...stepOptions } = options;
    checkWorkers('load', workers);
    return this.exclusive(() =>
      this.traced(async () => {
        this.applyTarget({ destination, datasetName, credentials, staging });
        const info = await this.step('load', () => this.doLoad(stepOptions));
        await exportSchemas(this.wd, this.opts.exportSchemaPath);
        if (raiseOnFailedJobs ?? true) this.raiseOnFailedJobs(info);
        return info;
      }),
    );
  }

  /** Restores state and schemas from the destination when its state is newer (e.g. the working dir was deleted); not while packages are pending. */
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

  /** True until a run has loaded data (dlt's `first_run`). */
  get firstRun(): boolean {
    return this.state._local.first_run !== false;
  }

  /** Anything to show: loaded data, schemas or pending packages (dlt's `has_data`). */
  get hasData(): boolean {
    return !this.firstRun || this.schemaNames.length > 0 || this.hasPendingData;
  }

  get defaultSchemaName(): string | undefined {
    return this.state.default_schema_name ?? this.schemaNames[0];
  }

  /** The naming convention of this pipeline's schemas, bounded by the destination's identifier length. */
  get naming(): NamingConvention {
    return namingConvention(this.newClient().capabilities.maxIdentifierLength);
  }

  /** The package state of a package in any stage: its state to commit, refresh plan, counts. */
  getLoadPackageState(loadId: string): PackageState {
    const stage = this.wd.storage.findStage(loadId);
    if (!stage) throw new HaulError('UnknownLoadId', `pipeline "${this.pipelineName}" has no load package ${loadId}; list them with listCompletedLoadPackages()`);
    return this.wd.packageState(stage, loadId);
  }

  /** A value kept in the local state only (`_local`), never synced to the destination. */
  setLocalStateVal(key: string, value: unknown): void {
    const st = this.wd.readState(this.pipelineName, this.datasetName);
    (st._local as Record<string, unknown>)[key] = value;
    this.wd.writeState(st);
  }

  getLocalStateVal<T = unknown>(key: string): T | undefined {
    return (this.state._local as Record<string, unknown>)[key] as T | undefined;
  }

  /**
   * dlt's `managed_state`: state changes in `fn` are kept when it returns, dropped when it
   * throws; `extractState` also extracts a changed state into a package the next load syncs.
   * Without `fn`: a handle for `await using m = p.managedState()`, kept only by `await m.commit()`.
   */
  managedState<T>(fn: (state: PipelineState) => T | Promise<T>): Promise<T>;
  managedState<T>(options: ManagedStateOptions, fn: (state: PipelineState) => T | Promise<T>): Promise<T>;
  managedState(options?: ManagedStateOptions): ManagedState;
  managedState<T>(a?: ManagedStateOptions | ((state: PipelineState) => T | Promise<T>), b?: (state: PipelineState) => T | Promise<T>): Promise<T> | ManagedState {
    const [options, fn] = typeof a === 'function' ? [{}, a] : [checkManagedStateCall(a, b), b];
    const ctx = { wd: this.wd, pipelineName: this.pipelineName, datasetName: this.datasetName, destinationName: this.destination.destinationName, initialSchema: (n: string) => initialSchema(n, this.opts.importSchemaPath) };
    if (!fn) return new ManagedState(ctx, options, (f) => this.exclusive(f));
    return this.exclusive(async () => {
      const st = openState(ctx);
      const result = await fn(st);
      await saveState(ctx, st, options);
      return result;
    });
  }

  /** Creates or updates the dataset's tables for a schema (default: the default schema); returns the tables created or changed. */
  async syncSchema(schemaName?: string): Promise<string[]> {
    const name = schemaName ?? this.defaultSchemaName;
    const schema = name ? this.wd.effectiveSchema(name) : undefined;
    if (!schema) throw this.unknownSchema(name);
    const client = await this.destinationClient();
    try {
      return await client.updateStoredSchema(schema, tablesToCreate(schema));
    } catch (e) {
      throw redactError(e);
    } finally {
      await client.close();
    }
  }

  /**
   * An opened client of the destination on this pipeline's dataset (storage initialized); the
   * caller closes it. One client serves every schema (each call takes its schema), so
   * `schemaName`, as in dlt, only has to name one of the pipeline's schemas.
   */
  async destinationClient(schemaName?: string): Promise<DestinationClient> {
    if (schemaName !== undefined && !this.schemaNames.includes(schemaName)) throw this.unknownSchema(schemaName);
    const client = this.newClient();
    try {
      await client.open();
      await client.initializeStorage();
      return client;
    } catch (e) {
      await client.close().catch(() => undefined);
      throw redactError(e);
    }
  }

  get isActive(): boolean {
    return getActive() === this;
  }

  /** Makes this the pipeline `pipeline()` without options returns (creating a pipeline activates it, as in dlt). */
  activate(): void {
    setActive(this, (sourceName) => this.state.sources[sourceName]);
  }

  deactivate(): void {
    if (this.isActive) setActive(undefined);
  }

  get lastTrace(): PipelineTrace | undefined {
    return this.trace ?? readTrace(this.wd.tracePath, this.pipelineName);
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

  /** The package with this load id in whatever stage it is, or undefined. */
  findLoadPackage(loadId: string): LoadPackageInfo | undefined {
    return describePackage(this.wd.storage, loadId);
  }

  /** Copies the committed state and schemas aside under `snapshotId` (durable runners, before a destructive step). */
  takeSnapshot(snapshotId: string): void {
    this.wd.snapshots.take(snapshotId);
  }

  /**
   * Snapshots in the working dir with the tables their refresh put aside: a workflow run's
   * while it runs, or one a run stopped for good left behind (see settleLeftoverSnapshots).
   */
  listSnapshots(): Array<{ snapshotId: string; backups: TableBackup[] }> {
    const { snapshots } = this.wd;
    return snapshots.list().map((snapshotId) => ({ snapshotId, backups: snapshots.readBackups(snapshotId) }));
  }

  getLoadPackageInfo(loadId: string): LoadPackageInfo {
    const info = this.findLoadPackage(loadId);
    if (!info) throw new HaulError('UnknownLoadId', `pipeline "${this.pipelineName}" has no load package ${loadId}; list them with listCompletedLoadPackages()`);
    return info;
  }

  /** Pending packages, oldest first, in brief (tables, jobs, rows, refresh). */
  pendingPackages(): PendingPackageInfo[] {
    return describePendingPackages(this.wd.storage);
  }

  listFailedJobs(loadId: string): FailedJob[] {
    return this.getLoadPackageInfo(loadId)
      .jobs.filter((j) => j.state === FAILED_JOBS)
      .map((j) => ({ loadId, job: j.job, table: j.table, message: j.failedMessage ?? '' }));
  }

  /** Deletes every extracted and normalized package that has not loaded. State stays as committed. */
  dropPendingPackages(): void {
    for (const p of this.wd.pendingPackages()) this.wd.storage.deletePending(p.loadId);
    // An extract that stopped after a checkpoint is pending work too.
    this.wd.storage.discardCheckpoints();
  }

  /**
   * Deletes the local working dir (state, schemas, packages); the destination is not touched.
   * Returns a fresh pipeline with the same options, dataset and destination, under
   * `pipelineName` when given (dlt's `drop(pipeline_name)`), activated.
   */
  drop(pipelineName?: string): Pipeline {
    if (this.wd.exists()) {
      this.lock.acquire(); // never wipe under a running step
      try {
        this.wd.wipe();
      } finally {
        this.lock.release();
      }
    }
    // As dlt: the new pipeline keeps the dataset, destination, staging and salt (dev mode makes its own dataset).
    const datasetName = this.devMode ? this.opts.datasetName : this.datasetName;
    return pipeline({ ...this.opts, pipelineName: pipelineName ?? this.pipelineName, datasetName, destination: this.destination, staging: this.staging, pipelineSalt: this.pipelineSalt });
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

  /**
   * Reads the dataset back like dlt's `pipeline.dataset()`:
   * `await p.dataset().table('users').limit(10).fetchAll()`, `.iter({ chunkSize })`,
   * `query(sql, params)`, `tables()`, `columns(table)`, `rowCounts()`. Works on every destination.
   */
  dataset(): Dataset {
    return new Dataset(this.datasetName, () => this.newClient());
  }

  /** A client that queries the dataset (open until `close()`). */
  sqlClient(): SqlClient {
    return lazySqlClient(this.newClient());
  }

  // ---- steps: the step modules do the work; the facade wires context, lock, trace, progress ----

  private doExtract(data: Extractable, runOpts: ExtractOptions, stepOptions: StepOptions = {}): Promise<ExtractInfo> {
    const { schema: schemaName, refresh, loaderFileFormat, externalWindow, maxParallelItems, workers, ...hints } = runOpts;
    const capabilities = this.newClient().capabilities;
    checkLoaderFileFormat(loaderFileFormat, this.destination.destinationName, capabilities);
    configuredReplaceStrategy(this.destination.destinationName); // a bad replace_strategy fails before anything is extracted
    const ctx = {
      ...this.loadContext(),
      destinationName: this.destination.destinationName,
      supportedWriteDispositions: capabilities.supportedWriteDispositions,
      unsupportedWriteDispositionAdvice: capabilities.unsupportedWriteDispositionAdvice,
      maxIdentifierLength: capabilities.maxIdentifierLength,
      typeLimits: { maxTimestampPrecision: capabilities.maxTimestampPrecision, maxIntegerPrecision: capabilities.maxIntegerPrecision },
      initialSchema: (name: string) => initialSchema(name, this.opts.importSchemaPath),
      // rotated job files are normalized in the background while extract goes on (a cache for the normalize step)
      observer: prenormalizeObserver(this.wd, { maxIdentifierLength: capabilities.maxIdentifierLength }),
      ...extractFileBytes(),
    };
    const parallel = { ...(maxParallelItems !== undefined && { maxParallelItems }), ...(workers !== undefined && { workers }) };
    return extractStep(ctx, { data, hints, schemaName, refresh: refresh ?? this.opts.refresh, loaderFileFormat, externalWindow, ...parallel }, { ...stepOptions, onProgress: this.progressSink(stepOptions.onProgress) });
  }

  private doNormalize({ loaderFileFormat, workers, ...stepOptions }: NormalizeCallOptions = {}): Promise<NormalizeInfo> {
    const { maxIdentifierLength, preferredLoaderFileFormat } = this.newClient().capabilities;
    const ctx = { ...this.loadContext(), maxIdentifierLength, preferredLoaderFileFormat, loaderFileFormat, workers };
    return normalizeStep(ctx, { ...stepOptions, onProgress: this.progressSink(stepOptions.onProgress) });
  }

  private doLoad(stepOptions: StepOptions = {}): Promise<LoadInfo> {
    return loadStep(this.loadContext(), { ...stepOptions, onProgress: this.progressSink(stepOptions.onProgress) });
  }

  private doSync(): Promise<void> {
    return syncStep(this.loadContext());
  }

  /** What the step modules work on. Durable runners (the Temporal activities) use it too. */
  loadContext(): LoadContext {
    return { wd: this.wd, pipelineName: this.pipelineName, datasetName: this.datasetName, destination: this.destination, ...(this.staging && { staging: this.staging }) };
  }

  private async normalizeAndLoad(discardIfInvalid?: string[]): Promise<LoadInfo> {
    if (this.wd.storage.list('extracted').length > 0) await this.step('normalize', () => this.doNormalize({ discardIfInvalid }));
    return this.step('load', () => this.doLoad());
  }

  // ---- helpers -------------------------------------------------------------------------

  /** run() fails when jobs failed; the package stays pending for the next attempt. */
  private raiseOnFailedJobs(info: LoadInfo): void {
    if (info.hasFailedJobs) throw new PipelineStepFailed(this.pipelineName, 'load', info.failedJobs[0]!.loadId, new FailedJobsError(info.failedJobs));
  }

  private unknownSchema(name: string | undefined): HaulError {
    return new HaulError('UnknownSchema', `pipeline "${this.pipelineName}" has no schema ${name ?? '(none yet)'}; its schemas: ${this.schemaNames.join(', ') || 'none'}`);
  }

  private newClient(): DestinationClient {
    return newDestinationClient(this.loadContext());
  }

  private emptyLoadInfo(): LoadInfo {
    return emptyLoadInfo(this.loadContext());
  }

  /**
   * Steps of one pipeline never overlap: within a process (the queue) nor across processes
   * (the working dir's lock). Errors leave haul here, so this is
   * where known secrets are taken out of their messages.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const locked = async () => {
      this.lock.acquire();
      try {
        return await fn();
      } finally {
        this.lock.release();
      }
    };
    const next = this.queue.then(locked, locked);
    this.queue = next.catch(() => undefined);
    return next.catch((e: unknown) => {
      throw redactError(e);
    });
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

/**
 * Creates (or opens) a pipeline and activates it. Without options it returns the active
 * pipeline of this process (the last one created or activated), or one with all defaults.
 */
export function pipeline(options?: PipelineOptions): Pipeline {
  if (options === undefined) {
    const current = getActive();
    if (current instanceof Pipeline) return current;
  }
  try {
    const p = new Pipeline(options ?? {});
    p.activate();
    return p;
  } catch (e) {
    throw redactError(e);
  }
}
