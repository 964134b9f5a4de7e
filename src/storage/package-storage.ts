import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, writeJsonFileAtomic } from '../common/json-file.js';
import type { Schema } from '../schema/schema.js';
import type { StoredSchema } from '../schema/types.js';
import { compareLoadIds, parseJobName } from './job-name.js';
import { isPackageCheckpoint, type PackageCheckpoint } from './checkpoint.js';
import {
  CHECKPOINT_FILE,
  EXCEPTION_SUFFIX,
  JOB_STATES,
  PACKAGE_SCHEMA_FILE,
  PACKAGE_STATE_FILE,
  STAGES_NEWEST_FIRST,
  TEMP_PREFIX,
  scratchRoot,
  stageRoot,
  type JobState,
  type PackageStage,
  type PendingStage,
} from './layout.js';
import type { PackageState } from './package-state.js';

/** A job file of a package: its name, the table it loads and where it is now. */
export interface PackageJob {
  job: string;
  table: string;
  path: string;
}

/**
 * A package being built in its temp folder. Job files go to `newJobsDir` (through the job
 * file writers); `commit()` publishes the whole package by one atomic rename, so a crash
 * leaves either nothing or a whole package.
 */
export interface PackageBuilder {
  readonly loadId: string;
  readonly newJobsDir: string;
  /** The checkpoint this build resumes from (beginPackage with `resume`), if one was found. */
  readonly checkpoint?: PackageCheckpoint;
  writeSchema(schema: Schema): void;
  writeState(state: PackageState): void;
  /**
   * Records progress: the listed job files are complete. Written atomically, so a crash
   * leaves this checkpoint or the one before; the next build with `resume` continues here.
   */
  writeCheckpoint(checkpoint: PackageCheckpoint): void;
  commit(): void;
  abort(): void;
}

export interface BeginPackageOptions {
  /**
   * Continue a build of the same load id that stopped after a checkpoint: the temp folder
   * is kept, job files written after the checkpoint are deleted, and the builder carries
   * the checkpoint. Without a checkpoint (or without this option) the build starts empty.
   */
  resume?: boolean;
}

/**
 * THE owner of a working dir's load packages: which stage holds a load id, the package's
 * state and schema files, building and committing packages, and the job moves of the load
 * state machine (start, complete, fail, retry). No other module joins a package path.
 */
export class PackageStorage {
  constructor(readonly workingDir: string) {}

  ensureLayout(): void {
    for (const stage of STAGES_NEWEST_FIRST) mkdirSync(stageRoot(this.workingDir, stage), { recursive: true });
  }

  private dirOf(stage: PackageStage, loadId: string): string {
    return join(stageRoot(this.workingDir, stage), loadId);
  }

  private tempDirOf(stage: PendingStage, loadId: string): string {
    return join(stageRoot(this.workingDir, stage), TEMP_PREFIX + loadId);
  }

  // ---- packages ------------------------------------------------------------------------

  /** Load ids in a stage, oldest first. */
  list(stage: PackageStage): string[] {
    const root = stageRoot(this.workingDir, stage);
    if (!existsSync(root)) return [];
    return readdirSync(root).filter((n) => !n.startsWith('.')).sort(compareLoadIds);
  }

  has(stage: PackageStage, loadId: string): boolean {
    return existsSync(this.dirOf(stage, loadId));
  }

  /** The stage that holds this load id (the most advanced one), or undefined. */
  findStage(loadId: string): PackageStage | undefined {
    return STAGES_NEWEST_FIRST.find((stage) => this.has(stage, loadId));
  }

  /** Pending packages (extracted or normalized), oldest first. */
  pendingPackages(): Array<{ loadId: string; stage: PendingStage }> {
    const ex = this.list('extracted').map((loadId) => ({ loadId, stage: 'extracted' as const }));
    const no = this.list('normalized').map((loadId) => ({ loadId, stage: 'normalized' as const }));
    return [...no, ...ex].sort((a, b) => compareLoadIds(a.loadId, b.loadId));
  }

  readPackageState(stage: PackageStage, loadId: string): PackageState {
    return readJsonFile<PackageState>(join(this.dirOf(stage, loadId), PACKAGE_STATE_FILE));
  }

  writePackageState(stage: PackageStage, state: PackageState): void {
    writeJsonFileAtomic(join(this.dirOf(stage, state.loadId), PACKAGE_STATE_FILE), state);
  }

  readPackageSchema(stage: PackageStage, loadId: string): StoredSchema {
    return readJsonFile<StoredSchema>(join(this.dirOf(stage, loadId), PACKAGE_SCHEMA_FILE));
  }

  /** Starts building a package of `stage` in an empty temp folder (or, with `resume`, after its last checkpoint). */
  beginPackage(stage: PendingStage, loadId: string, opts: BeginPackageOptions = {}): PackageBuilder {
    const tmp = this.tempDirOf(stage, loadId);
    const newJobs = join(tmp, 'new_jobs');
    const checkpoint = opts.resume ? this.resumeAt(tmp) : undefined;
    if (!checkpoint) {
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(newJobs, { recursive: true });
      if (stage === 'normalized') for (const s of JOB_STATES) mkdirSync(join(tmp, s), { recursive: true });
    }
    return {
      loadId,
      newJobsDir: newJobs,
      checkpoint,
      writeSchema: (schema) => writeJsonFileAtomic(join(tmp, PACKAGE_SCHEMA_FILE), schema.toStored()),
      writeState: (state) => writeJsonFileAtomic(join(tmp, PACKAGE_STATE_FILE), state),
      writeCheckpoint: (cp) => writeJsonFileAtomic(join(tmp, CHECKPOINT_FILE), cp),
      commit: () => this.commitPackage(stage, loadId),
      abort: () => rmSync(tmp, { recursive: true, force: true }),
    };
  }

  /**
   * The checkpoint in a temp folder, with the folder cut back to it: job files it does not
   * list (written after it, possibly half) are deleted. Undefined when there is none or it
   * names a file that is gone (then the build starts over).
   */
  private resumeAt(tmp: string): PackageCheckpoint | undefined {
    const file = join(tmp, CHECKPOINT_FILE);
    if (!existsSync(file)) return undefined;
    let cp: unknown;
    try {
      cp = readJsonFile<unknown>(file);
    } catch {
      return undefined;
    }
    if (!isPackageCheckpoint(cp)) return undefined;
    const newJobs = join(tmp, 'new_jobs');
    const present = existsSync(newJobs) ? readdirSync(newJobs) : [];
    const keep = new Set(cp.jobFiles);
    if (cp.jobFiles.some((f) => !present.includes(f))) return undefined;
    for (const f of present) if (!keep.has(f)) rmSync(join(newJobs, f), { force: true });
    for (const f of [PACKAGE_STATE_FILE, PACKAGE_SCHEMA_FILE]) rmSync(join(tmp, f), { force: true });
    return cp;
  }

  /** The last checkpoint of an extract of `loadId` still being built, if any. */
  readCheckpoint(loadId: string): PackageCheckpoint | undefined {
    const file = join(this.tempDirOf('extracted', loadId), CHECKPOINT_FILE);
    if (!existsSync(file)) return undefined;
    const cp = readJsonFile<unknown>(file);
    return isPackageCheckpoint(cp) ? cp : undefined;
  }

  /** Load ids of extracts that stopped after a checkpoint and may resume. */
  checkpointedLoadIds(): string[] {
    const root = stageRoot(this.workingDir, 'extracted');
    if (!existsSync(root)) return [];
    return readdirSync(root)
      .filter((n) => n.startsWith(TEMP_PREFIX) && existsSync(join(root, n, CHECKPOINT_FILE)))
      .map((n) => n.slice(TEMP_PREFIX.length))
      .sort(compareLoadIds);
  }

  /** Deletes checkpointed extracts (their load will not be retried), except `keep`'s. */
  discardCheckpoints(keep?: string): void {
    for (const id of this.checkpointedLoadIds()) {
      if (id === keep) continue;
      rmSync(this.tempDirOf('extracted', id), { recursive: true, force: true });
      this.deleteScratch(id);
    }
  }

  /** Publishes a temp package atomically. A normalized package replaces its extracted source. */
  private commitPackage(stage: PendingStage, loadId: string): void {
    renameSync(this.tempDirOf(stage, loadId), this.dirOf(stage, loadId));
    // The checkpoint served the build; the committed package is the truth now.
    rmSync(join(this.dirOf(stage, loadId), CHECKPOINT_FILE), { force: true });
    if (stage === 'normalized') {
      rmSync(this.dirOf('extracted', loadId), { recursive: true, force: true });
      this.deleteScratch(loadId);
    }
  }

  // ---- scratch (a cache beside a package; never needed to complete it) -------------------

  /** An empty scratch folder for `loadId` (what an earlier attempt left is deleted); returns its path. */
  openScratch(loadId: string): string {
    const dir = join(scratchRoot(this.workingDir), loadId);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** The scratch folder of `loadId`, when there is one. */
  findScratch(loadId: string): string | undefined {
    const dir = join(scratchRoot(this.workingDir), loadId);
    return existsSync(dir) ? dir : undefined;
  }

  deleteScratch(loadId: string): void {
    rmSync(join(scratchRoot(this.workingDir), loadId), { recursive: true, force: true });
  }

  /** Moves a completed normalized package to loaded/. */
  archivePackage(loadId: string): void {
    const dest = this.dirOf('loaded', loadId);
    rmSync(dest, { recursive: true, force: true });
    renameSync(this.dirOf('normalized', loadId), dest);
  }

  deletePackage(stage: PackageStage, loadId: string): void {
    rmSync(this.dirOf(stage, loadId), { recursive: true, force: true });
  }

  /** Deletes a pending package wherever it is (extracted and/or normalized). */
  deletePending(loadId: string): void {
    this.deletePackage('extracted', loadId);
    this.deletePackage('normalized', loadId);
    this.deleteScratch(loadId);
  }

  /**
   * Repairs what a crash can leave: half-built temp folders are removed (their step runs
   * again), and an extracted package whose normalized twin already exists is deleted.
   * An extract that stopped after a checkpoint is kept for a retry of its load id
   * (the extract step discards it when it starts another load: `discardCheckpoints`).
   */
  recover(): void {
    for (const stage of ['extracted', 'normalized'] as const) {
      const root = stageRoot(this.workingDir, stage);
      if (!existsSync(root)) continue;
      for (const n of readdirSync(root)) {
        if (!n.startsWith(TEMP_PREFIX)) continue;
        if (stage === 'extracted' && existsSync(join(root, n, CHECKPOINT_FILE))) continue;
        rmSync(join(root, n), { recursive: true, force: true });
      }
    }
    for (const id of this.list('extracted')) {
      if (this.has('normalized', id) || this.has('loaded', id)) this.deletePackage('extracted', id);
    }
    // scratch serves an extracted package (or one being extracted) only
    const scratch = scratchRoot(this.workingDir);
    if (existsSync(scratch)) {
      for (const id of readdirSync(scratch)) {
        if (!this.has('extracted', id) && !existsSync(this.tempDirOf('extracted', id))) this.deleteScratch(id);
      }
    }
  }

  // ---- jobs ------------------------------------------------------------------------------

  /** Job names in one job folder of a package, sorted. */
  jobs(loadId: string, state: JobState, stage: PackageStage = 'normalized'): string[] {
    const dir = join(this.dirOf(stage, loadId), state);
    if (!existsSync(dir)) return [];
    return readdirSync(dir).filter((n) => !n.endsWith(EXCEPTION_SUFFIX)).sort();
  }

  /** Jobs with their tables and paths. */
  jobFiles(loadId: string, state: JobState, stage: PackageStage = 'normalized'): PackageJob[] {
    return this.jobs(loadId, state, stage).map((job) => ({ job, table: parseJobName(job).table, path: this.jobPath(loadId, state, job, stage) }));
  }

  /** Bytes of the job files in one job folder of a package. */
  jobBytes(loadId: string, state: JobState, stage: PackageStage = 'normalized'): number {
    let n = 0;
    for (const job of this.jobs(loadId, state, stage)) n += this.jobStat(loadId, state, job, stage).sizeBytes;
    return n;
  }

  jobPath(loadId: string, state: JobState, job: string, stage: PackageStage = 'normalized'): string {
    return join(this.dirOf(stage, loadId), state, job);
  }

  jobStat(loadId: string, state: JobState, job: string, stage: PackageStage = 'normalized'): { sizeBytes: number; modifiedAt: Date } {
    const st = statSync(this.jobPath(loadId, state, job, stage));
    return { sizeBytes: st.size, modifiedAt: st.mtime };
  }

  private move(loadId: string, job: string, from: JobState, to: JobState): void {
    renameSync(this.jobPath(loadId, from, job), this.jobPath(loadId, to, job));
  }

  /** new -> started: the job's transaction is about to begin. */
  startJob(loadId: string, job: string): void {
    this.move(loadId, job, 'new_jobs', 'started_jobs');
  }

  /** started (or new, for a job that needs no load or whose marker shows it committed) -> completed. */
  completeJob(loadId: string, job: string): void {
    this.move(loadId, job, existsSync(this.jobPath(loadId, 'started_jobs', job)) ? 'started_jobs' : 'new_jobs', 'completed_jobs');
  }

  /** started -> failed, with the error text beside it. */
  failJob(loadId: string, job: string, message: string): void {
    this.move(loadId, job, 'started_jobs', 'failed_jobs');
    writeFileSync(this.jobPath(loadId, 'failed_jobs', job + EXCEPTION_SUFFIX), message);
  }

  /** started or failed -> new: the job runs again on the next attempt. */
  retryJob(loadId: string, job: string): void {
    const from: JobState = existsSync(this.jobPath(loadId, 'started_jobs', job)) ? 'started_jobs' : 'failed_jobs';
    this.move(loadId, job, from, 'new_jobs');
    if (from === 'failed_jobs') rmSync(this.jobPath(loadId, 'failed_jobs', job + EXCEPTION_SUFFIX), { force: true });
  }

  readJobException(loadId: string, job: string, stage: PackageStage = 'normalized'): string | undefined {
    const p = this.jobPath(loadId, 'failed_jobs', job + EXCEPTION_SUFFIX, stage);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  }
}
