import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidOptionsError } from '../errors.js';
import type { FileStorage } from './file-storage.js';
import { LocalFileStorage } from './local-file-storage.js';

/**
 * A bucket URL -> the storage driver for its scheme (only local paths and file:// so far).
 * `what` names the option in errors, e.g. `filesystem destination bucketUrl`.
 */
export function storageForBucketUrl(bucketUrl: string, what: string): FileStorage {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(bucketUrl)?.[1]?.toLowerCase();
  if (scheme === undefined) return new LocalFileStorage(resolve(bucketUrl), resolve(bucketUrl));
  if (scheme === 'file') {
    let path: string;
    try {
      path = fileURLToPath(bucketUrl);
    } catch (err) {
      throw new InvalidOptionsError(what, `${bucketUrl} is not a valid file:// URL (${(err as Error).message}); use file:///absolute/path or a plain path`);
    }
    return new LocalFileStorage(path, bucketUrl);
  }
  throw new InvalidOptionsError(
    what,
    `${scheme}:// buckets are not supported yet (only local paths and file:// URLs); mount the bucket locally, or see src/destinations/README.md for what an object-store driver needs`,
  );
}
