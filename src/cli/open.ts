/**
 * Opening a pipeline's working dir for the CLI, with one-line errors that say what to do:
 * a missing pipeline, a corrupt state.json, an unknown load id.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { listPipelineNames, statePathOf } from '../storage/pipelines-dir.js';
import { resolveDestination } from '../destinations/index.js';
import type { DestinationFactory } from '../destinations/types.js';
import { defaultPipelinesDir } from '../pipeline/options.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { attach } from '../pipeline/attach.js';
import type { PipelineState } from '../state/state.js';
import { CliError } from './output.js';

export function pipelinesDirOf(opt: string | undefined): string {
  return resolve(opt ?? defaultPipelinesDir());
}

export { listPipelineNames };

export type StateRead = { ok: true; state: PipelineState } | { ok: false; why: string };

/** Reads state.json without the engine (which would rewrite it). */
export function readStateFile(dir: string, name: string): StateRead {
  const path = statePathOf(dir, name);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, why: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, why: `${path} is corrupt (not valid JSON: ${(e as Error).message})` };
  }
  const s = doc as Partial<PipelineState> | null;
  if (!s || typeof s !== 'object' || typeof s.sources !== 'object' || s.sources === null || typeof s._state_version !== 'number' || typeof s._local !== 'object') {
    return { ok: false, why: `${path} is corrupt (not a pipeline state: sources, _state_version or _local missing)` };
  }
  return { ok: true, state: s as PipelineState };
}

export function notFound(name: string, dir: string): CliError {
  const known = listPipelineNames(dir);
  const there = known.length ? `pipelines there: ${known.join(', ')}` : 'it has no pipelines';
  return new CliError(`no pipeline "${name}" in ${dir} (${there}); check the name or pass --pipelines-dir (default: HAUL_PIPELINES_DIR or ~/.haul/pipelines)`);
}

function corrupt(name: string, why: string): CliError {
  return new CliError(
    `${why}; restore the pipeline from its destination with "haul pipeline ${name} sync --yes" ` +
      `(add --destination/--destination-options/--dataset-name when state.json cannot tell them), or delete the pipeline's folder`,
  );
}

/** Checks the working dir and state.json, then attaches the engine to it. */
export function openPipeline(name: string, pipelinesDir: string | undefined): Pipeline {
  const dir = pipelinesDirOf(pipelinesDir);
  if (!existsSync(statePathOf(dir, name))) throw notFound(name, dir);
  const st = readStateFile(dir, name);
  if (!st.ok) throw corrupt(name, st.why);
  return attach({ pipelineName: name, pipelinesDir: dir });
}

/** The destination of an attached pipeline as the CLI will use it, or a clear error. */
export function destinationOf(name: string, options: { destination?: string; destinationOptions?: Record<string, unknown> }, state?: PipelineState): DestinationFactory {
  const destName = options.destination ?? state?.destination_name;
  if (!destName) throw new CliError(`pipeline "${name}": its destination is unknown; pass --destination (e.g. duckdb) and --destination-options`);
  return resolveDestination(destName, options.destinationOptions ?? state?._local.destination_options ?? {});
}

/**
 * The DuckDB file a pipeline uses must exist before the CLI touches it: a pipeline that
 * used the default `<name>.duckdb` of another directory would otherwise get a new, empty
 * file here.
 */
export function checkDestinationReachable(p: Pick<Pipeline, 'destination' | 'pipelineName' | 'datasetName'>): string {
  const client = p.destination.createClient({ pipelineName: p.pipelineName, datasetName: p.datasetName });
  const where = client.displayLocation;
  if (client.localFile !== undefined && !existsSync(client.localFile)) {
    throw new CliError(
      `pipeline "${p.pipelineName}": its ${p.destination.destinationName} file ${client.localFile} does not exist; ` +
        'a pipeline that used the default <name>.duckdb must be handled from the directory it ran in, or set DESTINATION__DUCKDB__CREDENTIALS to the file',
    );
  }
  return where;
}
