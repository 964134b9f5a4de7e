import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptPackageFileError } from '../errors.js';

export const JOB_STATES = ['new_jobs', 'started_jobs', 'completed_jobs', 'failed_jobs'] as const;
export type JobState = (typeof JOB_STATES)[number];

export type PackageStage = 'extracted' | 'normalized' | 'loaded';

/** A job file name split into its parts: `<table>.<fileId>.<retryCount>.<format>`. */
export interface ParsedJobName {
  table: string;
  fileId: string;
  retryCount: number;
  format: string;
}

export function parseJobName(name: string): ParsedJobName {
  const parts = name.split('.');
  if (parts.length !== 4) throw new CorruptPackageFileError(name, 'job file name must be <table>.<fileId>.<retryCount>.<format>');
  const [table, fileId, retry, format] = parts as [string, string, string, string];
  return { table, fileId, retryCount: Number(retry), format };
}

/**
 * The on-disk layout of one pipeline's working dir (see DESIGN.md):
 *
 *   state.json, schemas/<name>.schema.json, trace.json
 *   normalize/extracted/<loadId>/   extract committed
 *   load/normalized/<loadId>/       normalize committed (new_jobs/ started_jobs/ ...)
 *   load/loaded/<loadId>/           archived after the package completed
 *
 * Packages are built in a `.tmp-*` sibling folder and committed by an atomic rename, so a
 * crash leaves either nothing or a whole package.
 */
export class PackageStorage {
  readonly extractedRoot: string;
  readonly normalizedRoot: string;
  readonly loadedRoot: string;
  readonly schemasDir: string;

  constructor(readonly workingDir: string) {
    this.extractedRoot = join(workingDir, 'normalize', 'extracted');
    this.normalizedRoot = join(workingDir, 'load', 'normalized');
    this.loadedRoot = join(workingDir, 'load', 'loaded');
    this.schemasDir = join(workingDir, 'schemas');
  }

  ensureLayout(): void {
    for (const d of [this.extractedRoot, this.normalizedRoot, this.loadedRoot, this.schemasDir]) mkdirSync(d, { recursive: true });
  }

  packageDir(stage: PackageStage, loadId: string): string {
    const root = stage === 'extracted' ? this.extractedRoot : stage === 'normalized' ? this.normalizedRoot : this.loadedRoot;
    return join(root, loadId);
  }

  list(stage: PackageStage): string[] {
    const root = this.packageDir(stage, '');
    if (!existsSync(root)) return [];
    return readdirSync(root).filter((n) => !n.startsWith('.')).sort(compareLoadIds);
  }

  /** Creates an empty temp folder for a package being built in `stage`. */
  beginPackage(stage: 'extracted' | 'normalized', loadId: string): string {
    const tmp = join(this.packageDir(stage, ''), `.tmp-${loadId}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(join(tmp, 'new_jobs'), { recursive: true });
    if (stage === 'normalized') for (const s of JOB_STATES) mkdirSync(join(tmp, s), { recursive: true });
    return tmp;
  }

  /** Atomically publishes a temp package. For a normalized package, removes its extracted source. */
  commitPackage(stage: 'extracted' | 'normalized', loadId: string): void {
    const tmp = join(this.packageDir(stage, ''), `.tmp-${loadId}`);
    renameSync(tmp, this.packageDir(stage, loadId));
    if (stage === 'normalized') rmSync(this.packageDir('extracted', loadId), { recursive: true, force: true });
  }

  abortPackage(stage: 'extracted' | 'normalized', loadId: string): void {
    rmSync(join(this.packageDir(stage, ''), `.tmp-${loadId}`), { recursive: true, force: true });
  }

  archivePackage(loadId: string): void {
    const dest = this.packageDir('loaded', loadId);
    rmSync(dest, { recursive: true, force: true });
    renameSync(this.packageDir('normalized', loadId), dest);
  }

  deletePackage(stage: PackageStage, loadId: string): void {
    rmSync(this.packageDir(stage, loadId), { recursive: true, force: true });
  }

  /**
   * Repairs what a crash can leave: half-built temp folders are removed (their step runs
   * again), and an extracted package whose normalized twin already exists is deleted.
   */
  recover(): void {
    for (const root of [this.extractedRoot, this.normalizedRoot]) {
      if (!existsSync(root)) continue;
      for (const n of readdirSync(root)) if (n.startsWith('.tmp-')) rmSync(join(root, n), { recursive: true, force: true });
    }
    for (const id of this.list('extracted')) {
      if (existsSync(this.packageDir('normalized', id)) || existsSync(this.packageDir('loaded', id))) this.deletePackage('extracted', id);
    }
  }

  jobs(loadId: string, state: JobState, stage: PackageStage = 'normalized'): string[] {
    const dir = join(this.packageDir(stage, loadId), state);
    if (!existsSync(dir)) return [];
    return readdirSync(dir).filter((n) => !n.endsWith('.exception')).sort();
  }

  jobPath(loadId: string, state: JobState, job: string, stage: PackageStage = 'normalized'): string {
    return join(this.packageDir(stage, loadId), state, job);
  }

  moveJob(loadId: string, job: string, from: JobState, to: JobState, newName = job): void {
    renameSync(this.jobPath(loadId, from, job), this.jobPath(loadId, to, newName));
  }

  writeJobException(loadId: string, job: string, message: string): void {
    writeFileSync(this.jobPath(loadId, 'failed_jobs', `${job}.exception`), message);
  }

  readJobException(loadId: string, job: string, stage: PackageStage = 'normalized'): string | undefined {
    const p = join(this.packageDir(stage, loadId), 'failed_jobs', `${job}.exception`);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  }

  fileSize(path: string): number {
    return statSync(path).size;
  }
}

/** Load ids are `<seconds>.<micros>`; compare numerically so ordering never depends on digits. */
export function compareLoadIds(a: string, b: string): number {
  const d = Number(a) - Number(b);
  return d !== 0 && !Number.isNaN(d) ? d : a < b ? -1 : a > b ? 1 : 0;
}

let lastLoadId = 0;
/** A new load id: unix time in seconds with microseconds, strictly increasing per process. */
export function newLoadId(): string {
  let t = Math.round((performance.timeOrigin + performance.now()) * 1000) / 1e6;
  if (t <= lastLoadId) t = Math.round((lastLoadId + 0.000001) * 1e6) / 1e6;
  lastLoadId = t;
  return t.toFixed(6);
}

export { readJsonFile, writeJsonFileAtomic } from '../common/json-file.js';
