/**
 * The `.dlt/config.toml` and `.dlt/secrets.toml` files, read with smol-toml and cached by
 * mtime. This module imports nothing from haul (the redactor uses it),
 * so a broken file is reported as a value, not thrown.
 */
import { statSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'smol-toml';

export interface TomlFile {
  path: string;
  exists: boolean;
  /** The parsed document (plain objects); absent when missing or broken. */
  doc?: Record<string, unknown>;
  /** Why the file could not be read or parsed. */
  error?: string;
}

export interface ConfigDirs {
  /** `<project>/.dlt` (default: `$DLT_PROJECT_DIR/.dlt`, else `<cwd>/.dlt`). */
  projectDir?: string;
  /** The global `.dlt` folder (default: `$DLT_DATA_DIR`, else `~/.dlt`). */
  globalDir?: string;
}

/** The two `.dlt` folders, project first. */
export function configDirs(dirs: ConfigDirs = {}): { project: string; global: string } {
  const project = dirs.projectDir ?? join(resolve(process.env.DLT_PROJECT_DIR ?? process.cwd()), '.dlt');
  const global = dirs.globalDir ?? (process.env.DLT_DATA_DIR ? resolve(process.env.DLT_DATA_DIR) : join(homedir(), '.dlt'));
  return { project: resolve(project), global: resolve(global) };
}

interface CacheEntry {
  checkedAt: number;
  mtimeMs: number;
  size: number;
  file: TomlFile;
}

const cache = new Map<string, CacheEntry>();
/** A file is re-stat'ed at most this often (redaction runs on every log line and error). */
const RECHECK_MS = 250;

/** Reads a TOML file (cached until its mtime or size changes). */
export function readTomlFile(path: string): TomlFile {
  const now = Date.now();
  const hit = cache.get(path);
  if (hit && now - hit.checkedAt < RECHECK_MS) return hit.file;
  let st: { mtimeMs: number; size: number } | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  if (!st) {
    const file: TomlFile = { path, exists: false };
    cache.set(path, { checkedAt: now, mtimeMs: -1, size: -1, file });
    return file;
  }
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) {
    hit.checkedAt = now;
    return hit.file;
  }
  let file: TomlFile;
  try {
    const doc = toPlain(parse(readFileSync(path, 'utf8'))) as Record<string, unknown>;
    file = { path, exists: true, doc };
  } catch (e) {
    file = { path, exists: true, error: (e as Error).message.split('\n')[0] };
  }
  cache.set(path, { checkedAt: now, mtimeMs: st.mtimeMs, size: st.size, file });
  return file;
}

/** smol-toml gives null-prototype objects and TomlDate; make them plain objects and ISO strings. */
function toPlain(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(toPlain);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
    return out;
  }
  return v;
}

/** The value at `a.b.c` in a parsed document, or undefined. */
export function lookupPath(doc: Record<string, unknown> | undefined, segments: string[]): unknown {
  let cur: unknown = doc;
  for (const s of segments) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

/** Every string leaf of a document. */
export function stringLeaves(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringLeaves(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) stringLeaves(x, out);
  return out;
}
