/**
 * dlt's filesystem readers as transformers: pipe `filesystemSource(...)` into `readJsonl()`,
 * `readCsv()` or `readParquet()` and each listed file's rows stream out in pages of
 * `chunkSize`. JSONL is cut into chunks of raw lines (jsonl-chunks.ts), CSV read by the
 * streaming parser of csv.ts, parquet through DuckDB in vector chunks: memory stays flat
 * whatever the file size.
 */
import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, basename, join } from 'node:path';
import { LocalFileStorage } from '../../common/local-file-storage.js';
import { HaulError, InvalidOptionsError, SourceFileUnreadableError } from '../../errors.js';
import { transformer, type Resource, type ResourceOptions } from '../../extract/resource.js';
import { duckdbRowPages } from '../duckdb-rows.js';
import { CsvRecordParser, PANDAS_NA_VALUES, typeChunk, type CsvParseOptions } from './csv.js';
import type { FileItem } from './file-item.js';
import { jsonLineChunks } from './jsonl-chunks.js';
import type { JsonLines } from '../../extract/json-lines.js';

type Rows = Record<string, unknown>[];

export interface ReaderOptions extends Omit<ResourceOptions, 'incremental'> {
  /** Rows per yielded page (default 10,000). */
  chunkSize?: number;
}

export interface ReadCsvOptions extends ReaderOptions, CsvParseOptions {
  /** Text encoding of the files (default utf-8; WHATWG or Python names: `latin-1`, `cp1252`, `utf-16`). Bytes that are not in it are an error. */
  encoding?: string;
  /** Strings read as null (default: pandas' list, e.g. '', 'NULL', 'NA', 'NaN', 'null'). */
  naValues?: string[];
  /** Type each chunk's columns as pandas does (default true); false keeps every value a string. */
  inferTypes?: boolean;
}

const DEFAULT_CHUNK_SIZE = 10_000;

/**
 * Reads each file as JSON lines (`.gz` files decompressed); one object per non-empty line.
 * Yields chunks of `chunkSize` raw lines (JsonLines): every line is checked here, so a bad
 * one fails naming file and line, but not parsed; extract writes the bytes to its job file
 * as they are unless steps, a model or a transformer need the objects.
 */
export function readJsonl(options: ReaderOptions = {}): Resource<Rows> {
  const chunkSize = chunkSizeOf(options);
  return reader('read_jsonl', options, async function* (file) {
    const badLine = (lineNo: number, why: string) => new SourceFileUnreadableError(`${file.file_url} line ${lineNo}`, why, 'fix the line or filter the file out with fileGlob');
    yield* jsonLineChunks(await openText(file), chunkSize, badLine);
  });
}

/** Reads each file as CSV with a header line; values typed per chunk as pandas does (see csv.ts). */
export function readCsv(options: ReadCsvOptions = {}): Resource<Rows> {
  const chunkSize = chunkSizeOf(options);
  const { delimiter, quoteChar, encoding, naValues, inferTypes, ...rest } = options;
  let parserOptions: CsvParseOptions;
  try {
    parserOptions = { delimiter, quoteChar };
    new CsvRecordParser(parserOptions);
  } catch (err) {
    throw new InvalidOptionsError('readCsv', (err as Error).message);
  }
  const label = textDecoderLabel(encoding ?? 'utf-8');
  const na = new Set(naValues ?? PANDAS_NA_VALUES);
  return reader('read_csv', { ...rest }, async function* (file) {
    const parser = new CsvRecordParser(parserOptions);
    let header: string[] | undefined;
    let records: string[][] = [];
    /** Records so far, the header included: the line number when no field holds a newline. */
    let line = 0;
    const take = function* (recs: string[][]): Generator<Rows> {
      for (const r of recs) {
        line++;
        if (!header) {
          header = dedupeHeader(unnamed(r));
          continue;
        }
        if (r.length > header.length) {
          // pandas refuses such a row too ("Expected 2 fields in line 3, saw 3"): its extra values would be lost
          throw new SourceFileUnreadableError(`${file.file_url} line ${line}`, `it has ${r.length} fields where the header has ${header.length}`, 'fix the row, or the header, or the delimiter/quoteChar');
        }
        records.push(r);
        if (records.length >= chunkSize) {
          yield typeChunk(header, records, na, inferTypes ?? true);
          records = [];
        }
      }
    };
    const input = await openText(file);
    // fatal: bytes that are not in the encoding are an error, not replacement characters (pandas raises too)
    const decoder = new TextDecoder(label, { fatal: true, ignoreBOM: false });
    try {
      for await (const bytes of input) yield* take(parser.push(decoder.decode(bytes as Buffer, { stream: true })));
      yield* take(parser.push(decoder.decode()));
      yield* take(parser.end());
    } catch (err) {
      if (err instanceof HaulError) throw err;
      if (err instanceof TypeError && (err as { code?: string }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') {
        throw new SourceFileUnreadableError(file.file_url, `it is not valid ${label} text`, "pass its encoding to readCsv({ encoding }), e.g. 'latin-1' or 'cp1252'");
      }
      throw new SourceFileUnreadableError(file.file_url, (err as Error).message, 'check that it is CSV with a header line and the right delimiter/quoteChar');
    }
    if (header && records.length > 0) yield typeChunk(header, records, na, inferTypes ?? true);
  });
}

/** Reads each parquet file through DuckDB, in chunks of rows. */
export function readParquet(options: ReaderOptions = {}): Resource<Rows> {
  const chunkSize = chunkSizeOf(options);
  return reader('read_parquet', options, async function* (file) {
    const path = localPath(file);
    // DuckDB expands glob characters in a path and has no escape: such a name is read through a plain-named link
    const link = /[*?[\]{}]/.test(path) ? plainNamedLink(path) : undefined;
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      try {
        yield* duckdbRowPages(await conn.stream('SELECT * FROM read_parquet($1)', [(link?.path ?? path) as DuckDBValue]), chunkSize);
      } catch (err) {
        // DuckDB's message names the file already; say which one in our words and what to do.
        throw new SourceFileUnreadableError(file.file_url, (err as Error).message.split('\n')[0]!, 'check that it is a whole parquet file');
      }
    } finally {
      conn.closeSync();
      instance.closeSync();
      link?.remove();
    }
  });
}

/** A symlink with a plain name to `path`, in a temp folder of its own. */
function plainNamedLink(path: string): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'haul-parquet-'));
  const link = join(dir, 'file.parquet');
  symlinkSync(path, link);
  return { path: link, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A transformer reading every file of each FileItem page its parent yields. */
function reader(defaultName: string, options: ReaderOptions, read: (file: FileItem) => AsyncIterable<Rows | JsonLines>): Resource<Rows> {
  const { chunkSize: _c, ...resourceOptions } = options;
  void _c;
  const name = resourceOptions.name ?? defaultName;
  // typed as pages of rows: what steps and child transformers see of a chunk of JSON lines
  async function* readFiles(items: FileItem[] | FileItem): AsyncIterable<Rows | JsonLines> {
    for (const file of Array.isArray(items) ? items : [items]) {
      if (!file || typeof file.file_url !== 'string') throw new InvalidOptionsError(`transformer "${name}"`, 'expects FileItems: pipe filesystemSource(...) into it');
      yield* read(file);
    }
  }
  return transformer<FileItem[] | FileItem, Rows>(readFiles as (items: FileItem[] | FileItem) => AsyncIterable<Rows>, { ...resourceOptions, name });
}

function chunkSizeOf(options: ReaderOptions): number {
  const n = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(n) || n <= 0) throw new InvalidOptionsError('reader chunkSize', 'must be a positive integer');
  return n;
}

function localPath(file: FileItem): string {
  if (!file.file_url.startsWith('file:')) throw new InvalidOptionsError(`file ${file.file_url}`, 'only local files (file://) can be read so far');
  return fileURLToPath(file.file_url);
}

/** The file's bytes (gunzipped for `.gz`), opened through the storage so open errors are typed. */
async function openText(file: FileItem): Promise<Readable> {
  const path = localPath(file);
  const storage = new LocalFileStorage(dirname(path), file.file_url);
  let stream: Readable;
  try {
    stream = await storage.openRead(basename(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SourceFileUnreadableError(file.file_url, code === 'ENOENT' ? 'the file no longer exists' : (err as Error).message);
  }
  if (file.encoding === 'gzip' || /\.gz$/i.test(path)) {
    const gunzip = createGunzip();
    stream.on('error', (e) => gunzip.destroy(e));
    return stream.pipe(gunzip);
  }
  return stream;
}

/** A TextDecoder label for a WHATWG or Python encoding name; an unknown one is refused up front. */
function textDecoderLabel(encoding: string): string {
  const name = encoding.trim().toLowerCase().replace(/_/g, '-');
  for (const label of [name, name.replace(/-/g, '')]) {
    try {
      return new TextDecoder(label).encoding;
    } catch {
      // try the next spelling
    }
  }
  throw new InvalidOptionsError('readCsv encoding', `"${encoding}" is not an encoding this reader knows; use e.g. 'utf-8', 'latin-1', 'cp1252', 'utf-16le'`);
}

/** An empty header name becomes `Unnamed: <i>`, as pandas names it (the index column `to_csv()` writes). */
function unnamed(names: string[]): string[] {
  return names.map((n, i) => (n === '' ? `Unnamed: ${i}` : n));
}

/** Duplicate header names get `.1`, `.2` as pandas does (mangle_dupe_cols). */
function dedupeHeader(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = seen.get(n);
    seen.set(n, (k ?? 0) + 1);
    return k === undefined ? n : `${n}.${k}`;
  });
}
