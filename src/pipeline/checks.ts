import { existsSync, statSync } from 'node:fs';
import { resolveDestination } from '../destinations/index.js';
import { isStagingClient, type DestinationCapabilities, type DestinationFactory, type LoaderFileFormat } from '../destinations/types.js';
import { HaulError, InvalidOptionsError } from '../errors.js';
import { redact } from '../config/redact.js';
import { ConfigValueMissingError } from '../config/resolve.js';
import type { PipelineState } from '../state/state.js';

/** A file format the destination cannot load is refused before anything is written. */
export function checkLoaderFileFormat(format: LoaderFileFormat | undefined, destinationName: string, capabilities: DestinationCapabilities): void {
  if (format === undefined) return;
  if (!capabilities.supportedLoaderFileFormats.includes(format)) {
    throw new InvalidOptionsError('loaderFileFormat', `destination ${destinationName} does not load "${format}" files (it loads ${capabilities.supportedLoaderFileFormats.join(', ')}); pick one of those`);
  }
}

/** pipelinesDir must be a folder (or not exist yet): a file there would fail later with a bare ENOTDIR. */
export function checkIsDirectory(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new InvalidOptionsError('pipelinesDir', `${dir} is a file, not a directory; pass another pipelinesDir (or set HAUL_PIPELINES_DIR) or move the file away`);
  }
}

/**
 * Destination options kept in state.json so the pipeline can reopen its destination. Options
 * that carry a known secret (e.g. a token inside a path) are not kept: pass the destination
 * again when reopening such a pipeline.
 */
export function storableOptions(options: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  if (!options) return {};
  const text = JSON.stringify(options);
  return redact(text) === text ? { ...options } : {};
}

export function restoreDestination(state: PipelineState | undefined): DestinationFactory | undefined {
  if (!state?.destination_name) return undefined;
  return resolveDestination(state.destination_name, state._local.destination_options);
}

export function restoreStaging(state: PipelineState | undefined): DestinationFactory | undefined {
  const s = state?._local.staging;
  return s ? resolveDestination(s.name, s.options) : undefined;
}

/** Only a destination that can hold files for another (the filesystem) can be `staging`. */
export function checkCanStage(staging: DestinationFactory, pipelineName: string, datasetName: string): void {
  if (!isStagingClient(staging.createClient({ pipelineName, datasetName }))) {
    throw new InvalidOptionsError('staging', `destination ${staging.destinationName} cannot be a staging destination; use 'filesystem' (or filesystem({ bucketUrl }))`);
  }
}

/**
 * A pipeline that loaded into an embedded database file must find that file: attaching
 * from another directory would otherwise open a new, empty `<name>.duckdb` there.
 */
export function checkLocalFileExists(ctx: { pipelineName: string; datasetName: string; destination: DestinationFactory }, state: PipelineState): void {
  if (state._local.first_run !== false) return;
  let file: string | undefined;
  try {
    file = ctx.destination.createClient({ pipelineName: ctx.pipelineName, datasetName: ctx.datasetName }).localFile;
  } catch (e) {
    // Credentials are never stored: a server destination gets them when it is used (as dlt's attach).
    if (e instanceof ConfigValueMissingError) return;
    throw e;
  }
  if (file !== undefined && !existsSync(file)) {
    throw new HaulError(
      'DestinationMissing',
      `pipeline "${ctx.pipelineName}" loaded into ${ctx.destination.destinationName} file ${file}, which does not exist; ` +
        'attach from the directory it ran in, or pass destination: duckdb({ path }) with the file it used (or set DESTINATION__DUCKDB__CREDENTIALS)',
    );
  }
}
