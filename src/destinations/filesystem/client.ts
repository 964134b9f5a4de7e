import { readFile } from 'node:fs/promises';
import { faultPoint } from '../../common/faults.js';
import { DestinationError, DestinationUnreachableError, HaulError, InvalidOptionsError, LoadJobFailedError } from '../../errors.js';
import { destinationDatasetName } from '../dataset-name.js';
import type { Schema } from '../../schema/schema.js';
import { LOADS_TABLE, STATE_TABLE, VERSION_TABLE } from '../../schema/system.js';
import type { ColumnSchema, StoredSchema } from '../../schema/types.js';
import { parseJobName } from '../../storage/job-name.js';
import { SqlDatasetReader } from '../sql/dataset-reader.js';
import { LOADS_TABLE_SCHEMA, STATE_TABLE_SCHEMA, VERSION_TABLE_SCHEMA } from '../sql/system-tables.js';
import { storedStateRow, type DatasetReader, type DestinationCapabilities, type DestinationClient, type JobFile, type StoredStateRow, type TableChainJob } from '../types.js';
import type { Layout } from './layout.js';
import { joinPath, type FileStorage } from '../../common/file-storage.js';
import {
  INIT_FILE,
  JOB_MARKERS_DIR,
  isDataFile,
  doneFile,
  intentFile,
  jobMarkerDir,
  loadFile,
  loadIdOfLoadFile,
  parseStateFileName,
  stateFile,
  versionFile,
} from './system-files.js';
import { FilesystemViews } from './views.js';

export interface FilesystemClientOptions {
  storage: FileStorage;
  layout: Layout;
  datasetName: string;
  pipelineName: string;
  capabilities: DestinationCapabilities;
  /** State files kept per pipeline (dlt's `max_state_files`, default 100; 0 or less keeps all). */
  maxStateFiles?: number;
  /** dlt's enable_dataset_name_normalization (default true). */
  normalizeDatasetName?: boolean;
}

export const DEFAULT_MAX_STATE_FILES = 100;

/** File system errors that may pass when tried again. */
const TRANSIENT_CODES = new Set(['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'ECONNRESET', 'EINTR']);
const isTransient = (err: unknown) => TRANSIENT_CODES.has((err as NodeJS.ErrnoException)?.code ?? '');

/**
 * The filesystem destination: each table is a folder of job files under `<bucket>/<dataset>/`,
 * named by the layout. No transactions, so exactly-once comes from the files themselves:
 * - a job's path is chosen once and remembered (`_haul_jobs/<load_id>/<job>.path`), so a job
 *   written again after a crash replaces its own file, even when the layout holds a time;
 * - the file is written under a temp name and renamed (never seen half-written);
 * - `<job>.done` records it; `_dlt_loads/<schema>__<load_id>.jsonl` completes the load and the
 *   markers go.
 */
export class FilesystemClient implements DestinationClient {
  readonly destinationName = 'filesystem';
  readonly capabilities: DestinationCapabilities;
  readonly displayLocation: string;
  readonly datasetName: string;
  private readonly storage: FileStorage;
  private readonly layout: Layout;
  private readonly pipelineName: string;
  private readonly maxStateFiles: number;
  private views: FilesystemViews | undefined;

  constructor(opts: FilesystemClientOptions) {
    if (/[/\\\u0000]/.test(opts.datasetName) || opts.datasetName === '.' || opts.datasetName === '..' || opts.datasetName === '') {
      throw new InvalidOptionsError('datasetName', `${JSON.stringify(opts.datasetName)} cannot be a folder name in the filesystem destination's bucket; use a name without / or \\`);
    }
    this.storage = opts.storage;
    this.layout = opts.layout;
    // named by the naming convention, as dlt normalizes dataset_name (`Analytics` is the folder `analytics`)
    this.datasetName = destinationDatasetName(opts.datasetName, opts.normalizeDatasetName ?? true, undefined);
    this.pipelineName = opts.pipelineName;
    this.maxStateFiles = opts.maxStateFiles ?? DEFAULT_MAX_STATE_FILES;
    this.capabilities = opts.capabilities;
    this.displayLocation = opts.storage.location;
  }

  private get dir(): string {
    return this.datasetName;
  }

  async open(): Promise<void> {
    // the bucket itself must be a folder we can reach; the dataset folder is made on demand
    try {
      await this.storage.listDirs('');
    } catch (err) {
      throw new DestinationUnreachableError('filesystem', this.storage.location, err);
    }
  }

  async close(): Promise<void> {
    const v = this.views;
    this.views = undefined;
    if (v) await v.close();
  }

  // ---------------------------------------------------------------- storage and schema

  async initializeStorage(): Promise<void> {
    await this.wrap('initializing storage', async () => {
      for (const t of [LOADS_TABLE, VERSION_TABLE, STATE_TABLE]) await this.makeTableDir(t);
      const init = joinPath(this.dir, INIT_FILE);
      if (!(await this.storage.exists(init))) await this.storage.writeAtomic(init, '');
    });
  }

  /** A table folder with dlt's `init` marker in it. */
  private async makeTableDir(table: string): Promise<void> {
    const init = joinPath(this.dir, table, INIT_FILE);
    if (!(await this.storage.exists(init))) await this.storage.writeAtomic(init, '');
  }

  /** The files of a table folder (not its `init` marker). */
  private async tableFiles(table: string): Promise<string[]> {
    return (await this.storage.listFiles(joinPath(this.dir, table))).filter(isDataFile);
  }

  async isStorageInitialized(): Promise<boolean> {
    return this.wrap('checking storage', () => this.storage.exists(joinPath(this.dir, INIT_FILE)));
  }

  async updateStoredSchema(schema: Schema, tables?: string[]): Promise<string[]> {
    return this.wrap('updating the stored schema', async () => {
      await this.initializeStorage();
      const names = tables ?? Object.keys(schema.tables);
      const existing = new Set(await this.storage.listDirs(this.dir));
      const before = await this.getStoredSchema(schema.name);
      const changed: string[] = [];
      for (const name of names) {
        if (name === LOADS_TABLE || name === VERSION_TABLE) continue;
        const t = schema.getTable(name);
        if (!t) throw new DestinationError(this.destinationName, `table "${name}" is not in schema "${schema.name}"; cannot create it`);
        const cols = Object.values(t.columns).filter((c) => !c.incomplete);
        if (cols.length === 0) continue;
        // files carry their own columns: a table is "created" as a folder, "altered" when the stored schema gains columns
        if (!existing.has(name)) await this.makeTableDir(name);
        const had = before?.tables[name]?.columns ?? {};
        if (name !== STATE_TABLE && (!existing.has(name) || cols.some((c) => !had[c.name] || had[c.name]!.incomplete))) changed.push(name);
      }
      const stored = schema.toStored();
      // unless the newest stored version is this one (a schema back after a drop is stored again)
      if (before?.versionHash !== stored.versionHash) {
        const path = versionFile(this.dir, stored.name, stored.versionHash, new Date());
        const row = {
          version: stored.version,
          engine_version: stored.engineVersion,
          inserted_at: new Date().toISOString(),
          schema_name: stored.name,
          version_hash: stored.versionHash,
          schema: JSON.stringify(stored),
        };
        await this.storage.writeAtomic(path, JSON.stringify(row) + '\n');
      }
      return changed;
    });
  }

  /** Every `_dlt_version` row of the dataset. */
  private async versionRows(): Promise<Array<{ version: number; inserted_at: string; schema_name: string; schema: string }>> {
    const out = [];
    for (const f of await this.tableFiles(VERSION_TABLE)) {
      const text = (await this.storage.read(f))?.toString('utf8') ?? '';
      for (const line of text.split('\n')) if (line.trim()) out.push(JSON.parse(line));
    }
    return out;
  }

  async getStoredSchema(schemaName: string): Promise<StoredSchema | undefined> {
    const rows = await this.wrap('reading the stored schema', () => this.versionRows());
    const newest = rows
      .filter((r) => r.schema_name === schemaName)
      .sort((a, b) => (a.inserted_at === b.inserted_at ? a.version - b.version : a.inserted_at < b.inserted_at ? -1 : 1))
      .pop();
    if (!newest) return undefined;
    try {
      return JSON.parse(newest.schema) as StoredSchema;
    } catch (err) {
      throw new DestinationError(this.destinationName, `the newest ${this.dir}/${VERSION_TABLE} file of schema "${schemaName}" does not hold valid JSON`, { cause: err });
    }
  }

  /** Load ids in `_dlt_loads`. */
  private async completedLoadIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const f of await this.tableFiles(LOADS_TABLE)) {
      const id = loadIdOfLoadFile(f);
      if (id) ids.add(id);
    }
    return ids;
  }

  async getStoredState(pipelineName: string): Promise<StoredStateRow | undefined> {
    return this.wrap('reading the stored state', async () => {
      const done = await this.completedLoadIds();
      let best: { file: string; loadId: string } | undefined;
      for (const f of await this.tableFiles(STATE_TABLE)) {
        const parsed = parseStateFileName(f.slice(f.lastIndexOf('/') + 1));
        if (!parsed || parsed.pipelineName !== pipelineName || !done.has(parsed.loadId)) continue;
        if (!best || Number(parsed.loadId) > Number(best.loadId)) best = { file: f, loadId: parsed.loadId };
      }
      if (!best) return undefined;
      const text = (await this.storage.read(best.file))?.toString('utf8') ?? '';
      const rows = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
      const r = rows.sort((a, b) => Number(a.version) - Number(b.version)).pop();
      if (!r) return undefined;
      return storedStateRow(r, best.loadId);
    });
  }

  // ---------------------------------------------------------------- jobs

  async completedJobs(loadId: string): Promise<Set<string>> {
    return this.wrap('reading job markers', async () => {
      const out = new Set<string>();
      for (const f of await this.storage.listFiles(jobMarkerDir(this.dir, loadId))) {
        if (f.endsWith('.done')) out.add(f.slice(f.lastIndexOf('/') + 1, -'.done'.length));
      }
      return out;
    });
  }

  private checkFormat(loadId: string, job: JobFile): string {
    const { format } = parseJobName(job.jobName);
    if (!this.capabilities.supportedLoaderFileFormats.includes(format as never)) {
      throw new LoadJobFailedError(loadId, job.jobName, job.table, new Error(`the filesystem destination stores ${this.capabilities.supportedLoaderFileFormats.join(', ')} files, not "${format}"`));
    }
    return format;
  }

  /**
   * Where a job's file goes, relative to the bucket: chosen on its first attempt and read back
   * on later ones, so a layout with a time placeholder still names the same file.
   */
  private async targetPath(loadId: string, schema: Schema, job: JobFile, anyFormat = false): Promise<string> {
    const intent = intentFile(this.dir, loadId, job.jobName);
    const before = await this.storage.read(intent);
    if (before !== undefined) return before.toString('utf8');
    const { fileId } = parseJobName(job.jobName);
    const ext = anyFormat ? job.format : this.checkFormat(loadId, job);
    const rel = joinPath(this.dir, this.layout.render({ schemaName: schema.name, tableName: job.table, loadId, fileId, ext, now: new Date() }));
    await this.storage.writeAtomic(intent, rel);
    return rel;
  }

  /** Writes one job's file (atomically, at its remembered path); returns the paths written. */
  private async writeJob(loadId: string, schema: Schema, job: JobFile, anyFormat = false): Promise<string[]> {
    if (job.table === STATE_TABLE && !anyFormat) return this.writeStateJob(loadId, job);
    const path = await this.targetPath(loadId, schema, job, anyFormat);
    await this.storage.putFileAtomic(job.path, path);
    faultPoint('filesystem:after-write'); // the file is in place, its marker not yet
    return [path];
  }

  /**
   * State rows go where dlt puts them, one file per pipeline and load:
   * `_dlt_pipeline_state/<pipeline>__<load_id>__<hash>.jsonl` (names that depend only on the rows,
   * so writing again replaces them). The state job is small: one row per pipeline.
   */
  private async writeStateJob(loadId: string, job: JobFile): Promise<string[]> {
    this.checkFormat(loadId, job);
    const byFile = new Map<string, string[]>();
    for (const line of (await readFile(job.path, 'utf8')).split('\n')) {
      if (!line.trim()) continue;
      const row = JSON.parse(line) as { pipeline_name?: unknown; version_hash?: unknown };
      const path = stateFile(this.dir, String(row.pipeline_name ?? this.pipelineName), loadId, row.version_hash == null ? '' : String(row.version_hash));
      byFile.set(path, [...(byFile.get(path) ?? []), line]);
    }
    for (const [path, lines] of byFile) await this.storage.writeAtomic(path, lines.join('\n') + '\n');
    return [...byFile.keys()];
  }

  /** Every path a job of this load chose (its `.path` intents). */
  private async pathsOfLoad(loadId: string): Promise<string[]> {
    const out: string[] = [];
    for (const f of await this.storage.listFiles(jobMarkerDir(this.dir, loadId))) {
      if (f.endsWith('.path')) out.push((await this.storage.read(f))?.toString('utf8') ?? '');
    }
    return out;
  }

  private async markDone(loadId: string, jobs: JobFile[]): Promise<void> {
    for (const job of jobs) await this.storage.writeAtomic(doneFile(this.dir, loadId, job.jobName), '');
  }

  /** As staging for another destination: writes the job's file into the bucket; that destination loads it from there. */
  async stageJob(loadId: string, schema: Schema, job: JobFile): Promise<JobFile> {
    return this.wrap(`staging ${job.jobName}`, async () => {
      // staged files are the destination's format (e.g. csv for PostgreSQL), whatever this bucket stores itself
      const [path] = await this.writeJob(loadId, schema, job, true);
      return { ...job, path: this.storage.readerPath(path!) };
    });
  }

  async loadAppendJob(loadId: string, schema: Schema, job: JobFile): Promise<void> {
    await this.runJobs(loadId, job.table, [job], async () => {
      if (await this.storage.exists(doneFile(this.dir, loadId, job.jobName))) return;
      await this.writeJob(loadId, schema, job);
      await this.markDone(loadId, [job]);
    });
  }

  async loadTableChain(loadId: string, schema: Schema, chain: TableChainJob): Promise<void> {
    const root = chain.tables[0] ?? '';
    if (chain.disposition === 'merge') {
      throw new DestinationError(this.destinationName, `table "${root}" uses merge: ${FILESYSTEM_MERGE_ADVICE}`);
    }
    await this.runJobs(loadId, root, chain.files, async () => {
      if (chain.files.length > 0 && (await this.storage.exists(doneFile(this.dir, loadId, chain.files[0]!.jobName)))) return;
      // replace: the new files first, then every other file of the chain's tables, then the markers.
      // Files of this load are kept whatever this call holds: a crash while the markers were
      // written leaves a retry with only the unmarked files, and the marked ones must stay.
      const written = new Set<string>(await this.pathsOfLoad(loadId));
      for (const f of chain.files) for (const p of await this.writeJob(loadId, schema, f)) written.add(p);
      for (const table of chain.tables) {
        for (const f of await this.tableFiles(table)) {
          if (!written.has(f)) await this.storage.deleteFile(f);
        }
      }
      await this.markDone(loadId, chain.files);
    });
  }

  /** A failure writing files: retryable when the file system may recover, else the job fails naming its file. */
  private async runJobs(loadId: string, table: string, jobs: JobFile[], fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof HaulError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      const what = jobs.length > 0 ? jobs.map((j) => `${j.jobName} (${j.path})`).join(', ') : `table chain of "${table}"`;
      if (isTransient(err)) {
        throw new DestinationError(this.destinationName, `load ${loadId}: job ${what} failed writing to ${this.storage.location}, and may succeed when retried: ${msg}`, { cause: err, retryable: true });
      }
      const job = jobs.length === 1 ? jobs[0]! : undefined;
      throw new LoadJobFailedError(loadId, job ? job.jobName : what, job ? job.table : table, new Error(`writing to ${this.storage.location}: ${msg}`, { cause: err }));
    }
  }

  async completeLoad(loadId: string, schemaName: string, schemaVersionHash: string): Promise<void> {
    await this.wrap(`completing load ${loadId}`, async () => {
      const path = loadFile(this.dir, schemaName, loadId);
      if (!(await this.storage.exists(path))) {
        const row = { load_id: loadId, schema_name: schemaName, status: 0, inserted_at: new Date().toISOString(), schema_version_hash: schemaVersionHash };
        await this.storage.writeAtomic(path, JSON.stringify(row) + '\n');
      }
      await this.storage.deleteDir(jobMarkerDir(this.dir, loadId));
      await this.pruneStateFiles();
    });
  }

  /**
   * dlt's `max_state_files`: keeps the newest state files of each pipeline (of completed loads;
   * a pending load's file is never touched), so the state folder does not grow forever.
   */
  private async pruneStateFiles(): Promise<void> {
    if (this.maxStateFiles <= 0) return;
    const done = await this.completedLoadIds();
    const byPipeline = new Map<string, Array<{ file: string; loadId: string }>>();
    for (const file of await this.tableFiles(STATE_TABLE)) {
      const parsed = parseStateFileName(file.slice(file.lastIndexOf('/') + 1));
      if (!parsed || !done.has(parsed.loadId)) continue;
      byPipeline.set(parsed.pipelineName, [...(byPipeline.get(parsed.pipelineName) ?? []), { file, loadId: parsed.loadId }]);
    }
    for (const files of byPipeline.values()) {
      files.sort((a, b) => Number(b.loadId) - Number(a.loadId));
      for (const old of files.slice(this.maxStateFiles)) await this.storage.deleteFile(old.file);
    }
  }

  async isLoadCompleted(loadId: string): Promise<boolean> {
    return this.wrap('reading completed loads', async () => (await this.completedLoadIds()).has(loadId));
  }

  // ---------------------------------------------------------------- maintenance (folder operations)

  async truncateTables(tables: string[]): Promise<void> {
    await this.wrap('truncating tables', async () => {
      for (const t of tables) for (const f of await this.tableFiles(t)) await this.storage.deleteFile(f);
    });
  }

  async dropTables(tables: string[]): Promise<void> {
    await this.wrap('dropping tables', async () => {
      for (const t of tables) await this.storage.deleteDir(joinPath(this.dir, t));
    });
  }

  async listTables(): Promise<string[]> {
    return this.wrap('listing tables', async () => (await this.storage.listDirs(this.dir)).filter((d) => d !== JOB_MARKERS_DIR));
  }

  async renameTable(from: string, to: string): Promise<void> {
    await this.wrap(`renaming table "${from}" to "${to}"`, () => this.storage.renameDir(joinPath(this.dir, from), joinPath(this.dir, to)));
  }

  async dropDataset(): Promise<void> {
    await this.wrap('dropping the dataset', () => this.storage.deleteDir(this.dir));
  }

  // ---------------------------------------------------------------- reading back

  /** Columns of every table the stored schemas know (newest version of each schema), plus dlt's system tables. */
  private async knownColumns(): Promise<Map<string, ColumnSchema[]>> {
    const out = new Map<string, ColumnSchema[]>([
      [LOADS_TABLE, Object.values(LOADS_TABLE_SCHEMA.columns)],
      [VERSION_TABLE, Object.values(VERSION_TABLE_SCHEMA.columns)],
      [STATE_TABLE, Object.values(STATE_TABLE_SCHEMA.columns)],
    ]);
    const rows = await this.versionRows();
    const names = [...new Set(rows.map((r) => r.schema_name))];
    for (const name of names) {
      const stored = await this.getStoredSchema(name);
      for (const t of Object.values(stored?.tables ?? {})) {
        if (out.has(t.name)) continue;
        const cols = Object.values(t.columns).filter((c) => !c.incomplete);
        if (cols.length > 0) out.set(t.name, cols);
      }
    }
    return out;
  }

  private viewsOf(): FilesystemViews {
    this.views ??= new FilesystemViews(this.storage, this.dir, this.datasetName, () => this.knownColumns());
    return this.views;
  }

  /** SQL over the dataset's files through DuckDB views (one per table folder), as dlt does. */
  async query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    const v = this.viewsOf();
    await v.refresh();
    return v.sql.query<T>(sql, params);
  }

  datasetReader(): DatasetReader {
    const v = this.viewsOf();
    return new SqlDatasetReader(v.sql, v.dialect, this.datasetName, (sql, params) => v.sql.query(sql, params), () => v.refresh());
  }

  private async wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof HaulError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new DestinationError(this.destinationName, `${what} in dataset "${this.datasetName}" at ${this.storage.location} failed: ${msg}`, { cause: err, retryable: isTransient(err) });
    }
  }
}

/** dlt's answer for merge on a filesystem, used in the capability refusal and as a last guard. */
export const FILESYSTEM_MERGE_ADVICE =
  'the filesystem destination supports merge only for delta tables in dlt (table_format="delta"), which haul does not write yet; use "append" or "replace", or load into duckdb or postgres to merge';
