/**
 * The on-disk layout of one pipeline's working dir (DESIGN.md, docs/package-format.md).
 * This file is the only place that spells its folder and file names:
 *
 *   state.json, schemas/<name>.schema.json, trace.json, snapshots/<id>/
 *   normalize/extracted/<loadId>/   extract committed
 *   load/normalized/<loadId>/       normalize committed (new_jobs/ started_jobs/ ...)
 *   load/loaded/<loadId>/           archived after the package completed
 *   normalize/extracted/.tmp-<loadId>/checkpoint.json   an extract in progress that can resume
 *   normalize/prenormalized/<loadId>/   scratch: files normalized while extract ran (a cache)
 */
import { join } from 'node:path';

export const JOB_STATES = ['new_jobs', 'started_jobs', 'completed_jobs', 'failed_jobs'] as const;
export type JobState = (typeof JOB_STATES)[number];
/** The job folders by name, so code outside storage never spells them. */
export const [NEW_JOBS, STARTED_JOBS, COMPLETED_JOBS, FAILED_JOBS] = JOB_STATES;

export type PackageStage = 'extracted' | 'normalized' | 'loaded';
export type PendingStage = Exclude<PackageStage, 'loaded'>;
/** Most advanced first: while a package moves on, the later stage is the truth. */
export const STAGES_NEWEST_FIRST: readonly PackageStage[] = ['loaded', 'normalized', 'extracted'];

export const STATE_FILE = 'state.json';
export const TRACE_FILE = 'trace.json';
export const SCHEMAS_DIR = 'schemas';
export const SNAPSHOTS_DIR = 'snapshots';
/** Held while a step runs (storage/lock.ts). */
export const LOCK_FILE = '.lock';
export const PACKAGE_STATE_FILE = 'package_state.json';
export const PACKAGE_SCHEMA_FILE = 'schema.json';
export const SCHEMA_FILE_SUFFIX = '.schema.json';
/** A failed job's error text sits beside it as `<job>.exception`. */
export const EXCEPTION_SUFFIX = '.exception';
/** Packages are built in a `.tmp-<loadId>` sibling and committed by an atomic rename. */
export const TEMP_PREFIX = '.tmp-';
/** The last checkpoint of an extract still being built, inside its temp folder (storage/checkpoint.ts). */
export const CHECKPOINT_FILE = 'checkpoint.json';

export function stageRoot(workingDir: string, stage: PackageStage): string {
  if (stage === 'extracted') return join(workingDir, 'normalize', 'extracted');
  return join(workingDir, 'load', stage);
}

/**
 * Scratch folders of packages: job files normalized in the background while extract wrote
 * the package, with a manifest per input (normalize/prenormalize/). Beside the stages, not
 * inside a package, so extract's commit (a rename) never moves them under a writer.
 */
export function scratchRoot(workingDir: string): string {
  return join(workingDir, 'normalize', 'prenormalized');
}
