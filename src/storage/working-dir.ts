import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CorruptPackageFileError, CorruptStateError } from '../errors.js';
import { readJsonFile, writeJsonFileAtomic } from '../common/json-file.js';
import { Schema } from '../schema/schema.js';
import type { StoredSchema } from '../schema/types.js';
import { newState, type PipelineState } from '../state/state.js';
import { SCHEMA_FILE_SUFFIX, SCHEMAS_DIR, STATE_FILE, TRACE_FILE, type PackageStage, type PendingStage } from './layout.js';
import type { PackageState } from './package-state.js';
import { PackageStorage } from './package-storage.js';
import { SnapshotStore } from './snapshots.js';

/**
 * A pipeline's working dir: committed state and schemas, the trace, snapshots, and the
 * package storage. The "effective" state and schema include what pending packages will
 * commit when they load, so extracting twice before a load never re-reads the same
 * incremental range.
 */
export class WorkingDir {
  readonly storage: PackageStorage;
  readonly snapshots: SnapshotStore;
  readonly statePath: string;
  readonly tracePath: string;
  readonly schemasDir: string;

  constructor(readonly dir: string) {
    this.storage = new PackageStorage(dir);
    this.statePath = join(dir, STATE_FILE);
    this.tracePath = join(dir, TRACE_FILE);
    this.schemasDir = join(dir, SCHEMAS_DIR);
    this.snapshots = new SnapshotStore(dir, this.statePath, this.schemasDir);
  }

  exists(): boolean {
    return existsSync(this.statePath);
  }

  create(): void {
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(this.schemasDir, { recursive: true });
    this.storage.ensureLayout();
  }

  wipe(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Deletes every schema of the working dir (a pipeline that starts over). */
  clearSchemas(): void {
    rmSync(this.schemasDir, { recursive: true, force: true });
    mkdirSync(this.schemasDir, { recursive: true });
  }

  /** The committed state (state.json), or a fresh one. */
  readState(pipelineName: string, datasetName: string): PipelineState {
    if (!existsSync(this.statePath)) return newState(pipelineName, datasetName);
    const st = this.readOwnFile<PipelineState>(this.statePath);
    if (!st || typeof st !== 'object' || typeof st.sources !== 'object' || typeof st._state_version !== 'number' || typeof st._local !== 'object') {
      throw new CorruptStateError(basename(this.dir), this.statePath, 'not a pipeline state: sources, _state_version or _local missing');
    }
    return st;
  }

  /** A working-dir file (state, schema) that cannot be read is a CorruptStateError with advice that works. */
  private readOwnFile<T>(path: string): T {
    try {
      return readJsonFile<T>(path);
    } catch (e) {
      if (e instanceof CorruptPackageFileError) throw new CorruptStateError(basename(this.dir), path, e.why);
      throw e;
    }
  }

  /**
   * Moves a broken state.json and schemas/ aside (`*.corrupt-<time>`), so the pipeline can
   * start over and restore both from the destination. Nothing is deleted.
   */
  setCorruptStateAside(): string[] {
    const suffix = `.corrupt-${Date.now()}`;
    const moved: string[] = [];
    for (const p of [this.statePath, this.schemasDir]) {
      if (existsSync(p)) {
        renameSync(p, p + suffix);
        moved.push(p + suffix);
      }
    }
    return moved;
  }

  /** Reads every committed file once; throws CorruptStateError for the first broken one. */
  checkReadable(pipelineName: string): void {
    this.readState(pipelineName, '');
    for (const n of this.schemaNames()) this.readSchema(n);
  }

  writeState(state: PipelineState): void {
    writeJsonFileAtomic(this.statePath, state);
  }

  private schemaPath(name: string): string {
    return join(this.schemasDir, name + SCHEMA_FILE_SUFFIX);
  }

  readSchema(name: string): Schema | undefined {
    const p = this.schemaPath(name);
    return existsSync(p) ? Schema.fromStored(this.readOwnFile<StoredSchema>(p)) : undefined;
  }

  writeSchema(schema: Schema): void {
    mkdirSync(this.schemasDir, { recursive: true });
    writeJsonFileAtomic(this.schemaPath(schema.name), schema.toStored());
  }

  schemaNames(): string[] {
    if (!existsSync(this.schemasDir)) return [];
    return readdirSync(this.schemasDir)
      .filter((f) => f.endsWith(SCHEMA_FILE_SUFFIX))
      .map((f) => f.slice(0, -SCHEMA_FILE_SUFFIX.length));
  }

  /** Every committed schema. */
  schemas(): Schema[] {
    return this.schemaNames()
      .map((n) => this.readSchema(n))
      .filter((s): s is Schema => s !== undefined);
  }

  /** Pending packages, oldest first, with the stage they are in. */
  pendingPackages(): Array<{ loadId: string; stage: PendingStage }> {
    return this.storage.pendingPackages();
  }

  packageState(stage: PackageStage, loadId: string): PackageState {
    return this.storage.readPackageState(stage, loadId);
  }

  packageSchema(stage: PackageStage, loadId: string): Schema {
    return Schema.fromStored(this.storage.readPackageSchema(stage, loadId));
  }

  /** The state the next extract starts from: the newest pending package's, else committed. */
  effectiveState(pipelineName: string, datasetName: string): PipelineState {
    const pending = this.pendingPackages().reverse();
    for (const p of pending) {
      const st = this.packageState(p.stage, p.loadId).pipelineState;
      if (st) return st;
    }
    return this.readState(pipelineName, datasetName);
  }

  /** The schema the next step builds on: the newest pending package's, else committed. */
  effectiveSchema(name: string, opts: { skipExtracted?: boolean } = {}): Schema | undefined {
    const pending = this.pendingPackages().reverse();
    for (const p of pending) {
      if (opts.skipExtracted && p.stage === 'extracted') continue;
      const st = this.packageState(p.stage, p.loadId);
      if (st.schemaName === name) return this.packageSchema(p.stage, p.loadId);
    }
    return this.readSchema(name);
  }
}
