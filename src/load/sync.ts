import { Schema } from '../schema/schema.js';
import type { PipelineState } from '../state/state.js';
import { newDestinationClient, type LoadContext } from './step.js';

/**
 * dlt's sync_destination: when the destination holds a newer state of this pipeline than
 * the working dir (e.g. the working dir was deleted), state and schemas are restored from
 * `_dlt_pipeline_state` and `_dlt_version`. The caller runs it only while no package is
 * pending: pending packages carry newer state than any destination can have.
 */
export async function syncStep(ctx: LoadContext): Promise<void> {
  const { wd } = ctx;
  const local = wd.readState(ctx.pipelineName, ctx.datasetName);
  const client = newDestinationClient(ctx);
  await client.open();
  try {
    if (!(await client.isStorageInitialized())) return;
    const row = await client.getStoredState(ctx.pipelineName);
    if (!row || row.version <= local._state_version) return;
    const remote = JSON.parse(row.state) as Omit<PipelineState, '_local'>;
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
