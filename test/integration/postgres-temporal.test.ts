/**
 * PostgreSQL through Temporal: a workflow run whose worker holds the credentials (the input
 * only names the destination, so no password is in the history), and the refresh
 * compensation on PostgreSQL (tables renamed aside and back when the load after a refresh
 * fails).
 */
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { attach, postgres, type Pipeline } from '../../src/index.js';
import { runPipeline } from '../../src/temporal/client.js';
import { testSources } from '../fixtures/temporal-sources.js';
import { count, query, tempDir } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';
import { failingDestination } from '../fixtures/failing-destination.js';

const PASSWORD = 'temporal-Secret-pw-5';
const datasets: string[] = [];
afterAll(async () => {
  await dropPgSchemas(...datasets);
});

function withPassword(): string {
  const u = new URL(PG_URL);
  u.password = PASSWORD; // trust auth ignores it; it must not reach Temporal
  return u.toString();
}


async function setup() {
  const dir = tempDir();
  const client = await testClient();
  const taskQueue = uniqueQueue();
  const failing = { on: false };
  const pipelinesDir = join(dir, 'p');
  await testWorker({ sources: testSources, destinations: { warehouse: failingDestination(postgres({ credentials: withPassword() }), failing) }, taskQueue, pipelinesDir });
  const pipelineName = `pgt_${taskQueue.replace(/-/g, '_')}`;
  const datasetName = pgDatasetName('hpt');
  datasets.push(datasetName);
  const input = { pipelineName, source: 'shop', destination: 'warehouse', datasetName, tuning: { maximumAttempts: 2, initialIntervalMs: 100 } };
  const local = (): Pipeline => attach({ pipelineName, pipelinesDir, destination: postgres({ credentials: PG_URL }) });
  return { client, taskQueue, failing, pipelineName, datasetName, input, local };
}

async function tables(p: Pipeline): Promise<string[]> {
  const rows = await query<{ table_name: string }>(p, 'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [p.datasetName]);
  return rows.map((r) => r.table_name);
}

describe('postgres through Temporal', () => {
  it('a workflow run loads into postgres; the history holds no credentials', async () => {
    const { client, taskQueue, pipelineName, input, local } = await setup();
    const r1 = await runPipeline(client, { ...input, args: [1] }, { taskQueue });
    const r2 = await runPipeline(client, { ...input, args: [2] }, { taskQueue });
    expect(r1.rowCounts.events).toBe(100);
    expect(r2.rowCounts.events).toBe(100);
    const p = local();
    expect(await count(p, 'events')).toBe(200);
    expect(await count(p, 'customers')).toBe(20);
    expect(await query(p, "SELECT DISTINCT city FROM customers__addresses WHERE city LIKE 'town%'")).toEqual([{ city: 'town2' }]);
    const history = await client.workflow.getHandle(`pipeline/${pipelineName}`).fetchHistory();
    // payload data is base64 in the history's JSON form: read it as text
    const text = JSON.stringify(history, (k, v: unknown) => (k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v));
    expect(text).toContain('warehouse');
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('postgresql://');
  });

  it('a refresh whose load fails puts the postgres tables back (compensation)', async () => {
    const { client, taskQueue, failing, pipelineName, input, local } = await setup();
    await runPipeline(client, { ...input, args: [1] }, { taskQueue });
    const p = local();
    const before = await tables(p);
    expect(before).toEqual(expect.arrayContaining(['events', 'events__tags', 'customers', 'customers__addresses']));

    failing.on = true;
    const err = await runPipeline(client, { ...input, args: [2], refresh: 'drop_sources' }, { taskQueue }).catch((e: unknown) => e);
    failing.on = false;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const history = await client.workflow.getHandle(`pipeline/${pipelineName}`).fetchHistory();
    const steps = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(steps).toEqual(['syncDestination', 'extract', 'normalize', 'snapshot', 'applyRefresh', 'load', 'restoreSnapshot']);

    const after = local();
    expect(await tables(after)).toEqual(before);
    expect(await count(after, 'events')).toBe(100);
    expect(await count(after, 'events__tags')).toBe(200);
    expect(await count(after, 'customers__addresses')).toBe(40);
    expect(await query(after, "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE '%\\_\\_bak\\_%'", [after.datasetName])).toEqual([]);

    // and the next run continues from the restored state
    await runPipeline(client, { ...input, args: [2] }, { taskQueue });
    expect(await count(after, 'events')).toBe(200);
    expect(await query(after, 'SELECT id FROM events GROUP BY id HAVING count(*) > 1')).toEqual([]);
  });
});
