import { z } from 'zod';
import { config } from '../config/index.js';
import { InvalidOptionsError } from '../errors.js';
import { normalizeShortIdentifier } from '../schema/naming.js';

/**
 * dlt's `enable_dataset_name_normalization` for a destination: the option given in code, else
 * `destination.<name>.enable_dataset_name_normalization` from config (env
 * `DESTINATION__POSTGRES__ENABLE_DATASET_NAME_NORMALIZATION=false`, .dlt/config.toml); default true.
 */
export function normalizesDatasetName(destinationName: string, explicit: boolean | undefined, pipelineName: string): boolean {
  return explicit ?? config.getOptional(`destination.${destinationName}.enable_dataset_name_normalization`, z.boolean(), { pipelineName }) ?? true;
}

/** Refuses an `enableDatasetNameNormalization` that is not a boolean. */
export function checkDatasetNameOption(value: unknown, where: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw new InvalidOptionsError(where, '`enableDatasetNameNormalization` must be true or false');
}

/**
 * The dataset's name at the destination: dlt's naming convention (`Analytics` -> `analytics`;
 * a long name shortened with a tag of the name as given, as dlt's normalize_table_identifier),
 * or the name as given when normalization is off. Such a name must fit the destination's
 * identifiers as it is: it is never shortened (two long names could otherwise meet).
 */
export function destinationDatasetName(datasetName: string, normalize: boolean, maxLength: number | undefined): string {
  // one identifier, as dlt's normalize_table_identifier: `a__b` is `a_b` (no path in a dataset name)
  if (normalize) return normalizeShortIdentifier(datasetName, maxLength);
  if (maxLength !== undefined && Buffer.byteLength(datasetName) > maxLength) {
    throw new InvalidOptionsError(
      'datasetName',
      `"${datasetName}" is longer than the ${maxLength} bytes the destination takes, and enableDatasetNameNormalization is false so it is not shortened; use a shorter datasetName`,
    );
  }
  return datasetName;
}
