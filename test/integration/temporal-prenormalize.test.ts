import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attach } from '../../src/index.js';
import { cacheStats } from '../../src/normalize/normalize-cached.js';
import { runPipeline } from '../../src/temporal/client.js';
import { testSources } from '../fixtures/temporal-sources.js';
import { query, tempDir } from '../helpers.js';
import { testClient, testWorker, uniqueQueue } from './temporal-env.js';

afterEach(() => {
  delete process.env.HAUL_EXTRACT_FILE_BYTES;
  delete process.env.HAUL_PRENORMALIZE_DEBUG;
});

describe('pre-normalize cache on the Temporal path', () => {
  it('the normalize activity takes what the extract activity pre-normalized in the same worker, and every row lands once', async () => {
    // activities run in this process: small files make the extract rotate many times
    process.env.HAUL_EXTRACT_FILE_BYTES = '4096';
    // a rare run takes nothing from the cache (docs/performance.md, section 23): its log says why
    process.env.HAUL_PRENORMALIZE_DEBUG = '1';
    cacheStats.cached = 0;
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue();
    await testWorker({ sources: testSources, taskQueue, pipelinesDir: join(dir, 'p') });
    // the pauses let the rotated files reach the background thread while extract runs, and
    // the source holds its second half until the thread has written a manifest: a run that
    // ends before any file landed leaves the cache empty, and that is no fault
    const input = { pipelineName: 'pre', source: 'numbers', args: { n: 20_000, pauseEvery: 1000, holdUntilManifestsUnder: join(dir, 'p') }, destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') }, datasetName: 'nums' };
    const r = await runPipeline(client, input, { taskQueue });
    expect(r.rowCounts.numbers).toBe(20_000);
    expect(cacheStats.cached).toBeGreaterThan(0);
    const p = attach({ pipelineName: 'pre', pipelinesDir: join(dir, 'p') });
    const rows = await query<{ n: bigint; d: bigint; lo: bigint; hi: bigint }>(p, 'SELECT count(*) AS n, count(DISTINCT id) AS d, min(id) AS lo, max(id) AS hi FROM numbers');
    expect(rows.map((x) => [x.n, x.d, x.lo, x.hi].map(Number))).toEqual([[20_000, 20_000, 1, 20_000]]);
    const cols = Object.values(p.defaultSchema!.tables.numbers!.columns).map((c) => [c.name, c.dataType]);
    expect(cols.slice(0, 4)).toEqual([['id', 'bigint'], ['name', 'text'], ['value', 'double'], ['even', 'bool']]);
    expect(p.hasPendingData).toBe(false);
  });
});
