import type { Schema } from '../schema/schema.js';
import type { RefreshPlan } from '../storage/package-state.js';

/*
 * How a later step may watch an extract as it writes its package (the pipeline wires
 * normalize's background pre-normalizer in here; extract cannot import normalize). Only a
 * cache hangs on it: an observer that does nothing changes nothing.
 */

/** Told when a package build begins; returns what watches that one package, or nothing. */
export interface ExtractObserver {
  /** `schema` is extract's live schema (resource hints applied by the time a file is done): read it, never change it. */
  begin(pkg: { loadId: string; schema: Schema; refresh: RefreshPlan | undefined }): PackageObserver | undefined;
}

export interface PackageObserver {
  /** A job file of `table` is complete on disk and will not change; never throws. */
  fileDone(table: string, path: string): void;
  /** Extract wrote its last job file (or failed): no more files come. */
  end(): void;
}
