import { DestinationError, HaulError } from '../../errors.js';
import type { Schema } from '../../schema/schema.js';
import { shortenIdentifier } from '../../schema/shorten.js';
import { destinationDatasetName } from '../dataset-name.js';
import { JOBS_TABLE, LOADS_TABLE, STATE_TABLE, VERSION_TABLE } from '../../schema/system.js';
import type { StoredSchema, TableSchema } from '../../schema/types.js';
import { SqlDatasetReader } from './dataset-reader.js';
import {
  storedStateRow,
  type DatasetReader,
  type DestinationCapabilities,
  type DestinationClient,
  type JobFile,
  type StoredStateRow,
  type TableChainJob,
} from '../types.js';
import type { SqlClient, SqlDialect } from './dialect.js';
import { SqlCatalog } from './catalog.js';
import { SqlJobLoader } from './job-loader.js';
import {
  DESTINATION_OWNED_TABLE_NAMES,
  DESTINATION_SYSTEM_TABLES,
  LOADS_TABLE_SCHEMA,
  STATE_TABLE_SCHEMA,
  VERSION_TABLE_SCHEMA,
} from './system-tables.js';

export interface SqlJobClientOptions {
  destinationName: string;
  displayLocation: string;
  capabilities: DestinationCapabilities;
  datasetName: string;
  /** dlt's enable_dataset_name_normalization (default true). */
  normalizeDatasetName?: boolean;
  sql: SqlClient;
  dialect: SqlDialect;
}

/**
 * The destination client shared by every SQL destination: storage, the system tables
 * (`_dlt_version`, `_dlt_loads`, stored state), job markers, maintenance (truncate, drop,
 * rename). Names and migration live in SqlCatalog (catalog.ts), loading jobs and table chains
 * in SqlJobLoader (job-loader.ts, merge.ts). A destination supplies only its `SqlClient`
 * (connection) and `SqlDialect` (quoting, types, bulk load).
 *
 * Every statement quotes identifiers through the dialect and passes values as parameters or
 * bulk-loaded files.
 */
export class SqlJobClient implements DestinationClient {
  readonly destinationName: string;
  readonly capabilities: DestinationCapabilities;
  readonly displayLocation: string;
  readonly localFile?: string;
  readonly datasetName: string;
  /** Where merge stages its rows: `<dataset>_staging`, as in dlt. */
  readonly stagingDatasetName: string;
  protected readonly sql: SqlClient;
  protected readonly dialect: SqlDialect;
  private readonly catalog: SqlCatalog;
  private readonly loader: SqlJobLoader;
  private defaultSchemaSet = false;

  constructor(opts: SqlJobClientOptions) {
    this.destinationName = opts.destinationName;
    this.capabilities = opts.capabilities;
    this.displayLocation = opts.displayLocation;
    // The dataset is named by the naming convention, as dlt normalizes dataset_name
    // (`Analytics` is the schema `analytics`), and shortened as dlt shortens long names: the
    // staging dataset is `<dataset_name>_staging` normalized (dlt's staging_dataset_name_layout).
    const max = opts.capabilities.maxIdentifierLength;
    const normalize = opts.normalizeDatasetName ?? true;
    this.datasetName = destinationDatasetName(opts.datasetName, normalize, max);
    const staging = `${opts.datasetName}_staging`;
    this.stagingDatasetName = normalize ? destinationDatasetName(staging, true, max) : shortenIdentifier(staging, staging, max);
    this.sql = opts.sql;
    this.dialect = opts.dialect;
    this.catalog = new SqlCatalog(opts.dialect, this.datasetName, this.stagingDatasetName);
    this.loader = new SqlJobLoader(opts.destinationName, opts.sql, opts.dialect, this.catalog, (what, fn) => this.wrap(what, fn));
  }

  async open(): Promise<void> {
    await this.sql.open();
  }

  async close(): Promise<void> {
    this.defaultSchemaSet = false;
    await this.sql.close();
  }

  // ---------------------------------------------------------------- names (SqlCatalog)

  /** Qualified, quoted table name in the dataset (or its staging dataset). */
  protected t(table: string, staging = false): string {
    return this.catalog.t(table, staging);
  }

  protected q(identifier: string): string {
    return this.catalog.q(identifier);
  }

  private async ensureDefaultSchema(): Promise<void> {
    if (this.defaultSchemaSet) return;
    if (await this.catalog.schemaExists(this.sql, this.datasetName)) {
      await this.sql.setDefaultSchema(this.datasetName);
      this.defaultSchemaSet = true;
    }
  }

  // ---------------------------------------------------------------- storage

  async initializeStorage(): Promise<void> {
    await this.wrap('initializing storage', () =>
      this.sql.transaction(async (tx) => {
        await this.catalog.createSchemaIfMissing(tx, this.datasetName);
        await this.catalog.migrateTables(tx, [...DESTINATION_SYSTEM_TABLES, STATE_TABLE_SCHEMA]);
      }),
    );
    await this.ensureDefaultSchema();
  }

  async isStorageInitialized(): Promise<boolean> {
    return this.wrap('checking storage', async () => {
      const names = await this.catalog.tableNames(this.sql, this.datasetName);
      return names.has(this.catalog.fold(LOADS_TABLE)) && names.has(this.catalog.fold(VERSION_TABLE));
    });
  }

  async updateStoredSchema(schema: Schema, tables?: string[]): Promise<string[]> {
    const names = tables ?? Object.keys(schema.tables).filter((n) => !DESTINATION_OWNED_TABLE_NAMES.has(n));
    const selected: TableSchema[] = [];
    for (const name of names) {
      if (DESTINATION_OWNED_TABLE_NAMES.has(name)) continue;
      const t = schema.getTable(name);
      if (!t) {
        throw new DestinationError(this.destinationName, `table "${name}" is not in schema "${schema.name}"; cannot create it`);
      }
      selected.push(t);
    }
    const stored = schema.toStored();
    const changed = await this.wrap('updating the stored schema', () =>
      this.sql.transaction(async (tx) => {
        await this.catalog.createSchemaIfMissing(tx, this.datasetName);
        const systemTables: TableSchema[] = [...DESTINATION_SYSTEM_TABLES];
        if (!selected.some((t) => t.name === STATE_TABLE)) systemTables.push(STATE_TABLE_SCHEMA);
        await this.catalog.migrateTables(tx, systemTables);
        const changed = await this.catalog.migrateTables(tx, selected, (name) => schema.getTable(name));
        const v = VERSION_TABLE_SCHEMA.columns;
        await tx.execute(
          `INSERT INTO ${this.t(VERSION_TABLE)} (${this.q('version')}, ${this.q('engine_version')}, ${this.q('inserted_at')}, ${this.q('schema_name')}, ${this.q('version_hash')}, ${this.q('schema')}) ` +
            `SELECT ${this.catalog.cast(1, v.version)}, ${this.catalog.cast(2, v.engine_version)}, ${this.dialect.nowExpression}, ${this.catalog.cast(3, v.schema_name)}, ${this.catalog.cast(4, v.version_hash)}, ${this.catalog.cast(5, v.schema)} ` +
            // unless the newest stored version is this one: a schema that comes back after a drop
            // (the same hash as an older row) is stored again, so a restore reads it
            `WHERE NOT EXISTS (SELECT 1 FROM (SELECT ${this.q('version_hash')} AS h FROM ${this.t(VERSION_TABLE)} WHERE ${this.q('schema_name')} = ${this.catalog.cast(3, v.schema_name)} ` +
            `ORDER BY ${this.q('inserted_at')} DESC, ${this.q('version')} DESC LIMIT 1) AS newest WHERE newest.h = ${this.catalog.cast(4, v.version_hash)})`,
          [stored.version, stored.engineVersion, stored.name, stored.versionHash, JSON.stringify(stored)],
        );
        return changed;
      }),
    );
    await this.ensureDefaultSchema();
    return changed;
  }

  async getStoredSchema(schemaName: string): Promise<StoredSchema | undefined> {
    const rows = await this.wrap('reading the stored schema', async () => {
      if (!(await this.catalog.tableExists(this.sql, VERSION_TABLE))) return [];
      return this.sql.query<{ schema: string }>(
        `SELECT ${this.q('schema')} FROM ${this.t(VERSION_TABLE)} WHERE ${this.q('schema_name')} = $1 ` +
          `ORDER BY ${this.q('inserted_at')} DESC, ${this.q('version')} DESC LIMIT 1`,
        [schemaName],
      );
    });
    if (rows.length === 0) return undefined;
    try {
      return JSON.parse(String(rows[0].schema)) as StoredSchema;
    } catch (err) {
      throw new DestinationError(
        this.destinationName,
        `the newest row of ${this.datasetName}.${VERSION_TABLE} for schema "${schemaName}" does not hold valid JSON`,
        { cause: err },
      );
    }
  }

  async getStoredState(pipelineName: string): Promise<StoredStateRow | undefined> {
    const rows = await this.wrap('reading the stored state', async () => {
      const names = await this.catalog.tableNames(this.sql, this.datasetName);
      if (!names.has(this.catalog.fold(STATE_TABLE)) || !names.has(this.catalog.fold(LOADS_TABLE))) return [];
      const c = (n: string) => `s.${this.q(n)}`;
      return this.sql.query<Record<string, unknown>>(
        `SELECT ${c('version')} AS version, ${c('engine_version')} AS engine_version, ${c('pipeline_name')} AS pipeline_name, ` +
          `${c('state')} AS state, ${c('created_at')} AS created_at, ${c('version_hash')} AS version_hash, ${c('_dlt_load_id')} AS load_id ` +
          `FROM ${this.t(STATE_TABLE)} AS s WHERE ${c('pipeline_name')} = $1 AND EXISTS (` +
          `SELECT 1 FROM ${this.t(LOADS_TABLE)} AS l WHERE l.${this.q('load_id')} = ${c('_dlt_load_id')} AND l.${this.q('status')} = 0) ` +
          `ORDER BY ${c('_dlt_load_id')} DESC, ${c('version')} DESC, ${c('created_at')} DESC LIMIT 1`,
        [pipelineName],
      );
    });
    const r = rows[0];
    if (!r) return undefined;
    return storedStateRow(r, String(r.load_id));
  }

  // ---------------------------------------------------------------- jobs

  async completedJobs(loadId: string): Promise<Set<string>> {
    return this.wrap('reading job markers', async () => {
      if (!(await this.catalog.tableExists(this.sql, JOBS_TABLE))) return new Set<string>();
      return this.loader.markersOf(this.sql, loadId);
    });
  }

  async loadAppendJob(loadId: string, schema: Schema, job: JobFile): Promise<void> {
    await this.loader.loadAppendJob(loadId, schema, job);
  }

  async loadAppendJobs(loadId: string, schema: Schema, jobs: JobFile[]): Promise<void> {
    await this.loader.loadAppendJobs(loadId, schema, jobs);
  }

  async loadTableChain(loadId: string, schema: Schema, chain: TableChainJob): Promise<void> {
    await this.loader.loadTableChain(loadId, schema, chain);
  }

  async completeLoad(loadId: string, schemaName: string, schemaVersionHash: string): Promise<void> {
    const l = LOADS_TABLE_SCHEMA.columns;
    await this.wrap(`completing load ${loadId}`, () =>
      this.sql.transaction(async (tx) => {
        await tx.execute(
          `INSERT INTO ${this.t(LOADS_TABLE)} (${this.q('load_id')}, ${this.q('schema_name')}, ${this.q('status')}, ${this.q('inserted_at')}, ${this.q('schema_version_hash')}) ` +
            `SELECT ${this.catalog.cast(1, l.load_id)}, ${this.catalog.cast(2, l.schema_name)}, 0, ${this.dialect.nowExpression}, ${this.catalog.cast(3, l.schema_version_hash)} ` +
            `WHERE NOT EXISTS (SELECT 1 FROM ${this.t(LOADS_TABLE)} WHERE ${this.q('load_id')} = ${this.catalog.cast(1, l.load_id)})`,
          [loadId, schemaName, schemaVersionHash],
        );
        await tx.execute(`DELETE FROM ${this.t(JOBS_TABLE)} WHERE ${this.q('load_id')} = $1`, [loadId]);
      }),
    );
  }

  async isLoadCompleted(loadId: string): Promise<boolean> {
    return this.wrap('reading completed loads', async () => {
      if (!(await this.catalog.tableExists(this.sql, LOADS_TABLE))) return false;
      const rows = await this.sql.query(
        `SELECT 1 AS one FROM ${this.t(LOADS_TABLE)} WHERE ${this.q('load_id')} = $1 LIMIT 1`,
        [loadId],
      );
      return rows.length > 0;
    });
  }

  // ---------------------------------------------------------------- maintenance

  async truncateTables(tables: string[]): Promise<void> {
    await this.wrap('truncating tables', () =>
      this.sql.transaction(async (tx) => {
        const existing = await this.catalog.tableNames(tx, this.datasetName);
        for (const name of tables) {
          if (existing.has(this.catalog.fold(name))) await tx.execute(`DELETE FROM ${this.t(name)}`);
        }
      }),
    );
  }

  async dropTables(tables: string[]): Promise<void> {
    await this.wrap('dropping tables', () =>
      this.sql.transaction(async (tx) => {
        const staging = await this.catalog.schemaExists(tx, this.stagingDatasetName);
        for (const name of tables) {
          await tx.execute(`DROP TABLE IF EXISTS ${this.t(name)}`);
          if (staging) await tx.execute(`DROP TABLE IF EXISTS ${this.t(name, true)}`);
        }
      }),
    );
  }

  async listTables(): Promise<string[]> {
    return this.wrap('listing tables', async () => [...(await this.catalog.tableNames(this.sql, this.datasetName))].sort());
  }

  async renameTable(from: string, to: string): Promise<void> {
    await this.wrap(`renaming table "${from}" to "${to}"`, () =>
      this.sql.transaction(async (tx) => {
        await tx.execute(`ALTER TABLE ${this.t(from)} RENAME TO ${this.q(to)}`);
      }),
    );
  }

  async dropDataset(): Promise<void> {
    await this.wrap('dropping the dataset', () =>
      this.sql.transaction(async (tx) => {
        await tx.execute(`DROP SCHEMA IF EXISTS ${this.dialect.qualifySchema(this.stagingDatasetName)} CASCADE`);
        await tx.execute(`DROP SCHEMA IF EXISTS ${this.dialect.qualifySchema(this.datasetName)} CASCADE`);
      }),
    );
    this.defaultSchemaSet = false;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    await this.ensureDefaultSchema();
    return this.sql.query<T>(sql, params);
  }

  datasetReader(): DatasetReader {
    return new SqlDatasetReader(this.sql, this.dialect, this.datasetName, (sql, params) => this.query(sql, params), () => this.ensureDefaultSchema());
  }

  /** Maps driver errors outside job loading to DestinationError (retryable when transient). */
  protected async wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof HaulError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new DestinationError(this.destinationName, `${what} in dataset "${this.datasetName}" failed: ${msg}`, {
        cause: err,
        retryable: this.dialect.isTransientError(err),
      });
    }
  }
}
