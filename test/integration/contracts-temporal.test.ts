/**
 * A schema contract broken on the Temporal path: the normalize activity reads the contract
 * from the package's schema, and DataValidationError becomes a non-retryable failure whose
 * message names schema, table, column, entity, mode and the item (secrets redacted).
 */
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { attach, resource } from '../../src/index.js';
import { runPipeline } from '../../src/temporal/client.js';
import { testSources } from '../fixtures/temporal-sources.js';
import { query, tempDir } from '../helpers.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';

describe('schema contracts on Temporal', () => {
  it('a frozen column fails the run without retries, naming what broke; the earlier rows stay', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    const frozen = (opts: { extra?: boolean } = {}) =>
      resource(
        function* frozen() {
          yield { id: opts.extra ? 2 : 1, ...(opts.extra ? { color: 'red', api_key: 'sk-very-secret' } : {}) };
        },
        { schemaContract: { columns: 'freeze' } },
      );
    await testWorker({ sources: { ...testSources, frozen }, taskQueue, pipelinesDir: join(dir, 'p') });
    const base = { pipelineName: `frozen_${taskQueue.replace(/-/g, '_')}`, destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') }, datasetName: 'frozen_data', source: 'frozen' };
    await runPipeline(client, { ...base, args: {} }, { taskQueue });

    const e = await runPipeline(client, { ...base, args: { extra: true } }, { taskQueue }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(WorkflowFailedError);
    let cause: unknown = (e as WorkflowFailedError).cause;
    while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as Error).cause;
    const failure = cause as ApplicationFailure;
    expect(failure.type).toBe('DataValidation');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('table "frozen", column "color": contract on columns is freeze');
    expect(failure.message).toContain('"color":"red"');
    expect(failure.message).not.toContain('sk-very-secret');

    const p = attach({ pipelineName: base.pipelineName, pipelinesDir: join(dir, 'p') });
    expect(p.hasPendingData).toBe(false);
    expect(await query(p, 'SELECT id FROM frozen ORDER BY id')).toEqual([{ id: 1 }]);
  });
});
