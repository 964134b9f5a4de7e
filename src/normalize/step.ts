import { randomBytes } from 'node:crypto';
import { faultPoint } from '../common/faults.js';
import { DataValidationError, NullValueError, PipelineStepFailed } from '../errors.js';
import type { StepOptions } from '../progress/step-options.js';
import type { WorkingDir } from '../storage/working-dir.js';
import { normalizeFiles } from './index.js';
import { mergeSchemaSnapshot } from './schema-snapshot.js';
import { NEW_JOBS } from '../storage/layout.js';
import { convertJobFiles } from '../storage/job-formats.js';
import type { LoaderFileFormat } from '../schema/types.js';

export interface NormalizeInfo {
  loadIds: string[];
  rowCounts: Record<string, number>;
}

/**
 * The normalize step: every extracted package, oldest first, becomes a normalized package
 * (job files per table, the evolved schema, row counts), committed atomically; the
 * extracted package is removed in the same move. A package that fails stays extracted, so
 * the step can run again once the cause is fixed.
 */
export async function normalizeStep(
  ctx: {
    wd: WorkingDir;
    pipelineName: string;
    /** The destination's `capabilities.maxIdentifierLength`: longer names are shortened as dlt does. */
    maxIdentifierLength?: number;
    /** The destination's `capabilities.preferredLoaderFileFormat`, for packages that name none. */
    preferredLoaderFileFormat?: LoaderFileFormat;
  },
  stepOptions: StepOptions = {},
): Promise<NormalizeInfo> {
  const { wd } = ctx;
  const { signal, onProgress } = stepOptions;
  wd.storage.recover();
  const info: NormalizeInfo = { loadIds: [], rowCounts: {} };
  for (const loadId of wd.storage.list('extracted')) {
    const pkg = wd.packageState('extracted', loadId);
    const snapshot = wd.packageSchema('extracted', loadId);
    // Build on what earlier packages already decided (types, variants), then add this one's hints.
    const base = wd.effectiveSchema(snapshot.name, { skipExtracted: true });
    const schema = base ? mergeSchemaSnapshot(base.clone(), snapshot, pkg.refresh) : snapshot;
    const pkgBuilder = wd.storage.beginPackage('normalized', loadId);
    try {
      const inputs = wd.storage.jobFiles(loadId, NEW_JOBS, 'extracted').map(({ table, path }) => ({ table, path }));
      const res = await normalizeFiles({
        schema,
        loadId,
        inputs,
        outDir: pkgBuilder.newJobsDir,
        nextFileId: () => randomBytes(5).toString('hex'),
        maxIdentifierLength: ctx.maxIdentifierLength,
        signal,
        onProgress: onProgress && ((p) => onProgress({ step: 'normalize', loadId, table: p.table, count: p.rows })),
      });
      const format = pkg.loaderFileFormat ?? ctx.preferredLoaderFileFormat ?? 'jsonl';
      if (format !== 'jsonl') {
        // Rows are normalized to JSONL first (one set of rules), then written as typed files.
        await convertJobFiles(pkgBuilder.newJobsDir, format, (t) => Object.values(schema.getTable(t)?.columns ?? {}).filter((c) => !c.incomplete));
      }
      faultPoint('normalize:mid');
      schema.bumpVersion();
      pkg.rowCounts = res.rowCounts;
      pkg.normalizedAt = new Date().toISOString();
      pkgBuilder.writeSchema(schema);
      pkgBuilder.writeState(pkg);
      faultPoint('normalize:before-commit');
      pkgBuilder.commit();
      faultPoint('normalize:after-commit');
    } catch (e) {
      pkgBuilder.abort();
      // Data a contract refuses would fail the same way on every retry: the package goes
      // (with the state it carried, so incremental cursors stay where they were).
      if (e instanceof DataValidationError || e instanceof NullValueError) wd.storage.deletePackage('extracted', loadId);
      throw new PipelineStepFailed(ctx.pipelineName, 'normalize', loadId, e);
    }
    info.loadIds.push(loadId);
    for (const [t, n] of Object.entries(pkg.rowCounts)) info.rowCounts[t] = (info.rowCounts[t] ?? 0) + n;
  }
  return info;
}
