import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { config } from '../../config/index.js';
import { InvalidOptionsError } from '../../errors.js';
import { registerDestination } from '../registry.js';
import { normalizesDatasetName } from '../dataset-name.js';
import type { DestinationCapabilities, DestinationFactory } from '../types.js';
import { FILESYSTEM_MERGE_ADVICE, FilesystemClient } from './client.js';
import { DEFAULT_LAYOUT, Layout } from './layout.js';
import { storageForBucketUrl } from '../../common/bucket-url.js';
import type { FileStorage } from '../../common/file-storage.js';

export interface FilesystemOptions {
  /**
   * Where the files go: a local path or a `file://` URL (dlt's `bucket_url`). Default: config
   * `destination.filesystem.bucket_url` (env `DESTINATION__FILESYSTEM__BUCKET_URL`, or
   * `[destination.filesystem] bucket_url` in .dlt/config.toml). Datasets are folders in it.
   */
  bucketUrl?: string;
  /** dlt's layout of job files under `<bucket>/<dataset>/`; default `{table_name}/{load_id}.{file_id}.{ext}`. */
  layout?: string;
  /** Your own `{placeholders}` for the layout, with fixed string values. */
  extraPlaceholders?: Record<string, string>;
  /** dlt's `max_state_files`: state files kept per pipeline (default 100; 0 or less keeps all). */
  maxStateFiles?: number;
  /**
   * dlt's `enable_dataset_name_normalization`. false: the dataset's folder is named exactly as
   * `datasetName`. Default true, or `destination.filesystem.enable_dataset_name_normalization` from config.
   */
  enableDatasetNameNormalization?: boolean;
}

export const FILESYSTEM_CAPABILITIES: DestinationCapabilities = {
  supportedLoaderFileFormats: ['jsonl', 'parquet', 'csv'],
  preferredLoaderFileFormat: 'jsonl',
  supportedWriteDispositions: ['append', 'replace', 'skip'],
  unsupportedWriteDispositionAdvice: { merge: FILESYSTEM_MERGE_ADVICE },
  // file and folder names: 255 bytes, and job files add load and file ids to the table name
  maxIdentifierLength: 200,
  supportsTransactions: false,
};

/** A bucket URL -> the storage driver for its scheme (only local paths and file:// so far). */
export function storageFor(bucketUrl: string): FileStorage {
  return storageForBucketUrl(bucketUrl, 'filesystem destination bucketUrl');
}

const optionsSchema = z
  .object({
    bucketUrl: z.string().min(1).optional(),
    layout: z.string().min(1).optional(),
    extraPlaceholders: z.record(z.string(), z.string()).optional(),
    maxStateFiles: z.number().int().optional(),
    enableDatasetNameNormalization: z.boolean().optional(),
  })
  .strict();

/**
 * The filesystem destination. An explicit relative `bucketUrl` is resolved now, so the stored
 * options keep pointing at the same folder; one from config is resolved per client.
 */
export function filesystem(options: FilesystemOptions = {}): DestinationFactory {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new InvalidOptionsError('filesystem destination', parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; '));
  }
  const layout = new Layout(options.layout ?? DEFAULT_LAYOUT, options.extraPlaceholders ?? {});
  const fixed = options.bucketUrl === undefined ? undefined : /^[a-z][a-z0-9+.-]*:\/\//i.test(options.bucketUrl) || isAbsolute(options.bucketUrl) ? options.bucketUrl : resolve(options.bucketUrl);
  if (fixed !== undefined) storageFor(fixed); // refuse an unsupported URL now, not at load time
  const stored: Record<string, unknown> = {};
  if (fixed !== undefined) stored.bucketUrl = fixed;
  if (options.layout !== undefined) stored.layout = options.layout;
  if (options.extraPlaceholders !== undefined) stored.extraPlaceholders = { ...options.extraPlaceholders };
  if (options.maxStateFiles !== undefined) stored.maxStateFiles = options.maxStateFiles;
  if (options.enableDatasetNameNormalization !== undefined) stored.enableDatasetNameNormalization = options.enableDatasetNameNormalization;
  return {
    destinationName: 'filesystem',
    options: stored,
    createClient({ pipelineName, datasetName }) {
      const bucketUrl = fixed ?? config.getOptional('destination.filesystem.bucket_url', z.string().min(1), { pipelineName });
      if (bucketUrl === undefined) {
        throw new InvalidOptionsError(
          'filesystem destination',
          'no bucketUrl: pass filesystem({ bucketUrl }) or set destination.filesystem.bucket_url (env DESTINATION__FILESYSTEM__BUCKET_URL, or bucket_url under [destination.filesystem] in .dlt/config.toml)',
        );
      }
      const normalizeDatasetName = normalizesDatasetName('filesystem', options.enableDatasetNameNormalization, pipelineName);
      return new FilesystemClient({ storage: storageFor(bucketUrl), layout, datasetName, pipelineName, capabilities: FILESYSTEM_CAPABILITIES, maxStateFiles: options.maxStateFiles, normalizeDatasetName });
    },
  };
}

registerDestination('filesystem', (options) => filesystem(options as FilesystemOptions));
