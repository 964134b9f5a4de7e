/**
 * dlt's extract/run hints and worker options (issue 14) on real destinations: `columns` as a
 * list of column schemas or a zod model on run()/extract(), `parentTableName`, extract
 * `maxParallelItems`/`workers`, load and normalize `workers`.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DataValidationError, InvalidOptionsError, ParentTableNotFoundError, PipelineStepFailed, pipeline, postgres, resource, source, type Pipeline } from '../../src/index.js';
import { count, query, tempDir, testPipeline } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';

const dir = tempDir('haul-pipeline-hints-');
const pgDatasets: string[] = [];
afterAll(() => dropPgSchemas(...pgDatasets));

function pgPipeline(prefix: string): Pipeline {
  const datasetName = pgDatasetName(prefix);
  pgDatasets.push(datasetName);
  return pipeline({ pipelineName: datasetName, pipelinesDir: join(dir, 'pipelines'), destination: postgres({ credentials: PG_URL }), datasetName });
}

interface ColumnInfo {
  column_name: string;
  data_type: string;
  is_nullable: string;
  numeric_precision: number | null;
  numeric_scale: number | null;
}

async function columnsOf(p: Pipeline, table: string): Promise<Record<string, ColumnInfo>> {
  const param = p.destination.destinationName === 'postgres' ? '$1' : '?';
  const rows = await query<ColumnInfo>(
    p,
    `SELECT column_name, data_type, is_nullable, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = ${param} AND table_name = '${table}'`,
    [p.datasetName],
  );
  return Object.fromEntries(rows.map((r) => [r.column_name, { ...r, numeric_precision: r.numeric_precision === null ? null : Number(r.numeric_precision), numeric_scale: r.numeric_scale === null ? null : Number(r.numeric_scale) }]));
}

describe('columns as a list of column schemas', () => {
  it('run() takes dlt\'s list form on DuckDB: types, precision, nullability and the primary key land', async () => {
    const p = testPipeline(dir, 'hints_cols_duck');
    const columns = [
      { name: 'id', dataType: 'bigint' as const, nullable: false, primaryKey: true },
      { name: 'amount', dataType: 'decimal' as const, precision: 10, scale: 2 },
      { name: 'note', dataType: 'text' as const },
    ];
    await p.run([{ id: 1, amount: '12.50' }, { id: 2, amount: '3.10' }], { tableName: 'payments', writeDisposition: 'merge', columns });
    await p.run([{ id: 1, amount: '99.99', note: 'fixed' }], { tableName: 'payments', writeDisposition: 'merge', columns });
    const cols = await columnsOf(p, 'payments');
    expect(cols.id).toMatchObject({ data_type: 'BIGINT', is_nullable: 'NO' });
    expect(cols.amount).toMatchObject({ data_type: 'DECIMAL(10,2)', numeric_precision: 10, numeric_scale: 2 });
    expect(cols.note).toMatchObject({ data_type: 'VARCHAR' });
    // merged by the primary key given in the list
    expect(await query(p, 'SELECT id::INT AS id, amount::VARCHAR AS amount, note FROM payments ORDER BY id')).toEqual([
      { id: 1, amount: '99.99', note: 'fixed' },
      { id: 2, amount: '3.10', note: null },
    ]);
    const table = p.defaultSchema!.getTable('payments')!;
    expect(table.columns.id).toMatchObject({ primaryKey: true, nullable: false, dataType: 'bigint' });
  });

  it('resource() and applyHints() take the list form too (PostgreSQL)', async () => {
    const p = pgPipeline('hints_cols_pg');
    const events = resource([{ code: 7, at: '2024-01-01T00:00:00Z', ratio: 1 }], {
      name: 'events',
      columns: [{ name: 'code', dataType: 'text', nullable: false }],
    });
    events.applyHints({ columns: [{ name: 'ratio', dataType: 'double' }, { name: 'at', dataType: 'timestamp', timezone: false }] });
    await p.run(events);
    const cols = await columnsOf(p, 'events');
    // applyHints adds to the columns' hints column by column, as dlt's apply_hints merges them
    expect(cols.ratio).toMatchObject({ data_type: 'double precision' });
    expect(cols.at).toMatchObject({ data_type: 'timestamp without time zone' });
    expect(cols.code).toMatchObject({ data_type: 'character varying', is_nullable: 'NO' });
    expect(await query(p, `SELECT code FROM "${p.datasetName}".events`)).toEqual([{ code: '7' }]);
    // run()'s columns merge over the resource's the same way; an empty list clears them
    const merged = resource([{ code: 8, flag: 1 }], { name: 'merged', columns: [{ name: 'code', dataType: 'text' }] });
    await p.run(merged, { columns: [{ name: 'flag', dataType: 'bool' }, { name: 'code', nullable: false }] });
    expect(await columnsOf(p, 'merged')).toMatchObject({ code: { data_type: 'character varying', is_nullable: 'NO' }, flag: { data_type: 'boolean' } });
    const cleared = resource([{ n: 1 }], { name: 'cleared', columns: [{ name: 'n', dataType: 'text' }] }).applyHints({ columns: [] });
    await p.run(cleared);
    expect((await columnsOf(p, 'cleared')).n).toMatchObject({ data_type: 'bigint' });

    const tags = resource([{ code: 7, label: 'x' }], { name: 'tags', columns: [{ name: 'code', dataType: 'text', nullable: false }] });
    await p.run(tags);
    expect((await columnsOf(p, 'tags')).code).toMatchObject({ data_type: 'character varying', is_nullable: 'NO' });
    expect(await query(p, `SELECT code, label FROM "${p.datasetName}".tags`)).toEqual([{ code: '7', label: 'x' }]);
  });

  it('a list with a column twice, without a name or with an unknown hint is a typed error naming it', async () => {
    const p = testPipeline(dir, 'hints_cols_bad');
    await expect(p.run([{ a: 1 }], { tableName: 't', columns: [{ name: 'a' }, { name: 'a', dataType: 'text' }] })).rejects.toThrow(/column "a" is listed twice/);
    await expect(p.run([{ a: 1 }], { tableName: 't', columns: [{ dataType: 'text' } as never] })).rejects.toBeInstanceOf(InvalidOptionsError);
    expect(() => resource([{ a: 1 }], { name: 'r', columns: [{ name: 'a', data_type: 'text' } as never] })).toThrow(InvalidOptionsError);
    expect(() => resource([{ a: 1 }], { name: 'r' }).applyHints({ columns: [{ name: '' }] })).toThrow(InvalidOptionsError);
    expect(p.hasData).toBe(false);
  });
});

describe("dlt's hints, compared with dlt 1.31", () => {
  const item = { id: 1, ms: '2024-05-06T07:08:09.987654', s: '2024-05-06T07:08:09.987654', t: '07:08:09.987654', n: { a: 1 }, l: [1] };
  const columns = {
    ms: { dataType: 'timestamp', timezone: false, precision: 3 },
    s: { dataType: 'timestamp', timezone: false, precision: 0, description: 'seconds', partition: true, cluster: true, sort: true },
    t: { dataType: 'time', precision: 3 },
  } as const;
  const nested = source(function nested() {
    return [resource([item], { name: 'h', primaryKey: [], columns })];
  }, { maxTableNesting: 0 });

  it.each(['duckdb', 'postgres'])('timestamp and time precision, warehouse hints kept, primaryKey [], a source maxTableNesting (%s)', async (dest) => {
    const p = dest === 'postgres' ? pgPipeline('hints_dlt') : testPipeline(dir, 'hints_dlt');
    await p.run(nested());
    const cols = await columnsOf(p, 'h');
    const types = Object.fromEntries(Object.entries(cols).map(([k, c]) => [k, c.data_type]));
    // the types dlt 1.31 made from the same hints
    expect(types).toMatchObject(
      dest === 'postgres'
        ? { ms: 'timestamp without time zone', s: 'timestamp without time zone', t: 'time without time zone', n: 'jsonb', l: 'jsonb' }
        : { ms: 'TIMESTAMP_MS', s: 'TIMESTAMP_S', t: 'TIME', n: 'JSON', l: 'JSON' },
    );
    const [row] = await query<Record<string, unknown>>(p, `SELECT ms, s, CAST(t AS VARCHAR) AS t FROM ${p.datasetName}.h`);
    expect((row!.ms as Date).toISOString()).toBe('2024-05-06T07:08:09.988Z');
    expect((row!.s as Date).toISOString()).toBe('2024-05-06T07:08:10.000Z');
    if (dest === 'postgres') expect(row!.t).toBe('07:08:09.988');
    // maxTableNesting 0 from the source: no child tables, no flattened columns
    expect(p.defaultSchema!.getTable('h__l')).toBeUndefined();
    expect(p.defaultSchema!.getTable('h')!.columns.s).toMatchObject({ description: 'seconds', partition: true, cluster: true, sort: true, precision: 0 });
    expect(Object.values(p.defaultSchema!.getTable('h')!.columns).some((c) => c.primaryKey)).toBe(false);
  });

  it('a new precision on an existing decimal column keeps the type the table has, and the values', async () => {
    const p = testPipeline(dir, 'hints_rehint');
    await p.run(resource([{ v: '1.5' }], { name: 't', columns: { v: { dataType: 'decimal' } } }));
    await p.run(resource([{ v: '2.25' }], { name: 't', columns: { v: { dataType: 'decimal', precision: 5, scale: 1 } } }));
    expect(await query(p, 'SELECT CAST(v AS VARCHAR) AS v FROM t ORDER BY v')).toEqual([{ v: '1.500000000' }, { v: '2.250000000' }]);
    expect(p.defaultSchema!.getTable('t')!.columns.v!.precision).toBeUndefined();
  });

  it('refuses unknown source options, and run() tableName over several resources', async () => {
    expect(() => source(function s() { return []; }, { maxNesting: 1 } as never)).toThrow(/maxNesting/);
    const two = source(function two() {
      return [resource([{ a: 1 }], { name: 'r1' }), resource([{ a: 2 }], { name: 'r2' })];
    });
    const p = testPipeline(dir, 'hints_tn');
    await expect(p.run(two(), { tableName: 'x' })).rejects.toThrow(/"x" names one table, but 2 resources are selected \(r1, r2\)/);
    await p.run(two().withResources('r2'), { tableName: 'x' });
    expect(await count(p, 'x')).toBe(1);
  });
});

describe('a zod model as run()/extract() columns', () => {
  const Person = z.object({ id: z.number().int(), name: z.string(), score: z.number().nullable() });
  const userColumns = async (p: Pipeline, table: string) => Object.fromEntries(Object.entries(await columnsOf(p, table)).filter(([c]) => !c.startsWith('_dlt')).map(([c, i]) => [c, [i.data_type, i.is_nullable]]));

  it('run(): the model gives the columns, validates every item and sets the model contract (DuckDB)', async () => {
    const p = testPipeline(dir, 'hints_model_run');
    await p.run([{ id: 1, name: 'Ada', score: 9.5, extra: 'dropped' }, { id: 2, name: 'Bob', score: null }], { tableName: 'people', columns: Person });
    // extra fields of a zod object (strip) are discard_value, as dlt does for a model
    expect(await userColumns(p, 'people')).toEqual({ id: ['BIGINT', 'NO'], name: ['VARCHAR', 'NO'], score: ['DOUBLE', 'YES'] });
    expect(await query(p, `SELECT id, name, score FROM "${p.datasetName}".people ORDER BY id`)).toEqual([
      { id: 1, name: 'Ada', score: 9.5 },
      { id: 2, name: 'Bob', score: null },
    ]);
    expect(p.defaultSchema!.tables.people!.schemaContract).toEqual({ tables: 'evolve', columns: 'discard_value', dataType: 'freeze' });
    // a value the model refuses stops the run (dataType: freeze) before anything is written
    const err = await p.run([{ id: 3, name: 42, score: 1 }], { tableName: 'people', columns: Person }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineStepFailed);
    expect((err as Error).cause).toBeInstanceOf(DataValidationError);
    expect((err as Error).message).toMatch(/people/);
    expect(await count(p, 'people')).toBe(2);
    expect(p.hasPendingData).toBe(false);
  });

  it('extract(): the same on PostgreSQL, with the call\'s schemaContract over the model\'s defaults', async () => {
    const p = pgPipeline('hints_model_extract');
    // a loose (passthrough) model lets extra fields evolve; the call makes refused values drop their row
    const items = [{ id: 1, name: 'Ada', score: 1.5, extra: 'kept' }, { id: 2, name: 42, score: 1 }];
    await p.extract(items, { tableName: 'people', columns: Person.loose(), schemaContract: { dataType: 'discard_row' } });
    await p.normalize();
    await p.load({ raiseOnFailedJobs: true });
    expect(await userColumns(p, 'people')).toEqual({ id: ['bigint', 'NO'], name: ['character varying', 'NO'], score: ['double precision', 'YES'], extra: ['character varying', 'YES'] });
    expect(await query(p, `SELECT id, extra FROM "${p.datasetName}".people`)).toEqual([{ id: 1, extra: 'kept' }]);
    expect(p.defaultSchema!.tables.people!.schemaContract).toEqual({ tables: 'evolve', columns: 'evolve', dataType: 'discard_row' });
    // an object that is not a zod model is still checked as column hints
    await expect(p.extract([{ id: 2 }], { tableName: 'people', columns: { id: { dataType: 'nope' } } as never })).rejects.toBeInstanceOf(InvalidOptionsError);
  });
});

describe('parentTableName', () => {
  it('makes the table a child of its parent in the schema: no disposition or resource of its own, loaded and replaced with its root (DuckDB)', async () => {
    const p = testPipeline(dir, 'hints_parent_duck');
    await p.run([{ id: 1, name: 'a' }, { id: 2, name: 'b' }], { tableName: 'users', writeDisposition: 'replace' });
    const { loadId } = await p.extract([{ user_id: 1, text: 'hello' }], { tableName: 'user_notes', parentTableName: 'users' });
    expect(p.getLoadPackageState(loadId).chainRoots).toEqual(['users']);
    await p.normalize();
    await p.load({ raiseOnFailedJobs: true });
    const schema = p.defaultSchema!;
    const notes = schema.getTable('user_notes')!;
    expect(notes.parent).toBe('users');
    expect(notes.writeDisposition).toBeUndefined();
    expect(notes.resource).toBeUndefined();
    expect(schema.writeDispositionOf('user_notes')).toBe('replace');
    expect(schema.tableChain('users').map((t) => t.name)).toEqual(['users', 'user_notes']);
    // the rows are the resource's own, with the load id and a row id
    const rows = await query<Record<string, unknown>>(p, 'SELECT user_id::INT AS user_id, text, _dlt_load_id, _dlt_id FROM user_notes');
    expect(rows).toEqual([{ user_id: 1, text: 'hello', _dlt_load_id: loadId, _dlt_id: expect.any(String) }]);
    // a replace chain is replaced whole, as dlt truncates every table of the root's chain: the
    // package had rows for the child only, so the parent is empty now
    expect(await count(p, 'users')).toBe(0);

    // parent and child in one run: both replaced together
    const users = resource([{ id: 3, name: 'c' }], { name: 'users', writeDisposition: 'replace' });
    const noteRows = resource([{ user_id: 3, text: 'a' }, { user_id: 3, text: 'b' }], { name: 'user_notes', parentTableName: 'users' });
    await p.run([users, noteRows]);
    expect(await count(p, 'users')).toBe(1);
    expect(await count(p, 'user_notes')).toBe(2);
    // replacing the root alone replaces the hinted child too
    await p.run([{ id: 4, name: 'd' }], { tableName: 'users', writeDisposition: 'replace' });
    expect(await count(p, 'users')).toBe(1);
    expect(await count(p, 'user_notes')).toBe(0);

    // and dropping the root's resource drops the child table with it
    const dropped = await p.dropResources(['users']);
    expect(dropped.tables).toEqual(expect.arrayContaining(['users', 'user_notes']));
    expect(p.defaultSchema!.getTable('user_notes')).toBeUndefined();
  });

  it('a child of an append root loads in the same package as its parent on PostgreSQL, even listed before it', async () => {
    const p = pgPipeline('hints_parent_pg');
    const orders = resource([{ id: 10 }], { name: 'orders' });
    const lines = resource([{ order_id: 10, sku: 'A' }, { order_id: 10, sku: 'B' }], { name: 'lines', parentTableName: 'orders' });
    const info = await p.run([lines, orders]);
    expect(info.hasFailedJobs).toBe(false);
    expect(p.defaultSchema!.getTable('lines')).toMatchObject({ parent: 'orders' });
    expect(p.defaultSchema!.writeDispositionOf('lines')).toBe('append');
    expect(await query(p, `SELECT order_id::INT AS order_id, sku FROM "${p.datasetName}".lines ORDER BY sku`)).toEqual([
      { order_id: 10, sku: 'A' },
      { order_id: 10, sku: 'B' },
    ]);
    // a second run keeps it a child (the hint is applied again, idempotently)
    await p.run(resource([{ order_id: 10, sku: 'C' }], { name: 'lines', parentTableName: 'orders' }));
    expect(p.defaultSchema!.getTable('lines')).toMatchObject({ parent: 'orders' });
    expect(p.defaultSchema!.getTable('lines')!.writeDisposition).toBeUndefined();
    expect(await count(p, 'lines')).toBe(3);
  });

  it('a parent the schema does not have, a cycle, or a disposition of its own are refused and nothing is kept', async () => {
    const p = testPipeline(dir, 'hints_parent_bad');
    const missing = await p.run([{ a: 1 }], { tableName: 'child', parentTableName: 'nowhere' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(PipelineStepFailed);
    expect((missing as PipelineStepFailed).cause).toBeInstanceOf(ParentTableNotFoundError);
    expect((missing as Error).message).toMatch(/table "child" names parent table "nowhere"/);
    expect(p.hasPendingData).toBe(false);
    expect(p.schemaNames).toEqual([]);

    await p.run([{ id: 1 }], { tableName: 'root' });
    await expect(p.run([{ a: 1 }], { tableName: 'child', parentTableName: 'root', writeDisposition: 'replace' })).rejects.toThrow(/follows its root's write disposition/);
    await p.run([{ a: 1 }], { tableName: 'child', parentTableName: 'root' });
    await expect(p.run([{ id: 2 }], { tableName: 'root', parentTableName: 'child' })).rejects.toThrow(/its own ancestor/);
    expect(p.defaultSchema!.getTable('root')!.parent).toBeUndefined();
    expect(p.hasPendingData).toBe(false);
    expect(() => resource([{ a: 1 }], { name: 'r', parentTableName: '' })).toThrow(InvalidOptionsError);
  });
});

describe('workers and maxParallelItems', () => {
  it('extract takes maxParallelItems/workers, load and normalize take workers; load writes every job with any bound (DuckDB)', async () => {
    const p = testPipeline(dir, 'hints_workers_duck');
    await p.extract([{ id: 1, tags: ['a', 'b'] }, { id: 2, tags: ['c'] }], { tableName: 'items', maxParallelItems: 20, workers: 5 });
    await p.normalize({ workers: 2 });
    const info = await p.load({ workers: 3, raiseOnFailedJobs: true });
    expect(info.loadPackages[0]!.completedJobs).toBeGreaterThanOrEqual(2);
    expect(await count(p, 'items')).toBe(2);
    expect(await count(p, 'items__tags')).toBe(3);
  });

  it('load({ workers }) on PostgreSQL loads every table', async () => {
    const p = pgPipeline('hints_workers_pg');
    await p.extract([resource([{ id: 1 }], { name: 'a' }), resource([{ id: 2 }, { id: 3 }], { name: 'b' })]);
    await p.normalize();
    await p.load({ workers: 1, raiseOnFailedJobs: true });
    expect(await count(p, 'a')).toBe(1);
    expect(await count(p, 'b')).toBe(2);
  });

  it('a value that is not a positive integer is an InvalidOptionsError, before anything is written', async () => {
    const p = testPipeline(dir, 'hints_workers_bad');
    await expect(p.extract([{ id: 1 }], { tableName: 't', maxParallelItems: 0 })).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(p.extract([{ id: 1 }], { tableName: 't', workers: 1.5 })).rejects.toThrow(/workers/);
    expect(p.hasPendingData).toBe(false);
    // run() takes neither, as dlt's run()
    await expect(p.run([{ id: 1 }], { tableName: 't', workers: 2 } as never)).rejects.toBeInstanceOf(InvalidOptionsError);
    await p.extract([{ id: 1 }], { tableName: 't' });
    await expect(p.normalize({ workers: -1 })).rejects.toThrow(/normalize workers: must be a positive integer/);
    await p.normalize();
    await expect(p.load({ workers: 0 })).rejects.toThrow(/load workers: must be a positive integer, got 0/);
    await expect(p.load({ workers: '2' as never })).rejects.toBeInstanceOf(InvalidOptionsError);
    expect(p.hasPendingData).toBe(true);
    await p.load({ workers: 2 });
    expect(await count(p, 't')).toBe(1);
  });
});
