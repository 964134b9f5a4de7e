import { faultPoint } from '../common/faults.js';
import { releaseFreedMemory } from '../common/release-memory.js';
import { isStagingClient, type DestinationClient, type DestinationFactory, type StagingClient } from '../destinations/types.js';
import { InvalidOptionsError, PipelineStepFailed } from '../errors.js';
import type { StepOptions } from '../progress/step-options.js';
import type { Schema } from '../schema/schema.js';
import type { PackageState } from '../storage/package-state.js';
import type { WorkingDir } from '../storage/working-dir.js';
import { NEW_JOBS } from '../storage/layout.js';
import { LoadInfo, type LoadPackageSummary } from './load-info.js';
import { loadPackage } from './package-loader.js';

/** Where load works: the working dir, and the destination dataset its packages go to. */
export interface LoadContext {
  wd: WorkingDir;
  pipelineName: string;
  datasetName: string;
  destination: DestinationFactory;
  /** dlt's staging destination (a filesystem bucket the destination bulk-loads from). */
  staging?: DestinationFactory;
}

export function newDestinationClient(ctx: Omit<LoadContext, 'wd'>): DestinationClient {
  return ctx.destination.createClient({ pipelineName: ctx.pipelineName, datasetName: ctx.datasetName });
}

/** The staging bucket's client on the same dataset; a destination that cannot stage is refused. */
function newStagingClient(ctx: Omit<LoadContext, 'wd'>, factory: DestinationFactory): DestinationClient & StagingClient {
  const c = factory.createClient({ pipelineName: ctx.pipelineName, datasetName: ctx.datasetName });
  if (!isStagingClient(c)) throw new InvalidOptionsError('staging', `destination ${factory.destinationName} cannot be a staging destination; use 'filesystem'`);
  return c;
}

export function emptyLoadInfo(ctx: Omit<LoadContext, 'wd'>): LoadInfo {
  const now = new Date();
  return new LoadInfo(ctx.pipelineName, ctx.destination.destinationName, newDestinationClient(ctx).displayLocation, ctx.datasetName, [], now, now);
}

/**
 * The load step: every normalized package, oldest first, goes to the destination; a package
 * that completed commits its state and schema locally and is archived. A package with failed
 * jobs stays pending and the packages after it wait (their state builds on it).
 */
export async function loadStep(ctx: LoadContext, stepOptions: StepOptions = {}): Promise<LoadInfo> {
  const { signal, onProgress } = stepOptions;
  const startedAt = new Date();
  const packages: LoadPackageSummary[] = [];
  const loadIds = ctx.wd.storage.list('normalized');
  if (loadIds.length === 0) return emptyLoadInfo(ctx);
  // before the destination's buffers grow: what extract and normalize left in the heap goes first
  releaseFreedMemory(loadIds.reduce((n, id) => n + ctx.wd.storage.jobBytes(id, NEW_JOBS), 0));
  const client = newDestinationClient(ctx);
  const staging = ctx.staging && newStagingClient(ctx, ctx.staging);
  await client.open();
  try {
    await staging?.open();
    for (const loadId of loadIds) {
      let res;
      try {
        res = await loadPackage(ctx.wd.storage, loadId, client, onProgress && ((p) => onProgress({ step: 'load', ...p })), signal, staging);
      } catch (e) {
        throw new PipelineStepFailed(ctx.pipelineName, 'load', loadId, e);
      }
      const loaded = res.failedJobs.length === 0;
      if (loaded) {
        faultPoint('load:after-complete');
        commitLoadedPackage(ctx, res.schema, res.packageState);
      }
      packages.push({
        loadId,
        state: loaded ? 'loaded' : 'pending',
        schemaName: res.schema.name,
        schemaVersionHash: res.schema.versionHash,
        rowCounts: res.packageState.rowCounts ?? {},
        completedJobs: res.completedJobs.length,
        failedJobs: res.failedJobs,
      });
      if (!loaded) break;
    }
  } finally {
    await staging?.close();
    await client.close();
  }
  return new LoadInfo(ctx.pipelineName, ctx.destination.destinationName, client.displayLocation, ctx.datasetName, packages, startedAt, new Date());
}

/** After `_dlt_loads` has the package: commit its state and schema locally, then archive it. */
function commitLoadedPackage(ctx: LoadContext, schema: Schema, pkg: PackageState): void {
  const { wd } = ctx;
  const local = wd.readState(ctx.pipelineName, ctx.datasetName);
  if (pkg.pipelineState) {
    wd.writeState({ ...pkg.pipelineState, _local: { ...local._local, first_run: false } });
  } else if (local._local.first_run) {
    local._local.first_run = false;
    wd.writeState(local);
  }
  wd.writeSchema(schema);
  wd.storage.archivePackage(pkg.loadId);
}
