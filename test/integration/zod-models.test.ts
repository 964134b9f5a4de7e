/**
 * zod models as a resource's columns (dlt's pydantic models): the columns and types they
 * give, validation of every item in extract, and the contract defaults dlt uses for models
 * (tables evolve, extra fields discard_value / freeze / evolve by the object's unknown-key
 * mode, invalid values freeze). Real DuckDB, asserting what lands.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DataValidationError, PipelineStepFailed, duckdb, pipeline, resource, type Pipeline } from '../../src/index.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('haul-zod-models-');
let counter = 0;

function newPipeline(): Pipeline {
  const name = `zod_${++counter}`;
  return pipeline({ pipelineName: name, pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path: join(dir, `${name}.duckdb`) }), datasetName: `${name}_data` });
}

async function q<T = Record<string, unknown>>(p: Pipeline, sql: string): Promise<T[]> {
  const c = p.sqlClient();
  try {
    return await c.query<T>(sql);
  } finally {
    await c.close();
  }
}

async function columns(p: Pipeline, table: string): Promise<Array<[string, string, boolean]>> {
  const rows = await q<{ column_name: string; data_type: string; is_nullable: string }>(
    p,
    `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = '${p.datasetName}' AND table_name = '${table}' ORDER BY ordinal_position`,
  );
  return rows.filter((r) => !r.column_name.startsWith('_dlt')).map((r) => [r.column_name, r.data_type, r.is_nullable === 'YES']);
}

async function failure(promise: Promise<unknown>): Promise<DataValidationError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PipelineStepFailed);
  expect((e as Error).cause).toBeInstanceOf(DataValidationError);
  return (e as Error).cause as DataValidationError;
}

const User = z.object({
  id: z.number().int(),
  name: z.string(),
  score: z.number().nullable(),
  active: z.boolean(),
  joinedAt: z.date(),
  big: z.bigint().optional(),
  address: z.object({ city: z.string(), zipCode: z.string().optional() }),
  tags: z.array(z.string()),
});

const ada = { id: 1, name: 'Ada', score: 9.5, active: true, joinedAt: new Date('2024-01-02T03:04:05Z'), big: 2n ** 60n, address: { city: 'London' }, tags: ['math'] };

describe('zod models as columns', () => {
  it('give column names, types and nullability: nested objects flattened, arrays as child tables', async () => {
    const p = newPipeline();
    await p.run(resource([ada], { name: 'users', columns: User }));
    expect(await columns(p, 'users')).toEqual([
      ['id', 'BIGINT', false],
      ['name', 'VARCHAR', false],
      ['score', 'DOUBLE', true],
      ['active', 'BOOLEAN', false],
      ['joined_at', 'TIMESTAMP WITH TIME ZONE', false],
      ['big', 'BIGINT', true],
      ['address__city', 'VARCHAR', false],
      ['address__zip_code', 'VARCHAR', true],
    ]);
    expect(await columns(p, 'users__tags')).toEqual([['value', 'VARCHAR', true]]);
    const [row] = await q<Record<string, unknown>>(p, `SELECT id, big, joined_at FROM "${p.datasetName}".users`);
    expect(row).toEqual({ id: 1, big: 2n ** 60n, joined_at: new Date('2024-01-02T03:04:05Z') });
    expect(p.defaultSchema!.tables.users!.schemaContract).toEqual({ tables: 'evolve', columns: 'discard_value', dataType: 'freeze' });
  });

  it('an invalid item freezes by default: DataValidationError naming the field and the item, nothing loads', async () => {
    const p = newPipeline();
    await p.run(resource([ada], { name: 'users', columns: User }));
    const e = await failure(p.run(resource([{ ...ada, id: 2 }, { ...ada, id: 3, name: 42 }], { name: 'users', columns: User })));
    expect(e).toMatchObject({ table: 'users', column: 'name', entity: 'dataType', mode: 'freeze' });
    expect(e.item).toContain('"id":3');
    expect(await q(p, `SELECT id FROM "${p.datasetName}".users ORDER BY id`)).toEqual([{ id: 1 }]);
  });

  it('discard_row drops invalid items; discard_value drops the fields that failed (an item missing a required field goes)', async () => {
    const p = newPipeline();
    const Loose = z.object({ id: z.number().int(), note: z.string().optional() });
    await p.run(resource([{ id: 1 }, { id: 'x' }, { id: 2, note: 5 }], { name: 'a', columns: Loose, schemaContract: { dataType: 'discard_row' } }));
    expect(await q(p, `SELECT id FROM "${p.datasetName}".a ORDER BY id`)).toEqual([{ id: 1 }]);
    await p.run(resource([{ id: 1 }, { id: 'x' }, { id: 2, note: 5 }], { name: 'b', columns: Loose, schemaContract: { dataType: 'discard_value' } }));
    expect(await q(p, `SELECT id, note FROM "${p.datasetName}".b ORDER BY id`)).toEqual([{ id: 1, note: null }, { id: 2, note: null }]);
  });

  it('extra fields: strip (default) drops them, strict freezes, passthrough lets them evolve', async () => {
    const p = newPipeline();
    const shape = { id: z.number().int() };
    await p.run(resource([{ id: 1, extra: 'x' }], { name: 'stripped', columns: z.object(shape) }));
    expect(await columns(p, 'stripped')).toEqual([['id', 'BIGINT', false]]);

    const e = await failure(p.run(resource([{ id: 1, extra: 'x' }], { name: 'strict', columns: z.object(shape).strict() })));
    expect(e).toMatchObject({ table: 'strict', column: 'extra', entity: 'columns', mode: 'freeze' });

    await p.run(resource([{ id: 1, extra: 'x' }], { name: 'loose', columns: z.object(shape).passthrough() }));
    expect(await columns(p, 'loose')).toEqual([['id', 'BIGINT', false], ['extra', 'VARCHAR', true]]);
    expect(p.defaultSchema!.tables.loose!.schemaContract).toEqual({ tables: 'evolve', columns: 'evolve', dataType: 'freeze' });
  });

  it("a contract given with the model wins for its entities; run()'s wins over both", async () => {
    const p = newPipeline();
    const M = z.object({ id: z.number().int().nullable() });
    await p.run(resource([{ id: 1 }, { id: 'x' }], { name: 'r', columns: M, schemaContract: { dataType: 'discard_row' } }));
    expect(p.defaultSchema!.tables.r!.schemaContract).toEqual({ tables: 'evolve', columns: 'discard_value', dataType: 'discard_row' });
    await p.run(resource([{ id: 2 }, { id: 'y' }], { name: 'r', columns: M }), { schemaContract: 'evolve' });
    expect(await columns(p, 'r')).toEqual([['id', 'BIGINT', true], ['id__v_text', 'VARCHAR', true]]);
  });
});
