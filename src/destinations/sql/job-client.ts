import { DestinationError, HaulError, LoadJobFailedError } from '../../errors.js';
import type { Schema } from '../../schema/schema.js';
import { shortenIdentifier } from '../../schema/shorten.js';
import { C_DLT_ID, C_DLT_ROOT_ID, JOBS_TABLE, LOADS_TABLE, STATE_TABLE, VERSION_TABLE } from '../../schema/system.js';
import type { ColumnSchema, StoredSchema, TableSchema } from '../../schema/types.js';
import type {
  DestinationCapabilities,
  DestinationClient,
  JobFile,
  StoredStateRow,
  TableChainJob,
} from '../types.js';
import type { SqlClient, SqlDialect, SqlExecutor, TableRef } from './dialect.js';
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
  sql: SqlClient;
  dialect: SqlDialect;
}

/** Carries which job file a failure came from up to the transaction boundary. */
class JobFileFailure extends Error {
  constructor(readonly job: JobFile, readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

/**
 * The destination client shared by every SQL destination: schema migration, system tables,
 * exactly-once job markers and the append / replace / merge write dispositions. A destination
 * supplies only its `SqlClient` (connection) and `SqlDialect` (quoting, types, bulk load).
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
  private defaultSchemaSet = false;

  constructor(opts: SqlJobClientOptions) {
    this.destinationName = opts.destinationName;
    this.capabilities = opts.capabilities;
    this.displayLocation = opts.displayLocation;
    // Names longer than the database allows are shortened as dlt shortens them.
    const max = opts.capabilities.maxIdentifierLength;
    this.datasetName = shortenIdentifier(opts.datasetName, opts.datasetName, max);
    this.stagingDatasetName = shortenIdentifier(`${opts.datasetName}_staging`, `${opts.datasetName}_staging`, max);
    this.sql = opts.sql;
    this.dialect = opts.dialect;
  }

  async open(): Promise<void> {
    await this.sql.open();
  }

  async close(): Promise<void> {
    this.defaultSchemaSet = false;
    await this.sql.close();
  }

  // ---------------------------------------------------------------- naming helpers

  protected ref(table: string, staging = false): TableRef {
    return { schema: staging ? this.stagingDatasetName : this.datasetName, table };
  }

  /** Qualified, quoted table name in the dataset (or its staging dataset). */
  protected t(table: string, staging = false): string {
    return this.dialect.qualify(this.ref(table, staging));
  }

  protected q(identifier: string): string {
    return this.dialect.quoteIdentifier(identifier);
  }

  private fold(name: string): string {
    return this.dialect.caseInsensitiveIdentifiers ? name.toLowerCase() : name;
  }

  private cast(param: number, column: ColumnSchema): string {
    return `CAST($${param} AS ${this.dialect.columnType(column)})`;
  }

  // ---------------------------------------------------------------- catalog

  private async schemaExists(ex: SqlExecutor, schemaName: string): Promise<boolean> {
    const rows = await ex.query(
      'SELECT schema_name FROM information_schema.schemata WHERE schema_name = $1',
      [schemaName],
    );
    return rows.length > 0;
  }

  /** Tables of a schema (folded names when the database ignores case). */
  private async tableNames(ex: SqlExecutor, schemaName: string): Promise<Set<string>> {
    const rows = await ex.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schemaName],
    );
    return new Set(rows.map((r) => this.fold(r.table_name)));
  }

  private async tableExists(ex: SqlExecutor, table: string): Promise<boolean> {
    return (await this.tableNames(ex, this.datasetName)).has(this.fold(table));
  }

  /** Existing columns per table of the dataset, read from information_schema. */
  private async existingColumns(ex: SqlExecutor): Promise<Map<string, Set<string>>> {
    const rows = await ex.query<{ table_name: string; column_name: string }>(
      'SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1',
      [this.datasetName],
    );
    const out = new Map<string, Set<string>>();
    for (const r of rows) {
      const key = this.fold(r.table_name);
      let set = out.get(key);
      if (!set) out.set(key, (set = new Set()));
      set.add(this.fold(r.column_name));
    }
    return out;
  }

  private columnDef(c: ColumnSchema, withNotNull: boolean): string {
    return `${this.q(c.name)} ${this.dialect.columnType(c)}${withNotNull && c.nullable === false ? ' NOT NULL' : ''}`;
  }

  private async createSchemaIfMissing(ex: SqlExecutor, schemaName: string): Promise<void> {
    if (!(await this.schemaExists(ex, schemaName))) {
      await ex.execute(`CREATE SCHEMA IF NOT EXISTS ${this.q(schemaName)}`);
    }
  }

  /**
   * Creates missing tables and adds missing columns (never drops or changes a column).
   * Columns added to an existing table are always nullable: old rows have no value.
   * Tables without columns are skipped (nothing to create yet). Returns changed table names.
   */
  private async migrateTables(ex: SqlExecutor, tables: TableSchema[]): Promise<string[]> {
    const existing = await this.existingColumns(ex);
    const changed: string[] = [];
    for (const table of tables) {
      const cols = Object.values(table.columns).filter((c) => !c.incomplete);
      if (cols.length === 0) continue;
      const have = existing.get(this.fold(table.name));
      if (!have) {
        await ex.execute(
          `CREATE TABLE ${this.t(table.name)} (${cols.map((c) => this.columnDef(c, true)).join(', ')})`,
        );
        existing.set(this.fold(table.name), new Set(cols.map((c) => this.fold(c.name))));
        changed.push(table.name);
        continue;
      }
      let altered = false;
      for (const c of cols) {
        if (have.has(this.fold(c.name))) continue;
        await ex.execute(`ALTER TABLE ${this.t(table.name)} ADD COLUMN ${this.columnDef(c, false)}`);
        have.add(this.fold(c.name));
        altered = true;
      }
      if (altered) changed.push(table.name);
    }
    return changed;
  }

  private async ensureDefaultSchema(): Promise<void> {
    if (this.defaultSchemaSet) return;
    if (await this.schemaExists(this.sql, this.datasetName)) {
      await this.sql.setDefaultSchema(this.datasetName);
      this.defaultSchemaSet = true;
    }
  }

  // ---------------------------------------------------------------- storage

  async initializeStorage(): Promise<void> {
    await this.wrap('initializing storage', () =>
      this.sql.transaction(async (tx) => {
        await this.createSchemaIfMissing(tx, this.datasetName);
        await this.migrateTables(tx, [...DESTINATION_SYSTEM_TABLES, STATE_TABLE_SCHEMA]);
      }),
    );
    await this.ensureDefaultSchema();
  }

  async isStorageInitialized(): Promise<boolean> {
    return this.wrap('checking storage', async () => {
      const names = await this.tableNames(this.sql, this.datasetName);
      return names.has(this.fold(LOADS_TABLE)) && names.has(this.fold(VERSION_TABLE));
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
        await this.createSchemaIfMissing(tx, this.datasetName);
        const systemTables: TableSchema[] = [...DESTINATION_SYSTEM_TABLES];
        if (!selected.some((t) => t.name === STATE_TABLE)) systemTables.push(STATE_TABLE_SCHEMA);
        await this.migrateTables(tx, systemTables);
        const changed = await this.migrateTables(tx, selected);
        const v = VERSION_TABLE_SCHEMA.columns;
        await tx.execute(
          `INSERT INTO ${this.t(VERSION_TABLE)} (${this.q('version')}, ${this.q('engine_version')}, ${this.q('inserted_at')}, ${this.q('schema_name')}, ${this.q('version_hash')}, ${this.q('schema')}) ` +
            `SELECT ${this.cast(1, v.version)}, ${this.cast(2, v.engine_version)}, ${this.dialect.nowExpression}, ${this.cast(3, v.schema_name)}, ${this.cast(4, v.version_hash)}, ${this.cast(5, v.schema)} ` +
            `WHERE NOT EXISTS (SELECT 1 FROM ${this.t(VERSION_TABLE)} WHERE ${this.q('version_hash')} = ${this.cast(4, v.version_hash)} AND ${this.q('schema_name')} = ${this.cast(3, v.schema_name)})`,
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
      if (!(await this.tableExists(this.sql, VERSION_TABLE))) return [];
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
      const names = await this.tableNames(this.sql, this.datasetName);
      if (!names.has(this.fold(STATE_TABLE)) || !names.has(this.fold(LOADS_TABLE))) return [];
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
    return {
      version: Number(r.version),
      engineVersion: Number(r.engine_version),
      pipelineName: String(r.pipeline_name),
      state: String(r.state),
      createdAt: r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at)),
      versionHash: r.version_hash == null ? '' : String(r.version_hash),
      loadId: String(r.load_id),
    };
  }

  // ---------------------------------------------------------------- jobs

  async completedJobs(loadId: string): Promise<Set<string>> {
    return this.wrap('reading job markers', async () => {
      if (!(await this.tableExists(this.sql, JOBS_TABLE))) return new Set<string>();
      const rows = await this.sql.query<{ job_name: string }>(
        `SELECT ${this.q('job_name')} AS job_name FROM ${this.t(JOBS_TABLE)} WHERE ${this.q('load_id')} = $1`,
        [loadId],
      );
      return new Set(rows.map((r) => String(r.job_name)));
    });
  }

  private async markersOf(tx: SqlExecutor, loadId: string): Promise<Set<string>> {
    const rows = await tx.query<{ job_name: string }>(
      `SELECT ${this.q('job_name')} AS job_name FROM ${this.t(JOBS_TABLE)} WHERE ${this.q('load_id')} = $1`,
      [loadId],
    );
    return new Set(rows.map((r) => String(r.job_name)));
  }

  private async insertMarkers(tx: SqlExecutor, loadId: string, jobs: JobFile[]): Promise<void> {
    for (const job of jobs) {
      await tx.execute(
        `INSERT INTO ${this.t(JOBS_TABLE)} (${this.q('load_id')}, ${this.q('job_name')}, ${this.q('inserted_at')}) ` +
          `VALUES ($1, $2, ${this.dialect.nowExpression})`,
        [loadId, job.jobName],
      );
    }
  }

  private columnsOf(schema: Schema, table: string): ColumnSchema[] {
    const t = schema.getTable(table);
    // Incomplete columns are hints no data has filled yet: they do not exist at the destination.
    return t ? Object.values(t.columns).filter((c) => !c.incomplete) : [];
  }

  /** Bulk-loads one job file; failures carry the job so the error can name it. */
  private async loadFile(tx: SqlExecutor, target: TableRef, columns: ColumnSchema[], job: JobFile): Promise<number> {
    try {
      return await this.dialect.bulkLoadJsonl(tx, target, columns, job.path, { maxLineBytes: job.maxLineBytes });
    } catch (err) {
      throw new JobFileFailure(job, err);
    }
  }

  async loadAppendJob(loadId: string, schema: Schema, job: JobFile): Promise<void> {
    const columns = this.columnsOf(schema, job.table);
    if (columns.length === 0) {
      throw new LoadJobFailedError(loadId, job.jobName, job.table, new Error(`table "${job.table}" has no columns in schema "${schema.name}"`));
    }
    await this.runJobs(loadId, job.table, [job], async (tx) => {
      const done = await this.markersOf(tx, loadId);
      if (done.has(job.jobName)) return; // committed before (e.g. crash after commit): never twice
      await this.loadFile(tx, this.ref(job.table), columns, job);
      await this.insertMarkers(tx, loadId, [job]);
    });
  }

  async loadTableChain(loadId: string, schema: Schema, chain: TableChainJob): Promise<void> {
    const root = chain.tables[0];
    if (root === undefined) throw new DestinationError(this.destinationName, 'table chain without tables');
    const inChain = new Set(chain.tables);
    for (const f of chain.files) {
      if (!inChain.has(f.table)) {
        throw new LoadJobFailedError(loadId, f.jobName, f.table, new Error(`table "${f.table}" is not in the chain of "${root}" (${chain.tables.join(', ')})`));
      }
      if (this.columnsOf(schema, f.table).length === 0) {
        throw new LoadJobFailedError(loadId, f.jobName, f.table, new Error(`table "${f.table}" has no columns in schema "${schema.name}"`));
      }
    }
    // Tables that exist (have columns) in the schema; the others were never created.
    const tables = chain.tables.filter((n) => this.columnsOf(schema, n).length > 0);

    if (chain.disposition === 'merge') {
      const plan = this.mergePlan(schema, root, tables);
      if (plan.keyed) {
        await this.wrap('creating the staging dataset', async () => {
          if (!(await this.schemaExists(this.sql, this.stagingDatasetName))) {
            await this.sql.execute(`CREATE SCHEMA IF NOT EXISTS ${this.q(this.stagingDatasetName)}`);
          }
        });
      }
      await this.runJobs(loadId, root, chain.files, async (tx) => {
        if (await this.chainCommitted(tx, loadId, chain)) return;
        if (plan.keyed) await this.mergeChain(tx, schema, plan, tables, chain.files);
        else for (const f of chain.files) await this.loadFile(tx, this.ref(f.table), this.columnsOf(schema, f.table), f);
        await this.insertMarkers(tx, loadId, chain.files);
      });
      return;
    }

    await this.runJobs(loadId, root, chain.files, async (tx) => {
      if (await this.chainCommitted(tx, loadId, chain)) return;
      const existing = await this.tableNames(tx, this.datasetName);
      for (const name of chain.tables) {
        if (existing.has(this.fold(name))) await tx.execute(`DELETE FROM ${this.t(name)}`);
      }
      for (const f of chain.files) await this.loadFile(tx, this.ref(f.table), this.columnsOf(schema, f.table), f);
      await this.insertMarkers(tx, loadId, chain.files);
    });
  }

  /** A chain commits all its markers at once, so one marker means the whole chain is done. */
  private async chainCommitted(tx: SqlExecutor, loadId: string, chain: TableChainJob): Promise<boolean> {
    if (chain.files.length === 0) return false;
    const done = await this.markersOf(tx, loadId);
    return chain.files.some((f) => done.has(f.jobName));
  }

  private mergePlan(schema: Schema, root: string, tables: string[]): MergePlan {
    const rootTable = schema.getTable(root);
    const rootCols = rootTable ? Object.values(rootTable.columns).filter((c) => !c.incomplete) : [];
    const primaryKey = rootCols.filter((c) => c.primaryKey).map((c) => c.name);
    const mergeKey = rootCols.filter((c) => c.mergeKey).map((c) => c.name);
    const keyed = primaryKey.length > 0 || mergeKey.length > 0;
    const rowKey = rootCols.find((c) => c.rowKey)?.name ?? (rootTable?.columns[C_DLT_ID] ? C_DLT_ID : undefined);
    const children: Array<{ table: string; rootKey: string }> = [];
    for (const name of tables) {
      if (name === root) continue;
      const t = schema.getTable(name);
      if (!t) continue;
      const cols = Object.values(t.columns);
      const rootKey =
        cols.find((c) => c.rootKey)?.name ??
        (t.columns[C_DLT_ROOT_ID] ? C_DLT_ROOT_ID : undefined) ??
        (t.parent === root ? cols.find((c) => c.parentKey)?.name : undefined);
      if (keyed && rootKey === undefined) {
        throw new DestinationError(
          this.destinationName,
          `merge into "${root}": nested table "${name}" has no ${C_DLT_ROOT_ID} column, so its rows cannot be matched to their root rows; ` +
            'normalize merge tables with root keys',
        );
      }
      children.push({ table: name, rootKey: rootKey ?? C_DLT_ROOT_ID });
    }
    if (keyed && children.length > 0 && rowKey === undefined) {
      throw new DestinationError(this.destinationName, `merge into "${root}": the root table has no ${C_DLT_ID} column to link nested rows`);
    }
    return { root, primaryKey, mergeKey, keyed, rowKey: rowKey ?? C_DLT_ID, children };
  }

  /**
   * delete-insert, as dlt does it: stage the files, keep the last row per primary key, delete
   * destination rows matching a staged key (primary or merge key) together with their nested
   * rows, then insert the staged rows. Runs inside the caller's transaction.
   */
  private async mergeChain(
    tx: SqlExecutor,
    schema: Schema,
    plan: MergePlan,
    tables: string[],
    files: JobFile[],
  ): Promise<void> {
    const d = this.dialect;
    const colList = (table: string, prefix = '') =>
      this.columnsOf(schema, table).map((c) => `${prefix}${this.q(c.name)}`).join(', ');

    // 1. staging tables, fresh for this chain
    for (const name of tables) {
      const defs = this.columnsOf(schema, name).map((c) => this.columnDef(c, false));
      if (name === plan.root) defs.push(...d.stagingExtraColumns());
      await tx.execute(`DROP TABLE IF EXISTS ${this.t(name, true)}`);
      await tx.execute(`CREATE TABLE ${this.t(name, true)} (${defs.join(', ')})`);
    }
    for (const f of files) await this.loadFile(tx, this.ref(f.table, true), this.columnsOf(schema, f.table), f);

    const sRoot = this.t(plan.root, true);
    const dRoot = this.t(plan.root);
    const pk = plan.primaryKey.map((c) => this.q(c));
    const mk = plan.mergeKey.map((c) => this.q(c));

    // 2. keep the last staged row per primary key
    if (pk.length > 0) {
      await tx.execute(
        `DELETE FROM ${sRoot} AS s0 WHERE ${d.stagingOrderBy('s0')} IN (` +
          `SELECT q._haul_o FROM (SELECT ${d.stagingOrderBy('s')} AS _haul_o, ROW_NUMBER() OVER (` +
          `PARTITION BY ${pk.map((c) => `s.${c}`).join(', ')} ORDER BY ${d.stagingOrderBy('s')} DESC) AS _haul_rn ` +
          `FROM ${sRoot} AS s) AS q WHERE q._haul_rn > 1)`,
      );
    }

    // 3. delete destination rows (nested first) whose key is staged
    const conds: string[] = [];
    if (pk.length > 0) conds.push(`(${pk.map((c) => `d.${c} = s.${c}`).join(' AND ')})`);
    if (mk.length > 0) conds.push(`(${mk.map((c) => `d.${c} = s.${c}`).join(' AND ')})`);
    const matched = `EXISTS (SELECT 1 FROM ${sRoot} AS s WHERE ${conds.join(' OR ')})`;
    const existing = await this.tableNames(tx, this.datasetName);
    for (const child of plan.children) {
      if (!existing.has(this.fold(child.table))) continue;
      await tx.execute(
        `DELETE FROM ${this.t(child.table)} WHERE ${this.q(child.rootKey)} IN (` +
          `SELECT d.${this.q(plan.rowKey)} FROM ${dRoot} AS d WHERE ${matched})`,
      );
    }
    await tx.execute(`DELETE FROM ${dRoot} AS d WHERE ${matched}`);

    // 4. insert staged rows: roots, then nested rows of the kept roots
    await tx.execute(`INSERT INTO ${dRoot} (${colList(plan.root)}) SELECT ${colList(plan.root)} FROM ${sRoot}`);
    for (const child of plan.children) {
      const only =
        pk.length > 0
          ? ` AS c WHERE c.${this.q(child.rootKey)} IN (SELECT r.${this.q(plan.rowKey)} FROM ${sRoot} AS r)`
          : '';
      await tx.execute(
        `INSERT INTO ${this.t(child.table)} (${colList(child.table)}) SELECT ${colList(child.table, pk.length > 0 ? 'c.' : '')} FROM ${this.t(child.table, true)}${only}`,
      );
    }

    // 5. staging tables are scratch space for this transaction only
    for (const name of tables) await tx.execute(`DROP TABLE IF EXISTS ${this.t(name, true)}`);
  }

  /**
   * Runs job work in one transaction and turns failures into typed errors: a failure of the
   * data (bad file, constraint, conversion) is a terminal LoadJobFailedError naming the file;
   * a transient one (lock, conflict, connection) is a retryable DestinationError.
   */
  private async runJobs(loadId: string, table: string, jobs: JobFile[], fn: (tx: SqlExecutor) => Promise<void>): Promise<void> {
    try {
      await this.sql.transaction(fn);
    } catch (err) {
      const job = err instanceof JobFileFailure ? err.job : undefined;
      const original = err instanceof JobFileFailure ? err.original : err;
      if (original instanceof HaulError) throw original;
      const msg = original instanceof Error ? original.message : String(original);
      const what = job
        ? `${job.jobName} (${job.path})`
        : jobs.length > 0
          ? jobs.map((j) => j.jobName).join(', ')
          : `table chain of "${table}"`;
      if (this.dialect.isTransientError(original)) {
        throw new DestinationError(this.destinationName, `load ${loadId}: job ${what} failed, and may succeed when retried: ${msg}`, {
          cause: original,
          retryable: true,
        });
      }
      const cause = job ? new Error(`${job.path}: ${msg}`, { cause: original }) : original;
      throw new LoadJobFailedError(loadId, job ? job.jobName : what, job ? job.table : table, cause);
    }
  }

  async completeLoad(loadId: string, schemaName: string, schemaVersionHash: string): Promise<void> {
    const l = LOADS_TABLE_SCHEMA.columns;
    await this.wrap(`completing load ${loadId}`, () =>
      this.sql.transaction(async (tx) => {
        await tx.execute(
          `INSERT INTO ${this.t(LOADS_TABLE)} (${this.q('load_id')}, ${this.q('schema_name')}, ${this.q('status')}, ${this.q('inserted_at')}, ${this.q('schema_version_hash')}) ` +
            `SELECT ${this.cast(1, l.load_id)}, ${this.cast(2, l.schema_name)}, 0, ${this.dialect.nowExpression}, ${this.cast(3, l.schema_version_hash)} ` +
            `WHERE NOT EXISTS (SELECT 1 FROM ${this.t(LOADS_TABLE)} WHERE ${this.q('load_id')} = ${this.cast(1, l.load_id)})`,
          [loadId, schemaName, schemaVersionHash],
        );
        await tx.execute(`DELETE FROM ${this.t(JOBS_TABLE)} WHERE ${this.q('load_id')} = $1`, [loadId]);
      }),
    );
  }

  async isLoadCompleted(loadId: string): Promise<boolean> {
    return this.wrap('reading completed loads', async () => {
      if (!(await this.tableExists(this.sql, LOADS_TABLE))) return false;
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
        const existing = await this.tableNames(tx, this.datasetName);
        for (const name of tables) {
          if (existing.has(this.fold(name))) await tx.execute(`DELETE FROM ${this.t(name)}`);
        }
      }),
    );
  }

  async dropTables(tables: string[]): Promise<void> {
    await this.wrap('dropping tables', () =>
      this.sql.transaction(async (tx) => {
        const staging = await this.schemaExists(tx, this.stagingDatasetName);
        for (const name of tables) {
          await tx.execute(`DROP TABLE IF EXISTS ${this.t(name)}`);
          if (staging) await tx.execute(`DROP TABLE IF EXISTS ${this.t(name, true)}`);
        }
      }),
    );
  }

  async listTables(): Promise<string[]> {
    return this.wrap('listing tables', async () => [...(await this.tableNames(this.sql, this.datasetName))].sort());
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
        await tx.execute(`DROP SCHEMA IF EXISTS ${this.q(this.stagingDatasetName)} CASCADE`);
        await tx.execute(`DROP SCHEMA IF EXISTS ${this.q(this.datasetName)} CASCADE`);
      }),
    );
    this.defaultSchemaSet = false;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    await this.ensureDefaultSchema();
    return this.sql.query<T>(sql, params);
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

interface MergePlan {
  root: string;
  primaryKey: string[];
  mergeKey: string[];
  /** false: no primary or merge key, the chain is appended. */
  keyed: boolean;
  /** The root's `_dlt_id` column that nested rows point to. */
  rowKey: string;
  children: Array<{ table: string; rootKey: string }>;
}
