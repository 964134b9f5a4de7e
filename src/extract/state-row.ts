import { randomBytes } from 'node:crypto';
import { ensureStateTable } from './extract.js';
import type { Schema } from '../schema/schema.js';
import { STATE_TABLE } from '../schema/system.js';
import { JobFileWriter } from '../storage/job-file-writer.js';
import { stateForDestination, type PipelineState } from '../state/state.js';

/**
 * Writes the `_dlt_pipeline_state` row for `state` into a package being built (`jobsDir`:
 * its new_jobs/), so the state reaches the destination in the same load as the data.
 */
export function writeStateRowJob(jobsDir: string, schema: Schema, state: PipelineState, pipelineName: string): void {
  ensureStateTable(schema);
  const w = new JobFileWriter({ dir: jobsDir, table: STATE_TABLE, maxFileBytes: 1 << 30, nextFileId: () => randomBytes(5).toString('hex') });
  const row = JSON.stringify({
    version: state._state_version,
    engine_version: state._state_engine_version,
    pipeline_name: pipelineName,
    state: stateForDestination(state),
    created_at: new Date().toISOString(),
    version_hash: state._version_hash,
  });
  const bytes = Buffer.from(row + '\n', 'utf8');
  w.writeRows(bytes, bytes.length);
  w.close();
}
