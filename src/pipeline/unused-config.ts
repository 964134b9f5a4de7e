import { z } from 'zod';
import { config } from '../config/index.js';

/**
 * dlt settings that haul does not use, with what to do instead. A dlt user's config.toml or
 * environment that sets one is told so once per process, rather than having it pass silently.
 */
const UNUSED: ReadonlyArray<readonly [key: string, instead: string]> = [
  ['schema.naming', "haul names tables and columns with dlt's default snake_case only"],
  ['normalize.workers', 'pass { workers } to normalize() in code'],
  ['extract.workers', 'pass { workers } to extract() in code'],
  ['extract.max_parallel_items', 'pass { maxParallelItems } to extract() in code'],
  ['load.workers', "haul loads a package's jobs one at a time in one transaction each"],
  ['data_writer.buffer_max_items', 'haul sizes its write buffers itself'],
  ['data_writer.file_max_items', 'haul rotates job files by size itself'],
  ['data_writer.file_max_bytes', 'haul rotates job files by size itself'],
  ['runtime.log_level', "pass progress: 'log' to the pipeline, or a logger from createLogger({ level })"],
  ['runtime.log_format', 'haul logs JSON lines through pino (createLogger)'],
  ['load.raise_on_failed_jobs', 'run() raises on failed jobs and keeps the package pending; load({ raiseOnFailedJobs: false }) returns the LoadInfo instead'],
  ['load.truncate_staging_dataset', 'haul drops its staging tables after each load'],
  ['restore_from_destination', 'haul restores state and schemas from the destination whenever its working dir is behind'],
];

const told = new Set<string>();

/** The env variable dlt reads for a key (`schema.naming` -> `SCHEMA__NAMING`). */
const envName = (key: string): string => key.toUpperCase().replaceAll('.', '__');

/** Warns once for each dlt setting given (env, .dlt/config.toml, pipeline-scoped) that haul does not use. */
export function warnUnusedDltSettings(pipelineName: string): void {
  for (const [key, instead] of UNUSED) {
    if (told.has(key)) continue;
    let value: unknown;
    try {
      value = config.getOptional(key, z.unknown(), { pipelineName });
    } catch {
      value = undefined;
    }
    if (value === undefined) continue;
    told.add(key);
    process.emitWarning(`dlt's setting ${key} (env ${envName(key)}) is set, but haul does not use it: ${instead}`, { code: 'HAUL_UNUSED_DLT_SETTING' });
  }
}
