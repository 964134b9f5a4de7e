import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resource, type Pipeline, type ResourceContext } from '../../src/index.js';
import { cacheStats } from '../../src/normalize/normalize-cached.js';
import { awaitPrenormalized } from '../../src/normalize/prenormalizer.js';
import { MANIFEST_SUFFIX } from '../../src/normalize/prenormalize-manifest.js';
import { WorkingDir } from '../../src/storage/working-dir.js';
import { query, tempDir, testPipeline } from '../helpers.js';

/*
 * The pre-normalizer is a cache: a run that uses it lands the same tables, columns (order
 * and types), rows and row counts as a run without it. Extract's files rotate at a few KB
 * here, so a few thousand rows make dozens of files for the background thread.
 */

type Row = Record<string, unknown>;

const ROTATE_BYTES = '4096';

beforeEach(() => {
  process.env.HAUL_EXTRACT_FILE_BYTES = ROTATE_BYTES;
  cacheStats.inputs = 0;
  cacheStats.cached = 0;
});
afterEach(() => {
  delete process.env.HAUL_EXTRACT_FILE_BYTES;
  delete process.env.HAUL_PRENORMALIZE;
});

function* nested(n: number, from = 0): Generator<Row> {
  for (let i = from; i < from + n; i++) {
    yield {
      id: i,
      name: `user ${i}`,
      score: (i % 1000) / 7,
      amount: Math.round(i * 13.37) / 100,
      created_at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
      address: { city: `City ${i % 97}`, zip: String(10000 + i) },
      items: [
        { sku: `A-${i}`, qty: 1 + (i % 5) },
        { sku: `B-${i}`, qty: 2, price: i % 2 ? 19.5 : 3 },
      ],
    };
  }
}

/** Later rows change the type of a column: bigint, then text; integers, then fractions. */
function* drifting(n: number): Generator<Row> {
  for (let i = 0; i < n; i++) {
    yield {
      id: i,
      v: i < n / 3 ? i : `t${i}`,
      f: i < n / 2 ? i : i + 0.5,
      late: i > (2 * n) / 3 ? { deep: [i, i + 1] } : null,
      pad: 'x'.repeat(40),
    };
  }
}

/**
 * A source slower than the background thread (an API, say): it pauses every 50 rows, so
 * the pre-normalizer keeps up and has most files done when extract ends.
 */
async function* paced(rows: Iterable<Row>): AsyncGenerator<Row> {
  let n = 0;
  for (const r of rows) {
    yield r;
    if (++n % 50 === 0) await new Promise((res) => setTimeout(res, 8));
  }
}

/**
 * paced(), holding back its second half until the background thread has written `manifests`
 * manifests under `dir`: the thread takes 40–300 ms to start, longer on a busy machine, and
 * a paced extract alone could end before it began (the tests would then measure the
 * machine's load, not the cache).
 */
async function* pacedUntilCached(rows: Iterable<Row>, dir: string, manifests: number): AsyncGenerator<Row> {
  const all = [...rows];
  const half = Math.floor(all.length / 2);
  yield* paced(all.slice(0, half));
  const deadline = Date.now() + 60_000;
  while (manifestsUnder(dir) < manifests && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
  yield* paced(all.slice(half));
}

/** The pre-normalizer's manifests anywhere under a test's folder. */
function manifestsUnder(dir: string): number {
  try {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(MANIFEST_SUFFIX)).length;
  } catch {
    return 0; // a folder renamed while listed: look again
  }
}

/** What landed: every table's columns in schema order with their types, and its rows without random ids. */
async function landed(p: Pipeline): Promise<{ schema: Record<string, Array<[string, string | undefined]>>; rows: Record<string, unknown[]> }> {
  const s = p.defaultSchema!;
  const schema: Record<string, Array<[string, string | undefined]>> = {};
  const rows: Record<string, unknown[]> = {};
  for (const t of Object.values(s.tables)) {
    schema[t.name] = Object.values(t.columns).map((c) => [c.name, c.dataType]);
    if (t.name.startsWith('_dlt')) continue;
    const cols = Object.keys(t.columns).filter((c) => !['_dlt_id', '_dlt_load_id', '_dlt_parent_id', '_dlt_root_id'].includes(c));
    // child rows are named by their parent's id and position, so the link is checked too
    const parent = t.parent ? `(SELECT id FROM "${s.rootOf(t.name).name}" r WHERE r._dlt_id = x._dlt_root_id)` : 'NULL';
    const hasRoot = t.parent !== undefined && t.columns._dlt_root_id !== undefined;
    const sel = [...cols.map((c) => `x."${c}"`), hasRoot ? `${parent} AS root_id` : 'NULL AS root_id'].join(', ');
    const got = await query<Row>(p, `SELECT ${sel} FROM "${t.name}" x`);
    rows[t.name] = got.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))).sort();
  }
  return { schema, rows };
}

/** The scratch folder of the package `name`'s extract left, once the background work on it is done (undefined: the thread never started). */
async function scratchAfterExtract(dir: string, name: string): Promise<string | undefined> {
  const wd = new WorkingDir(join(dir, 'pipelines', name));
  const [loadId] = wd.storage.list('extracted');
  await awaitPrenormalized(wd, loadId!);
  return wd.storage.findScratch(loadId!);
}

/** How many users rows landed, and how many distinct ids. */
const userIds = (p: Pipeline) => query(p, 'SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS d FROM users');

async function runOnce(dir: string, name: string, cache: boolean, data: () => Iterable<Row> | AsyncIterable<Row>, table: string) {
  if (cache) delete process.env.HAUL_PRENORMALIZE;
  else process.env.HAUL_PRENORMALIZE = '0';
  const p = testPipeline(dir, name);
  const info = await p.run(data(), { tableName: table });
  return { p, info };
}

describe('pre-normalize cache', () => {
  it('lands the same tables, columns, types and rows as normalize alone', async () => {
    const dir = tempDir();
    const off = await runOnce(dir, 'off', false, () => paced(nested(3000)), 'users');
    expect(cacheStats.cached).toBe(0);
    const on = await runOnce(dir, 'on', true, () => pacedUntilCached(nested(3000), dir, 6), 'users');
    // the background thread did most files; normalize took them
    expect(cacheStats.cached).toBeGreaterThan(5);
    const a = await landed(off.p);
    const b = await landed(on.p);
    expect(b.schema).toEqual(a.schema);
    expect(Object.keys(b.schema)).toEqual(Object.keys(a.schema));
    expect(b.rows).toEqual(a.rows);
    expect(b.rows.users).toHaveLength(3000);
    expect(b.rows.users__items).toHaveLength(6000);
    expect(on.info.loadPackages[0]!.rowCounts ?? null).toEqual(off.info.loadPackages[0]!.rowCounts ?? null);
    // a fraction after integers made a variant, as in one thread
    expect(a.schema.users!.map(([c]) => c)).toContain('score__v_double');
  });

  it('gives the same schema and rows when a column changes type in later files', async () => {
    const dir = tempDir();
    const off = await runOnce(dir, 'off', false, () => paced(drifting(2400)), 'drift');
    const on = await runOnce(dir, 'on', true, () => pacedUntilCached(drifting(2400), dir, 3), 'drift');
    expect(cacheStats.cached).toBeGreaterThan(2);
    const a = await landed(off.p);
    const b = await landed(on.p);
    expect(b.schema).toEqual(a.schema);
    expect(b.rows).toEqual(a.rows);
    expect(a.schema.drift).toEqual(expect.arrayContaining([['v', 'bigint'], ['v__v_text', 'text'], ['f', 'bigint'], ['f__v_double', 'double']]));
    expect(Object.keys(a.schema)).toContain('drift__late__deep');
  });

  it('ignores manifests made from a schema that changed before normalize (an older package first)', async () => {
    const dir = tempDir();
    // package 1 makes `v` text; package 2 (pre-normalized meanwhile from a schema without
    // package 1's columns) has integers in `v`, which must go into the text column
    const p = testPipeline(dir, 'stale');
    await p.extract([{ id: -1, v: 'text first' }], { tableName: 'drift' });
    await p.extract(pacedUntilCached(drifting(2400), dir, 3), { tableName: 'drift' });
    const wd = new WorkingDir(join(dir, 'pipelines', 'stale'));
    const [, second] = wd.storage.list('extracted');
    await awaitPrenormalized(wd, second!);
    const scratch = wd.storage.findScratch(second!)!;
    expect(readdirSync(scratch).filter((f) => f.endsWith(MANIFEST_SUFFIX)).length).toBeGreaterThan(2);
    await p.normalize();
    expect(cacheStats.cached).toBe(0);
    expect(wd.storage.findScratch(second!)).toBeUndefined();
    await p.load();
    const cols = Object.values(p.defaultSchema!.tables.drift!.columns).map((c) => [c.name, c.dataType]);
    expect(cols).toEqual(expect.arrayContaining([['v', 'text'], ['f', 'bigint'], ['f__v_double', 'double']]));
    expect(cols.map(([c]) => c)).not.toContain('v__v_text');
    const vs = await query<{ v: string }>(p, 'SELECT v FROM drift WHERE id IN (-1, 0, 1, 2399) ORDER BY id');
    expect(vs.map((r) => r.v)).toEqual(['text first', '0', '1', 't2399']);
  });

  it('normalizes an input again when its cached output is missing', async () => {
    const dir = tempDir();
    const p = testPipeline(dir, 'partial');
    // the thread has manifests before extract ends, however slowly it started
    await p.extract(pacedUntilCached(nested(4000), dir, 3), { tableName: 'users' });
    const wd = new WorkingDir(join(dir, 'pipelines', 'partial'));
    const [loadId] = wd.storage.list('extracted');
    await awaitPrenormalized(wd, loadId!);
    const scratch = wd.storage.findScratch(loadId!)!;
    const outputs = readdirSync(scratch).filter((f) => !f.endsWith(MANIFEST_SUFFIX));
    const manifests = readdirSync(scratch).filter((f) => f.endsWith(MANIFEST_SUFFIX));
    expect(manifests.length).toBeGreaterThan(2);
    rmSync(join(scratch, outputs[0]!));
    await p.normalize();
    expect(cacheStats.cached).toBe(manifests.length - 1);
    await p.load();
    const ids = await query<{ n: bigint; d: bigint }>(p, 'SELECT count(*) AS n, count(DISTINCT id) AS d FROM users');
    expect(ids.map((r) => [Number(r.n), Number(r.d)])).toEqual([[4000, 4000]]);
    const kids = await query<{ n: bigint }>(p, 'SELECT count(*) AS n FROM users__items i JOIN users u ON i._dlt_parent_id = u._dlt_id');
    expect(Number(kids[0]!.n)).toBe(8000);
  });

  it('a small extract whose files close at checkpoints leaves them to the normalize step: no thread to start and wait for', async () => {
    // extract's own file sizes (a first rotation at 4 MiB); with checkpoints (as in a
    // Temporal activity) each resource's last file is handed over when it ends
    delete process.env.HAUL_EXTRACT_FILE_BYTES;
    const dir = tempDir();
    const p = testPipeline(dir, 'small_checkpoints');
    await p.extract(nested(60), { tableName: 'users' }, { loadId: '1700000000.5', checkpoint: { everyItems: 20, everyMs: 3_600_000 } });
    expect(await scratchAfterExtract(dir, 'small_checkpoints')).toBeUndefined();
    await p.normalize();
    expect(cacheStats.cached).toBe(0);
    await p.load();
    expect(await userIds(p)).toEqual([{ n: 60, d: 60 }]);
  });

  it('checkpoint files that add up to a MiB start the thread, and the step takes its work', async () => {
    delete process.env.HAUL_EXTRACT_FILE_BYTES;
    const dir = tempDir();
    const p = testPipeline(dir, 'big_checkpoints');
    // an API's pages of 1,500 rows (~0.5 MB), a checkpoint after each: every file is below
    // the first rotation (4 MiB), and the first three add up to more than a MiB
    const pages = resource(
      async function* users(ctx: ResourceContext) {
        for (let page = 0; page < 8; page++) {
          yield* paced(nested(1_500, page * 1_500));
          ctx.checkpoint?.({ page: page + 1 });
        }
      },
      { name: 'users' },
    );
    await p.extract(pages, {}, { loadId: '1700000000.5', checkpoint: { everyItems: 1_500, everyMs: 3_600_000 } });
    expect(await scratchAfterExtract(dir, 'big_checkpoints')).toBeDefined();
    await p.normalize();
    expect(cacheStats.cached).toBeGreaterThan(0);
    await p.load();
    expect(await userIds(p)).toEqual([{ n: 12_000, d: 12_000 }]);
  });

  it('removes the scratch folder with the package (dropPendingPackages)', async () => {
    const dir = tempDir();
    const p = testPipeline(dir, 'dropped');
    await p.extract(paced(nested(1500)), { tableName: 'users' });
    const wd = new WorkingDir(join(dir, 'pipelines', 'dropped'));
    const [loadId] = wd.storage.list('extracted');
    await awaitPrenormalized(wd, loadId!);
    expect(wd.storage.findScratch(loadId!)).toBeDefined();
    p.dropPendingPackages();
    expect(wd.storage.findScratch(loadId!)).toBeUndefined();
    expect(p.hasPendingData).toBe(false);
  });

  it('reports bad data found while pre-normalizing as normalize reports it without the cache', async () => {
    const dir = tempDir();
    // two keys that normalize to one column name, in a late file
    const bad = () =>
      paced(
        (function* () {
          yield* nested(1200);
          yield { id: 99999, 'a b': 1, a_b: 2 };
          yield* nested(400, 1200);
        })(),
      );
    const errorOf = async (cache: boolean, name: string) => {
      try {
        await runOnce(dir, name, cache, bad, 'users');
      } catch (e) {
        return e as Error & { code?: string };
      }
      throw new Error('expected the run to fail');
    };
    const a = await errorOf(false, 'bad_off');
    const b = await errorOf(true, 'bad_on');
    expect(b.constructor).toBe(a.constructor);
    expect(b.code).toBe(a.code);
    expect(b.message.replaceAll('bad_on', 'bad_off').replace(/\d+\.\d+/g, 'L')).toBe(a.message.replace(/\d+\.\d+/g, 'L'));
    expect(b.message).toMatch(/a_b/);
  });
});
