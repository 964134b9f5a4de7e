/**
 * Resumable extraction on Temporal: a worker process pages through a local REST API (250
 * users, 50 pages of 5), commits a checkpoint after every page, and is SIGKILLed right after
 * its 20th checkpoint. A new worker picks the retried extract up: it requests only pages
 * 21..50, every user lands exactly once, and the workflow history holds counts and ids but
 * no row values.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attach, resource, type ResourceContext } from '../../src/index.js';
import { registerSecret } from '../../src/config/index.js';
import type { HeartbeatDetails } from '../../src/temporal/types.js';
import { startPipeline } from '../../src/temporal/client.js';
import { PackageStorage } from '../../src/storage/package-storage.js';
import { count, query, tempDir } from '../helpers.js';
import { startApi, type TestApi } from './rest-api-server.js';
import { decodedStrings, testClient, testWorker, uniqueQueue } from './temporal-env.js';
import { startWorkerProcess, stopWorkerProcess } from './worker-process.js';

const PAGES = 50;
const KILLED_AFTER = 20;

/** The request for page `i` (1-based) as the test API logs it, per paginator. */
const PAGE_REQUEST: Record<'json_link' | 'page_number' | 'cursor', (i: number) => string> = {
  json_link: (i) => (i === 1 ? 'GET /json_link/users' : `GET /json_link/users?page=${i - 1}`),
  page_number: (i) => `GET /page_number/users?page=${i}`,
  cursor: (i) => (i === 1 ? 'GET /cursor/users' : `GET /cursor/users?after=c${(i - 1) * 5}`),
};

let api: TestApi;
beforeAll(async () => {
  api = await startApi(PAGES * 5);
});
afterAll(() => api.close());

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.concurrent('a retried extract resumes from its checkpoint (SIGKILL mid-extract)', () => {
  for (const kind of Object.keys(PAGE_REQUEST) as Array<keyof typeof PAGE_REQUEST>) {
    it(`${kind}: the second attempt requests only the pages after the checkpoint; every row lands once`, async () => {
      const dir = tempDir();
      const client = await testClient();
      const taskQueue = uniqueQueue('haul-cp');
      const pipelinesDir = join(dir, 'pipelines');
      const env = { HAUL_TASK_QUEUE: taskQueue, HAUL_PIPELINES_DIR: pipelinesDir };
      const pipelineName = `cp_${kind}`;
      const [tagA, tagB] = [`${kind}-A`, `${kind}-B`];
      const input = {
        pipelineName,
        source: 'restUsers',
        args: [api.url, kind],
        destination: 'duckdb',
        destinationOptions: { path: join(dir, 'cp.duckdb') },
        datasetName: 'cp_data',
        // A dead worker is noticed in ~3 s; a checkpoint after every page (5 users), never by the clock.
        tuning: { heartbeatTimeoutMs: 3_000, initialIntervalMs: 200, checkpointEveryItems: 5, checkpointEveryMs: 3_600_000 },
      };

      const a = await startWorkerProcess({ ...env, HAUL_TEST_WORKER: tagA, HAUL_FAULT: 'extract:after-checkpoint', HAUL_FAULT_AFTER: String(KILLED_AFTER - 1) });
      const handle = await startPipeline(client, input, { taskQueue });
      const died = await a.exited;
      expect(died.signal, died.output).toBe('SIGKILL');

      // On disk: the checkpoint the kill followed, its 20 complete page files, the next page's position.
      const storage = new PackageStorage(join(pipelinesDir, pipelineName));
      const [loadId] = storage.checkpointedLoadIds();
      const cp = storage.readCheckpoint(loadId!)!;
      expect(cp.seq).toBe(KILLED_AFTER);
      expect(cp.jobFiles).toHaveLength(KILLED_AFTER);
      expect(cp.progress).toMatchObject({ sourceName: 'api', done: [], current: { resource: 'users', items: KILLED_AFTER * 5 } });
      const firstAttempt = api.requestsBy[tagA]!;
      // Worker A read pages 1..20 (and had asked for one more ahead, perhaps).
      expect(firstAttempt.slice(0, KILLED_AFTER)).toEqual(range(1, KILLED_AFTER).map(PAGE_REQUEST[kind]));

      const b = await startWorkerProcess({ ...env, HAUL_TEST_WORKER: tagB });
      try {
        const result = await handle.result();
        expect(result.rowCounts['users']).toBe(PAGES * 5);
        expect(result.extracted?.loadId).toBe(loadId);
      } finally {
        await stopWorkerProcess(b);
      }
      // The second attempt asked for pages 21..50 only, each once.
      expect(api.requestsBy[tagB]).toEqual(range(KILLED_AFTER + 1, PAGES).map(PAGE_REQUEST[kind]));

      const p = attach({ pipelineName, pipelinesDir });
      expect(await count(p, 'users')).toBe(PAGES * 5);
      const ids = await query<{ n: unknown; lo: unknown; hi: unknown }>(p, 'SELECT count(DISTINCT id) AS n, min(id) AS lo, max(id) AS hi FROM users');
      expect(ids.map((r) => [Number(r.n), Number(r.lo), Number(r.hi)])).toEqual([[PAGES * 5, 1, PAGES * 5]]);
      expect(await count(p, 'users__tags')).toBe(api.users.reduce((n, u) => n + u.tags.length, 0));
      expect(storage.checkpointedLoadIds()).toEqual([]);
      expect(p.hasPendingData).toBe(false);

      // History: the extract ran twice and says where it resumed; no user's values anywhere.
      const history = await client.workflow.getHandle(`pipeline/${pipelineName}`).fetchHistory();
      const texts = decodedStrings(history);
      expect(texts.some((s) => s.includes(`"resumedFrom":{"checkpoint":${KILLED_AFTER},"items":{"users":${KILLED_AFTER * 5}}}`))).toBe(true);
      const events = history.events ?? [];
      const extractScheduled = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'extract').map((e) => String(e.eventId)));
      const extractAttempts = events.filter((e) => extractScheduled.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId))).map((e) => e.activityTaskStartedEventAttributes!.attempt);
      expect(extractAttempts).toEqual([2]);
      expect(texts.filter((s) => /user \d|Oslo|Rome/.test(s))).toEqual([]);
    });
  }
});

describe('the extract heartbeat', () => {
  it('carries the last checkpoint: number, counts and the resume token with secrets scrubbed, no rows', async () => {
    const dir = tempDir();
    const client = await testClient();
    const taskQueue = uniqueQueue('haul-cp-beat');
    const SECRET = 'k3y-in-a-next-url-value';
    registerSecret(SECRET);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const gated = () =>
      resource(
        async function* gated(ctx: ResourceContext) {
          for (let page = 1; page <= 5; page++) {
            yield [{ id: page, secretRow: `row value ${page}` }];
            ctx.checkpoint?.({ next: `https://api.example/items?page=${page + 1}&key=${SECRET}` });
          }
          await gate; // the test looks at the heartbeat while the extract waits here
        },
        { name: 'gated' },
      );
    await testWorker({ sources: { gated }, taskQueue, pipelinesDir: join(dir, 'p') });
    const pipelineName = `beat_${taskQueue.replace(/-/g, '_')}`;
    const handle = await startPipeline(client, {
      pipelineName, source: 'gated', destination: 'duckdb', destinationOptions: { path: join(dir, 'x.duckdb') },
      tuning: { heartbeatTimeoutMs: 2_000, checkpointEveryItems: 1, checkpointEveryMs: 3_600_000 },
    }, { taskQueue });
    let details: HeartbeatDetails | undefined;
    try {
      while (details?.checkpoint?.seq !== 5) {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        const payload = pending[0]?.heartbeatDetails?.payloads?.[0]?.data;
        if (payload) details = JSON.parse(Buffer.from(payload).toString()) as HeartbeatDetails;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      open();
    }
    expect(details.checkpoint).toEqual({
      seq: 5,
      items: { gated: 5 },
      files: 5,
      resourcesDone: [],
      current: { resource: 'gated', resumeFrom: '{"next":"https://api.example/items?page=6&key=***"}' },
    });
    expect(JSON.stringify(details)).not.toContain('row value');
    const result = await handle.result();
    expect(result.rowCounts['gated']).toBe(5);
  });
});
