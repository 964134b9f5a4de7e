import type { Schema } from '../schema/schema.js';
import type { LoaderFileFormat, StoredSchema, WriteDisposition } from '../schema/types.js';

/**
 * A normalized job file, ready to load: JSONL (one object per row keyed by column name,
 * values in the canonical form of docs/package-format.md), parquet or csv.
 */
export interface JobFile {
  /** File name as in the package: `<table>.<fileId>.<retryCount>.<format>`. */
  jobName: string;
  /** Absolute path of the file (wherever it is in the package now). */
  path: string;
  table: string;
  /** The file's format (its extension). */
  format: LoaderFileFormat;
  /** No line of the file is longer than this (bytes), when normalize recorded it. */
  maxLineBytes?: number;
}

/** One root table and its child tables, loaded in a single transaction (replace/merge). */
export interface TableChainJob {
  disposition: 'replace' | 'merge';
  /** Root table first, then children (parents before children). */
  tables: string[];
  files: JobFile[];
  /** When the load package was created (ISO): scd2's default boundary timestamp. */
  createdAt?: string;
}

export interface StoredStateRow {
  version: number;
  engineVersion: number;
  pipelineName: string;
  /** The pipeline state document as JSON text. */
  state: string;
  createdAt: Date;
  versionHash: string;
  loadId: string;
}

/** A `_dlt_pipeline_state` row as a destination reads it back (columns by dlt's names). */
export function storedStateRow(r: Record<string, unknown>, loadId: string): StoredStateRow {
  return {
    version: Number(r.version),
    engineVersion: Number(r.engine_version),
    pipelineName: String(r.pipeline_name),
    state: String(r.state),
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at)),
    versionHash: r.version_hash == null ? '' : String(r.version_hash),
    loadId,
  };
}


/**
 * What a destination can do, declared once and read by the generic code: the pipeline
 * rejects a file format or write disposition the destination cannot take before anything
 * is written, and names the destination makes (backups, staging) fit its identifier limit.
 */
export interface DestinationCapabilities {
  /** The job file formats this destination loads. */
  supportedLoaderFileFormats: LoaderFileFormat[];
  /** The format normalize writes when the run names none. */
  preferredLoaderFileFormat: LoaderFileFormat;
  /** The write dispositions it supports (e.g. a filesystem takes no merge). */
  supportedWriteDispositions: WriteDisposition[];
  /** What to tell a user who asks for a disposition not supported here (why, and what to do instead). */
  unsupportedWriteDispositionAdvice?: Partial<Record<WriteDisposition, string>>;
  /** Longest identifier in bytes. */
  maxIdentifierLength: number;
  /** The most fractional digits a timestamp or time column keeps (a larger `precision` hint is refused, as dlt does). */
  maxTimestampPrecision?: number;
  /** The widest integer in bits (a larger bigint `precision` hint is refused, as dlt does). */
  maxIntegerPrecision?: number;
  /**
   * Rows and their job marker commit in one transaction. Destinations without transactions
   * (files) make a job visible by an atomic rename plus a per-load completion marker instead.
   */
  supportsTransactions: boolean;
}

/**
 * What the load step needs from a destination. One client works on one dataset. Every
 * method that writes rows also writes job markers in the same transaction, so a job that
 * committed is recognised after a crash and never loaded twice.
 */
export interface DestinationClient {
  readonly destinationName: string;
  readonly capabilities: DestinationCapabilities;
  /** Human-readable place (file path, host/db) without credentials. */
  readonly displayLocation: string;
  /**
   * The local file an embedded database opens, and would create empty when it is missing
   * (absent for servers and in-memory databases). Tools that only inspect a pipeline check
   * it exists rather than create a new file by accident.
   */
  readonly localFile?: string;
  /** The dataset (database schema) this client loads into. */
  readonly datasetName: string;

  open(): Promise<void>;
  close(): Promise<void>;

  /** Creates the dataset (schema) and the system tables if missing. */
  initializeStorage(): Promise<void>;
  isStorageInitialized(): Promise<boolean>;

  /**
   * Creates missing tables/columns for the given tables (all data tables when omitted) and
   * records the schema in `_dlt_version` if this version hash is not stored yet.
   * Returns the names of tables created or altered.
   */
  updateStoredSchema(schema: Schema, tables?: string[]): Promise<string[]>;
  /** Newest stored schema of that name (from `_dlt_version`), or undefined. */
  getStoredSchema(schemaName: string): Promise<StoredSchema | undefined>;
  /** Newest state row of the pipeline whose load completed, or undefined. */
  getStoredState(pipelineName: string): Promise<StoredStateRow | undefined>;

  /** Job names (file names) whose rows committed for this load id. */
  completedJobs(loadId: string): Promise<Set<string>>;
  /** Appends one file's rows to its table, in one transaction with its marker. */
  loadAppendJob(loadId: string, schema: Schema, job: JobFile): Promise<void>;
  /**
   * Optional: appends several files of one table in one transaction with all their markers
   * (all or none). The loader falls back to loadAppendJob per file when a batch fails, so a
   * bad file is reported on its own.
   */
  loadAppendJobs?(loadId: string, schema: Schema, jobs: JobFile[]): Promise<void>;
  /**
   * Optional, with loadAppendBatches: which append batches (one table's files each, given by
   * their sizes in bytes) the destination loads at once; undefined for none.
   */
  appendTogether?(sizes: number[]): number[] | undefined;
  /**
   * Optional: loads such batches at once; each commits or fails on its own (its outcome at
   * its index), and every one has settled when this returns.
   */
  loadAppendBatches?(loadId: string, schema: Schema, batches: JobFile[][]): Promise<PromiseSettledResult<void>[]>;
  /** Replace or merge a table chain from its files, all in one transaction with markers. */
  loadTableChain(loadId: string, schema: Schema, chain: TableChainJob): Promise<void>;
  /** Writes the `_dlt_loads` row (status 0) and clears this load's markers, in one transaction. */
  completeLoad(loadId: string, schemaName: string, schemaVersionHash: string): Promise<void>;
  /** Load ids already in `_dlt_loads`. */
  isLoadCompleted(loadId: string): Promise<boolean>;

  /** Deletes all rows of these tables (refresh drop_data). */
  truncateTables(tables: string[]): Promise<void>;
  /** Drops these tables (refresh drop_resources / drop_sources, pipeline.drop). */
  dropTables(tables: string[]): Promise<void>;
  /** Names of the tables in the dataset (data and system tables), as the schema spells them. */
  listTables(): Promise<string[]>;
  /**
   * Renames a table within the dataset (a refresh puts tables aside under a backup name so a
   * failed run can put them back). `to` must not exist.
   */
  renameTable(from: string, to: string): Promise<void>;
  /** Drops the whole dataset including system tables. */
  dropDataset(): Promise<void>;

  /** Runs a query against the dataset with positional parameters ($1, $2...). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;

  /** Reads the dataset back (`pipeline.dataset()`); valid while the client is open. */
  datasetReader(): DatasetReader;
}

/** One table read, built into the destination's own SQL by its reader. */
export interface TableRead {
  table: string;
  /** Columns to return, in this order (default: all). */
  columns?: string[];
  orderBy?: Array<{ column: string; descending?: boolean }>;
  limit?: number;
  offset?: number;
}

/** A column of a dataset table as the destination reports it. */
export interface DatasetColumn {
  name: string;
  /** The destination's type name (e.g. `BIGINT`, `character varying`). */
  destinationType: string;
}

/**
 * Reads a dataset back, the same way on every destination (SQL databases directly, files
 * through DuckDB views over them). Values come back in the shapes `query()` documents
 * (destinations/README.md): safe integers as number, larger as bigint, decimal as an exact
 * string, timestamps as Date, binary as Buffer, json parsed.
 */
export interface DatasetReader {
  /** Every table in the dataset, system tables included, sorted. */
  tables(): Promise<string[]>;
  /** The table's columns in order; UnknownTableError when it does not exist. */
  columns(table: string): Promise<DatasetColumn[]>;
  /** Row count per table. */
  rowCounts(tables: string[]): Promise<Record<string, number>>;
  read<T = Record<string, unknown>>(q: TableRead): Promise<T[]>;
  /** The rows of `read(q)` in batches of about `chunkSize`; memory holds one batch. */
  stream<T = Record<string, unknown>>(q: TableRead, chunkSize: number): AsyncGenerator<T[]>;
  /** Any SQL over the dataset (unqualified names resolve in it), parameters as $1, $2... */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * A destination that can hold job files for another one to bulk-load (dlt's staging): the
 * filesystem. `stageJob` puts the file in the bucket (atomically, at the same place on every
 * attempt) and returns the job pointing at the staged copy.
 */
export interface StagingClient {
  stageJob(loadId: string, schema: Schema, job: JobFile): Promise<JobFile>;
}

export function isStagingClient(c: DestinationClient): c is DestinationClient & StagingClient {
  return typeof (c as Partial<StagingClient>).stageJob === 'function';
}

/** Where a client works: the pipeline (for defaults such as the DuckDB file name) and its dataset. */
export interface DestinationContext {
  pipelineName: string;
  datasetName: string;
}

/**
 * A configured destination (e.g. `duckdb({ path })`). Holds configuration only; every
 * `createClient` returns a new, unopened client for one dataset.
 */
export interface DestinationFactory {
  readonly destinationName: string;
  /**
   * The JSON-serializable options this factory was made with, so a pipeline can store them
   * and later rebuild it with `resolveDestination(destinationName, options)`. Never holds
   * secrets (credentials come from config/secrets resolution, not from here).
   */
  readonly options?: Readonly<Record<string, unknown>>;
  createClient(ctx: DestinationContext): DestinationClient;
  /**
   * The same destination with these credentials (dlt's `credentials` argument of `run()`):
   * a connection string or object for PostgreSQL, the database file for DuckDB. Absent when
   * the destination takes none.
   */
  withCredentials?(credentials: unknown): DestinationFactory;
}

export type { LoaderFileFormat, WriteDisposition };
