import { describe, expect, it } from 'vitest';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';

describe('Temporal dev server (one for the suite)', () => {
  it('runs a workflow on the suite dev server with the prebuilt bundle', async () => {
    const client = await testClient();
    const taskQueue = uniqueQueue();
    await testWorker({ sources: {}, taskQueue });
    const result = await client.workflow.execute('pingWorkflow', { taskQueue, workflowId: `ping-${taskQueue}`, args: [] });
    expect(result).toBe('pong');
  });

  it('has the haul search attributes registered', async () => {
    const client = await testClient();
    const res = await client.connection.operatorService.listSearchAttributes({ namespace: client.options.namespace });
    expect(Object.keys(res.customAttributes)).toEqual(expect.arrayContaining(['HaulPipeline', 'HaulDataset', 'HaulDestination', 'HaulStage', 'HaulLoadId']));
  });
});
