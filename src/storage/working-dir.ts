import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Schema } from '../schema/schema.js';
import type { StoredSchema } from '../schema/types.js';
import type { PackageState } from './package-state.js';
import { PackageStorage, readJsonFile, writeJsonFileAtomic } from './package-storage.js';
import { newState, type PipelineState } from '../state/state.js';

/**
 * A pipeline's working dir: committed state and schemas, plus the package storage. The
 * "effective" state and schema include what pending packages will commit when they load,
 * so extracting twice before a load never re-reads the same incremental range.
 */
export class WorkingDir {
  readonly storage: PackageStorage;
  readonly statePath: string;
  readonly tracePath: string;

  constructor(readonly dir: string) {
    this.storage = new PackageStorage(dir);
    this.statePath = join(dir, 'state.json');
    this.tracePath = join(dir, 'trace.json');
  }

  exists(): boolean {
    return existsSync(this.statePath);
  }

  create(): void {
    mkdirSync(this.dir, { recursive: true });
    this.storage.ensureLayout();
  }

  wipe(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The committed state (state.json), or a fresh one. */
  readState(pipelineName: string, datasetName: string): PipelineState {
    if (!existsSync(this.statePath)) return newState(pipelineName, datasetName);
    return readJsonFile<PipelineState>(this.statePath);
  }

  writeState(state: PipelineState): void {
    writeJsonFileAtomic(this.statePath, state);
  }

  schemaPath(name: string): string {
    return join(this.storage.schemasDir, `${name}.schema.json`);
  }

  readSchema(name: string): Schema | undefined {
    const p = this.schemaPath(name);
    return existsSync(p) ? Schema.fromStored(readJsonFile<StoredSchema>(p)) : undefined;
  }

  writeSchema(schema: Schema): void {
    mkdirSync(this.storage.schemasDir, { recursive: true });
    writeJsonFileAtomic(this.schemaPath(schema.name), schema.toStored());
  }

  schemaNames(): string[] {
    if (!existsSync(this.storage.schemasDir)) return [];
    return readdirSync(this.storage.schemasDir)
      .filter((f) => f.endsWith('.schema.json'))
      .map((f) => f.slice(0, -'.schema.json'.length));
  }

  /** Pending packages, oldest first, with the stage they are in. */
  pendingPackages(): Array<{ loadId: string; stage: 'extracted' | 'normalized' }> {
    const ex = this.storage.list('extracted').map((loadId) => ({ loadId, stage: 'extracted' as const }));
    const no = this.storage.list('normalized').map((loadId) => ({ loadId, stage: 'normalized' as const }));
    return [...no, ...ex].sort((a, b) => Number(a.loadId) - Number(b.loadId));
  }

  packageState(stage: 'extracted' | 'normalized' | 'loaded', loadId: string): PackageState {
    return readJsonFile<PackageState>(join(this.storage.packageDir(stage, loadId), 'package_state.json'));
  }

  packageSchema(stage: 'extracted' | 'normalized' | 'loaded', loadId: string): Schema {
    return Schema.fromStored(readJsonFile<StoredSchema>(join(this.storage.packageDir(stage, loadId), 'schema.json')));
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
