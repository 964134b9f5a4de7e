import { statSync } from 'node:fs';
import { checkDatasetNameOption, normalizesDatasetName } from '../dataset-name.js';
import { resolve } from 'node:path';
import { z } from 'zod';
import { config } from '../../config/index.js';
import { InvalidOptionsError } from '../../errors.js';
import { registerDestination } from '../registry.js';
import { SqlJobClient } from '../sql/job-client.js';
import type { DestinationCapabilities, DestinationFactory, JobFile, TableChainJob } from '../types.js';
import type { Schema } from '../../schema/schema.js';
import { batchesToLoadAtOnce, twoSides } from './concurrent-appends.js';
import { DuckDBSqlClient } from './connection.js';
import { parseMemorySize, withSettings } from './settings.js';
import { DuckDBDialect } from './dialect.js';
import { defaultMaxMemoryBytes, withMemoryToGrow } from './memory-growth.js';
import { checkUserConfig, storedUserConfig, withConfiguredUserConfig, type DuckDBUserConfig } from './user-config.js';
import { FLUSH_FREED_MEMORY } from '../../storage/duckdb-memory.js';
import { refuseUnknownOptions } from '../../common/option-keys.js';

export { DuckDBDialect, duckdbColumnType } from './dialect.js';
export { DuckDBSqlClient, haulValueConverter } from './connection.js';
export type { DuckDBSettingValue, DuckDBUserConfig } from './user-config.js';

/**
 * `globalConfig`, `localConfig`, `pragmas`, `extensions` and `sessionTimezone` are dlt's DuckDB
 * credentials' global_config, local_config, pragmas, extensions and session_timezone; they may
 * also come from `[destination.duckdb.credentials]` in .dlt/config.toml (a setting given here wins).
 */
export interface DuckDBOptions extends DuckDBUserConfig {
  /**
   * Database file. Default: `<pipelineName>.duckdb` in the current working directory (as in
   * dlt). Relative paths resolve against the working directory when the client is created.
   * `:memory:` is an in-process database shared by the clients open at the same time.
   */
  path?: string;
  /**
   * DuckDB's `memory_limit` for this process's instance (default `128MB`). DuckDB otherwise
   * takes 80% of RAM and keeps loaded pages cached, so a long load's RSS grows with the data;
   * with a limit it stays flat and spills to a temp folder beside the file when it must.
   */
  memoryLimit?: string;
  /**
   * How far haul may raise `memory_limit` when a job runs out of memory: the job loads again
   * with the limit ×4, up to this. Default: half of the machine's memory when `memoryLimit`
   * is not given, else `memoryLimit` itself (a limit you set is kept).
   */
  maxMemoryLimit?: string;
  /**
   * Let DuckDB compress the row key column `_dlt_id` as it chooses. Default false: it is
   * random text, unique per row, stored uncompressed, which takes 10-15% off a load on free
   * cores (about half on busy ones) for a file about 7% larger (docs/performance.md, section
   * 39). Applies to tables created from then on.
   */
  compressRowIds?: boolean;
  /**
   * dlt's `enable_dataset_name_normalization`. false: the schema is named exactly as
   * `datasetName` (`Sales-EU` stays `Sales-EU`). Default true (`sales_eu`), or
   * `destination.duckdb.enable_dataset_name_normalization` from config.
   */
  enableDatasetNameNormalization?: boolean;
}

export const DEFAULT_DUCKDB_MEMORY_LIMIT = '128MB';

/** How much memory the client's DuckDB instance starts with and may grow to. */
export interface MemoryBudget {
  memoryLimit: string;
  maxBytes: number;
}

export function memoryBudget(options: Pick<DuckDBOptions, 'memoryLimit' | 'maxMemoryLimit'>): MemoryBudget {
  const memoryLimit = options.memoryLimit ?? DEFAULT_DUCKDB_MEMORY_LIMIT;
  const max = options.maxMemoryLimit ?? options.memoryLimit;
  return { memoryLimit, maxBytes: max === undefined ? defaultMaxMemoryBytes() : (parseMemorySize(max) ?? 0) };
}

export const DUCKDB_CAPABILITIES: DestinationCapabilities = {
  supportedLoaderFileFormats: ['jsonl', 'parquet'],
  preferredLoaderFileFormat: 'jsonl',
  supportedWriteDispositions: ['append', 'replace', 'merge', 'skip'],
  maxIdentifierLength: 65536,
  // TIMESTAMP_NS for a naive timestamp; HUGEINT
  maxTimestampPrecision: 9,
  maxIntegerPrecision: 128,
  supportsTransactions: true,
};

/** The DuckDB destination: one dataset is one DuckDB schema in the database file. */
export class DuckDBClient extends SqlJobClient {
  readonly path: string;
  override readonly localFile: string | undefined;

  constructor(
    path: string,
    datasetName: string,
    private readonly memory: MemoryBudget = memoryBudget({}),
    private readonly user: DuckDBUserConfig = {},
    private readonly compressRowIds = false,
    private readonly normalizeDatasetName = true,
  ) {
    const sql = new DuckDBSqlClient(path, { memory_limit: memory.memoryLimit, ...FLUSH_FREED_MEMORY }, false, user);
    super({
      destinationName: 'duckdb',
      displayLocation: path,
      capabilities: DUCKDB_CAPABILITIES,
      datasetName,
      normalizeDatasetName,
      sql,
      dialect: new DuckDBDialect(() => sql.catalog, compressRowIds),
    });
    this.path = path;
    this.localFile = path === ':memory:' ? undefined : path;
  }

  // A job that runs out of memory loads again with more (memory-growth.ts).
  override loadAppendJob(loadId: string, schema: Schema, job: JobFile): Promise<void> {
    return withMemoryToGrow(this.sql, this.memory.maxBytes, () => super.loadAppendJob(loadId, schema, job));
  }

  override loadAppendJobs(loadId: string, schema: Schema, jobs: JobFile[]): Promise<void> {
    return withMemoryToGrow(this.sql, this.memory.maxBytes, () => super.loadAppendJobs(loadId, schema, jobs));
  }

  override loadTableChain(loadId: string, schema: Schema, chain: TableChainJob): Promise<void> {
    return withMemoryToGrow(this.sql, this.memory.maxBytes, () => super.loadTableChain(loadId, schema, chain));
  }

  /** Batches of different tables that load at once: the large ones when they split about evenly (concurrent-appends.ts). */
  appendTogether(sizes: number[]): number[] | undefined {
    return batchesToLoadAtOnce(sizes);
  }

  /**
   * Loads append batches of different tables in two sides at once, on this connection and a
   * second one of the same instance, with DuckDB's threads and write_buffer_row_group_count
   * set to 1 meanwhile (settings of the whole instance: other queries in this process run on
   * one thread until they are set back). Each batch commits or fails alone.
   */
  async loadAppendBatches(loadId: string, schema: Schema, batches: JobFile[][]): Promise<PromiseSettledResult<void>[]> {
    const results: PromiseSettledResult<void>[] = [];
    const runSide = async (client: DuckDBClient, side: number[]) => {
      for (const i of side) results[i] = await settled(client.loadAppendJobs(loadId, schema, batches[i]!));
    };
    const sides = twoSides(batches.map((b) => b.reduce((n, f) => n + statSync(f.path).size, 0)));
    // one thread per side; one row group buffered per writer (two writers at once would
    // otherwise hold twice DuckDB's five: ~100 MB more at 1M rows)
    const other = new DuckDBClient(this.path, this.datasetName, this.memory, this.user, this.compressRowIds, this.normalizeDatasetName);
    try {
      await withSettings(this.sql, { threads: '1', write_buffer_row_group_count: '1' }, () => Promise.all([runSide(this, sides[0]), runSide(other, sides[1])]));
    } finally {
      await other.close().catch(() => undefined);
    }
    return results;
  }
}

function settled(p: Promise<void>): Promise<PromiseSettledResult<void>> {
  return p.then(
    (): PromiseSettledResult<void> => ({ status: 'fulfilled', value: undefined }),
    (reason: unknown): PromiseSettledResult<void> => ({ status: 'rejected', reason }),
  );
}

/** A size DuckDB takes for memory_limit, with a unit. */
const MEMORY_SIZE = /^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

// a table may hold only global_config and the like, without a database
const duckdbCredentials = z.union([z.string().min(1), z.object({ database: z.string().min(1).optional() }).transform((c) => c.database)]);

/**
 * The database file from config when none is given in code: dlt's key
 * `destination.duckdb.credentials` (env `DESTINATION__DUCKDB__CREDENTIALS`, or
 * `[destination.duckdb] credentials = "..."` in .dlt/config.toml or secrets.toml), a path,
 * `duckdb:///path` or a table with `database`.
 */
function configuredPath(pipelineName: string): string | undefined {
  const v = config.getOptional('destination.duckdb.credentials', duckdbCredentials, { pipelineName });
  if (v === undefined) return undefined;
  const path = v.replace(/^duckdb:\/\/\//, '');
  return path === ':memory:' ? path : resolve(path);
}

/**
 * The DuckDB destination factory. An explicit relative `path` is resolved now (so the stored
 * `options` keep pointing at the same file); the default file is resolved per client.
 */
export function duckdb(options: DuckDBOptions = {}): DestinationFactory {
  refuseUnknownOptions(options, OPTION_KEYS, 'duckdb destination');
  if (options.path !== undefined && (typeof options.path !== 'string' || options.path === '')) {
    throw new InvalidOptionsError('duckdb destination', '`path` must be a non-empty string (a database file path or ":memory:")');
  }
  for (const key of ['memoryLimit', 'maxMemoryLimit'] as const) {
    const size = options[key];
    if (size !== undefined && !MEMORY_SIZE.test(size)) throw new InvalidOptionsError('duckdb destination', `\`${key}\` must be a size such as "256MB" or "2GB"`);
  }
  checkUserConfig(options);
  const fixed = options.path === undefined ? undefined : options.path === ':memory:' ? ':memory:' : resolve(options.path);
  const stored: Record<string, unknown> = { ...storedUserConfig(options) };
  if (fixed !== undefined) stored.path = fixed;
  if (options.memoryLimit !== undefined) stored.memoryLimit = options.memoryLimit;
  if (options.maxMemoryLimit !== undefined) stored.maxMemoryLimit = options.maxMemoryLimit;
  if (options.compressRowIds !== undefined) {
    if (typeof options.compressRowIds !== 'boolean') throw new InvalidOptionsError('duckdb destination', '`compressRowIds` must be true or false');
    stored.compressRowIds = options.compressRowIds;
  }
  checkDatasetNameOption(options.enableDatasetNameNormalization, 'duckdb destination');
  if (options.enableDatasetNameNormalization !== undefined) stored.enableDatasetNameNormalization = options.enableDatasetNameNormalization;
  return {
    destinationName: 'duckdb',
    options: stored,
    createClient({ pipelineName, datasetName }) {
      const path = fixed ?? configuredPath(pipelineName) ?? resolve(`${pipelineName}.duckdb`);
      const normalize = normalizesDatasetName('duckdb', options.enableDatasetNameNormalization, pipelineName);
      return new DuckDBClient(path, datasetName, memoryBudget(options), withConfiguredUserConfig(options, pipelineName), options.compressRowIds === true, normalize);
    },
    // dlt's duckdb credentials are the database file
    withCredentials: (credentials) => duckdb({ ...options, path: typeof credentials === 'string' ? credentials : (credentials as { path?: string } | null)?.path }),
  };
}

/** Every option duckdb() takes (refuseUnknownOptions). */
const OPTION_KEYS = new Set<string>(['path', 'memoryLimit', 'maxMemoryLimit', 'compressRowIds', 'enableDatasetNameNormalization', 'globalConfig', 'localConfig', 'pragmas', 'extensions', 'sessionTimezone'] satisfies Array<keyof DuckDBOptions>);

registerDestination('duckdb', (options) => duckdb(options));
