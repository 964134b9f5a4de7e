import { homedir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { z } from 'zod';
import { InvalidOptionsError } from '../errors.js';
import { schemaContractSchema, writeDispositionSchema } from '../extract/resource.js';
import { columnHintsSchema, type ColumnHints } from '../extract/columns.js';
import { isColumnsModel, type ColumnsModel } from '../extract/model.js';
import { formatIssue } from '../common/zod-issues.js';
import { config } from '../config/index.js';
import type { SchemaContract, WriteDispositionConfig } from '../schema/types.js';
import type { DestinationFactory, LoaderFileFormat } from '../destinations/types.js';

export { warnUnusedDltSettings } from './unused-config.js';
import { isDestinationFactory } from '../destinations/registry.js';
import type { TargetOptions } from './target.js';
import type { StepOptions } from '../progress/step-options.js';
import type { ProgressCollector } from '../progress/events.js';
import { REFRESH_MODES, type RefreshMode } from '../extract/refresh.js';
import type { ExternalWindow } from '../extract/incremental.js';

/** 'log': periodic pino lines; 'bar': live bars on a TTY (else 'log'); or your own collector. */
export type ProgressOption = 'log' | 'bar' | ProgressCollector;

export interface PipelineOptions {
  /** Default: the entry script's file name. */
  pipelineName?: string;
  /** Default: `~/.haul/pipelines` (or HAUL_PIPELINES_DIR). */
  pipelinesDir?: string;
  /** A registered destination's name (`'duckdb'`, `'postgres'`, ...) or a factory such as `duckdb({ path })`. */
  destination?: string | DestinationFactory;
  /**
   * dlt's staging destination: `'filesystem'` or `filesystem({ bucketUrl })`. Job files are put
   * in that bucket first and the destination bulk-loads them from there.
   */
  staging?: string | DestinationFactory;
  /** Default: `<pipelineName>_dataset`. */
  datasetName?: string;
  /** A fresh dataset (datetime suffix) and a wiped working dir on every start. */
  devMode?: boolean;
  /**
   * When the local state.json or a schema file is broken: move them aside and restore both
   * from the destination on the next run (instead of failing with CorruptStateError).
   * State is always restored from the destination when the working dir is missing.
   */
  restoreFromDestination?: boolean;
  refresh?: RefreshMode;
  importSchemaPath?: string;
  exportSchemaPath?: string;
  progress?: ProgressOption;
  /**
   * The salt for deterministic hashing in your transformations (dlt's `pipeline_salt`, a
   * secret: also `PIPELINE_SALT` / `pipeline_salt` in .dlt/secrets.toml). Default: derived
   * from the pipeline name as dlt derives it.
   */
  pipelineSalt?: string;
}

export interface RunOptions extends TargetOptions {
  tableName?: string;
  /** dlt's `parent_table_name`: the table becomes a child of this (existing) table in the schema; see `ResourceOptions.parentTableName`. */
  parentTableName?: string;
  /** A shorthand or dlt's dict, e.g. `{ disposition: 'merge', strategy: 'upsert' }`. */
  writeDisposition?: WriteDispositionConfig;
  /**
   * Column hints by name, a list of column schemas `[{ name, dataType, nullable, primaryKey, ... }]`,
   * or a zod object model as on a resource (`ResourceOptions.columns`): its fields give the
   * columns, every item is validated against it and the contract defaults to the model's.
   */
  columns?: ColumnHints | ColumnsModel;
  primaryKey?: string | string[];
  mergeKey?: string | string[];
  /** Schema name for plain data (default: the pipeline name). */
  schema?: string;
  /** The job file format normalize writes (default: the destination's preferred one). */
  loaderFileFormat?: LoaderFileFormat;
  refresh?: RefreshMode;
  maxTableNesting?: number;
  /** dlt's schema contract for every resource of this run (over the resources' and the source's). */
  schemaContract?: SchemaContract;
  /**
   * The window an external scheduler gives this run (ISO instants, end exclusive), as dlt
   * takes Airflow's data interval: incremental resources made with
   * `allowExternalSchedulers: true` load exactly that range and leave their cursor alone.
   * Scheduled Temporal runs set it from the schedule.
   */
  externalWindow?: ExternalWindow;
}

const isoInstant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time');
export const externalWindowSchema = z
  .object({ start: isoInstant, end: isoInstant })
  .strict()
  .refine((w) => Date.parse(w.start) < Date.parse(w.end), 'start must be before end');
const key = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const refresh = z.enum(REFRESH_MODES as [RefreshMode, ...RefreshMode[]]);
const identifierish = z.string().min(1).regex(/^[^/\\\0]+$/, 'must not contain / \\ or NUL');

const pipelineOptionsSchema = z
  .object({
    pipelineName: identifierish.optional(),
    pipelinesDir: z.string().min(1).optional(),
    destination: z.union([z.string().min(1), z.custom<DestinationFactory>(isDestinationFactory)]).optional(),
    staging: z.union([z.string().min(1), z.custom<DestinationFactory>(isDestinationFactory)]).optional(),
    datasetName: z.string().min(1).optional(),
    devMode: z.boolean().optional(),
    restoreFromDestination: z.boolean().optional(),
    refresh: refresh.optional(),
    importSchemaPath: z.string().optional(),
    pipelineSalt: z.string().min(1).optional(),
    exportSchemaPath: z.string().optional(),
    progress: z.union([z.enum(['log', 'bar']), z.custom<{ on(e: unknown): void }>((v) => typeof v === 'object' && v !== null && typeof (v as { on?: unknown }).on === 'function')]).optional(),
  })
  .strict();

const runOptionsSchema = z
  .object({
    tableName: z.string().min(1).optional(),
    parentTableName: z.string().min(1).optional(),
    writeDisposition: writeDispositionSchema.optional(),
    columns: z.union([z.custom<ColumnsModel>(isColumnsModel), columnHintsSchema]).optional(),
    primaryKey: key.optional(),
    mergeKey: key.optional(),
    schema: z.string().min(1).optional(),
    loaderFileFormat: z.enum(['jsonl', 'parquet', 'csv']).optional(),
    refresh: refresh.optional(),
    maxTableNesting: z.number().int().nonnegative().optional(),
    schemaContract: schemaContractSchema.optional(),
    externalWindow: externalWindowSchema.optional(),
    destination: z.union([z.string().min(1), z.custom<DestinationFactory>(isDestinationFactory)]).optional(),
    datasetName: z.string().min(1).optional(),
    credentials: z.unknown().optional(),
    staging: z.union([z.string().min(1), z.custom<DestinationFactory>(isDestinationFactory)]).optional(),
  })
  .strict();

export function parsePipelineOptions(o: unknown): PipelineOptions {
  const r = pipelineOptionsSchema.safeParse(o ?? {});
  if (!r.success) throw new InvalidOptionsError('pipeline options', r.error.issues.map(formatIssue).join('; '));
  return r.data as PipelineOptions;
}

/**
 * Options left out in code come from config as dlt's PipelineConfiguration takes them:
 * `dataset_name`, `pipelines_dir`, `dev_mode` (env `DATASET_NAME`, `PIPELINES_DIR`,
 * `DEV_MODE`, or the keys in .dlt/config.toml; pipeline-scoped first).
 */
export function withConfigDefaults(o: PipelineOptions, pipelineName: string): PipelineOptions {
  const scope = { pipelineName };
  const datasetName = o.datasetName ?? config.getOptional('dataset_name', z.string().min(1), scope);
  // haul's own HAUL_PIPELINES_DIR names the place more precisely than dlt's key
  const pipelinesDir = o.pipelinesDir ?? process.env.HAUL_PIPELINES_DIR ?? config.getOptional('pipelines_dir', z.string().min(1), scope);
  const devMode = o.devMode ?? config.getOptional('dev_mode', z.boolean(), scope);
  return { ...o, ...(datasetName !== undefined && { datasetName }), ...(pipelinesDir !== undefined && { pipelinesDir }), ...(devMode !== undefined && { devMode }) };
}

export function parseRunOptions(o: unknown): RunOptions {
  const r = runOptionsSchema.safeParse(o ?? {});
  if (!r.success) throw new InvalidOptionsError('run options', r.error.issues.map(formatIssue).join('; '));
  return r.data as RunOptions;
}

const workers = z.number().int().positive();
const extractOptionsSchema = runOptionsSchema.extend({ maxParallelItems: workers.optional(), workers: workers.optional() }).strict();

export function parseExtractOptions(o: unknown): ExtractOptions {
  const r = extractOptionsSchema.safeParse(o ?? {});
  if (!r.success) throw new InvalidOptionsError('extract options', r.error.issues.map(formatIssue).join('; '));
  return r.data as ExtractOptions;
}

/** dlt's `workers` of load()/normalize(): a positive integer (or absent). */
export function checkWorkers(step: 'load' | 'normalize', value: unknown): void {
  if (value !== undefined && !workers.safeParse(value).success) {
    throw new InvalidOptionsError(`${step} workers`, `must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

export function defaultPipelinesDir(): string {
  return process.env.HAUL_PIPELINES_DIR ?? config.getOptional('pipelines_dir', z.string().min(1)) ?? join(homedir(), '.haul', 'pipelines');
}

/** dlt names a pipeline after its entry script; so do we. */
export function defaultPipelineName(): string {
  const entry = process.argv[1];
  const base = entry ? basename(entry, extname(entry)) : 'haul';
  return base.replace(/[^A-Za-z0-9_]+/g, '_') || 'haul';
}

/** dev_mode's dataset suffix: `_YYYYMMDDhhmmss`. */
export function devModeSuffix(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `_${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** `normalize()` options: dlt's `workers` and `loader_file_format`, plus the step options. */
export interface NormalizeCallOptions extends StepOptions {
  loaderFileFormat?: LoaderFileFormat;
  workers?: number;
  /** Load ids whose package is discarded when normalize refuses its data (run() and the workflow pass their own). */
  discardIfInvalid?: readonly string[];
}

/** `extract()` options: run()'s, plus dlt's `max_parallel_items` and `workers` for parallelized resources. */
export interface ExtractOptions extends RunOptions {
  /** dlt's `max_parallel_items`: how many items of parallelized resources may be in flight at once (a positive integer). */
  maxParallelItems?: number;
  /** dlt's extract `workers`: how many parallelized resources (sync generators) may run at once (a positive integer). */
  workers?: number;
}

/** `load()` options: dlt's per-call destination, dataset, credentials, staging, `workers` and `raise_on_failed_jobs`. */
export interface LoadCallOptions extends StepOptions, TargetOptions {
  /** Throw FailedJobsError when a job failed (dlt's `raise_on_failed_jobs`, default true since dlt 1.0); false returns the LoadInfo with `hasFailedJobs`. */
  raiseOnFailedJobs?: boolean;
  /**
   * dlt's load `workers`: at most this many jobs load at once (a positive integer). haul's
   * loader runs a package's jobs one at a time on one connection (a job and its marker
   * commit in one transaction), so today every destination loads serially whatever the value.
   */
  workers?: number;
}
