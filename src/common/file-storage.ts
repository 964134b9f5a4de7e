import type { Readable } from 'node:stream';

/**
 * A bucket of files: what the filesystem destination writes and the filesystem source reads.
 * Paths are relative to the bucket root and use `/`. Both only ever use these operations, so
 * an object store (S3, GCS, Azure) is one more implementation of this interface (see
 * destinations/README.md for what it needs). It lives in common/ because a source must not
 * import a destination (docs/decisions.md).
 */
export interface FileStorage {
  /** The bucket as the user named it (a path or URL without credentials), for messages. */
  readonly location: string;
  /**
   * Writes `data` so readers see the whole file or nothing (temp name + rename locally; one
   * PUT on object stores). Replaces an existing file of that name.
   */
  writeAtomic(path: string, data: string | Uint8Array): Promise<void>;
  /** Copies a local file to `path`, atomically like writeAtomic. */
  putFileAtomic(localPath: string, path: string): Promise<void>;
  /** The file's bytes, or undefined when it does not exist. */
  read(path: string): Promise<Buffer | undefined>;
  exists(path: string): Promise<boolean>;
  /** Files below `dir` (recursive), as paths relative to the bucket root, sorted. Temp files are never listed. */
  listFiles(dir: string): Promise<string[]>;
  /** Like listFiles, with each file's size and modification time (one stat or listing entry per file). */
  listFileInfos(dir: string): Promise<FileInfo[]>;
  /** A stream of the file's bytes; rejects with the storage's error (ENOENT, EACCES) when it cannot be opened. */
  openRead(path: string): Promise<Readable>;
  /** Names of the folders directly in `dir` (a missing `dir` has none). */
  listDirs(dir: string): Promise<string[]>;
  /** Deletes one file (missing is fine). */
  deleteFile(path: string): Promise<void>;
  /** Deletes a folder and everything below it (missing is fine). */
  deleteDir(dir: string): Promise<void>;
  /** Makes a folder (and its parents); object stores have no folders and do nothing. */
  makeDir(dir: string): Promise<void>;
  /** Moves a folder; `to` must not exist. Object stores copy and delete each object. */
  renameDir(from: string, to: string): Promise<void>;
  /** How DuckDB reads the file: a local path, or a URL its httpfs/azure extension opens. */
  readerPath(path: string): string;
}

/** Joins bucket-relative path parts with `/`, ignoring empty parts. */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

/** A file in a listing: its bucket-relative path, size and last modification time. */
export interface FileInfo {
  path: string;
  size: number;
  modified: Date;
}
