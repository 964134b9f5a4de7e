/**
 * `filesystemSource()`: dlt's filesystem resource. Lists the files of a bucket that match a glob
 * and yields them as FileItems in pages; readers (readers.ts) are piped after it. With an
 * incremental on `modification_date`, a later run yields only new or changed files, and so
 * its readers read only those.
 */
import { pathToFileURL } from 'node:url';
import { posix } from 'node:path';
import { z } from 'zod';
import { storageForBucketUrl } from '../../common/bucket-url.js';
import type { FileInfo, FileStorage } from '../../common/file-storage.js';
import { formatIssue } from '../../common/zod-issues.js';
import { config } from '../../config/index.js';
import { InvalidOptionsError, SourceBucketNotFoundError } from '../../errors.js';
import type { Incremental } from '../../extract/incremental.js';
import { Resource, resource } from '../../extract/resource.js';
import { guessMimeType, type FileItem } from './file-item.js';
import { globToRegExp } from './glob.js';

export const BUCKET_URL_PATH = 'sources.filesystem.bucket_url';

export interface FilesystemSourceOptions {
  /** A folder path or `file:///...` URL; default: `sources.filesystem.bucket_url` from env/.dlt. */
  bucketUrl?: string;
  /** Which files, relative to the bucket (fsspec glob): default `*` (the top folder, as dlt); `**` every file below. */
  fileGlob?: string;
  /** FileItems per yielded page (dlt's files_per_page, default 100). */
  filesPerPage?: number;
  /** An `incremental('modification_date')`: later runs list only new or changed files. */
  incremental?: Incremental;
  /** Resource name (default `filesystem`, as in dlt). */
  name?: string;
  /** Scopes the config lookup of bucket_url (`<pipelineName>.sources.filesystem.bucket_url`). */
  pipelineName?: string;
}

const optionsSchema = z
  .object({
    bucketUrl: z.string().min(1).optional(),
    fileGlob: z.string().min(1).optional(),
    filesPerPage: z.number().int().positive().optional(),
    incremental: z.custom<Incremental>((v) => v === undefined || (typeof v === 'object' && v !== null && 'cursorPath' in v)).optional(),
    name: z.string().min(1).optional(),
    pipelineName: z.string().min(1).optional(),
  })
  .strict();

/** A resource yielding pages of FileItems for the files of `bucketUrl` matching `fileGlob`. */
export function filesystemSource(options: FilesystemSourceOptions = {}): Resource<FileItem[]> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw new InvalidOptionsError('filesystem source', parsed.error.issues.map(formatIssue).join('; '));
  const bucketUrl = options.bucketUrl ?? config.get(BUCKET_URL_PATH, z.string().min(1), { pipelineName: options.pipelineName });
  const storage = storageForBucketUrl(bucketUrl, 'filesystem source bucketUrl');
  const glob = options.fileGlob ?? '*';
  const pageSize = options.filesPerPage ?? 100;
  async function* listing(): AsyncIterable<FileItem[]> {
    const matches = globToRegExp(glob.replace(/^\/+/, ''));
    // hidden files and folders (.git, .DS_Store) only when the glob names them, as dlt's listing
    const hiddenToo = /(^|\/)\./.test(glob);
    let page: FileItem[] = [];
    for (const info of await listBucket(storage)) {
      if (!matches.test(info.path) || (!hiddenToo && /(^|\/)\./.test(info.path))) continue;
      page.push(fileItem(storage, info));
      if (page.length >= pageSize) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }
  return resource(listing, { name: options.name ?? 'filesystem', primaryKey: 'file_url', mergeKey: 'file_url', incremental: options.incremental });
}

async function listBucket(storage: FileStorage): Promise<FileInfo[]> {
  // A missing bucket lists as empty in the storage; the source says so instead.
  if (!(await storage.exists(''))) throw new SourceBucketNotFoundError(storage.location);
  try {
    return await storage.listFileInfos('');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    throw new InvalidOptionsError('filesystem source bucketUrl', `${storage.location} is a file, not a folder: use its folder as bucketUrl and its name as fileGlob`);
  }
}

function fileItem(storage: FileStorage, info: FileInfo): FileItem {
  const fileName = posix.basename(info.path);
  const [mimeType, encoding] = guessMimeType(fileName);
  return {
    file_name: fileName,
    relative_path: info.path,
    file_url: fileUrl(storage, info.path),
    mime_type: mimeType,
    ...(encoding ? { encoding } : {}),
    modification_date: info.modified,
    size_in_bytes: info.size,
  };
}

function fileUrl(storage: FileStorage, path: string): string {
  return pathToFileURL(storage.readerPath(path)).href;
}
