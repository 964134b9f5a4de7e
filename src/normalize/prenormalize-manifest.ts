import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stableStringify } from '../schema/schema.js';
import { PATH_SEPARATOR } from '../schema/system.js';
import type { SchemaSettings, TableSchema } from '../schema/types.js';

/*
 * What the background pre-normalizer leaves per input file in a package's scratch folder,
 * and when normalize may trust it. The pre-normalizer normalizes a table's files one after
 * the other in extract order, carrying its schema on, just as normalize's single thread
 * does. Normalizing rows of one root table reads and changes only that table's tree (the
 * table, its child tables) and reads the settings; so when normalize reaches the input with
 * a tree and settings equal to the ones the pre-normalizer started that file from (same
 * hash), the files it wrote are the ones normalize would write (up to random row ids), and
 * its tree afterwards is the one normalize would have.
 */

export const MANIFEST_SUFFIX = '.manifest.json';
const MANIFEST_VERSION = 1;

export interface PrenormalizeManifest {
  version: number;
  loadId: string;
  /** The extracted job file: name, root table, size in bytes. */
  input: { job: string; table: string; sizeBytes: number };
  /** treeHash of the schema this file was normalized from. */
  startHash: string;
  /** Tables the file changed, as they ended, in the schema's order. */
  tables: TableSchema[];
  /** Of those, the ones it created (normalize's schema must not have them yet). */
  created: string[];
  rowCounts: Record<string, number>;
  /** Output job files in the scratch folder, with their sizes. */
  files: Array<{ table: string; file: string; sizeBytes: number }>;
  largestRowBytes: number;
}

export interface SchemaView {
  name: string;
  settings: SchemaSettings;
  tables: Record<string, TableSchema>;
}

/** The tables rows of `root` can reach: the root, tables named under it, tables whose parent chain leads to it. */
export function treeOf(tables: Record<string, TableSchema>, root: string): string[] {
  const names = new Set<string>();
  for (const n of Object.keys(tables)) if (n === root || n.startsWith(root + PATH_SEPARATOR)) names.add(n);
  for (let grew = true; grew; ) {
    grew = false;
    for (const t of Object.values(tables)) {
      if (!names.has(t.name) && t.parent !== undefined && names.has(t.parent)) {
        names.add(t.name);
        grew = true;
      }
    }
  }
  return [...names].sort();
}

/**
 * What normalizing rows of `root` depends on: its tree (column order included), the tables
 * above it (a resource table with `parentTableName` takes its root's hints), the settings,
 * the name limit.
 */
export function treeHash(schema: SchemaView, root: string, maxIdentifierLength: number | undefined): string {
  const names = treeOf(schema.tables, root);
  for (let up = schema.tables[root]?.parent; up !== undefined && !names.includes(up); up = schema.tables[up]?.parent) names.push(up);
  const text = stableStringify({
    name: schema.name,
    settings: schema.settings,
    maxIdentifierLength: maxIdentifierLength ?? null,
    tables: names.map((n) => schema.tables[n]),
    order: names.map((n) => Object.keys(schema.tables[n]?.columns ?? {})),
  });
  return createHash('sha256').update(text).digest('base64url');
}

export function manifestName(job: string): string {
  return job + MANIFEST_SUFFIX;
}

export function newManifest(fields: Omit<PrenormalizeManifest, 'version'>): PrenormalizeManifest {
  return { version: MANIFEST_VERSION, ...fields };
}

/**
 * The manifest for `input` in `scratchDir` when it belongs to this load and input and every
 * output it names is there whole; undefined on any doubt (then the file is normalized again).
 */
export function readManifest(scratchDir: string, loadId: string, input: { job: string; table: string; sizeBytes: number }): PrenormalizeManifest | undefined {
  const path = join(scratchDir, manifestName(input.job));
  if (!existsSync(path)) return undefined;
  let m: PrenormalizeManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as PrenormalizeManifest;
  } catch {
    return undefined;
  }
  if (m === null || typeof m !== 'object' || m.version !== MANIFEST_VERSION || m.loadId !== loadId) return undefined;
  if (m.input?.job !== input.job || m.input.table !== input.table || m.input.sizeBytes !== input.sizeBytes) return undefined;
  if (!Array.isArray(m.files) || !Array.isArray(m.tables) || !Array.isArray(m.created) || typeof m.startHash !== 'string') return undefined;
  for (const f of m.files) {
    const p = join(scratchDir, f.file);
    if (!existsSync(p) || statSync(p).size !== f.sizeBytes) return undefined;
  }
  return m;
}
