import { randomBytes } from 'node:crypto';
import { faultPoint } from '../common/faults.js';
import { releaseFreedMemory } from '../common/release-memory.js';
import { HaulError, PipelineStepFailed } from '../errors.js';
import type { StepOptions } from '../progress/step-options.js';
import type { WorkingDir } from '../storage/working-dir.js';
import { normalizeFiles } from './index.js';
import { packageStartSchema } from './schema-snapshot.js';
import { normalizeFilesCached } from './normalize-cached.js';
import { awaitPrenormalized } from './prenormalizer.js';
import { endParkedThread } from './warm-thread.js';
import { checkHintedColumnsBound } from './hinted-columns-bound.js';
import { NEW_JOBS } from '../storage/layout.js';
import { convertJobFiles } from '../storage/job-formats.js';
import type { LoaderFileFormat } from '../schema/types.js';
import type { Schema } from '../schema/schema.js';
import type { PackageState } from '../storage/package-state.js';

export interface NormalizeInfo {
  loadIds: string[];
  rowCounts: Record<string, number>;
}

/**
 * The normalize step: every extracted package, oldest first, becomes a normalized package
 * (job files per table, the evolved schema, row counts), committed atomically; the
 * extracted package is removed in the same move. A package that fails stays extracted, so
 * the step can run again once the cause is fixed, except a package named in
 * `discardIfInvalid` (the one run() just extracted) whose data normalize refuses: it can
 * never normalize, and kept it would stop every later run, so it is deleted (its state with
 * it: cursors do not move) and the error says so.
 */
export async function normalizeStep(
  ctx: {
    wd: WorkingDir;
    pipelineName: string;
    /** The destination's `capabilities.maxIdentifierLength`: longer names are shortened as dlt does. */
    maxIdentifierLength?: number;
    /** The destination's `capabilities.preferredLoaderFileFormat`, for packages that name none. */
    preferredLoaderFileFormat?: LoaderFileFormat;
    /** A format the caller forces for every package (`normalize({ loaderFileFormat })`). */
    loaderFileFormat?: LoaderFileFormat;
    /** Worker threads at most (`normalize({ workers })`; default: the cores). */
    workers?: number;
  },
  stepOptions: StepOptions & { discardIfInvalid?: readonly string[] } = {},
): Promise<NormalizeInfo> {
  const { wd } = ctx;
  const { signal, onProgress } = stepOptions;
  wd.storage.recover();
  const info: NormalizeInfo = { loadIds: [], rowCounts: {} };
  for (const loadId of wd.storage.list('extracted')) {
    const pkg = wd.packageState('extracted', loadId);
    const snapshot = wd.packageSchema('extracted', loadId);
    const schema = packageStartSchema(wd, snapshot, pkg.refresh);
    const inputs = wd.storage.jobFiles(loadId, NEW_JOBS, 'extracted').map(({ table, path }) => ({ table, path }));
    if (inputs.length === 0 && nothingToLoad(pkg, schema)) {
      // As dlt: a package with no rows, no state change and nothing to replace or refresh
      // is dropped here, so a run with nothing new makes no load (no _dlt_loads row).
      wd.storage.deletePending(loadId);
      continue;
    }
    const pkgBuilder = wd.storage.beginPackage('normalized', loadId);
    try {
      // extract's garbage goes before normalize's buffers join it
      releaseFreedMemory(wd.storage.jobBytes(loadId, NEW_JOBS, 'extracted'));
      // files a background thread normalized while extract ran (this process), if any
      await awaitPrenormalized(wd, loadId, signal);
      const scratchDir = wd.storage.findScratch(loadId);
      const normalize = scratchDir === undefined ? normalizeFiles : (o: Parameters<typeof normalizeFiles>[0]) => normalizeFilesCached(o, scratchDir);
      const res = await normalize({
        schema,
        loadId,
        inputs,
        outDir: pkgBuilder.newJobsDir,
        nextFileId: () => randomBytes(5).toString('hex'),
        maxIdentifierLength: ctx.maxIdentifierLength,
        ...(ctx.workers !== undefined && { workers: ctx.workers }),
        signal,
        onProgress: onProgress && ((p) => onProgress({ step: 'normalize', loadId, table: p.table, count: p.rows })),
      });
      // the pre-normalize thread, if the step did not take it, holds memory the load can use
      endParkedThread(loadId);
      checkHintedColumnsBound(schema, res.rowCounts, loadId);
      const format = ctx.loaderFileFormat ?? pkg.loaderFileFormat ?? ctx.preferredLoaderFileFormat ?? 'jsonl';
      if (format !== 'jsonl') {
        // Rows are normalized to JSONL first (one set of rules), then written as typed files.
        await convertJobFiles(pkgBuilder.newJobsDir, format, (t) => Object.values(schema.getTable(t)?.columns ?? {}).filter((c) => !c.incomplete));
      }
      faultPoint('normalize:mid');
      schema.bumpVersion();
      pkg.rowCounts = res.rowCounts;
      pkg.largestRowBytes = res.largestRowBytes;
      pkg.normalizedAt = new Date().toISOString();
      pkgBuilder.writeSchema(schema);
      pkgBuilder.writeState(pkg);
      faultPoint('normalize:before-commit');
      pkgBuilder.commit();
      faultPoint('normalize:after-commit');
    } catch (e) {
      pkgBuilder.abort();
      const discard = stepOptions.discardIfInvalid?.includes(loadId) && isBadData(e);
      if (discard) wd.storage.deletePending(loadId);
      throw new PipelineStepFailed(ctx.pipelineName, 'normalize', loadId, e, discard);
    }
    info.loadIds.push(loadId);
    for (const [t, n] of Object.entries(pkg.rowCounts)) info.rowCounts[t] = (info.rowCounts[t] ?? 0) + n;
  }
  return info;
}

/** No job files to load, no refresh to apply, and no replace table to empty (a replace with no rows truncates, as in dlt). */
function nothingToLoad(pkg: PackageState, schema: Schema): boolean {
  if (pkg.refresh) return false;
  return !(pkg.chainRoots ?? []).some((root) => schema.getTable(root) !== undefined && schema.writeDispositionOf(root) === 'replace');
}

/** Errors that say the data itself cannot be normalized (running again cannot help). */
const BAD_DATA = new Set(['InvalidIdentifier', 'IdentifierCollision', 'SchemaConflict', 'MissingPrimaryKey', 'UnboundColumn', 'DataValidation', 'NullValue']);

function isBadData(e: unknown): boolean {
  return e instanceof HaulError && !e.retryable && BAD_DATA.has(e.code);
}
