/**
 * restApiSource on Temporal: a worker registers it by name, the workflow input carries only
 * the base URL; the token comes from the worker's environment and appears nowhere in the
 * workflow history, also when the API refuses it.
 */
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attach, restApiSource } from '../../src/index.js';
import { runPipeline } from '../../src/temporal/client.js';
import { query, tempDir } from '../helpers.js';
import { startApi, TOKEN, type TestApi } from './rest-api-server.js';
import { decodedStrings, testClient, testWorker, uniqueQueue } from './temporal-env.js';

const WRONG = 'tok-wrong-temporal-secret';
let api: TestApi;
beforeAll(async () => {
  api = await startApi(3);
});
afterAll(() => api.close());

const sources = {
  gh: (baseUrl: string) => restApiSource({ name: 'gh', client: { baseUrl, auth: { type: 'bearer' } }, resources: [{ name: 'things', endpoint: 'auth/bearer' }] }),
  gh_wrong: (baseUrl: string) => restApiSource({ name: 'gh_wrong', client: { baseUrl, auth: { type: 'bearer', token: WRONG } }, resources: [{ name: 'things', endpoint: 'auth/bearer' }] }),
};

describe('rest_api on Temporal', () => {
  it('runs from a workflow with the token resolved on the worker; the token never reaches history', async () => {
    process.env['SOURCES__GH__TOKEN'] = TOKEN;
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    const pipelinesDir = join(dir, 'p');
    await testWorker({ sources, taskQueue, pipelinesDir });
    const pipelineName = `rest_${taskQueue.replace(/-/g, '_')}`;
    const input = { pipelineName, source: 'gh', args: [api.url], destination: 'duckdb', destinationOptions: { path: join(dir, 'gh.duckdb') }, datasetName: 'gh_data' };
    const result = await runPipeline(client, input, { taskQueue });
    expect(result.rowCounts['things']).toBe(2);
    expect(await query(attach({ pipelineName, pipelinesDir }), 'SELECT id, kind FROM things ORDER BY id')).toEqual([{ id: 1, kind: 'bearer' }, { id: 2, kind: 'bearer' }]);
    const history = await client.workflow.getHandle(`pipeline/${pipelineName}`).fetchHistory();
    expect(decodedStrings(history).filter((s) => s.includes(TOKEN))).toEqual([]);

    // Refused: the failure names status and URL, never the token.
    const bad = `${pipelineName}_wrong`;
    const err = await runPipeline(client, { ...input, pipelineName: bad, source: 'gh_wrong' }, { taskQueue }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const chain: string[] = [];
    for (let c: unknown = err; c instanceof Error; c = c.cause) chain.push(c.message);
    expect(chain.join('\n')).toContain(`GET ${api.url}/auth/bearer answered 401`);
    const badHistory = await client.workflow.getHandle(`pipeline/${bad}`).fetchHistory();
    const texts = decodedStrings(badHistory);
    expect(texts.some((s) => s.includes('answered 401'))).toBe(true);
    expect(texts.filter((s) => s.includes(WRONG))).toEqual([]);
  });
});
