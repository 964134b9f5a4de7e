import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Schema } from '../../src/schema/schema.js';
import type { ColumnSchema, TableSchema } from '../../src/schema/types.js';
import { CorruptPackageFileError, DataValidationError, IdentifierCollisionError } from '../../src/errors.js';
import { childRowId, normalizeFiles, normalizeIdentifier, type NormalizeResult } from '../../src/normalize/index.js';
import { normalizeFilesWithTestKnobs } from '../../src/normalize/normalize-files.js';

type Row = Record<string, unknown>;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'haul-normalize-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Reproducible "random" bytes for root ids. */
function fakeRandom(seed = 1): (n: number) => Buffer {
  return (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      b[i] = seed >>> 24;
    }
    return b;
  };
}

interface RunOpts {
  table?: string;
  tableHints?: Partial<TableSchema>;
  schema?: Schema;
  fastPath?: boolean;
  random?: (n: number) => Buffer;
  maxFileBytes?: number;
  raw?: string;
}

let runNo = 0;
async function run(items: unknown[], o: RunOpts = {}) {
  const table = o.table ?? 'items';
  const schema = o.schema ?? new Schema('test');
  if (!schema.getTable(table)) schema.ensureTable(table, { writeDisposition: 'append', resource: table, ...o.tableHints });
  const n = ++runNo;
  const input = join(dir, `in-${n}.jsonl`);
  writeFileSync(input, o.raw ?? items.map((i) => JSON.stringify(i)).join('\n') + '\n');
  const outDir = join(dir, `out-${n}`);
  await import('node:fs').then((fs) => fs.mkdirSync(outDir));
  let fid = 0;
  const res = await normalizeFilesWithTestKnobs(
    {
      schema,
      loadId: '1700000000.1',
      inputs: [{ table, path: input }],
      outDir,
      nextFileId: () => String(fid++).padStart(3, '0'),
      maxFileBytes: o.maxFileBytes,
    },
    { fastPath: o.fastPath, randomBytes: o.random },
  );
  return { res, schema, rows: readRows(outDir, res), outDir, input };
}

function readRows(outDir: string, res: NormalizeResult): Record<string, Row[]> {
  const rows: Record<string, Row[]> = {};
  for (const { table, file } of res.files) {
    const text = readFileSync(join(outDir, file), 'utf8');
    for (const line of text.split('\n')) if (line) (rows[table] ??= []).push(JSON.parse(line));
  }
  return rows;
}

/** Rows without system columns. */
function data(rows: Row[] | undefined): Row[] {
  return (rows ?? []).map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('_dlt_'))));
}

function cols(schema: Schema, table: string): Record<string, ColumnSchema> {
  return schema.getTable(table)!.columns;
}

// Every behaviour is checked on both paths: the byte-level fast path and the object path.
describe.each([
  ['fast path', true],
  ['object path', false],
])('normalizeFiles (%s)', (_name, fastPath) => {
  const go = (items: unknown[], o: RunOpts = {}) => run(items, { fastPath, ...o });

  it('names columns with dlt snake_case', async () => {
    const { rows, schema } = await go([{ camelCase: 1, 'Foo Bar': 2, 'a.b': 3, HTTPServer: 4, 'x-y': 5, '1st': 6, 'trailing_': 7 }]);
    expect(data(rows.items)).toEqual([{ camel_case: 1, foo_bar: 2, a_b: 3, http_server: 4, x_y: 5, _1st: 6, trailingx: 7 }]);
    expect(Object.keys(cols(schema, 'items'))).toEqual([
      'camel_case', 'foo_bar', 'a_b', 'http_server', 'x_y', '_1st', 'trailingx', '_dlt_load_id', '_dlt_id',
    ]);
    expect(normalizeIdentifier('camelCase')).toBe('camel_case');
  });

  it('keeps `__` in a key as a path separator, as dlt 1.31 names keys (normalize_path)', async () => {
    const { rows } = await go([{ id: 1, a__b: 'x', MiXeD__Case: 'm', __double: 'dd', obj: { p__q: 1 }, list__key: [{ k__k: 1 }], trail__: 't', 'a-b': 2 }]);
    // the names dlt 1.31 gave the same item; "a-b" and "a__b" are two columns, not a collision
    expect(data(rows.items)).toEqual([{ id: 1, a__b: 'x', mi_xe_d__case: 'm', double: 'dd', obj__p__q: 1, trail: 't', a_b: 2 }]);
    expect(data(rows.items__list__key)).toEqual([{ k__k: 1 }]);
  });

  it('makes columns in dlt 1.31\'s order: scalars first, nested dicts after them (the last first), system columns with the first row', async () => {
    const { schema } = await go([{ a: 1, o: { p: { q: 1 }, r: 2 }, b: 2, o2: { z: 1 }, c: 3, kids: [{ x: 1 }, { x: 2, y: 3 }] }]);
    // the orders dlt 1.31 gave the same item
    expect(Object.keys(cols(schema, 'items'))).toEqual(['a', 'b', 'c', 'o2__z', 'o__r', 'o__p__q', '_dlt_load_id', '_dlt_id']);
    expect(Object.keys(cols(schema, 'items__kids'))).toEqual(['x', '_dlt_parent_id', '_dlt_list_idx', '_dlt_id', 'y']);
  });

  it("puts a hint without a type where its data comes, and a list's system columns first when it starts with null (dlt 1.31's orders)", async () => {
    const schema = new Schema('s');
    schema.ensureTable('items', { writeDisposition: 'append' }).columns.v = { name: 'v', nullable: false, incomplete: true } as ColumnSchema;
    await go([{ id: 1, v: 'x', l: [null, 1], d: [null, { a: 1 }] }], { schema });
    expect(Object.keys(cols(schema, 'items'))).toEqual(['id', 'v', '_dlt_load_id', '_dlt_id']);
    expect(Object.keys(cols(schema, 'items__l'))).toEqual(['_dlt_parent_id', '_dlt_list_idx', '_dlt_id', 'value']);
    expect(Object.keys(cols(schema, 'items__d'))).toEqual(['_dlt_parent_id', '_dlt_list_idx', '_dlt_id', 'a']);
  });

  it('flattens nested dicts into parent__child columns', async () => {
    const { rows, schema } = await go([{ id: 1, address: { street: 'Main', geo: { lat: 1.5, lng: -2.25 } }, 'a.b': { C: 'x' } }]);
    expect(data(rows.items)).toEqual([{ id: 1, address__street: 'Main', address__geo__lat: 1.5, address__geo__lng: -2.25, a_b__c: 'x' }]);
    expect(cols(schema, 'items').address__geo__lat.dataType).toBe('double');
    expect(Object.keys(rows)).toEqual(['items']);
  });

  it('writes root system columns and marks them in the schema', async () => {
    const { rows, schema, res } = await go([{ id: 1 }, { id: 2 }]);
    expect(res.rowCounts).toEqual({ items: 2 });
    for (const r of rows.items) {
      expect(r._dlt_load_id).toBe('1700000000.1');
      expect(r._dlt_id).toMatch(/^[A-Za-z0-9_-]{14}$/);
    }
    expect(rows.items[0]._dlt_id).not.toBe(rows.items[1]._dlt_id);
    const c = cols(schema, 'items');
    expect(c._dlt_id).toMatchObject({ dataType: 'text', nullable: false, rowKey: true, unique: true });
    expect(c._dlt_load_id).toMatchObject({ dataType: 'text', nullable: false });
  });

  it('turns lists of dicts into child tables linked by _dlt_parent_id and _dlt_list_idx', async () => {
    const { rows, schema, res } = await go([
      { id: 1, items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }] },
      { id: 2, items: [{ sku: 'c', qty: 3 }] },
      { id: 3, items: [] },
    ]);
    expect(res.rowCounts).toEqual({ items: 3, items__items: 3 });
    const [p1, p2] = rows.items;
    const kids = rows.items__items;
    expect(data(kids)).toEqual([{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }, { sku: 'c', qty: 3 }]);
    expect(kids.map((k) => [k._dlt_parent_id, k._dlt_list_idx])).toEqual([
      [p1._dlt_id, 0],
      [p1._dlt_id, 1],
      [p2._dlt_id, 0],
    ]);
    for (const k of kids) {
      expect(k._dlt_load_id).toBeUndefined();
      expect(k._dlt_root_id).toBeUndefined();
      expect(k._dlt_id).toBe(childRowId(k._dlt_parent_id as string, 'items__items', k._dlt_list_idx as number));
    }
    const t = schema.getTable('items__items')!;
    expect(t.parent).toBe('items');
    expect(t.columns._dlt_parent_id).toMatchObject({ dataType: 'text', nullable: false, parentKey: true });
    expect(t.columns._dlt_list_idx).toMatchObject({ dataType: 'bigint', nullable: false });
    expect(t.columns._dlt_id).toMatchObject({ dataType: 'text', nullable: false, rowKey: true, unique: true });
    expect(t.columns._dlt_root_id).toBeUndefined();
    expect(t.columns._dlt_load_id).toBeUndefined();
  });

  it('puts scalar lists into a value column, nulls as rows without value', async () => {
    const { rows, schema } = await go([{ tags: ['x', 'y', null, 'z'] }]);
    expect(data(rows.items__tags)).toEqual([{ value: 'x' }, { value: 'y' }, {}, { value: 'z' }]);
    expect(rows.items__tags.map((r) => r._dlt_list_idx)).toEqual([0, 1, 2, 3]);
    expect(cols(schema, 'items__tags').value.dataType).toBe('text');
  });

  it('names child tables after the flattened path and nests grandchildren', async () => {
    const { rows, schema } = await go([{ order: { lines: [{ n: 1, parts: [{ p: 'a' }, { p: 'b' }] }] } }]);
    expect(Object.keys(rows).sort()).toEqual(['items', 'items__order__lines', 'items__order__lines__parts']);
    const line = rows.items__order__lines[0];
    expect(line._dlt_parent_id).toBe(rows.items[0]._dlt_id);
    expect(rows.items__order__lines__parts.map((r) => [r.p, r._dlt_parent_id, r._dlt_list_idx])).toEqual([
      ['a', line._dlt_id, 0],
      ['b', line._dlt_id, 1],
    ]);
    expect(schema.getTable('items__order__lines__parts')!.parent).toBe('items__order__lines');
  });

  it('normalizes lists of lists through an intermediate table with a `list` child', async () => {
    const { rows, schema } = await go([{ matrix: [[1, 2], [3]] }]);
    const root = rows.items[0];
    // one linking row per inner list
    expect(data(rows.items__matrix)).toEqual([{}, {}]);
    expect(rows.items__matrix.map((r) => [r._dlt_parent_id, r._dlt_list_idx])).toEqual([
      [root._dlt_id, 0],
      [root._dlt_id, 1],
    ]);
    const [m0, m1] = rows.items__matrix;
    expect(rows.items__matrix__list.map((r) => [r.value, r._dlt_parent_id, r._dlt_list_idx])).toEqual([
      [1, m0._dlt_id, 0],
      [2, m0._dlt_id, 1],
      [3, m1._dlt_id, 0],
    ]);
    expect(schema.getTable('items__matrix__list')!.parent).toBe('items__matrix');
  });

  it('adds _dlt_root_id to every nested row when the root table merges', async () => {
    const { rows, schema } = await go([{ id: 1, a: [{ b: [{ c: 1 }] }] }], { tableHints: { writeDisposition: 'merge' } });
    const rootId = rows.items[0]._dlt_id;
    expect(rows.items[0]._dlt_root_id).toBeUndefined();
    expect(rows.items__a[0]._dlt_root_id).toBe(rootId);
    expect(rows.items__a__b[0]._dlt_root_id).toBe(rootId);
    expect(rows.items__a__b[0]._dlt_parent_id).toBe(rows.items__a[0]._dlt_id);
    expect(cols(schema, 'items__a__b')._dlt_root_id).toMatchObject({ dataType: 'text', nullable: false, rootKey: true });
    expect(cols(schema, 'items')._dlt_root_id).toBeUndefined();
  });

  it("gives scd2 versions and their nested rows dlt's ids (get_row_hash, get_nested_row_hash; values from dlt 1.31)", async () => {
    const scd2: Partial<TableSchema> = { writeDisposition: 'merge', mergeStrategy: 'scd2', scd2: { validFrom: 'f', validTo: 't' } };
    const { rows } = await go([{ id: 1, v: 'a', price: 2.5, tags: [{ t: 'x', parts: [1, 2] }, { t: 'y' }] }, { id: 2, v: 'b' }], { tableHints: scd2 });
    expect(rows.items.map((r) => r._dlt_id)).toEqual(['4Ev7EQsn59/FhA', 'YFuW8j64Vw2OkQ']);
    expect(rows.items__tags.map((r) => [r._dlt_id, r._dlt_parent_id])).toEqual([
      ['FZN3U9DBLW2BsA', '4Ev7EQsn59/FhA'],
      ['sHazytdM7UWXFA', '4Ev7EQsn59/FhA'],
    ]);
    expect(rows.items__tags__parts.map((r) => r._dlt_id)).toEqual(['ahKWDGI4igxaHw', 'dJQwdTZ/LtN/xA']);
  });

  it("gives scd2 nested rows no _dlt_root_id (dlt's rule), unless a rowVersionColumnName or the chain already has one", async () => {
    const item = { id: 1, a: [{ b: [{ c: 1 }] }] };
    const scd2 = (extra: Partial<TableSchema> = {}): Partial<TableSchema> => ({ writeDisposition: 'merge', mergeStrategy: 'scd2', scd2: { validFrom: 'f', validTo: 't' }, ...extra });
    const hashed = await go([item], { tableHints: scd2() });
    expect(hashed.rows.items__a__b[0]._dlt_root_id).toBeUndefined();
    expect(cols(hashed.schema, 'items__a')._dlt_root_id).toBeUndefined();
    const versioned = await go([{ ...item, v: 'x' }], { tableHints: scd2({ scd2: { validFrom: 'f', validTo: 't', rowVersionColumnName: 'v' } }) });
    expect(versioned.rows.items__a__b[0]._dlt_root_id).toBe(versioned.rows.items[0]._dlt_id);
    // a chain made when it had root keys keeps them
    const schema = new Schema('test');
    schema.ensureTable('items', { writeDisposition: 'merge', resource: 'items', ...scd2() });
    schema.ensureTable('items__a', { parent: 'items' }).columns._dlt_root_id = { name: '_dlt_root_id', dataType: 'text', nullable: false, rootKey: true };
    const kept = await go([item], { schema });
    expect(kept.rows.items__a[0]._dlt_root_id).toBe(kept.rows.items[0]._dlt_id);
    expect(kept.rows.items__a__b[0]._dlt_root_id).toBe(kept.rows.items[0]._dlt_id);
  });

  it('maxTableNesting 0 keeps every dict and list as json', async () => {
    const { rows, schema } = await go([{ id: 1, address: { city: 'X' }, tags: ['a'], items: [{ x: 1 }] }], { tableHints: { maxTableNesting: 0 } });
    expect(Object.keys(rows)).toEqual(['items']);
    expect(data(rows.items)).toEqual([{ id: 1, address: { city: 'X' }, tags: ['a'], items: [{ x: 1 }] }]);
    const c = cols(schema, 'items');
    expect([c.address.dataType, c.tags.dataType, c.items.dataType]).toEqual(['json', 'json', 'json']);
  });

  it('maxTableNesting 1 makes first-level child tables and flattens one level; deeper data is json', async () => {
    const { rows, schema } = await go(
      [{ id: 1, job: { title: 'dev', org: { name: 'A' } }, kids: [{ name: 'E', toys: [{ t: 1 }], info: { age: 3 } }] }],
      { tableHints: { maxTableNesting: 1 } },
    );
    expect(Object.keys(rows).sort()).toEqual(['items', 'items__kids']);
    expect(data(rows.items)).toEqual([{ id: 1, job__title: 'dev', job__org: { name: 'A' } }]);
    expect(data(rows.items__kids)).toEqual([{ name: 'E', toys: [{ t: 1 }], info: { age: 3 } }]);
    expect(cols(schema, 'items').job__org.dataType).toBe('json');
    expect(cols(schema, 'items__kids').toys.dataType).toBe('json');
  });

  it('a list inside flattened dicts starts its child table one level below its row, as dlt 1.31 counts', async () => {
    // expected tables and columns as dlt 1.31 made them from the same items (dicts above a
    // list decide only whether they flatten; the list's table is one level below its row)
    const cases: [number, unknown, Record<string, string[]>][] = [
      [2, { id: 1, a: { l: [{ m: [1, 2] }] } }, { items: ['id'], items__a__l: [], items__a__l__m: ['value'] }],
      [1, { id: 1, a: { l: [1, 2] } }, { items: ['id', 'a__l'] }],
      [2, { id: 1, a: { b: { l: [{ x: { y: 1 } }] } } }, { items: ['id', 'a__b__l'] }],
      [2, { id: 1, a: { ll: [[1, 2], [3]] } }, { items: ['id'], items__a__ll: ['list'] }],
      [3, { id: 1, a: { ll: [[1, 2], [3]] } }, { items: ['id'], items__a__ll: [], items__a__ll__list: ['value'] }],
      [3, { id: 1, a: { b: { l: [{ c: { d: { e: 1 } }, m: [{ z: { q: 1 } }] }] } } }, { items: ['id'], items__a__b__l: ['c__d__e'], items__a__b__l__m: ['z__q'] }],
    ];
    for (const [maxTableNesting, item, expected] of cases) {
      const { schema } = await go([item], { tableHints: { maxTableNesting } });
      const got = Object.fromEntries(
        Object.keys(expected).map((t) => [t, Object.keys(cols(schema, t)).filter((c) => !c.startsWith('_dlt_'))]),
      );
      expect(got, JSON.stringify(item)).toEqual(expected);
      expect(schema.dataTableNames().filter((t) => t.startsWith('items')).sort(), JSON.stringify(item)).toEqual(Object.keys(expected).sort());
    }
  });

  it('uses the schema-wide maxTableNesting when the table has none', async () => {
    const schema = new Schema('s', { maxTableNesting: 0 });
    const { rows } = await go([{ a: [1] }], { schema });
    expect(data(rows.items)).toEqual([{ a: [1] }]);
  });

  it('infers types from values', async () => {
    const { rows, schema } = await go([
      {
        i: 42, big: 1234567890123456789, f: 1.5, b: true, s: 'hello',
        ts: '2024-01-02T03:04:05Z', ts_ms: '2024-01-02T03:04:05.123Z', ts_us: '2024-01-02T03:04:05.123456+02:00',
        ts_space: '2024-01-02 03:04:05', ts_min: '2024-01-02T03:04',
        d: '2024-01-02', t: '10:30:00', bin: { $binary: 'AAEC/w==' }, dec: '1.25',
      },
    ]);
    const c = cols(schema, 'items');
    const types = Object.fromEntries(Object.entries(c).filter(([k]) => !k.startsWith('_dlt_')).map(([k, v]) => [k, v.dataType]));
    expect(types).toEqual({
      i: 'bigint', big: 'bigint', f: 'double', b: 'bool', s: 'text',
      ts: 'timestamp', ts_ms: 'timestamp', ts_us: 'timestamp', ts_space: 'timestamp', ts_min: 'timestamp',
      // plain dates, times and numeric strings stay text, as with dlt's default detections
      d: 'text', t: 'text', bin: 'binary', dec: 'text',
    });
    expect(data(rows.items)).toEqual([
      {
        // the file holds the token 1234567890123456800 (JSON.stringify of the rounded literal): kept exactly
        i: 42, big: '1234567890123456800', f: 1.5, b: true, s: 'hello',
        ts: '2024-01-02T03:04:05.000Z', ts_ms: '2024-01-02T03:04:05.123Z', ts_us: '2024-01-02T01:04:05.123456Z',
        ts_space: '2024-01-02T03:04:05.000Z', ts_min: '2024-01-02T03:04:00.000Z',
        d: '2024-01-02', t: '10:30:00', bin: 'AAEC/w==', dec: '1.25',
      },
    ]);
    for (const col of Object.values(c)) if (!col.name.startsWith('_dlt_')) expect(col.nullable).toBe(true);
  });

  it('does not detect malformed or impossible timestamps', async () => {
    const { schema } = await go([{ a: '2024-02-30T00:00:00Z', b: '2024-01-02T25:00:00Z', c: '2024-01-02T03:04:05+2', d: 'x2024-01-02T03:04:05Z', e: '2024-1-2T03:04:05Z' }]);
    for (const k of ['a', 'b', 'c', 'd', 'e']) expect(cols(schema, 'items')[k].dataType).toBe('text');
  });

  it('keeps timestamp strings as text when detection is off', async () => {
    const schema = new Schema('s', { detectIsoTimestamps: false });
    const { schema: s } = await go([{ at: '2024-01-02T03:04:05Z' }], { schema });
    expect(cols(s, 'items').at.dataType).toBe('text');
  });

  it('normalizes later timestamp values of other shapes into the column', async () => {
    const { rows } = await go([{ at: '2024-01-02T03:04:05.000Z' }, { at: '2024-01-02T03:04:05-01:30' }, { at: '2024-01-03' }, { at: 0 }]);
    expect(rows.items.map((r) => r.at)).toEqual([
      '2024-01-02T03:04:05.000Z', '2024-01-02T04:34:05.000Z', '2024-01-03T00:00:00.000Z', '1970-01-01T00:00:00.000Z',
    ]);
  });

  it('creates no column for null and writes nothing for it', async () => {
    const { rows, schema } = await go([{ id: 1, gone: null, nested: { x: null } }, { id: 2, gone: null }]);
    expect(cols(schema, 'items').gone).toBeUndefined();
    expect(cols(schema, 'items').nested__x).toBeUndefined();
    expect(rows.items.every((r) => !('gone' in r))).toBe(true);
    expect(data(rows.items)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('coerces values that fit the column and sends others to variant columns', async () => {
    const { rows, schema } = await go([
      { amount: 10, label: 'a', flag: true, at: '2024-01-02T03:04:05Z' },
      { amount: '11', label: 5, flag: 'yes', at: 'soon' },
      { amount: 'lots', label: false, flag: 7, at: '2024-01-02T03:04:05Z' },
    ]);
    expect(data(rows.items)).toEqual([
      { amount: 10, label: 'a', flag: true, at: '2024-01-02T03:04:05.000Z' },
      { amount: 11, label: '5', flag: true, at__v_text: 'soon' },
      { amount__v_text: 'lots', label: 'False', flag__v_bigint: 7, at: '2024-01-02T03:04:05.000Z' },
    ]);
    const c = cols(schema, 'items');
    expect(c.amount.dataType).toBe('bigint');
    expect(c.amount__v_text).toMatchObject({ dataType: 'text', variant: true, nullable: true });
    expect(c.at__v_text).toMatchObject({ dataType: 'text', variant: true });
    expect(c.flag__v_bigint).toMatchObject({ dataType: 'bigint', variant: true });
  });

  it('keeps an integer column it created as bigint when fractions follow; they go to a variant (as dlt)', async () => {
    const { rows, schema } = await go([{ score: 3 }, { score: 3.5 }]);
    expect(cols(schema, 'items').score.dataType).toBe('bigint');
    expect(cols(schema, 'items').score__v_double).toMatchObject({ dataType: 'double', variant: true });
    expect(data(rows.items)).toEqual([{ score: 3 }, { score__v_double: 3.5 }]);
  });

  it('reads integers beyond 2^53 exactly into bigint columns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'haul-norm-big-'));
    try {
      const file = join(dir, 'in.jsonl');
      writeFileSync(file, '{"b":9223372036854775807,"s":"9007199254740993","n":-9007199254740993}\n');
      const schema = new Schema('s');
      schema.ensureTable('items', { writeDisposition: 'append' });
      const out = join(dir, 'out');
      mkdirSync(out);
      let n = 0;
      await normalizeFiles({ schema, loadId: '1', inputs: [{ table: 'items', path: file }], outDir: out, nextFileId: () => String(++n), workers: 1 });
      const c = cols(schema, 'items');
      expect([c.b.dataType, c.s.dataType, c.n.dataType]).toEqual(['bigint', 'text', 'bigint']);
      const lines = readdirSync(out).filter((f) => f.startsWith('items.')).flatMap((f) => readFileSync(join(out, f), 'utf8').trim().split('\n'));
      expect(lines[0]).toContain('"b":"9223372036854775807"');
      expect(lines[0]).toContain('"n":"-9007199254740993"');
      expect(lines[0]).toContain('"s":"9007199254740993"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps an existing integer column and uses a variant for fractions', async () => {
    const schema = new Schema('s');
    schema.ensureTable('items', { writeDisposition: 'append' }).columns.score = { name: 'score', dataType: 'bigint', nullable: true };
    const { rows } = await go([{ score: 3 }, { score: 3.5 }], { schema });
    expect(data(rows.items)).toEqual([{ score: 3 }, { score__v_double: 3.5 }]);
    expect(cols(schema, 'items').score.dataType).toBe('bigint');
  });

  it('honours declared column types', async () => {
    const schema = new Schema('s');
    const c = (name: string, dataType: ColumnSchema['dataType']): ColumnSchema => ({ name, dataType, nullable: true });
    Object.assign(schema.ensureTable('items', { writeDisposition: 'append' }).columns, {
      code: c('code', 'text'), n: c('n', 'bigint'), d: c('d', 'date'), t: c('t', 'time'), dec: c('dec', 'decimal'),
      bin: c('bin', 'binary'), ts: c('ts', 'timestamp'), ok: c('ok', 'bool'), meta: c('meta', 'json'), f: c('f', 'double'),
    });
    const { rows } = await go(
      [
        { code: 7, n: '42', d: '2024-05-06T23:00:00-02:00', t: '10:30', dec: 1.5, bin: '0x0102', ts: 1700000000, ok: 'no', meta: { a: [1] }, f: '2.5' },
        { code: 'x', n: 'many', d: '2024-05-06', t: '10:30:00.123456', dec: '-12.50', bin: { $binary: 'AQI=' }, ts: '2024-01-02', ok: 1, meta: 'str', f: 2 },
      ],
      { schema },
    );
    expect(data(rows.items)).toEqual([
      { code: '7', n: 42, d: '2024-05-07', t: '10:30:00', dec: '1.5', bin: 'AQI=', ts: '2023-11-14T22:13:20.000Z', ok: false, meta: { a: [1] }, f: 2.5 },
      { code: 'x', n__v_text: 'many', d: '2024-05-06', t: '10:30:00.123456', dec: '-12.50', bin: 'AQI=', ts: '2024-01-02T00:00:00.000Z', ok: true, meta__v_text: 'str', f: 2 },
    ]);
  });

  it("parses JSON text into a json column, as dlt's json.loads; other text goes to the variant", async () => {
    const schema = new Schema('s');
    schema.ensureTable('items', { writeDisposition: 'append' }).columns.meta = { name: 'meta', dataType: 'json', nullable: true };
    const { rows } = await go([{ meta: '{"x":1,"y":[1,2]}' }, { meta: '5' }, { meta: 'str' }, { meta: '{"big":12345678901234567}' }], { schema });
    expect(data(rows.items)).toEqual([{ meta: { x: 1, y: [1, 2] } }, { meta: 5 }, { meta__v_text: 'str' }, { meta: { big: 12345678901234567 } }]);
  });

  it('completes a hint that has no type yet and keeps its flags', async () => {
    const schema = new Schema('s');
    schema.ensureTable('items', { writeDisposition: 'merge' }).columns.id = { name: 'id', primaryKey: true } as ColumnSchema;
    await go([{ id: 5 }], { schema });
    expect(cols(schema, 'items').id).toMatchObject({ name: 'id', dataType: 'bigint', primaryKey: true, nullable: true });
  });

  it('wraps non-object items as { value }', async () => {
    const { rows } = await go([5, 'x', [1, 2]], { table: 'things' });
    expect(data(rows.things)).toEqual([{ value: 5 }, { value__v_text: 'x' }, {}]);
    expect(data(rows.things__value)).toEqual([{ value: 1 }, { value: 2 }]);
  });

  it('throws IdentifierCollisionError for keys of one object that normalize alike', async () => {
    const err = await go([{ userId: 1 }, { userId: 2, user_id: 3 }]).catch((e) => e);
    expect(err).toBeInstanceOf(IdentifierCollisionError);
    expect(err.message).toContain('"items"');
    expect(err.message).toContain('"userId"');
    expect(err.message).toContain('"user_id"');
    expect(err.message).toContain('user_id');
  });

  it('allows keys that normalize alike in different objects', async () => {
    const { rows } = await go([{ userId: 1 }, { user_id: 2 }]);
    expect(data(rows.items)).toEqual([{ user_id: 1 }, { user_id: 2 }]);
  });

  it('an empty or blank key is the column _empty, as in dlt 1.31; two of them in one object collide', async () => {
    const { rows } = await go([{ ok: 1 }, { ok: 2, '': 3 }, { a: { '  ': 1 } }]);
    expect(data(rows.items)).toEqual([{ ok: 1 }, { ok: 2, _empty: 3 }, { a___empty: 1 }]);
    const err = await go([{ '': 1, ' ': 2 }]).catch((e) => e);
    expect(err).toBeInstanceOf(IdentifierCollisionError);
  });

  it('throws CorruptPackageFileError naming the file and line', async () => {
    const raw = '{"a":1}\n{"a":2}\n{"a":\n{"a":4}\n';
    const err = await go([], { raw }).catch((e) => e);
    expect(err).toBeInstanceOf(CorruptPackageFileError);
    expect(err.message).toContain('in-');
    expect(err.message).toContain('line 3');
  });

  it('reports a truncated last line', async () => {
    const err = await go([], { raw: '{"a":1}\n{"a":2' }).catch((e) => e);
    expect(err).toBeInstanceOf(CorruptPackageFileError);
    expect(err.message).toContain('line 2');
  });

  it('reads JSON with whitespace and duplicate keys like JSON.parse', async () => {
    const raw = '{"a":1,"b":[1,2]}\n{ "a" : 2 , "b" : [ 3 , 4 ] , "c" : { "d" : true } }\n{"a":3,"a":4}\n';
    const { rows } = await go([], { raw });
    expect(data(rows.items)).toEqual([{ a: 1 }, { a: 2, c__d: true }, { a: 4 }]);
    expect(data(rows.items__b).map((r) => r.value)).toEqual([1, 2, 3, 4]);
  });

  it('skips blank lines and handles CRLF', async () => {
    const { rows } = await go([], { raw: '{"a":1}\r\n\n{"a":2}\r\n' });
    expect(data(rows.items)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('gives children deterministic ids: same input and root ids give the same child ids', async () => {
    const items = [{ id: 1, xs: [{ y: [1, 2] }, { y: [3] }] }, { id: 2, xs: [{ y: [] }] }];
    const a = await go(items, { random: fakeRandom(7) });
    const b = await go(items, { random: fakeRandom(7) });
    expect(b.rows).toEqual(a.rows);
    const c = await go(items);
    expect(c.rows.items__xs[0]._dlt_id).not.toBe(a.rows.items__xs[0]._dlt_id);
    for (const r of c.rows.items__xs__y) {
      expect(r._dlt_id).toBe(childRowId(r._dlt_parent_id as string, 'items__xs__y', r._dlt_list_idx as number));
    }
  });

  it('counts rows per table and lists files', async () => {
    const items = Array.from({ length: 50 }, (_, i) => ({ i, tags: ['a', 'b'] }));
    const { res, outDir } = await go(items);
    expect(res.rowCounts).toEqual({ items: 50, items__tags: 100 });
    expect(res.files.map((f) => f.table).sort()).toEqual(['items', 'items__tags']);
    expect(readdirSync(outDir).sort()).toEqual(res.files.map((f) => f.file).sort());
    for (const f of res.files) expect(f.file).toMatch(new RegExp(`^${f.table}\\.\\d{3}\\.0\\.jsonl$`));
  });

  it('ignores user keys named like system columns', async () => {
    const { rows } = await go([{ _dlt_id: 'mine', _dlt_load_id: 'x', a: 1 }]);
    expect(rows.items[0]._dlt_load_id).toBe('1700000000.1');
    expect(rows.items[0]._dlt_id).not.toBe('mine');
    expect(data(rows.items)).toEqual([{ a: 1 }]);
  });

  it('copies strings with escapes and unicode exactly', async () => {
    const s = ['quote " back \\ slash', 'line\nbreak\ttab', 'ünïcödé ✓ 😀', '\u2028', 'esc \u0001'];
    const { rows } = await go(s.map((v) => ({ v })));
    expect(rows.items.map((r) => r.v)).toEqual(s);
  });

  it('normalizes a _dlt_pipeline_state table like any other', async () => {
    const { rows, schema } = await go(
      [{ version: 1, engine_version: 1, pipeline_name: 'p', state: 'eJw=', created_at: '2024-01-02T03:04:05.000Z', version_hash: 'h' }],
      { table: '_dlt_pipeline_state' },
    );
    expect(data(rows._dlt_pipeline_state)).toEqual([
      { version: 1, engine_version: 1, pipeline_name: 'p', state: 'eJw=', created_at: '2024-01-02T03:04:05.000Z', version_hash: 'h' },
    ]);
    expect(cols(schema, '_dlt_pipeline_state').created_at.dataType).toBe('timestamp');
  });
});

describe('normalizeFiles (both paths agree)', () => {
  it('writes the same rows and schema on the fast and object paths for mixed data', async () => {
    let seed = 11;
    const r = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return (seed >>> 8) / 16777216;
    };
    const pick = <T,>(a: T[]): T => a[Math.floor(r() * a.length)];
    const scalars: unknown[] = [
      null, 1, -5, 0, 3.25, 1e21, 12345678901234567, true, false, 'text', 'ünï ✓', 'q " \\ b', 'l\nb',
      '2024-01-02', '12:30:00', '', '123', { $binary: 'AAEC' }, -0.5,
    ];
    // ISO strings only under one key: after a number, an ISO string makes the variant
    // `__v_text` typed timestamp, and plain text after that fails, as in dlt
    const isoStrings = ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05.123Z', '2024-01-02 03:04:05+02:00', null, 5, '2024-01-02'];
    const keys = ['id', 'name', 'camelCase', 'Foo Bar', 'value', 'list', 'amount', 'createdAt', 'items', 'tags'];
    const val = (d: number): unknown => {
      const x = r();
      if (d < 3 && x < 0.12) return obj(d + 1);
      if (d < 3 && x < 0.22) return Array.from({ length: Math.floor(r() * 4) }, () => (r() < 0.5 ? obj(d + 1) : r() < 0.3 ? [pick(scalars)] : pick(scalars)));
      return pick(scalars);
    };
    const obj = (d: number): Row => {
      const o: Row = {};
      const n = 1 + Math.floor(r() * 6);
      for (let i = 0; i < n; i++) {
        const k = pick(keys);
        o[k] = k === 'createdAt' ? pick(isoStrings) : val(d);
      }
      return o;
    };
    const items = Array.from({ length: 3000 }, () => obj(0));
    // and regular data, where most lines take the fast path
    for (let i = 0; i < 2000; i++) {
      const it: Row = {
        id: i, name: `n${i}`, score: i % 7 === 0 ? null : i / 8, active: i % 2 === 0,
        at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(), note: i % 13 === 0 ? 'q"\\ ü ✓\n' : 'plain',
        address: { street: `${i} Main`, zip: String(10000 + i), geo: i % 5 === 0 ? { lat: 1.5, lng: 2 } : null },
        lines: Array.from({ length: i % 4 }, (_, j) => ({ sku: `S${j}`, qty: j, tags: j % 2 ? ['a', null] : [] })),
        meta: i % 9 === 0 ? [[1, 2], [3]] : undefined,
        at2: i % 3 ? '2024-01-02T03:04:05Z' : '2024-01-02 03:04:05.5+01:00', tiny: (i + 1) * 1e-9, big: i % 10 ? 2 ** 40 : 2 ** 60,
        // an integer first makes a bigint column; the fractions after it go to ratio__v_double
        ratio: i % 4 === 0 ? i : i / 4 - 1000,
      };
      if (i % 11 === 0) delete it.name;
      items.push(i % 17 === 0 ? Object.fromEntries(Object.entries(it).reverse()) : it);
    }
    for (const hints of [{}, { writeDisposition: 'merge' as const, maxTableNesting: 2 }]) {
      const fast = await run(items, { fastPath: true, random: fakeRandom(3), tableHints: hints });
      const slow = await run(items, { fastPath: false, random: fakeRandom(3), tableHints: hints });
      expect(fast.res.rowCounts).toEqual(slow.res.rowCounts);
      expect(fast.rows).toEqual(slow.rows);
      expect(fast.schema.tables).toEqual(slow.schema.tables);
    }
  });
});

describe('normalizeFiles (decimal strings on the byte path)', () => {
  it('copies plain decimal strings into a decimal column as the object path writes them; other shapes go the slow way', async () => {
    const amounts = ['12.34', '-0.5', '7', '0', '-12', '+3', ' 4.0 ', '1e3', '.5', '5.', '1.2.3', 'abc', '', 12.5, 3, null, '00012.3400'];
    const items = amounts.map((amount, i) => ({ id: i, amount }));
    const seeded = () => {
      const schema = new Schema('test');
      schema.ensureTable('items', { writeDisposition: 'append', resource: 'items' });
      schema.addColumn('items', { name: 'amount', dataType: 'decimal', nullable: true, precision: 12, scale: 4 });
      return schema;
    };
    const fast = await run(items, { schema: seeded(), fastPath: true, random: fakeRandom(7) });
    const slow = await run(items, { schema: seeded(), fastPath: false, random: fakeRandom(7) });
    expect(fast.rows).toEqual(slow.rows);
    expect(fast.schema.tables).toEqual(slow.schema.tables);
    // the plain ones kept exactly as written
    expect(fast.rows.items!.slice(0, 5).map((r) => r.amount)).toEqual(['12.34', '-0.5', '7', '0', '-12']);
    expect(fast.rows.items!.at(-1)!.amount).toBe('00012.3400');
  });
});

describe('normalizeFiles (files, progress, abort)', () => {
  it('rotates files by size at row boundaries', async () => {
    const items = Array.from({ length: 2000 }, (_, i) => ({ i, s: 'x'.repeat(100) }));
    const { res, outDir, rows } = await run(items, { maxFileBytes: 20_000 });
    const files = res.files.filter((f) => f.table === 'items');
    expect(files.length).toBeGreaterThan(1);
    expect(rows.items).toHaveLength(2000);
    expect(rows.items.map((r) => r.i)).toEqual(items.map((x) => x.i));
    for (const f of files) expect(readFileSync(join(outDir, f.file), 'utf8').endsWith('}\n')).toBe(true);
  });

  it('writes an empty file for a replace table without rows', async () => {
    const { res } = await run([], { raw: '', tableHints: { writeDisposition: 'replace' } });
    expect(res.rowCounts).toEqual({ items: 0 });
    expect(res.files).toHaveLength(1);
    const none = await run([], { raw: '' });
    expect(none.res.files).toEqual([]);
  });

  it('handles several inputs, lines longer than a read chunk, and reports progress', async () => {
    const schema = new Schema('s');
    schema.ensureTable('a', { writeDisposition: 'append' });
    schema.ensureTable('b', { writeDisposition: 'append' });
    const pa = join(dir, 'a.jsonl');
    const pb = join(dir, 'b.jsonl');
    const long = 'y'.repeat(6 << 20);
    writeFileSync(pa, Array.from({ length: 3 }, (_, i) => JSON.stringify({ i, long })).join('\n') + '\n');
    writeFileSync(pb, '{"x":true}\n');
    const progress: Array<{ table: string; rows: number; bytes?: number }> = [];
    const outDir = mkdtempSync(join(dir, 'o'));
    let fid = 0;
    const res = await normalizeFiles({
      schema,
      loadId: 'L',
      inputs: [{ table: 'a', path: pa }, { table: 'b', path: pb }],
      outDir,
      nextFileId: () => String(fid++),
      onProgress: (p) => progress.push(p),
      workers: 1, // progress order across workers is not fixed; normalize-parallel.test.ts covers them
    });
    expect(res.rowCounts).toEqual({ a: 3, b: 1 });
    const rows = readRows(outDir, res);
    expect(rows.a.map((r) => [r.i, (r.long as string).length])).toEqual([[0, 6 << 20], [1, 6 << 20], [2, 6 << 20]]);
    expect(progress.length).toBeGreaterThan(0);
    // `bytes`: of the current input read so far
    expect(progress.at(-1)).toEqual({ table: 'b', rows: 1, bytes: 11 });
    expect(progress.filter((p) => p.table === 'a').at(-1)).toEqual({ table: 'a', rows: 3, bytes: statSync(pa).size });
  });

  it('throws the abort reason when the signal is aborted', async () => {
    const ac = new AbortController();
    const reason = new Error('stop now');
    ac.abort(reason);
    const p = join(dir, 'x.jsonl');
    writeFileSync(p, '{"a":1}\n');
    const schema = new Schema('s');
    const err = await normalizeFiles({ schema, loadId: 'L', inputs: [{ table: 'x', path: p }], outDir: dir, nextFileId: () => '1', signal: ac.signal }).catch((e) => e);
    expect(err).toBe(reason);
  });

  it('aborts between chunks', async () => {
    const ac = new AbortController();
    const p = join(dir, 'x.jsonl');
    writeFileSync(p, Array.from({ length: 60_000 }, (_, i) => JSON.stringify({ i, pad: 'z'.repeat(100) })).join('\n') + '\n');
    const schema = new Schema('s');
    const outDir = mkdtempSync(join(dir, 'o'));
    const err = await normalizeFiles({
      schema, loadId: 'L', inputs: [{ table: 'x', path: p }], outDir, nextFileId: () => '1',
      signal: ac.signal, onProgress: () => ac.abort(new Error('enough')),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('enough');
  });
});

describe('normalizeFiles (schema contracts on both paths)', () => {
  /** A schema whose table `items` already held rows { id, n, kids: [{ a }] } under this contract. */
  async function seeded(contract: NonNullable<TableSchema['schemaContract']>): Promise<Schema> {
    const schema = new Schema('test');
    schema.ensureTable('items', { writeDisposition: 'append', resource: 'items' });
    await run([{ id: 0, n: 1, kids: [{ a: 1 }] }], { schema, random: fakeRandom(1) });
    schema.tables.items.schemaContract = contract;
    return schema;
  }
  // regular lines the byte path copies, with a line every 7th that a contract decides on
  const items = Array.from({ length: 700 }, (_, i) => {
    const it: Row = { id: i + 1, n: i, kids: [{ a: i }] };
    if (i % 7 === 3) it.extra = 'x';
    if (i % 7 === 5) it.n = 'not a number';
    if (i % 7 === 6) (it.kids as Row[]).push({ a: 1, b: 2 });
    return it;
  });

  for (const [name, contract, expected] of [
    ['discard_row', 'discard_row', { items: 500, kids: 500 }],
    ['discard_value', 'discard_value', { items: 700, kids: 800 }],
  ] as const) {
    it(`${name}: the byte path leaves every decided line to the object path; both write the same rows`, async () => {
      const fast = await run(items, { schema: await seeded(contract), fastPath: true, random: fakeRandom(5) });
      const slow = await run(items, { schema: await seeded(contract), fastPath: false, random: fakeRandom(5) });
      expect(fast.rows).toEqual(slow.rows);
      expect(fast.schema.tables).toEqual(slow.schema.tables);
      expect(fast.res.rowCounts).toEqual({ items: expected.items, items__kids: expected.kids });
      expect(Object.keys(fast.schema.tables.items.columns).filter((c) => !c.startsWith('_dlt'))).toEqual(['id', 'n']);
      expect(Object.keys(fast.schema.tables.items__kids.columns).filter((c) => !c.startsWith('_dlt'))).toEqual(['a']);
      expect(fast.rows.items.every((r) => typeof r.n === 'number' || r.n === undefined)).toBe(true);
    });
  }

  it('freeze: the first line that would change the schema throws DataValidationError on both paths', async () => {
    for (const fastPath of [true, false]) {
      const err = await run(items, { schema: await seeded('freeze'), fastPath }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DataValidationError);
      expect(err).toMatchObject({ table: 'items', column: 'extra', entity: 'columns', mode: 'freeze' });
      expect((err as DataValidationError).item).toContain('"id":4');
    }
  });

  it('contracts apply to normalized names', async () => {
    const err = await run([{ id: 1, nickName: 'x' }], { schema: await seeded({ columns: 'freeze' }) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ column: 'nick_name', entity: 'columns' });
  });
});
