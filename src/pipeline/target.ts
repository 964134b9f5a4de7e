import { resolveDestination } from '../destinations/index.js';
import type { DestinationFactory } from '../destinations/types.js';
import { InvalidOptionsError } from '../errors.js';
import { checkCanStage } from './checks.js';

/** Where a pipeline loads: its destination, dataset and staging. */
export interface Target {
  destination: DestinationFactory;
  datasetName: string;
  staging?: DestinationFactory;
}

/**
 * dlt's per-call `destination`, `dataset_name`, `credentials` and `staging` of `run()` and
 * `load()`: they change where the pipeline loads from this call on (kept in state.json like
 * the pipeline's own, credentials excepted).
 */
export interface TargetOptions {
  destination?: string | DestinationFactory;
  datasetName?: string;
  /** The destination's credentials (a connection string or object; DuckDB: the file). Never stored. */
  credentials?: unknown;
  staging?: string | DestinationFactory;
}

export const TARGET_OPTION_KEYS = ['destination', 'datasetName', 'credentials', 'staging'] as const;

export function hasTargetOptions(o: TargetOptions): boolean {
  return TARGET_OPTION_KEYS.some((k) => o[k] !== undefined);
}

export function retarget(current: Target, o: TargetOptions, pipelineName: string): Target {
  let destination = o.destination !== undefined ? resolveDestination(o.destination) : current.destination;
  if (o.credentials !== undefined) {
    if (!destination.withCredentials) {
      throw new InvalidOptionsError('credentials', `destination ${destination.destinationName} takes no credentials; configure it with its factory (e.g. ${destination.destinationName}({ ... })) instead`);
    }
    destination = destination.withCredentials(o.credentials);
  }
  if (o.datasetName !== undefined && (typeof o.datasetName !== 'string' || o.datasetName === '')) {
    throw new InvalidOptionsError('datasetName', 'must be a non-empty string');
  }
  const datasetName = o.datasetName ?? current.datasetName;
  const staging = o.staging !== undefined ? resolveDestination(o.staging) : current.staging;
  if (o.staging !== undefined) checkCanStage(staging!, pipelineName, datasetName);
  return { destination, datasetName, ...(staging && { staging }) };
}
