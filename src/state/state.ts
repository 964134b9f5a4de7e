import { createHash } from 'node:crypto';
import { stableStringify } from '../schema/schema.js';
import { UnserializableStateError } from '../errors.js';

export const STATE_ENGINE_VERSION = 4;

/** Per-resource state: user keys plus `incremental` cursors, as in dlt. */
export type ResourceState = Record<string, unknown> & {
  incremental?: Record<string, IncrementalState>;
};

export interface IncrementalState {
  initial_value: unknown;
  last_value: unknown;
  unique_hashes: string[];
  /** The range start of the run that last moved the cursor (its last_value before), as dlt 1.31 writes it; absent in state written before. */
  start_value?: unknown;
}

export type SourceState = Record<string, unknown> & { resources?: Record<string, ResourceState> };

/**
 * The pipeline state document. Same shape and key names as dlt's, so it means the same
 * thing when read from `_dlt_pipeline_state`. `_local` never leaves the machine.
 */
export interface PipelineState {
  _state_version: number;
  _state_engine_version: number;
  _version_hash: string;
  pipeline_name: string;
  dataset_name: string;
  default_schema_name?: string;
  schema_names: string[];
  destination_name?: string;
  sources: Record<string, SourceState>;
  _local: {
    first_run: boolean;
    /** Non-secret destination options (e.g. the DuckDB path), so attach() can reopen it. */
    destination_options?: Record<string, unknown>;
    /** The staging destination's name and non-secret options, so attach() can reopen it. */
    staging?: { name: string; options: Record<string, unknown> };
    last_extracted_at?: string;
  };
}

export function newState(pipelineName: string, datasetName: string): PipelineState {
  const s: PipelineState = {
    _state_version: 0,
    _state_engine_version: STATE_ENGINE_VERSION,
    _version_hash: '',
    pipeline_name: pipelineName,
    dataset_name: datasetName,
    schema_names: [],
    sources: {},
    _local: { first_run: true },
  };
  s._version_hash = stateHash(s);
  return s;
}

/** Hash of what is synced to the destination (everything but `_local` and the counters). */
export function stateHash(s: PipelineState): string {
  const { _local, _version_hash, _state_version, ...rest } = s;
  void _local;
  void _version_hash;
  void _state_version;
  return createHash('sha256').update(stableStringify(rest)).digest('base64url').slice(0, 44);
}

/** Bumps version + hash when content changed; returns true if it did. */
export function bumpStateVersion(s: PipelineState): boolean {
  checkJsonValues(s.sources, 'sources');
  const h = stateHash(s);
  if (h === s._version_hash) return false;
  s._version_hash = h;
  s._state_version += 1;
  return true;
}

/** What is written to `_dlt_pipeline_state.state`: the document without `_local`. */
export function stateForDestination(s: PipelineState): string {
  const { _local, ...rest } = s;
  void _local;
  return JSON.stringify(rest);
}

export function sourceStateOf(s: PipelineState, sourceName: string): SourceState {
  return (s.sources[sourceName] ??= {});
}

export function resourceStateOf(s: PipelineState, sourceName: string, resourceName: string): ResourceState {
  const src = sourceStateOf(s, sourceName);
  const resources = (src.resources ??= {});
  return (resources[resourceName] ??= {});
}

/** Refuses state values JSON would drop or mangle silently (a Map becomes {}), naming where they are. */
function checkJsonValues(v: unknown, path: string): void {
  switch (typeof v) {
    case 'bigint':
      throw new UnserializableStateError(path, 'a bigint');
    case 'function':
    case 'symbol':
      throw new UnserializableStateError(path, `a ${typeof v}`);
    case 'object': {
      if (v === null || v instanceof Date) return;
      if (Array.isArray(v)) {
        v.forEach((x, i) => checkJsonValues(x, `${path}[${i}]`));
        return;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new UnserializableStateError(path, `a ${(v as object).constructor?.name ?? 'class instance'}`);
      for (const [k, x] of Object.entries(v)) checkJsonValues(x, `${path}.${k}`);
    }
  }
}
