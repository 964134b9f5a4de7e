/**
 * dlt's `parallelized=True`: parallelized resources of one source are extracted at the same
 * time and a parallelized transformer is called for several parent items at once. Proven
 * against a real HTTP server on 127.0.0.1 whose pages each take ~100 ms: the server counts
 * the requests in flight (overlap, not wall time), and every row lands in DuckDB once.
 * Also: checkpoints of resources in progress together, and one failing resource stopping the rest.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaulError, incremental, resource, restApiSource, source, transformer, type ResourceContext } from '../../src/index.js';
import { mapConcurrent, planLanes, Semaphore } from '../../src/extract/parallel.js';
import { count, query, tempDir, testPipeline } from '../helpers.js';

const PAGES = 4;
const PER_PAGE = 10;

interface SlowApi {
  url: string;
  /** Requests in flight right now and the most there ever were, per test (reset()). */
  inFlight: number;
  maxInFlight: number;
  /** For each request: the paths in flight when it arrived (itself included). */
  overlaps: string[][];
  reset(): void;
}

let api: SlowApi;
let close: () => Promise<void>;

beforeAll(async () => {
  const open = new Set<string>();
  const state: SlowApi = {
    url: '',
    inFlight: 0,
    maxInFlight: 0,
    overlaps: [],
    reset() {
      state.maxInFlight = 0;
      state.overlaps = [];
    },
  };
  const server = createServer((req, res) => {
    const u = new URL(req.url!, state.url);
    const line = `${u.pathname}${u.search}`;
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    open.add(line);
    state.overlaps.push([...open]);
    setTimeout(() => {
      state.inFlight--;
      open.delete(line);
      const kind = u.pathname.split('/')[1]!;
      let body: unknown;
      if (kind === 'details') body = { id: Number(u.pathname.split('/')[2]), detail: `about ${u.pathname.split('/')[2]}` };
      else {
        const page = Number(u.searchParams.get('page') ?? '1');
        body = { total_pages: PAGES, items: Array.from({ length: PER_PAGE }, (_, i) => ({ id: (page - 1) * PER_PAGE + i + 1, kind })) };
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    }, 100);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api = state;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterAll(() => close());

const dir = tempDir('haul-parallel-');

function twoEndpoints(parallelized: boolean) {
  const endpoint = (path: string) => ({ path, dataSelector: 'items', paginator: { type: 'page_number' as const, basePage: 1, totalPath: 'total_pages' } });
  return restApiSource({
    name: 'slow',
    client: { baseUrl: api.url },
    resourceDefaults: { primaryKey: 'id', parallelized },
    resources: [
      { name: 'alpha', endpoint: endpoint('alpha') },
      { name: 'beta', endpoint: endpoint('beta') },
    ],
  });
}

describe('parallelized resources', () => {
  it('two parallelized REST resources request their pages at the same time; every row lands once', async () => {
    const p = testPipeline(dir, 'par_rest');
    api.reset();
    await p.run(twoEndpoints(true));
    expect(api.maxInFlight).toBeGreaterThanOrEqual(2);
    // alpha and beta pages were in flight together.
    expect(api.overlaps.some((o) => o.some((l) => l.startsWith('/alpha')) && o.some((l) => l.startsWith('/beta')))).toBe(true);
    for (const t of ['alpha', 'beta']) {
      expect(await count(p, t)).toBe(PAGES * PER_PAGE);
      expect(await query(p, `SELECT count(DISTINCT id)::INT AS n, min(id)::INT AS lo, max(id)::INT AS hi FROM ${t}`)).toEqual([{ n: PAGES * PER_PAGE, lo: 1, hi: PAGES * PER_PAGE }]);
    }
  });

  it('without parallelized the same source requests one page at a time', async () => {
    const p = testPipeline(dir, 'seq_rest');
    api.reset();
    await p.run(twoEndpoints(false));
    expect(api.maxInFlight).toBe(1);
    expect(await count(p, 'alpha')).toBe(PAGES * PER_PAGE);
    expect(await count(p, 'beta')).toBe(PAGES * PER_PAGE);
  });

  it("extract's workers and maxParallelItems bound them: workers 1 runs the lanes one at a time, maxParallelItems 3 keeps 3 calls in flight", async () => {
    const p = testPipeline(dir, 'par_bounded');
    api.reset();
    await p.extract(twoEndpoints(true), { workers: 1 });
    expect(api.maxInFlight).toBe(1);
    api.reset();
    const ids = resource(async function* ids() {
      for (let i = 1; i <= 12; i++) yield { id: i };
    });
    const details = transformer(async (item: { id: number }) => (await fetch(`${api.url}/details/${item.id}`)).json(), { name: 'details', dataFrom: ids, parallelized: true });
    await p.extract(source(function par_b() { return [details]; })(), { maxParallelItems: 3 });
    expect(api.maxInFlight).toBe(3);
    await p.normalize();
    await p.load();
    expect(await count(p, 'alpha')).toBe(PAGES * PER_PAGE);
    expect(await count(p, 'details')).toBe(12);
  });

  it('a parallelized transformer fetches details for several parent items at once; each detail lands once', async () => {
    const p = testPipeline(dir, 'par_transformer');
    api.reset();
    const ids = resource(async function* ids() {
      for (let i = 1; i <= 12; i++) yield { id: i };
    });
    const details = transformer(
      async (item: { id: number }) => {
        const r = await fetch(`${api.url}/details/${item.id}`);
        return (await r.json()) as { id: number; detail: string };
      },
      { name: 'details', dataFrom: ids, parallelized: true },
    );
    await p.run(source(function par_t() { return [details]; })());
    expect(api.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(api.maxInFlight).toBeLessThanOrEqual(20); // maxParallelItems' default
    expect(await query(p, 'SELECT id::INT AS id, detail FROM details ORDER BY id')).toEqual(
      Array.from({ length: 12 }, (_, i) => ({ id: i + 1, detail: `about ${i + 1}` })),
    );
  });

  it('a parallelized generator transformer: each call collected whole, pages stay pages, nothing lost', async () => {
    const p = testPipeline(dir, 'par_gen_t');
    const pages = resource(function* pages() {
      for (let pg = 0; pg < 6; pg++) yield Array.from({ length: 3 }, (_, i) => ({ n: pg * 3 + i }));
    });
    const doubled = transformer(
      async function* doubled(page: Array<{ n: number }>) {
        await new Promise((r) => setTimeout(r, (6 - page[0]!.n / 3) * 5)); // later pages finish first
        yield page.map((x) => ({ n: x.n, twice: x.n * 2 }));
        yield { n: -1 - page[0]!.n, twice: 0 };
      },
      { dataFrom: pages, parallelized: true },
    );
    await p.run(source(function par_g() { return [doubled]; })());
    const rows = await query<{ n: number }>(p, 'SELECT n::INT AS n FROM doubled ORDER BY n');
    expect(rows.map((r) => r.n)).toEqual([...[15, 12, 9, 6, 3, 0].map((n) => -1 - n), ...Array.from({ length: 18 }, (_, i) => i)]);
  });
});

describe('parallelized transformers: limits and failures', () => {
  it('addLimit on a parallelized transformer stops it: exactly that many yields land, calls in flight are dropped', async () => {
    const p = testPipeline(dir, 'par_t_limit');
    let calls = 0;
    const ids = resource(function* ids() {
      for (let i = 1; i <= 50; i++) yield { id: i };
    });
    const slow = transformer(
      async (item: { id: number }) => {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        return { id: item.id };
      },
      { name: 'slow', dataFrom: ids, parallelized: true },
    ).addLimit(3);
    await p.run(source(function par_tl() { return [slow]; })());
    expect(await query(p, 'SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS d FROM slow')).toEqual([{ n: 3, d: 3 }]);
    expect(calls).toBeLessThan(50);
  });

  it('a failing call of a parallelized transformer fails the extract with an error naming it', async () => {
    const p = testPipeline(dir, 'par_t_fail');
    const ids = resource(function* ids() {
      for (let i = 1; i <= 10; i++) yield { id: i };
    });
    const flaky = transformer(
      async (item: { id: number }) => {
        await new Promise((r) => setTimeout(r, 2));
        if (item.id === 4) throw new Error(`lookup of ${item.id} failed`);
        return item;
      },
      { name: 'flaky', dataFrom: ids, parallelized: true },
    );
    await expect(p.run(source(function par_tf() { return [flaky]; })())).rejects.toThrow(/resource "flaky" raised: lookup of 4 failed/);
    expect(p.hasPendingData).toBe(false);
  });
});

describe('lanes and bounds', () => {
  it('sequential resources share one lane; a transformer runs in its parent\'s lane; other parallelized ones get their own', () => {
    const inc = incremental('id');
    const a = resource([1], { name: 'a' });
    const b = resource([1], { name: 'b' });
    const c = resource([1], { name: 'c', parallelized: true });
    const cDetails = transformer((x) => x, { name: 'c_details', dataFrom: c, parallelized: true });
    const d = resource([1], { name: 'd', parallelized: true, incremental: inc });
    const e = resource([1], { name: 'e', parallelized: true, incremental: inc });
    const f = resource([1], { name: 'f' }).parallelize();
    const names = planLanes([a, c, b, cDetails, d, e, f]).map((l) => l.map((r) => r.name));
    expect(names).toEqual([['a', 'b'], ['c', 'c_details'], ['d', 'e'], ['f']]);
  });

  it('mapConcurrent keeps at most the slots given in flight and yields every result once', async () => {
    let inFlight = 0;
    let most = 0;
    async function* input() {
      for (let i = 0; i < 30; i++) yield i;
    }
    const out: number[] = [];
    for await (const v of mapConcurrent(input(), async (i: number) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, (i * 7) % 5));
      inFlight--;
      return i * 10;
    }, new Semaphore(3))) out.push(v);
    expect(most).toBe(3);
    expect(out.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i * 10));
  });

  it('mapConcurrent: a failing call is thrown after the calls in flight settle, and stops reading', async () => {
    let read = 0;
    let started = 0;
    let settled = 0;
    async function* input() {
      for (let i = 0; i < 100; i++) {
        read++;
        yield i;
      }
    }
    const slots = new Semaphore(4);
    const run = async () => {
      for await (const _ of mapConcurrent(input(), async (i: number) => {
        started++;
        await new Promise((r) => setTimeout(r, 5));
        settled++;
        if (i === 2) throw new Error('call 2 failed');
        return i;
      }, slots)) void _;
    };
    await expect(run()).rejects.toThrow('call 2 failed');
    expect(read).toBeLessThan(20);
    expect(settled).toBe(started);
    // Every slot came back.
    for (let i = 0; i < 4; i++) await slots.acquire();
  });
});

/** A paged async resource offering a checkpoint after each page; `failAt` throws before that page. */
function pagedResource(name: string, calls: unknown[], opts: { pages: number; per: number; failAt?: number }) {
  return resource(
    async function* paged(ctx: ResourceContext) {
      calls.push(ctx.resumeFrom);
      const first = ctx.resumeFrom === undefined ? 1 : (ctx.resumeFrom as { page: number }).page;
      for (let page = first; page <= opts.pages; page++) {
        await new Promise((r) => setTimeout(r, 2));
        if (page === opts.failAt) throw new Error(`${name}: connection reset before page ${page}`);
        yield Array.from({ length: opts.per }, (_, i) => ({ id: (page - 1) * opts.per + i + 1 }));
        ctx.checkpoint?.({ page: page + 1 });
      }
    },
    { name, primaryKey: 'id', parallelized: true, incremental: incremental('id', { initialValue: 0 }) },
  );
}

describe('parallelized resources and checkpoints', () => {
  it('a retry resumes every resource that was in progress at its own position; one that offered none starts over; rows once', async () => {
    const p = testPipeline(dir, 'par_cp');
    const loadId = '1700000100.5';
    const policy = { everyItems: 10, everyMs: 3_600_000 };
    const calls: Record<string, unknown[]> = { one: [], two: [], plain: [] };
    let plainOpened = 0;
    const make = (failAt?: number) =>
      source(function par_cp() {
        const plain = resource(
          async function* plain() {
            plainOpened++;
            for (let i = 1; i <= 1000; i++) {
              if (i % 5 === 0) await new Promise((r) => setTimeout(r, 1));
              yield { id: i };
            }
          },
          { name: 'plain', parallelized: true },
        );
        return [pagedResource('one', calls['one']!, { pages: 12, per: 5, failAt }), pagedResource('two', calls['two']!, { pages: 30, per: 5 }), plain];
      })();
    const summaries: Array<{ items: Record<string, number> }> = [];
    const failed = await p.extract(make(8), {}, { loadId, checkpoint: policy, onCheckpoint: (c) => summaries.push(c) }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(HaulError);
    expect((failed as Error).message).toMatch(/resource "one" raised: one: connection reset before page 8/);
    // Checkpoints held both paged resources in progress at once.
    expect(summaries.some((s) => (s.items['one'] ?? 0) > 0 && (s.items['two'] ?? 0) > 0)).toBe(true);
    // `two` was stopped with `one`: it did not run to its end.
    expect(summaries.every((s) => (s.items['two'] ?? 0) < 150)).toBe(true);

    const info = await p.extract(make(), {}, { loadId, checkpoint: policy });
    expect(info.resumedFrom).toBeDefined();
    // Both resumed at a page after the first; `plain` (no positions) started over.
    expect(calls['one']![0]).toBeUndefined();
    expect((calls['one']![1] as { page: number }).page).toBeGreaterThan(1);
    expect(calls['two']![0]).toBeUndefined();
    expect((calls['two']![1] as { page: number }).page).toBeGreaterThan(1);
    expect(plainOpened).toBe(2);
    expect(info.itemCounts).toEqual({ one: 60, two: 150, plain: 1000 });
    await p.normalize();
    await p.load();
    for (const [t, n] of [['one', 60], ['two', 150], ['plain', 1000]] as const) {
      expect(await query(p, `SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS d FROM ${t}`)).toEqual([{ n, d: n }]);
    }
    const resources = p.state.sources['par_cp']!.resources!;
    expect(resources['one']!.incremental!['id']!.last_value).toBe(60);
    expect(resources['two']!.incremental!['id']!.last_value).toBe(150);
  });

  it('a failing parallelized resource stops the others and is the error raised', async () => {
    const p = testPipeline(dir, 'par_fail');
    let slowYields = 0;
    const s = source(function par_fail() {
      const slow = resource(
        async function* slow() {
          for (let i = 0; i < 1000; i++) {
            await new Promise((r) => setTimeout(r, 1));
            slowYields++;
            yield { i };
          }
        },
        { parallelized: true },
      );
      const broken = resource(
        async function* broken() {
          await new Promise((r) => setTimeout(r, 20));
          yield { ok: 1 };
          throw new Error('upstream said 500');
        },
        { parallelized: true },
      );
      return [slow, broken];
    })();
    const e = await p.run(s).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(HaulError);
    expect((e as HaulError).message).toMatch(/resource "broken" raised: upstream said 500/);
    expect(slowYields).toBeLessThan(1000);
    expect(p.hasPendingData).toBe(false);
  });
});
