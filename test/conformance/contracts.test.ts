/**
 * Schema contracts (dlt's `schema_contract`), each mode × entity, on every SQL destination
 * of the conformance suite: the tables, columns and rows that land, and the errors. The
 * expected outcomes are what dlt 1.31 loads from the same data (checked with small dlt
 * scripts on DuckDB).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataValidationError,
  PipelineStepFailed,
  duckdb,
  incremental,
  pipeline,
  postgres,
  resource,
  source,
  type DestinationFactory,
  type Pipeline,
  type RunOptions,
} from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';

const dir = tempDir('haul-contracts-');
const pgDatasets: string[] = [];
afterAll(async () => {
  await dropPgSchemas(...pgDatasets);
});

interface Target {
  name: string;
  make(pipelineName: string): { destination: DestinationFactory; datasetName: string };
}

const TARGETS: Target[] = [
  { name: 'duckdb', make: (n) => ({ destination: duckdb({ path: join(dir, `${n}.duckdb`) }), datasetName: `${n}_data` }) },
  {
    name: 'postgres',
    make: (n) => {
      const datasetName = pgDatasetName(n);
      pgDatasets.push(datasetName);
      return { destination: postgres({ credentials: PG_URL }), datasetName };
    },
  },
];

let counter = 0;

async function q<T = Record<string, unknown>>(p: Pipeline, sql: string): Promise<T[]> {
  const c = p.sqlClient();
  try {
    return await c.query<T>(sql);
  } finally {
    await c.close();
  }
}

/** User tables and their user columns (no `_dlt_*`), as the destination reports them. */
async function layout(p: Pipeline): Promise<Record<string, string[]>> {
  const rows = await q<{ table_name: string; column_name: string }>(
    p,
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = '${p.datasetName}' ORDER BY table_name, ordinal_position`,
  );
  const out: Record<string, string[]> = {};
  for (const r of rows) {
    if (r.table_name.startsWith('_dlt') || r.table_name.startsWith('_haul')) continue;
    out[r.table_name] ??= [];
    if (!r.column_name.startsWith('_dlt')) out[r.table_name]!.push(r.column_name);
  }
  return out;
}

/** The rows of a table as arrays of the given columns, numbers as numbers, ordered. */
async function rows(p: Pipeline, table: string, cols: string[]): Promise<unknown[][]> {
  const list = cols.map((c) => `"${c}"`).join(', ');
  const got = await q<Record<string, unknown>>(p, `SELECT ${list} FROM "${p.datasetName}"."${table}" ORDER BY ${list}`);
  return got.map((r) => cols.map((c) => (typeof r[c] === 'bigint' ? Number(r[c]) : r[c] ?? null)));
}

async function failure(promise: Promise<unknown>): Promise<DataValidationError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PipelineStepFailed);
  const cause = (e as PipelineStepFailed).cause;
  expect(cause).toBeInstanceOf(DataValidationError);
  return cause as DataValidationError;
}

describe.each(TARGETS)('schema contracts on $name', (target) => {
  function newPipeline(): Pipeline {
    const name = `contracts_${target.name}_${++counter}`;
    return pipeline({ pipelineName: name, pipelinesDir: join(dir, 'pipelines'), ...target.make(name) });
  }
  /** Two runs: the first (evolve) creates `t`, the second runs under the contract. */
  async function twoRuns(first: unknown[], second: unknown[], opts: RunOptions): Promise<{ p: Pipeline; error?: DataValidationError }> {
    const p = newPipeline();
    await p.run(first, { tableName: 't' });
    try {
      await p.run(second, { tableName: 't', ...opts });
      return { p };
    } catch (e) {
      expect(e).toBeInstanceOf(PipelineStepFailed);
      expect((e as Error).cause).toBeInstanceOf(DataValidationError);
      return { p, error: (e as Error).cause as DataValidationError };
    }
  }

  it('tables: freeze refuses a new root table (nothing loads, the package is discarded, a later evolve run loads)', async () => {
    const p = newPipeline();
    const e = await failure(p.run([{ id: 1 }], { tableName: 't', schemaContract: 'freeze' }));
    expect(e).toMatchObject({ table: 't', entity: 'tables', mode: 'freeze', column: undefined });
    expect(e.message).toContain(`schema "${p.pipelineName}"`);
    expect(p.hasPendingData).toBe(false);
    expect(await p.dataset().tables()).not.toContain('t');
    await p.run([{ id: 2 }], { tableName: 't' });
    expect(await rows(p, 't', ['id'])).toEqual([[2]]);
  });

  it('tables: freeze refuses a new child table of an existing table; the earlier rows stay', async () => {
    const { p, error } = await twoRuns([{ id: 1 }], [{ id: 2, kids: [{ a: 1 }] }], { schemaContract: { tables: 'freeze' } });
    expect(error).toMatchObject({ table: 't__kids', entity: 'tables', mode: 'freeze' });
    expect(await layout(p)).toEqual({ t: ['id'] });
    expect(await rows(p, 't', ['id'])).toEqual([[1]]);
  });

  it('tables: discard_row drops the rows of a new child table and keeps the parent', async () => {
    const { p, error } = await twoRuns([{ id: 1 }], [{ id: 2, kids: [{ a: 1 }] }], { schemaContract: { tables: 'discard_row' } });
    expect(error).toBeUndefined();
    expect(await layout(p)).toEqual({ t: ['id'] });
    expect(await rows(p, 't', ['id'])).toEqual([[1], [2]]);
  });

  it('tables: discard_value on a new root table loads nothing and creates no table', async () => {
    const p = newPipeline();
    await p.run([{ id: 1 }], { tableName: 'other' });
    await p.run([{ id: 1, kids: [1] }], { tableName: 't', schemaContract: { tables: 'discard_value' } });
    expect(await layout(p)).toEqual({ other: ['id'] });
  });

  it('columns: freeze lets a table\'s first load create its columns and child tables, then refuses a new column', async () => {
    const p = newPipeline();
    await p.run([{ id: 1, kids: [1, 2] }], { tableName: 't', schemaContract: { columns: 'freeze' } });
    const e = await failure(p.run([{ id: 2, z: 1, password: 'hunter2' }], { tableName: 't', schemaContract: { columns: 'freeze' } }));
    expect(e).toMatchObject({ table: 't', column: 'z', entity: 'columns', mode: 'freeze' });
    expect(e.item).toContain('"id":2');
    expect(e.message).toContain('"z":1');
    expect(e.message).not.toContain('hunter2');
    expect(await layout(p)).toEqual({ t: ['id'], t__kids: ['value'] });
    expect(await rows(p, 't', ['id'])).toEqual([[1]]);
    expect(await rows(p, 't__kids', ['value'])).toEqual([[1], [2]]);
  });

  it('columns: discard_row drops a row with a new column (with its child rows) and a child row with a new column (keeping its parent)', async () => {
    const { p } = await twoRuns(
      [{ id: 1, kids: [{ a: 1 }] }],
      [{ id: 2, new: 'x', kids: [{ a: 2 }] }, { id: 3, kids: [{ a: 3, b: 5 }] }],
      { schemaContract: { columns: 'discard_row' } },
    );
    expect(await layout(p)).toEqual({ t: ['id'], t__kids: ['a'] });
    expect(await rows(p, 't', ['id'])).toEqual([[1], [3]]);
    expect(await rows(p, 't__kids', ['a'])).toEqual([[1]]);
  });

  it('columns: discard_value drops the values of new columns, in child tables too', async () => {
    const { p } = await twoRuns(
      [{ id: 1, kids: [{ a: 1 }] }],
      [{ id: 2, new: 5, deep: { x: 1 }, kids: [{ a: 1, b: 3 }] }],
      { schemaContract: { columns: 'discard_value' } },
    );
    expect(await layout(p)).toEqual({ t: ['id'], t__kids: ['a'] });
    expect(await rows(p, 't', ['id'])).toEqual([[1], [2]]);
    expect(await rows(p, 't__kids', ['a'])).toEqual([[1], [1]]);
  });

  it('dataType: freeze refuses a value that needs a variant column; coercible values pass', async () => {
    const { p, error } = await twoRuns([{ id: 1, x: 1 }], [{ id: 2, x: '7' }, { id: 3, x: 'abc' }], { schemaContract: { dataType: 'freeze' } });
    expect(error).toMatchObject({ table: 't', column: 'x', entity: 'dataType', mode: 'freeze' });
    expect(error!.item).toBe('{"id":3,"x":"abc"}');
    expect(await rows(p, 't', ['id', 'x'])).toEqual([[1, 1]]);
    await p.run([{ id: 2, x: '7' }], { tableName: 't', schemaContract: { dataType: 'freeze' } });
    expect(await rows(p, 't', ['id', 'x'])).toEqual([[1, 1], [2, 7]]);
    expect(await layout(p)).toEqual({ t: ['id', 'x'] });
  });

  it('dataType: discard_row drops the row', async () => {
    const { p } = await twoRuns([{ id: 1, x: 1 }], [{ id: 2, x: 'abc' }, { id: 3, x: 4 }], { schemaContract: { dataType: 'discard_row' } });
    expect(await layout(p)).toEqual({ t: ['id', 'x'] });
    expect(await rows(p, 't', ['id', 'x'])).toEqual([[1, 1], [3, 4]]);
  });

  it('dataType: discard_value drops the value and keeps the row', async () => {
    const { p } = await twoRuns([{ id: 1, x: 1 }], [{ id: 2, x: 'abc' }, { id: 3, x: 4 }], { schemaContract: { dataType: 'discard_value' } });
    expect(await layout(p)).toEqual({ t: ['id', 'x'] });
    expect(await rows(p, 't', ['id', 'x'])).toEqual([[1, 1], [2, null], [3, 4]]);
  });

  it('evolve (the default) adds tables, columns and variants', async () => {
    const { p } = await twoRuns([{ id: 1, x: 1 }], [{ id: 2, x: 'abc', y: true, kids: [1] }], { schemaContract: 'evolve' });
    expect(await layout(p)).toEqual({ t: ['id', 'x', 'x__v_text', 'y'], t__kids: ['value'] });
  });

  it('precedence: run() over resource() over source(); the contract is kept in the schema', async () => {
    const p = newPipeline();
    const items = (n: number) => resource(function* items() { yield { id: n, ...(n > 1 ? { [`c${n}`]: n } : {}) }; }, { schemaContract: { columns: 'evolve' } });
    const strict = source(function strict_src(n: number) { return [items(n)]; }, { schemaContract: 'freeze' });
    // the source freezes everything, the resource lets columns evolve, tables stay frozen ...
    const first = await failure(p.run(strict(1)));
    expect(first).toMatchObject({ table: 'items', entity: 'tables', mode: 'freeze' });
    // ... unless run() says otherwise
    await p.run(strict(1), { schemaContract: { tables: 'evolve' } });
    await p.run(strict(2));
    expect(await layout(p)).toEqual({ items: ['id', 'c2'] });
    const schema = p.defaultSchema!;
    expect(schema.settings.schemaContract).toBe('freeze');
    expect(schema.tables.items!.schemaContract).toEqual({ columns: 'evolve' });
    await p.run(strict(3), { schemaContract: { columns: 'discard_row' } });
    expect(await rows(p, 'items', ['id'])).toEqual([[1], [2]]);
  });

  it('a typed columns hint that adds a column to a table with rows is a new column to the contract (dlt checks hints in extract)', async () => {
    const p = newPipeline();
    await p.run([{ id: 1 }], { tableName: 't' });
    const hinted = { tableName: 't', columns: { extra: { dataType: 'text' as const } } };
    expect(await failure(p.run([{ id: 2, extra: 'v' }], { ...hinted, schemaContract: { columns: 'freeze' } }))).toMatchObject({ table: 't', column: 'extra', entity: 'columns', mode: 'freeze' });
    expect(p.hasPendingData).toBe(false);
    await p.run([{ id: 3, extra: 'v' }], { ...hinted, schemaContract: { columns: 'discard_value' } });
    expect(await layout(p)).toEqual({ t: ['id'] });
    expect(await rows(p, 't', ['id'])).toEqual([[1], [3]]);
    // evolve adds it (run()'s contract stays on the table, as in dlt: evolve is given again)
    await p.run([{ id: 4, extra: 'v' }], { ...hinted, schemaContract: { columns: 'evolve' } });
    expect(await rows(p, 't', ['id', 'extra'])).toEqual([[1, null], [3, null], [4, 'v']]);
  });

  it("a source's contract taken off the source is gone on the next run, as dlt replaces the schema settings with the source's", async () => {
    const p = newPipeline();
    const make = (contract?: 'discard_value') => source(function loose_src(n: number) { return [resource(function* things() { yield { id: n, [`c${n}`]: n }; })]; }, contract ? { schemaContract: contract } : {});
    await p.run(make()(1));
    await p.run(make('discard_value')(2));
    expect(p.defaultSchema!.settings.schemaContract).toBe('discard_value');
    await p.run(make()(3));
    expect(p.defaultSchema!.settings.schemaContract).toBeUndefined();
    expect(await layout(p)).toEqual({ things: ['id', 'c1', 'c3'] });
  });

  it('freeze keeps state as it was: an incremental cursor does not move', async () => {
    const p = newPipeline();
    const events = (rows: Array<Record<string, unknown>>) =>
      resource(function* events() { yield* rows; }, { incremental: incremental('id'), schemaContract: { columns: 'freeze' } });
    await p.run(events([{ id: 1 }]));
    await failure(p.run(events([{ id: 2, extra: 1 }])));
    expect(p.hasPendingData).toBe(false);
    await p.run(events([{ id: 2 }, { id: 3 }]));
    expect(await rows(p, 'events', ['id'])).toEqual([[1], [2], [3]]);
  });
});
