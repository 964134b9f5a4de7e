import { DestinationError, HaulError, LoadJobFailedError } from '../../errors.js';
import type { Schema } from '../../schema/schema.js';
import { JOBS_TABLE } from '../../schema/system.js';
import type { ColumnSchema } from '../../schema/types.js';
import type { JobFile, TableChainJob } from '../types.js';
import { columnsOf, type SqlCatalog } from './catalog.js';
import type { SqlClient, SqlDialect, SqlExecutor, TableRef } from './dialect.js';
import type { ReplaceStrategy } from '../../schema/types.js';
import { configuredReplaceStrategy } from './replace-strategy.js';
import { deleteInsert, dropAppendedDeleteMarkers, MergeContext, mergePlan, type MergePlan } from './merge.js';
import { scd2 } from './merge-scd2.js';
import { insertOnly, upsert } from './merge-upsert.js';

/*
 * Loading jobs into a SQL dataset, exactly once: every job (append) or table chain
 * (replace, merge) runs in one transaction that also inserts its `_haul_jobs` markers, and
 * does nothing when a marker of it is already there (committed before a crash).
 */

/** Carries which job file a failure came from up to the transaction boundary. */
class JobFileFailure extends Error {
  constructor(readonly job: JobFile, readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

export class SqlJobLoader {
  constructor(
    private readonly destinationName: string,
    private readonly sql: SqlClient,
    private readonly dialect: SqlDialect,
    private readonly catalog: SqlCatalog,
    /** Maps failures outside job transactions to typed errors (SqlJobClient.wrap). */
    private readonly wrap: <T>(what: string, fn: () => Promise<T>) => Promise<T>,
  ) {}

  /** Names of the jobs of a load whose markers exist. */
  async markersOf(ex: SqlExecutor, loadId: string): Promise<Set<string>> {
    const c = this.catalog;
    const rows = await ex.query<{ job_name: string }>(
      `SELECT ${c.q('job_name')} AS job_name FROM ${c.t(JOBS_TABLE)} WHERE ${c.q('load_id')} = $1`,
      [loadId],
    );
    return new Set(rows.map((r) => String(r.job_name)));
  }

  private async insertMarkers(tx: SqlExecutor, loadId: string, jobs: JobFile[]): Promise<void> {
    const c = this.catalog;
    for (const job of jobs) {
      await tx.execute(
        `INSERT INTO ${c.t(JOBS_TABLE)} (${c.q('load_id')}, ${c.q('job_name')}, ${c.q('inserted_at')}) ` +
          `VALUES ($1, $2, ${this.dialect.nowExpression})`,
        [loadId, job.jobName],
      );
    }
  }

  /** Bulk-loads one job file; failures carry the job so the error can name it. */
  private readonly loadFile = async (tx: SqlExecutor, target: TableRef, columns: ColumnSchema[], job: JobFile): Promise<number> => {
    try {
      return await this.dialect.bulkLoadFile(tx, target, columns, job.path, job.format, { maxLineBytes: job.maxLineBytes });
    } catch (err) {
      throw new JobFileFailure(job, err);
    }
  };

  async loadAppendJob(loadId: string, schema: Schema, job: JobFile): Promise<void> {
    await this.loadAppendJobs(loadId, schema, [job]);
  }

  /**
   * Appends files of one table in one transaction with all their markers: one statement
   * when the dialect reads several files at once (bulkLoadFiles), else file by file. A file
   * whose marker exists committed before (e.g. a crash after commit) and is skipped.
   */
  async loadAppendJobs(loadId: string, schema: Schema, jobs: JobFile[]): Promise<void> {
    const [first] = jobs;
    if (first === undefined) return;
    if (jobs.some((j) => j.table !== first.table || j.format !== first.format)) {
      for (const job of jobs) await this.loadAppendJobs(loadId, schema, [job]);
      return;
    }
    const columns = columnsOf(schema, first.table);
    if (columns.length === 0) {
      throw new LoadJobFailedError(loadId, first.jobName, first.table, new Error(`table "${first.table}" has no columns in schema "${schema.name}"`));
    }
    const target = this.catalog.ref(first.table);
    await this.runJobs(loadId, first.table, jobs, async (tx) => {
      const done = await this.markersOf(tx, loadId);
      const todo = jobs.filter((j) => !done.has(j.jobName));
      if (todo.length > 1 && this.dialect.bulkLoadFiles) {
        const maxLineBytes = Math.max(0, ...todo.map((j) => j.maxLineBytes ?? 0)) || undefined;
        await this.dialect.bulkLoadFiles(tx, target, columns, todo.map((j) => j.path), first.format, { maxLineBytes });
      } else {
        // one by one, so a failure names its file
        for (const job of todo) await this.loadFile(tx, target, columns, job);
      }
      await this.insertMarkers(tx, loadId, todo);
    });
  }

  async loadTableChain(loadId: string, schema: Schema, chain: TableChainJob): Promise<void> {
    const c = this.catalog;
    const root = chain.tables[0];
    if (root === undefined) throw new DestinationError(this.destinationName, 'table chain without tables');
    const inChain = new Set(chain.tables);
    for (const f of chain.files) {
      if (!inChain.has(f.table)) {
        throw new LoadJobFailedError(loadId, f.jobName, f.table, new Error(`table "${f.table}" is not in the chain of "${root}" (${chain.tables.join(', ')})`));
      }
      if (columnsOf(schema, f.table).length === 0) {
        throw new LoadJobFailedError(loadId, f.jobName, f.table, new Error(`table "${f.table}" has no columns in schema "${schema.name}"`));
      }
    }
    // Tables that exist (have columns) in the schema; the others were never created.
    const tables = chain.tables.filter((n) => columnsOf(schema, n).length > 0);

    if (chain.disposition === 'merge') {
      const plan = mergePlan(this.destinationName, schema, root, tables);
      if (plan.keyed) await this.ensureStagingDataset();
      await this.runJobs(loadId, root, chain.files, async (tx) => {
        if (await this.chainCommitted(tx, loadId, chain)) return;
        if (plan.keyed) await this.mergeStaged(tx, schema, plan, tables, chain);
        else {
          for (const f of chain.files) await this.loadFile(tx, c.ref(f.table), columnsOf(schema, f.table), f);
          await dropAppendedDeleteMarkers(tx, c, schema, plan, loadId);
        }
        await this.insertMarkers(tx, loadId, chain.files);
      });
      return;
    }

    const strategy = this.replaceStrategy();
    if (strategy !== 'truncate-and-insert') await this.ensureStagingDataset();
    await this.runJobs(loadId, root, chain.files, async (tx) => {
      if (await this.chainCommitted(tx, loadId, chain)) return;
      const existing = await c.tableNames(tx, c.datasetName);
      if (strategy === 'truncate-and-insert') {
        for (const name of chain.tables) {
          if (existing.has(c.fold(name))) await tx.execute(`DELETE FROM ${c.t(name)}`);
        }
        for (const f of chain.files) await this.loadFile(tx, c.ref(f.table), columnsOf(schema, f.table), f);
      } else {
        // insert-from-staging / staging-optimized: the files land in staging first, so a bad
        // file fails before the live tables are touched; then one swap of the rows
        const m = new MergeContext(tx, c, this.dialect, schema, mergePlan(this.destinationName, schema, root, []), tables);
        await m.stage(chain.files, this.loadFile);
        for (const name of chain.tables) {
          if (existing.has(c.fold(name))) await tx.execute(`DELETE FROM ${c.t(name)}`);
        }
        for (const name of tables) await tx.execute(`INSERT INTO ${c.t(name)} (${m.cols(name)}) SELECT ${m.cols(name)} FROM ${c.t(name, true)}`);
        await m.dropStaging();
      }
      await this.insertMarkers(tx, loadId, chain.files);
    });
  }

  /** dlt's `destination.replace_strategy` (also `destination.<name>.replace_strategy`), read per chain. */
  private replaceStrategy(): ReplaceStrategy {
    return configuredReplaceStrategy(this.destinationName);
  }

  private async ensureStagingDataset(): Promise<void> {
    const c = this.catalog;
    await this.wrap('creating the staging dataset', async () => {
      if (!(await c.schemaExists(this.sql, c.stagingDatasetName))) {
        await this.sql.execute(`CREATE SCHEMA IF NOT EXISTS ${this.dialect.qualifySchema(c.stagingDatasetName)}`);
      }
    });
  }

  /** Stages the chain's files and merges them with the table's strategy, in the chain's transaction. */
  private async mergeStaged(tx: SqlExecutor, schema: Schema, plan: MergePlan, tables: string[], chain: TableChainJob): Promise<void> {
    const m = new MergeContext(tx, this.catalog, this.dialect, schema, plan, tables);
    await m.stage(chain.files, this.loadFile);
    if (plan.strategy === 'upsert') await upsert(m, this.destinationName);
    else if (plan.strategy === 'insert-only') await insertOnly(m);
    else if (plan.strategy === 'scd2') {
      if (!plan.scd2) throw new DestinationError(this.destinationName, `merge into "${plan.root}": strategy scd2 without its settings in the schema`);
      await scd2(m, plan.scd2.boundaryTimestamp ?? chain.createdAt ?? new Date().toISOString());
    } else await deleteInsert(m);
    await m.dropStaging();
  }

  /** A chain commits all its markers at once, so one marker means the whole chain is done. */
  private async chainCommitted(tx: SqlExecutor, loadId: string, chain: TableChainJob): Promise<boolean> {
    if (chain.files.length === 0) return false;
    const done = await this.markersOf(tx, loadId);
    return chain.files.some((f) => done.has(f.jobName));
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
}
