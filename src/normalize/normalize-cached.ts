import { existsSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { normalizeFiles } from './normalize-files.js';
import { combine } from './parallel.js';
import { readManifest, treeHash, type PrenormalizeManifest } from './prenormalize-manifest.js';
import { debug } from './prenormalizer.js';
import type { NormalizeInput, NormalizeOptions, NormalizeResult } from './types.js';

/*
 * normalizeFiles with the pre-normalizer's cache (prenormalizer.ts): inputs are taken in
 * their order; an input whose manifest fits the schema as it stands at that point (same
 * tree hash, the tables it created still absent) is taken from the scratch folder: its
 * files move into outDir and its tables replace the schema's. The inputs between such ones
 * are normalized as always. The result, schema included, is what normalizeFiles makes from
 * the same inputs, up to random row ids and how rows are spread over files.
 */

export interface CachedNormalizeResult extends NormalizeResult {
  /** Inputs taken from the cache. */
  cachedInputs: number;
}

/** @internal Inputs seen and taken from the cache by this process (tests, benches). */
export const cacheStats = { inputs: 0, cached: 0 };

export async function normalizeFilesCached(opts: NormalizeOptions, scratchDir: string): Promise<CachedNormalizeResult> {
  const { signal, onProgress } = opts;
  const shares: NormalizeResult[] = [];
  const rowsDone = new Map<string, number>();
  const count = (r: NormalizeResult) => {
    shares.push(r);
    for (const [t, n] of Object.entries(r.rowCounts)) rowsDone.set(t, (rowsDone.get(t) ?? 0) + n);
  };
  let run: NormalizeInput[] = [];
  const flush = async () => {
    if (run.length === 0) return;
    const inputs = run;
    run = [];
    const t = performance.now();
    count(
      await normalizeFiles({
        ...opts,
        inputs,
        onProgress: onProgress && ((p) => onProgress({ table: p.table, rows: (rowsDone.get(p.table) ?? 0) + p.rows })),
      }),
    );
    inStep += performance.now() - t;
  };
  let cachedInputs = 0;
  const t0 = performance.now();
  let inStep = 0;
  for (const input of opts.inputs) {
    signal?.throwIfAborted();
    const m = readManifest(scratchDir, opts.loadId, { job: basename(input.path), table: input.table, sizeBytes: statSync(input.path).size });
    if (m === undefined) {
      debug(() => `${basename(input.path)}: not in the cache`);
      run.push(input);
      continue;
    }
    // whether it fits depends on the schema after every input before it
    await flush();
    const fitting = fits(opts, m, input.table);
    const share = fitting ? adopt(opts, m, scratchDir) : undefined;
    if (share === undefined) {
      debug(() => `${basename(input.path)}: not taken from the cache: ${fitting ? 'its files could not move' : whyNot(opts, m, input.table)}`);
      run.push(input);
      continue;
    }
    cachedInputs++;
    count(share);
    for (const t of Object.keys(share.rowCounts)) onProgress?.({ table: t, rows: rowsDone.get(t) ?? 0 });
  }
  await flush();
  cacheStats.inputs += opts.inputs.length;
  cacheStats.cached += cachedInputs;
  debug(`${cachedInputs} of ${opts.inputs.length} inputs from the cache; ${(performance.now() - t0).toFixed(0)} ms, ${inStep.toFixed(0)} ms of it normalizing`);
  return { ...combine(opts.outDir, shares), cachedInputs };
}

function fits(opts: NormalizeOptions, m: PrenormalizeManifest, table: string): boolean {
  return m.startHash === treeHash(opts.schema, table, opts.maxIdentifierLength) && m.created.every((n) => opts.schema.tables[n] === undefined);
}

/** Why a manifest does not fit, for the debug output. */
function whyNot(opts: NormalizeOptions, m: PrenormalizeManifest, table: string): string {
  if (m.startHash !== treeHash(opts.schema, table, opts.maxIdentifierLength)) return `the schema of ${table}'s tables differs from the one it was normalized with`;
  return `it created tables that exist now: ${m.created.filter((n) => opts.schema.tables[n] !== undefined).join(', ')}`;
}

/** Moves the input's files into outDir and takes its tables; undefined (nothing changed) when a file cannot move. */
function adopt(opts: NormalizeOptions, m: PrenormalizeManifest, scratchDir: string): NormalizeResult | undefined {
  const moved: string[] = [];
  try {
    for (const f of m.files) {
      renameSync(join(scratchDir, f.file), join(opts.outDir, f.file));
      moved.push(f.file);
    }
  } catch {
    for (const f of moved) {
      const p = join(opts.outDir, f);
      if (existsSync(p)) unlinkSync(p);
    }
    return undefined;
  }
  // existing tables keep their place; created ones follow in the order they were created
  for (const t of m.tables) opts.schema.tables[t.name] = structuredClone(t);
  return { rowCounts: m.rowCounts, files: m.files.map(({ table, file }) => ({ table, file })), largestRowBytes: m.largestRowBytes };
}
