import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { CorruptPackageFileError } from '../errors.js';

/** Reads and parses a JSON file of the package, naming it when it is broken. */
export function readJsonFile<T>(path: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CorruptPackageFileError(path, `cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new CorruptPackageFileError(path, `not valid JSON (${(e as Error).message})`);
  }
}

/** Writes a JSON file atomically (temp file + fsync + rename). */
export function writeJsonFileAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2));
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
