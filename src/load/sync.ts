import { Schema } from '../schema/schema.js';
import { DestinationError } from '../errors.js';
import { newState, type PipelineState } from '../state/state.js';
import { decodeDltState } from '../state/dlt-state.js';
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
    const { state: remote, byDlt } = parseStoredState(row.state, ctx);
    const restored: PipelineState = { ...remote, _local: { ...local._local, first_run: false } } as PipelineState;
    if (byDlt) {
      // dlt's schemas are documents of its own: haul infers its schema anew, over the tables there
      restored.schema_names = [];
      delete restored.default_schema_name;
      process.emitWarning(
        `pipeline "${ctx.pipelineName}": took over the state dlt stored in dataset "${ctx.datasetName}" (incremental cursors, source and resource state); ` +
          "dlt's schemas are not read: haul infers its own from the data, over the tables already there",
        { code: 'HAUL_DLT_STATE' },
      );
    }
    for (const name of restored.schema_names ?? []) {
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

type StoredState = Omit<PipelineState, '_local'>;

/**
 * The state row: haul's JSON, or the compressed form dlt writes (a dlt pipeline moved over).
 * A row neither can read is a typed error that says what to do, not a retryable parse error.
 */
function parseStoredState(text: string, ctx: LoadContext): { state: StoredState; byDlt: boolean } {
  try {
    return { state: JSON.parse(text) as StoredState, byDlt: false };
  } catch {
    const dlt = decodeDltState(text);
    if (dlt) return { state: dlt as unknown as StoredState, byDlt: true };
    throw new DestinationError(
      ctx.destination.destinationName,
      `dataset "${ctx.datasetName}" holds a _dlt_pipeline_state row for pipeline "${ctx.pipelineName}" that haul cannot read (it is neither JSON nor dlt's compressed state); ` +
        'give this pipeline another datasetName, or another pipelineName',
    );
  }
}
