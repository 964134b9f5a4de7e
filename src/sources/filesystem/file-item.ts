/**
 * dlt's FileItem: what the `filesystem` resource yields for each file, with dlt's field
 * names. Readers open the file again from `file_url`, so items stay plain data.
 */
import { posix } from 'node:path';

export interface FileItem {
  /** The file's name without folders, e.g. `orders.csv`. */
  file_name: string;
  /** Path below the bucket, `/`-separated, e.g. `2024/orders.csv`. */
  relative_path: string;
  /** Where the file is: `file:///abs/path` for local files. */
  file_url: string;
  /** Guessed from the name as Python's mimetypes does; `application/<ext>` when unknown. */
  mime_type: string;
  /** `gzip` for `.gz` files (the readers decompress them), else absent. */
  encoding?: string;
  modification_date: Date;
  size_in_bytes: number;
}

/** The extensions Python's mimetypes knows that matter here; the rest fall back as in dlt. */
const MIME: Record<string, string> = {
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.tsv': 'text/tab-separated-values',
  '.xml': 'application/xml',
  '.html': 'text/html',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

const ENCODINGS: Record<string, string> = { '.gz': 'gzip', '.bz2': 'bzip2', '.xz': 'xz' };

/** [mime type, encoding] of a file name (dlt's guess_mime_type). */
export function guessMimeType(fileName: string): [string, string | undefined] {
  let name = fileName;
  const encExt = posix.extname(name).toLowerCase();
  const encoding = ENCODINGS[encExt];
  if (encoding) name = name.slice(0, -encExt.length);
  const ext = posix.extname(name).toLowerCase();
  const known = MIME[ext];
  if (known) return [known, encoding];
  // dlt: application/ + the extension of the full name (`.gz` for `x.jsonl.gz`)
  const lastExt = posix.extname(fileName).slice(1);
  return [`application/${lastExt || 'octet-stream'}`, encoding];
}
