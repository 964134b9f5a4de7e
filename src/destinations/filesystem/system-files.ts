import { LOADS_TABLE, STATE_TABLE, VERSION_TABLE } from '../../schema/system.js';
import { joinPath } from '../../common/file-storage.js';

/**
 * Where the filesystem destination keeps dlt's system tables, as dlt's filesystem destination
 * names them, so a bucket written by either reads the same:
 * `<dataset>/_dlt_loads/<schema>__<load_id>.jsonl`, `<dataset>/_dlt_version/<schema>__<time>__<hash>.jsonl`,
 * `<dataset>/_dlt_pipeline_state/<pipeline>__<load_id>__<hash>.jsonl`, and an empty `init` file in
 * the dataset folder and in each table folder (dlt checks it before listing a table).
 * haul's job markers live in `<dataset>/_haul_jobs/<load_id>/` until the load completes.
 */
export const INIT_FILE = 'init';
export const JOB_MARKERS_DIR = '_haul_jobs';

/** Version hashes are base64: as hex they are safe in any file name. */
export function pathSafeHash(hash: string): string {
  if (hash === '') return 'none';
  const hex = Buffer.from(hash, 'base64').toString('hex');
  return hex === '' ? encodeURIComponent(hash) : hex;
}

export const loadFile = (dataset: string, schemaName: string, loadId: string) => joinPath(dataset, LOADS_TABLE, `${schemaName}__${loadId}.jsonl`);
/** `<schema>__<time>__<hash>.jsonl`: the time (seconds.micros, like a load id) orders versions as dlt's does. */
export const versionFile = (dataset: string, schemaName: string, versionHash: string, time: Date) =>
  joinPath(dataset, VERSION_TABLE, `${schemaName}__${(time.getTime() / 1000).toFixed(6)}__${pathSafeHash(versionHash)}.jsonl`);

/** A table folder's files, without dlt's `init` marker. */
export function isDataFile(path: string): boolean {
  return path.slice(path.lastIndexOf('/') + 1) !== INIT_FILE;
}
export const stateFile = (dataset: string, pipelineName: string, loadId: string, versionHash: string) =>
  joinPath(dataset, STATE_TABLE, `${pipelineName}__${loadId}__${pathSafeHash(versionHash)}.jsonl`);

/** `<schema>__<load_id>.jsonl` -> load id. */
export function loadIdOfLoadFile(name: string): string | undefined {
  return /__([^_/]+)\.jsonl$/.exec(name)?.[1];
}

/** `<pipeline>__<load_id>__<hash>.jsonl` -> its pipeline name and load id. */
export function parseStateFileName(name: string): { pipelineName: string; loadId: string } | undefined {
  const m = /^(.*)__([^_/]+)__([^_/]*)\.jsonl$/.exec(name);
  return m ? { pipelineName: m[1]!, loadId: m[2]! } : undefined;
}

/** Job markers: the path a job writes to (chosen once) and that it was written. */
export const jobMarkerDir = (dataset: string, loadId: string) => joinPath(dataset, JOB_MARKERS_DIR, loadId);
export const intentFile = (dataset: string, loadId: string, jobName: string) => joinPath(jobMarkerDir(dataset, loadId), `${jobName}.path`);
export const doneFile = (dataset: string, loadId: string, jobName: string) => joinPath(jobMarkerDir(dataset, loadId), `${jobName}.done`);
