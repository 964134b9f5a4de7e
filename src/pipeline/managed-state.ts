import { isDeepStrictEqual } from 'node:util';
import { HaulError, InvalidOptionsError } from '../errors.js';
import { writeStateRowJob } from '../extract/state-row.js';
import type { Schema } from '../schema/schema.js';
import { bumpStateVersion, type PipelineState } from '../state/state.js';
import { newLoadId } from '../storage/job-name.js';
import type { PackageState } from '../storage/package-state.js';
import type { WorkingDir } from '../storage/working-dir.js';

/*
 * dlt's `managed_state`: state changes are kept when the block succeeds and dropped when it
 * throws; `extractState` also puts a changed state into a load package, so the next load
 * writes it to `_dlt_pipeline_state`. Two forms: a callback, and a handle for `await using`
 * (see docs/decisions.md: a dispose cannot see whether the block threw, so the handle keeps
 * changes only on an explicit `commit()`).
 */

export interface ManagedStateOptions {
  /**
   * dlt's `extract_state`: when the state changed, also write it into a new extracted load
   * package, so the next `run()`/`load()` syncs it to the destination even without data.
   */
  extractState?: boolean;
}

export interface ManagedStateContext {
  wd: WorkingDir;
  pipelineName: string;
  datasetName: string;
  destinationName: string;
  initialSchema(name: string): Promise<Schema>;
}

/** managedState(options?, fn?) as called from JavaScript too: a typo is an error, not a silent no-op. */
export function checkManagedStateCall(options: unknown, fn: unknown): ManagedStateOptions {
  const o = options ?? {};
  if (typeof o !== 'object' || Array.isArray(o)) throw new InvalidOptionsError('managedState options', `must be an object like { extractState: true }, got ${JSON.stringify(o)}`);
  for (const [k, v] of Object.entries(o)) {
    if (k !== 'extractState') throw new InvalidOptionsError('managedState options', `unknown option "${k}" (known: extractState)`);
    if (v !== undefined && typeof v !== 'boolean') throw new InvalidOptionsError('managedState options', `extractState must be true or false, got ${JSON.stringify(v)}`);
  }
  if (fn !== undefined && typeof fn !== 'function') throw new InvalidOptionsError('managedState', 'the second argument must be a function (state) => ...');
  return o as ManagedStateOptions;
}

/** The state the next extract starts from, as a copy to change. */
export function openState(ctx: ManagedStateContext): PipelineState {
  return structuredClone(ctx.wd.effectiveState(ctx.pipelineName, ctx.datasetName));
}

/**
 * Keeps a managed state: state.json, plus (extractState, state changed) an extracted package
 * carrying it and its `_dlt_pipeline_state` row. Returns that package's load id.
 */
export async function saveState(ctx: ManagedStateContext, state: PipelineState, opts: ManagedStateOptions): Promise<string | undefined> {
  if (!opts.extractState) {
    // Not bumped: the next extract sees the changed hash and writes the state row then.
    ctx.wd.writeState(state);
    return undefined;
  }
  const { wd } = ctx;
  const schemaName = state.default_schema_name ?? wd.schemaNames()[0] ?? ctx.pipelineName;
  state.default_schema_name ??= schemaName;
  if (!state.schema_names.includes(schemaName)) state.schema_names.push(schemaName);
  state.dataset_name = ctx.datasetName;
  state.destination_name = ctx.destinationName;
  if (!bumpStateVersion(state)) {
    wd.writeState(state);
    return undefined;
  }
  const schema = wd.effectiveSchema(schemaName)?.clone() ?? (await ctx.initialSchema(schemaName));
  const loadId = newLoadId();
  const builder = wd.storage.beginPackage('extracted', loadId);
  try {
    writeStateRowJob(builder.newJobsDir, schema, state, ctx.pipelineName);
    schema.bumpVersion();
    const pkg: PackageState = { loadId, createdAt: new Date().toISOString(), schemaName, sourceName: schemaName, pipelineState: state, chainRoots: [], itemCounts: {} };
    builder.writeSchema(schema);
    builder.writeState(pkg);
    builder.commit();
  } catch (e) {
    builder.abort();
    throw e;
  }
  wd.writeState(state);
  return loadId;
}

/**
 * The `await using` form: change `state`, then `await commit()` as the block's last
 * statement. Leaving the block without commit (a throw, an early return) drops the changes.
 */
export class ManagedState implements AsyncDisposable {
  /** A copy of the pipeline state to change. */
  readonly state: PipelineState;
  /** The package that carries the committed state (extractState and the state changed). */
  loadId?: string;
  private readonly base: PipelineState;
  private closed = false;

  constructor(
    private readonly ctx: ManagedStateContext,
    private readonly opts: ManagedStateOptions,
    private readonly exclusive: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {
    this.base = openState(ctx);
    this.state = structuredClone(this.base);
  }

  /** Keeps the changes (and extracts them with extractState). Refuses when the pipeline's state changed meanwhile. */
  async commit(): Promise<string | undefined> {
    this.checkOpen('commit');
    this.closed = true;
    return this.exclusive(async () => {
      if (!isDeepStrictEqual(openState(this.ctx), this.base)) {
        throw new HaulError(
          'StateChanged',
          `pipeline "${this.ctx.pipelineName}": its state changed while this managedState() block was open (a run, another block); ` +
            'nothing was kept: open the block after the run, or use managedState(fn), which holds the pipeline for the callback',
        );
      }
      this.loadId = await saveState(this.ctx, this.state, this.opts);
      return this.loadId;
    });
  }

  /** Drops the changes (what leaving the block without commit() does). */
  rollback(): void {
    this.closed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.closed = true;
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new HaulError('StateClosed', `pipeline "${this.ctx.pipelineName}": ${what}() on a managedState() block that was already committed, rolled back or disposed; open a new one`);
  }
}
