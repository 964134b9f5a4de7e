import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Schema } from '../../src/schema/schema.js';
import type { TableSchema } from '../../src/schema/types.js';
import { CorruptPackageFileError, IdentifierCollisionError, SchemaConflictError } from '../../src/errors.js';
import type { NormalizeResult } from '../../src/normalize/index.js';
import { normalizeFilesWithTestKnobs } from '../../src/normalize/normalize-files.js';
import type { Worker } from 'node:worker_threads';
import { planSlices, spawnNormalizeThread } from '../../src/normalize/parallel.js';
import { endParkedThread, parkThread, takeParkedThread, warmThreadCounts } from '../../src/normalize/warm-thread.js';
import { rebuildError, serializeError } from '../../src/normalize/worker-protocol.js';
import { registerSecret } from '../../src/config/redact.js';

type Row = Record<string, unknown>;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'haul-normalize-par-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Input {
  table: string;
  /** Items (one JSON line each) or raw file text. */
  items?: unknown[];
  raw?: string;
}

interface Tables {
  [name: string]: Partial<TableSchema>;
}

/**
 * Pads the last item of each input so all inputs have the same size: with as many workers
 * as inputs, each worker then gets exactly one input (shares are cut by bytes).
 */
function balanced(inputs: Input[]): Input[] {
  const text = (i: Input) => (i.items ?? []).map((x) => JSON.stringify(x) + '\n').join('');
  const max = Math.max(...inputs.map((i) => Buffer.byteLength(text(i)))) + 20;
  return inputs.map((i) => {
    const items = [...(i.items ?? [])];
    const last = items.pop() as Row;
    const grow = max - Buffer.byteLength(text({ ...i, items: [...items, { ...last, pad: '' }] }));
    return { ...i, items: [...items, { ...last, pad: 'p'.repeat(grow) }] };
  });
}

let runNo = 0;
function writeInputs(inputs: Input[]): Array<{ table: string; path: string }> {
  const n = ++runNo;
  return inputs.map((inp, i) => {
    const path = join(dir, `in-${n}-${i}.jsonl`);
    writeFileSync(path, inp.raw ?? (inp.items ?? []).map((x) => JSON.stringify(x) + '\n').join(''));
    return { table: inp.table, path };
  });
}

function newSchema(tables: Tables, settings: Partial<Schema['settings']> = {}): Schema {
  const schema = new Schema('par', settings);
  for (const [name, hints] of Object.entries(tables)) schema.ensureTable(name, { writeDisposition: 'append', resource: name, ...hints });
  return schema;
}

interface RunExtra {
  settings?: Partial<Schema['settings']>;
  schema?: Schema;
  signal?: AbortSignal;
  onProgress?: (p: { table: string; rows: number }) => void;
  crash?: boolean;
  maxFileBytes?: number;
  /** Bytes this thread normalizes before the workers start; 0 (the default here) so the tests reach the merge and its re-runs. */
  seedBytes?: number;
}

async function run(files: Array<{ table: string; path: string }>, tables: Tables, workers: number, extra: RunExtra = {}) {
  const schema = extra.schema ?? newSchema(tables, extra.settings);
  const outDir = join(dir, `out-${++runNo}`);
  mkdirSync(outDir);
  const stats = { workers: -1, reruns: -1 };
  let fid = 0;
  const res = await normalizeFilesWithTestKnobs(
    {
      schema,
      loadId: '1700000000.1',
      inputs: files,
      outDir,
      nextFileId: () => `m${String(fid++).padStart(4, '0')}`,
      workers,
      signal: extra.signal,
      onProgress: extra.onProgress,
      maxFileBytes: extra.maxFileBytes,
    },
    { minParallelBytes: 0, stats, crashWorkersForTest: extra.crash, seedBytes: extra.seedBytes ?? 0 },
  );
  return { res, schema, outDir, stats, rows: readRows(outDir, res) };
}

function readRows(outDir: string, res: NormalizeResult): Record<string, Row[]> {
  const rows: Record<string, Row[]> = {};
  for (const { table, file } of res.files) {
    const text = readFileSync(join(outDir, file), 'utf8');
    for (const line of text.split('\n')) if (line) (rows[table] ??= []).push(JSON.parse(line));
  }
  return rows;
}

const ID_COLS = ['_dlt_id', '_dlt_parent_id', '_dlt_root_id'];

/** Rows without their random ids, as a sorted list (row order differs between runs). */
function canon(rows: Record<string, Row[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [t, list] of Object.entries(rows)) {
    out[t] = list.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => !ID_COLS.includes(k)).sort(([a], [b]) => (a < b ? -1 : 1))))).sort();
  }
  return out;
}

/** Every link column points at an existing row. */
function checkLinks(schema: Schema, rows: Record<string, Row[]>): void {
  const ids = new Map<string, Set<unknown>>();
  for (const [t, list] of Object.entries(rows)) ids.set(t, new Set(list.map((r) => r._dlt_id)));
  for (const [t, list] of Object.entries(rows)) {
    const parent = schema.tables[t].parent;
    if (!parent) continue;
    const root = schema.rootOf(t).name;
    for (const r of list) {
      expect(ids.get(parent)!.has(r._dlt_parent_id)).toBe(true);
      if (r._dlt_root_id !== undefined) expect(ids.get(root)!.has(r._dlt_root_id)).toBe(true);
    }
  }
}

/** Runs the inputs in one thread and over two workers; both must mean the same. */
async function both(inputs: Input[], tables: Tables, settings: Partial<Schema['settings']> = {}) {
  const files = writeInputs(inputs);
  const one = await run(files, tables, 1, { settings });
  const two = await run(files, tables, 2, { settings });
  expect(one.stats.workers).toBe(0);
  expect(two.stats.workers).toBe(2);
  // the same schema, column order included
  expect(JSON.stringify(two.schema.tables)).toEqual(JSON.stringify(one.schema.tables));
  expect(two.res.rowCounts).toEqual(one.res.rowCounts);
  expect(canon(two.rows)).toEqual(canon(one.rows));
  checkLinks(two.schema, two.rows);
  // no leftover files: exactly the listed ones
  expect(readdirSync(two.outDir).sort()).toEqual(two.res.files.map((f) => f.file).sort());
  // workers make random hex ids; a re-run in this thread uses nextFileId
  for (const { table, file } of two.res.files) expect(file).toMatch(new RegExp(`^${table}\\.([0-9a-f]{10}|m\\d{4})\\.0\\.jsonl$`));
  return { one, two };
}

function benchItem(i: number, score: number): Row {
  return {
    id: i,
    name: `user ${i}`,
    email: `u${i}@example.com`,
    age: 20 + (i % 50),
    score,
    active: i % 3 === 0,
    created_at: new Date(1700000000000 + i * 1000).toISOString(),
    category: ['a', 'b', 'c'][i % 3],
    address: { street: `${i} main st`, city: 'X', zip: String(10000 + i) },
    items: [1, 2, 3].map((k) => ({ sku: `s${k}`, qty: k, price: k * 1.5 })),
  };
}

describe('normalizeFiles with workers: same meaning as one thread', () => {
  it('bench-shaped rows, several inputs split across workers, child tables, merge root ids', async () => {
    const mk = (from: number, n: number) => Array.from({ length: n }, (_, i) => benchItem(from + i, (from + i) * 0.5 + 0.25));
    const { two } = await both(
      [
        { table: 'users', items: mk(0, 300) },
        { table: 'users', items: mk(300, 500) },
        { table: 'orders', items: mk(800, 200) },
        { table: 'users', items: mk(1000, 100) },
      ],
      { users: { writeDisposition: 'merge' }, orders: {} },
    );
    expect(two.stats.reruns).toBe(0);
    expect(two.rows.users__items.every((r) => typeof r._dlt_root_id === 'string')).toBe(true);
    expect(two.rows.orders__items.every((r) => r._dlt_root_id === undefined)).toBe(true);
    // the first input was split: more than one worker wrote users rows
    expect(two.res.files.filter((f) => f.table === 'users').length).toBeGreaterThan(1);
  });

  it('new columns only one worker saw, variants, nesting limits and lists of lists', async () => {
    const a = Array.from({ length: 50 }, (_, i) => ({ id: i, deep: { l1: { l2: { l3: i } } }, tags: ['x', 'y'], grid: [[1, 2], [3]] }));
    const b = Array.from({ length: 50 }, (_, i) => ({ id: 'not-a-number', only_b: true, deep: { l1: { other: i } }, at: '2024-01-01T00:00:00Z', $binary_not: 1 }));
    await both(
      [
        { table: 't', items: a },
        { table: 't', items: b },
      ],
      { t: { maxTableNesting: 2 } },
    );
  });

  it('a replace table with no rows gets one empty file; with rows in another share, none', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ i }));
    const { two } = await both(
      [
        { table: 'empty', raw: '' },
        { table: 'r', raw: '' },
        { table: 'r', items: rows },
        { table: 'empty', raw: '\n' },
        { table: 'r', items: rows },
        { table: 'empty', raw: '' },
      ],
      { empty: { writeDisposition: 'replace' }, r: { writeDisposition: 'replace' } },
    );
    expect(two.res.files.filter((f) => f.table === 'empty')).toHaveLength(1);
    expect(two.res.rowCounts.empty).toBe(0);
    expect(statSync(join(two.outDir, two.res.files.find((f) => f.table === 'empty')!.file)).size).toBe(0);
    for (const f of two.res.files.filter((x) => x.table === 'r')) expect(statSync(join(two.outDir, f.file)).size).toBeGreaterThan(0);
  });

  it('keeps declared types and completes hints without a type the same way', async () => {
    const schema = (s: Schema) => {
      s.tables.h.columns.pk = { name: 'pk', primaryKey: true, nullable: false } as never;
      s.tables.h.columns.n = { name: 'n', dataType: 'bigint', nullable: true };
      return s;
    };
    const files = writeInputs([
      { table: 'h', items: Array.from({ length: 30 }, (_, i) => ({ pk: i, n: i })) },
      { table: 'h', items: Array.from({ length: 30 }, (_, i) => ({ pk: `k${i}`, n: i + 0.5 })) },
    ]);
    const one = await run(files, {}, 1, { schema: schema(newSchema({ h: {} })) });
    const two = await run(files, {}, 2, { schema: schema(newSchema({ h: {} })) });
    expect(JSON.stringify(two.schema.tables)).toEqual(JSON.stringify(one.schema.tables));
    expect(canon(two.rows)).toEqual(canon(one.rows));
    expect(one.schema.tables.h.columns.n__v_double.dataType).toBe('double');
  });
});

describe('normalizeFiles with workers: conflicts', () => {
  it('the same new column typed bigint by one worker and text by the other: re-runs the later share', async () => {
    const { two } = await both(
      balanced([
        { table: 't', items: Array.from({ length: 40 }, (_, i) => ({ x: i, a: 1 })) },
        { table: 't', items: Array.from({ length: 40 }, (_, i) => ({ x: `abc${i}`, b: 2 })) },
      ]),
      { t: {} },
    );
    expect(two.stats.reruns).toBe(1);
    expect(two.schema.tables.t.columns.x.dataType).toBe('bigint');
    expect(two.schema.tables.t.columns.x__v_text.dataType).toBe('text');
    expect(Object.keys(two.schema.tables.t.columns)).toEqual(['x', 'a', '_dlt_load_id', '_dlt_id', 'pad', 'x__v_text', 'b']);
  });

  it('the first rows normalized before the workers start (the seed) settle bigint-then-fractions: no re-run, the one-thread result', async () => {
    // as the bench data: an integer first, fractions after it, in both shares (one file, split)
    const items = Array.from({ length: 400 }, (_, i) => ({ id: i, score: (i % 10) / 7 }));
    const files = writeInputs([{ table: 't', items }]);
    const one = await run(files, { t: {} }, 1);
    const unseeded = await run(files, { t: {} }, 2);
    const seeded = await run(files, { t: {} }, 2, { seedBytes: 200 });
    expect(unseeded.stats).toEqual({ workers: 2, reruns: 1 });
    expect(seeded.stats).toEqual({ workers: 2, reruns: 0 });
    for (const r of [unseeded, seeded]) {
      expect(JSON.stringify(r.schema.tables)).toEqual(JSON.stringify(one.schema.tables));
      expect(canon(r.rows)).toEqual(canon(one.rows));
    }
    expect(seeded.schema.tables.t.columns.score.dataType).toBe('bigint');
    expect(seeded.schema.tables.t.columns.score__v_double).toMatchObject({ dataType: 'double', variant: true });
  });

  it('text first, numbers later: the later share writes them as text after the re-run', async () => {
    const { two } = await both(
      balanced([
        { table: 't', items: Array.from({ length: 40 }, (_, i) => ({ x: `s${i}` })) },
        { table: 't', items: Array.from({ length: 40 }, (_, i) => ({ x: i })) },
      ]),
      { t: {} },
    );
    expect(two.stats.reruns).toBe(1);
    expect(two.rows.t.every((r) => typeof r.x === 'string')).toBe(true);
  });

  it('bigint in the earlier share, double in the later: re-run (one thread makes x__v_double, as dlt)', async () => {
    const { two } = await both(
      balanced([
        { table: 't', items: Array.from({ length: 40 }, (_, i) => ({ x: i })) },
        { table: 't', items: Array.from({ length: 40 }, (_, i) => ({ x: i + 0.5 })) },
      ]),
      { t: {} },
    );
    expect(two.stats.reruns).toBe(1);
    expect(two.schema.tables.t.columns.x.dataType).toBe('bigint');
    expect(two.schema.tables.t.columns.x__v_double).toMatchObject({ dataType: 'double', variant: true });
  });

  it('double in the earlier share, plain integers in the later: no re-run', async () => {
    const { two } = await both(
      balanced([
        { table: 't', items: Array.from({ length: 40 }, (_, i) => ({ x: i + 0.5 })) },
        { table: 't', items: Array.from({ length: 40 }, (_, i) => ({ x: i, y: '7' })) },
      ]),
      { t: {} },
    );
    expect(two.stats.reruns).toBe(0);
    expect(two.schema.tables.t.columns.x.dataType).toBe('double');
  });

  it('double in the earlier share, bigint kept by the later with a value bigint treats differently: re-run', async () => {
    // "2.5" does not fit bigint (the worker made a variant) but fits double (one thread coerces it)
    const { two } = await both(
      balanced([
        { table: 't', items: Array.from({ length: 40 }, (_, i) => ({ x: i + 0.5 })) },
        { table: 't', items: [...Array.from({ length: 40 }, (_, i) => ({ x: i })), { x: '2.5' }, { x: 2 ** 60 }] },
      ]),
      { t: {} },
    );
    expect(two.stats.reruns).toBe(1);
    expect(two.schema.tables.t.columns.x__v_text).toBeUndefined();
    expect(two.rows.t.filter((r) => r.x === 2.5)).toHaveLength(2);
  });

  it('both workers keep a column bigint (a fraction and a non-integer string to variants): no re-run', async () => {
    const { two } = await both(
      balanced([
        { table: 't', items: [{ x: 1 }, { x: 1.5 }, ...Array.from({ length: 40 }, (_, i) => ({ x: i }))] },
        { table: 't', items: [...Array.from({ length: 40 }, (_, i) => ({ x: i })), { x: '1e3' }] },
      ]),
      { t: {} },
    );
    expect(two.stats.reruns).toBe(0);
    expect(two.rows.t.some((r) => r.x__v_text === '1e3')).toBe(true);
    expect(two.rows.t.some((r) => r.x__v_double === 1.5)).toBe(true);
  });

  it('a hint marked incomplete gets its type from the first value: workers disagreeing is a conflict', async () => {
    const files = writeInputs(
      balanced([
        { table: 'h', items: Array.from({ length: 30 }, (_, i) => ({ pk: i })) },
        { table: 'h', items: Array.from({ length: 30 }, (_, i) => ({ pk: `k${i}` })) },
      ]),
    );
    const mk = () => {
      const s = newSchema({ h: {} });
      s.tables.h.columns.pk = { name: 'pk', dataType: 'text', primaryKey: true, nullable: false, incomplete: true };
      return s;
    };
    const one = await run(files, {}, 1, { schema: mk() });
    const two = await run(files, {}, 2, { schema: mk() });
    expect(two.stats.reruns).toBe(1);
    expect(one.schema.tables.h.columns.pk).toEqual({ name: 'pk', dataType: 'bigint', primaryKey: true, nullable: false });
    expect(JSON.stringify(two.schema.tables)).toEqual(JSON.stringify(one.schema.tables));
    expect(canon(two.rows)).toEqual(canon(one.rows));
  });

  it('a conflict in a child table and timestamps vs text', async () => {
    const a = Array.from({ length: 30 }, (_, i) => ({ id: i, events: [{ at: '2024-01-01T00:00:00.000Z', v: i }] }));
    const b = Array.from({ length: 30 }, (_, i) => ({ id: i, events: [{ at: 'yesterday', v: `v${i}` }] }));
    const { two } = await both(
      balanced([
        { table: 't', items: a },
        { table: 't', items: b },
      ]),
      { t: {} },
    );
    expect(two.stats.reruns).toBe(1);
    expect(two.schema.tables.t__events.columns.at__v_text.dataType).toBe('text');
  });

  it('a SchemaConflictError that only the worker starting schema caused: re-run, with the one-thread outcome', async () => {
    // x__v_text is declared bool. One thread: x is text (first share), 1 and "abc" fit it.
    // The second worker alone types x bigint from 1, then "abc" needs x__v_text and fails.
    const mk = () => {
      const s = newSchema({ t: {} });
      s.tables.t.columns.x__v_text = { name: 'x__v_text', dataType: 'bool', nullable: true };
      return s;
    };
    const ok = writeInputs(
      balanced([
        { table: 't', items: Array.from({ length: 30 }, (_, i) => ({ x: `s${i}` })) },
        { table: 't', items: [...Array.from({ length: 30 }, (_, i) => ({ x: i })), { x: 'abc' }] },
      ]),
    );
    const one = await run(ok, {}, 1, { schema: mk() });
    const two = await run(ok, {}, 2, { schema: mk() });
    expect(two.stats.reruns).toBe(1);
    expect(JSON.stringify(two.schema.tables)).toEqual(JSON.stringify(one.schema.tables));
    expect(canon(two.rows)).toEqual(canon(one.rows));
    // the other way round one thread fails too, with the same error
    const bad = writeInputs(
      balanced([
        { table: 't', items: Array.from({ length: 30 }, (_, i) => ({ x: i })) },
        { table: 't', items: [...Array.from({ length: 30 }, (_, i) => ({ x: `s${i}` })), { x: 'abc' }] },
      ]),
    );
    const e1 = await run(bad, {}, 1, { schema: mk() }).catch((e: unknown) => e);
    const e2 = await run(bad, {}, 2, { schema: mk() }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(SchemaConflictError);
    expect(e2).toBeInstanceOf(SchemaConflictError);
    expect((e2 as Error).message).toBe((e1 as Error).message);
  });

  it('a json column an earlier share kept (nesting ran out) that the worker made a child table of: re-run', async () => {
    // maxTableNesting 2: t__a reached through a list of lists has no level left, so its
    // `list` is json; reached through a list of dicts it has one, and `list` would become
    // t__a__list. One thread keeps json once the column exists.
    const { one, two } = await both(
      balanced([
        { table: 't', items: Array.from({ length: 30 }, (_, i) => ({ i, a: [[i, i + 1]] })) },
        { table: 't', items: Array.from({ length: 30 }, (_, i) => ({ i, a: [{ list: [i, 2] }] })) },
      ]),
      { t: { maxTableNesting: 2 } },
    );
    expect(one.schema.tables.t__a.columns.list.dataType).toBe('json');
    expect(one.schema.tables.t__a__list).toBeUndefined();
    expect(two.stats.reruns).toBe(1);
  });

  it('three workers: a conflict in the middle share, the last one merges after the re-run', async () => {
    const files = writeInputs(balanced([
      { table: 't', items: Array.from({ length: 30 }, (_, i) => ({ x: i })) },
      { table: 't', items: Array.from({ length: 30 }, (_, i) => ({ x: `s${i}`, y: 1 })) },
      { table: 't', items: Array.from({ length: 30 }, (_, i) => ({ x: i, y: 's', z: true })) },
    ]));
    const one = await run(files, { t: {} }, 1);
    const three = await run(files, { t: {} }, 3);
    expect(three.stats).toEqual({ workers: 3, reruns: 2 });
    expect(JSON.stringify(three.schema.tables)).toEqual(JSON.stringify(one.schema.tables));
    expect(canon(three.rows)).toEqual(canon(one.rows));
    expect(readdirSync(three.outDir).sort()).toEqual(three.res.files.map((f) => f.file).sort());
  });
});

describe('normalizeFiles with workers: errors, abort, progress', () => {
  it('a corrupt line in a later worker: the same CorruptPackageFileError, line counted from the file start', async () => {
    const good = Array.from({ length: 200 }, (_, i) => JSON.stringify({ i, pad: 'p'.repeat(50) })).join('\n') + '\n';
    // the cut falls near line 400 of the first file: the second worker's slice starts there
    const files = writeInputs([{ table: 't', raw: good + good + good + '{"broken": \n' + good }]);
    files.push(...writeInputs([{ table: 't', raw: '{"i": 1}\n' }]));
    const e1 = await run(files, { t: {} }, 1).catch((e: unknown) => e);
    const e2 = await run(files, { t: {} }, 2).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(CorruptPackageFileError);
    expect(e2).toBeInstanceOf(CorruptPackageFileError);
    expect((e2 as Error).message).toBe((e1 as Error).message);
    expect((e2 as Error).message).toContain('line 601');
    expect((e2 as CorruptPackageFileError).code).toBe('CorruptPackageFile');
    expect((e2 as CorruptPackageFileError).file).toBe(files[0].path);
  });

  it('an identifier collision in a worker arrives as IdentifierCollisionError', async () => {
    const files = writeInputs([
      { table: 't', items: Array.from({ length: 50 }, (_, i) => ({ i })) },
      { table: 't', items: [...Array.from({ length: 50 }, (_, i) => ({ i })), { Ab: 1, ab: 2 }] },
    ]);
    const e1 = await run(files, { t: {} }, 1).catch((e: unknown) => e);
    const e2 = await run(files, { t: {} }, 2).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(IdentifierCollisionError);
    expect((e2 as Error).message).toBe((e1 as Error).message);
    expect((e2 as Error).stack).toContain('IdentifierCollision');
  });

  it('rebuilds typed and plain errors from their serialized form', () => {
    const e = rebuildError(serializeError(new SchemaConflictError('t', 'c', 'why')));
    expect(e).toBeInstanceOf(SchemaConflictError);
    expect(e.message).toBe('table "t", column "c": why');
    expect((e as SchemaConflictError).table).toBe('t');
    expect(e.name).toBe('SchemaConflictError');
    const t = rebuildError(serializeError(new TypeError('bad')));
    expect(t).toBeInstanceOf(TypeError);
    const sys = rebuildError(serializeError(Object.assign(new Error('ENOSPC: no space'), { code: 'ENOSPC', errno: -28 })));
    expect((sys as NodeJS.ErrnoException).code).toBe('ENOSPC');
    // a secret this thread knows (a worker may not) is redacted
    registerSecret('hunter2-secret-value');
    const r = rebuildError({ name: 'CorruptPackageFileError', message: 'bad hunter2-secret-value', props: { code: 'CorruptPackageFile' } });
    expect(r).toBeInstanceOf(CorruptPackageFileError);
    expect(r.message).toBe('bad ***');
  });

  it('abort stops the workers and throws the reason', async () => {
    const big = Array.from({ length: 20000 }, (_, i) => JSON.stringify(benchItem(i, i + 0.5))).join('\n') + '\n';
    const files = writeInputs([{ table: 't', raw: big.repeat(3) }, { table: 't', raw: big.repeat(3) }]);
    const ac = new AbortController();
    const reason = new Error('stop');
    let seen = 0;
    let rows = 0;
    const err = await run(files, { t: {} }, 2, {
      signal: ac.signal,
      onProgress: (p) => {
        rows = p.rows;
        if (++seen === 2) ac.abort(reason);
      },
    }).catch((e: unknown) => e);
    expect(err).toBe(reason);
    // Both shares stopped where they were: together they never got through one share's
    // 60,000 rows (a share that ignored the abort would have finished its own).
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(3 * 20000);
  });

  it('reports progress summed over workers, ending at the total per table', async () => {
    const files = writeInputs([
      { table: 'a', raw: Array.from({ length: 60000 }, (_, i) => JSON.stringify({ i })).join('\n') + '\n' },
      { table: 'a', raw: Array.from({ length: 60000 }, (_, i) => JSON.stringify({ i })).join('\n') + '\n' },
      { table: 'b', items: [{ x: 1 }] },
    ]);
    const last = new Map<string, number>();
    const r = await run(files, { a: {}, b: {} }, 2, { onProgress: (p) => last.set(p.table, p.rows) });
    expect(Object.fromEntries(last)).toEqual({ a: 120000, b: 1 });
    expect(r.res.rowCounts).toEqual({ a: 120000, b: 1 });
  });
});

describe('normalizeFiles with workers: a worker thread that dies', () => {
  it('deletes the files it made and normalizes its share in this thread', async () => {
    const big = Array.from({ length: 30000 }, (_, i) => JSON.stringify(benchItem(i, i + 0.5))).join('\n') + '\n';
    const files = writeInputs([
      { table: 't', raw: big },
      { table: 't', raw: big },
      { table: 't', raw: big },
    ]);
    const one = await run(files, { t: {} }, 1);
    const three = await run(files, { t: {} }, 3, { crash: true, maxFileBytes: 1 << 20 });
    expect(three.stats).toEqual({ workers: 3, reruns: 2 });
    expect(three.res.rowCounts).toEqual(one.res.rowCounts);
    expect(JSON.stringify(three.schema.tables)).toEqual(JSON.stringify(one.schema.tables));
    expect(canon(three.rows)).toEqual(canon(one.rows));
    expect(readdirSync(three.outDir).sort()).toEqual(three.res.files.map((f) => f.file).sort());
  });
});

describe('planSlices', () => {
  it('cuts the inputs into equal shares at line starts, keeping their order', () => {
    const files = writeInputs([
      { table: 'a', raw: 'aaaa\nbbbb\ncccc\n' }, // 15 bytes
      { table: 'b', raw: '' },
      { table: 'c', raw: 'dd\nee\n' }, // 6 bytes
    ]);
    const sizes = files.map((f) => statSync(f.path).size);
    const two = planSlices(files, sizes, 2);
    // the cut at byte 10 of 21 is a line start of a
    expect(two.map((s) => s.map((x) => [x.table, x.start, x.end]))).toEqual([
      [['a', 0, 10]],
      [['a', 10, 15], ['b', 0, 0], ['c', 0, 6]],
    ]);
    const three = planSlices(files, sizes, 3);
    expect(three.map((s) => s.map((x) => [x.table, x.start, x.end]))).toEqual([
      [['a', 0, 10]],
      [['a', 10, 15]],
      [['b', 0, 0], ['c', 0, 6]],
    ]);
    // more shares than lines: empty shares are left out
    expect(planSlices(files, sizes, 10).flat().reduce((n, s) => n + (s.end! - s.start!), 0)).toBe(21);
  });
});

describe('the parked pre-normalize thread (warm-thread.ts)', () => {
  /** A pre-normalize thread, online and parked for `loadId`, as the pre-normalizer leaves it after extract. */
  async function parkedThread(loadId: string, opts: { fileDropped?: boolean } = {}): Promise<Worker> {
    const w = spawnNormalizeThread('prenormalize-worker', { schema: new Schema('par').toStored(), loadId, scratchDir: dir });
    await new Promise((r) => w.once('online', r));
    // the pre-normalizer aborts the file in work when extract ends early in it, then parks the thread
    if (opts.fileDropped) w.postMessage({ t: 'abort' });
    parkThread(loadId, w);
    return w;
  }

  const events = Array.from({ length: 400 }, (_, i) => ({ id: i, name: `e${i}`, tags: [`t${i}`, 'x'], at: { day: i % 7, ok: i % 2 === 0 } }));

  it('runs the first worker share of the same load, then ends; the output is what one thread writes', async () => {
    const files = writeInputs([{ table: 'events', items: events.slice(0, 200) }, { table: 'events', items: events.slice(200) }]);
    const one = await run(files, { events: {} }, 1);
    const thread = await parkedThread('1700000000.1');
    const exited = new Promise<number>((r) => thread.once('exit', r));
    const taken = warmThreadCounts.taken;
    const two = await run(files, { events: {} }, 2);
    expect(warmThreadCounts.taken).toBe(taken + 1);
    expect(two.stats).toEqual({ workers: 2, reruns: 0 });
    expect(JSON.stringify(two.schema.tables)).toEqual(JSON.stringify(one.schema.tables));
    expect(two.res.rowCounts).toEqual({ events: 400, events__tags: 800 });
    expect(canon(two.rows)).toEqual(canon(one.rows));
    checkLinks(two.schema, two.rows);
    // its share done, the thread ends on its own
    expect(await exited).toBe(0);
  });

  it('runs the share after the file it had in work was dropped', async () => {
    const files = writeInputs([{ table: 'events', items: events }]);
    const thread = await parkedThread('1700000000.1', { fileDropped: true });
    const exited = new Promise<number>((r) => thread.once('exit', r));
    const taken = warmThreadCounts.taken;
    const two = await run(files, { events: {} }, 2);
    expect(warmThreadCounts.taken).toBe(taken + 1);
    expect(two.res.rowCounts).toEqual({ events: 400, events__tags: 800 });
    checkLinks(two.schema, two.rows);
    expect(await exited).toBe(0);
  });

  it('ends when its normalize step is over without it', async () => {
    const thread = await parkedThread('1700000000.3');
    const exited = new Promise<number>((r) => thread.once('exit', r));
    endParkedThread('1700000000.4');
    expect(takeParkedThread('1700000000.3')).toBe(thread);
    parkThread('1700000000.3', thread);
    endParkedThread('1700000000.3');
    await exited;
    expect(takeParkedThread('1700000000.3')).toBeUndefined();
  });

  it('is left alone by the normalize of another load', async () => {
    const files = writeInputs([{ table: 'events', items: events }]);
    const thread = await parkedThread('1700000000.2');
    const taken = warmThreadCounts.taken;
    const two = await run(files, { events: {} }, 2);
    expect(warmThreadCounts.taken).toBe(taken);
    expect(two.res.rowCounts).toEqual({ events: 400, events__tags: 800 });
    await thread.terminate();
  });
});
