/**
 * With the real activities: rows never travel through Temporal history, only ids, counts,
 * table names and hashes. Every byte string in the history (payloads, metadata, failure
 * details) is decoded before it is searched, so a row value that leaked would be found.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attach, resource } from '../../src/index.js';
import { dropPipelineData, runPipeline } from '../../src/temporal/client.js';
import { query, tempDir } from '../helpers.js';
import { decodedStrings, testClient, testWorker, uniqueQueue } from './temporal-env.js';

/** Known to the worker's source only; never part of a workflow input. */
const MARKER = `rowvalue${randomBytes(6).toString('hex')}`;

const marked = () =>
  resource(
    function* marked() {
      for (let i = 1; i <= 3; i++) yield { id: i, note: `${MARKER}-${i}`, tags: [`${MARKER}-tag-${i}`] };
    },
    { name: 'marked' },
  );

describe('workflow history', () => {
  it('holds ids and counts of a run, a refresh and a drop, never row values', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    const pipelinesDir = join(dir, 'p');
    await testWorker({ sources: { marked }, taskQueue, pipelinesDir });
    const pipelineName = `hist_${taskQueue.replace(/-/g, '_')}`;
    const ref = { pipelineName, destination: 'duckdb', destinationOptions: { path: join(dir, 'h.duckdb') }, datasetName: 'hist' };
    const input = { ...ref, source: 'marked' };

    const first = await runPipeline(client, input, { taskQueue });
    const firstHistory = await client.workflow.getHandle(`pipeline/${pipelineName}`).fetchHistory();
    const refreshed = await runPipeline(client, { ...input, refresh: 'drop_sources' }, { taskQueue });
    const refreshHistory = await client.workflow.getHandle(`pipeline/${pipelineName}`).fetchHistory();
    // The rows did go through the runs: they are in the destination.
    const p = attach({ pipelineName, pipelinesDir });
    const notes = await query<{ note: string }>(p, 'SELECT note FROM marked ORDER BY id');
    expect(notes.map((r) => r.note)).toEqual([`${MARKER}-1`, `${MARKER}-2`, `${MARKER}-3`]);
    // A table names its resource: the drop takes out `marked` with its child table.
    await dropPipelineData(client, { ...ref, tables: ['marked__tags'] }, { taskQueue });
    const dropHistory = await client.workflow.getHandle(`pipeline/${pipelineName}`).fetchHistory();


    for (const [what, history, loadId] of [
      ['run', firstHistory, first.extracted!.loadId],
      ['refresh', refreshHistory, refreshed.extracted!.loadId],
      ['drop', dropHistory, undefined],
    ] as const) {
      const texts = decodedStrings(history);
      // The decoding works: the ids and counts are found...
      expect(texts.some((t) => t.includes('"rowCounts"')), what).toBe(true);
      if (loadId) expect(texts.some((t) => t.includes(loadId)), what).toBe(true);
      // ...and no row value is.
      expect(texts.filter((t) => t.includes(MARKER)), what).toEqual([]);
    }
    expect(first.rowCounts).toMatchObject({ marked: 3, marked__tags: 3 });
  });
});
