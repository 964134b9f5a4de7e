import { Schema } from '../schema/schema.js';
import { DestinationError } from '../errors.js';
import { newState, type PipelineState } from '../state/state.js';
import { newDestinationClient, type LoadContext } from './step.js';

/**
 * dlt's sync_destination: when the destination holds a newer state of this pipeline than
 * the working dir (e.g. the working dir was deleted), state and schemas are restored from
 * `_dlt_pipeline_state` and `_dlt_version`; when the dataset does not exist at all, a pipeline
 * that loaded before starts over (dlt wipes its working folder then). The caller runs it only
 * while no package is pending: pending packages carry newer state than any destination can have.
 */
export async function syncStep(ctx: LoadContext): Promise<void> {
  const { wd } = ctx;
  const local = wd.readState(ctx.pipelineName, ctx.datasetName);
  const client = newDestinationClient(ctx);
  await client.open();
  try {
    if (!(await client.isStorageInitialized())) {
      // As dlt: the dataset is gone (dropped, or another datasetName, or a devMode run's before):
      // a pipeline that loaded before starts over, so its next run loads everything again rather
      // than only what is newer than cursors whose rows are gone.
      if (!local._local.first_run || wd.schemaNames().length > 0) startOver(ctx, local);
      return;
    }
    const row = await client.getStoredState(ctx.pipelineName);
    if (!row || row.version <= local._state_version) return;
    const remote = parseStoredState(row.state, ctx);
    const restored: PipelineState = { ...remote, _local: { ...local._local, first_run: false } } as PipelineState;
    for (const name of remote.schema_names ?? []) {
      const stored = await client.getStoredSchema(name);
      if (stored) wd.writeSchema(Schema.fromStored(stored));
    }
    wd.writeState(restored);
  } finally {
    await client.close();
  }
}

/** A fresh state and no schemas; the destination settings in `_local` stay (attach() reads them). */
function startOver(ctx: LoadContext, local: PipelineState): void {
  const fresh = newState(ctx.pipelineName, ctx.datasetName);
  const { destination_options, staging } = local._local;
  fresh._local = { first_run: true, ...(destination_options && { destination_options }), ...(staging && { staging }) };
  ctx.wd.clearSchemas();
  ctx.wd.writeState(fresh);
}

/** The state row's JSON; a row haul cannot read (dlt writes it compressed) is a typed error that says what to do, not a retryable parse error. */
function parseStoredState(text: string, ctx: LoadContext): Omit<PipelineState, '_local'> {
  try {
    return JSON.parse(text) as Omit<PipelineState, '_local'>;
  } catch {
    const byDlt = /^eN[a-zA-Z0-9+/]/.test(text);
    throw new DestinationError(
      ctx.destination.destinationName,
      `dataset "${ctx.datasetName}" holds a _dlt_pipeline_state row for pipeline "${ctx.pipelineName}" that haul cannot read` +
        (byDlt ? ' (it was written by dlt, which stores state compressed; haul and dlt cannot share a pipeline\'s state)' : ' (it is not JSON)') +
        '; give this pipeline another datasetName, or another pipelineName',
    );
  }
}
