/**
 * Where haul's tables used to differ from dlt's for the same data (issue 9, "dlt's exact
 * types"), on every SQL destination of the conformance suite. The expected tables are what
 * dlt 1.31 makes from the same data on DuckDB.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NullValueError, PipelineStepFailed, duckdb, pipeline, postgres, resource, type DestinationFactory, type Pipeline } from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';

const dir = tempDir('haul-exact-types-');
const pgDatasets: string[] = [];
afterAll(async () => {
  await dropPgSchemas(...pgDatasets);
});

const TARGETS: Array<{ name: string; make(n: string): { destination: DestinationFactory; datasetName: string } }> = [
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

/** [column, type (lower case), nullable] of a table's user columns, as the destination reports them. */
async function columns(p: Pipeline, table: string): Promise<Array<[string, string, boolean]>> {
  const rows = await q<{ column_name: string; data_type: string; is_nullable: string }>(
    p,
    `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = '${p.datasetName}' AND table_name = '${table}' ORDER BY ordinal_position`,
  );
  return rows.filter((r) => !r.column_name.startsWith('_dlt')).map((r) => [r.column_name, r.data_type.toLowerCase(), r.is_nullable === 'YES']);
}

describe.each(TARGETS)("dlt's exact types on $name", (target) => {
  function newPipeline(): Pipeline {
    const name = `exact_${target.name}_${++counter}`;
    return pipeline({ pipelineName: name, pipelinesDir: join(dir, 'pipelines'), ...target.make(name) });
  }

  it('a bigint beyond 2^53 makes a bigint column with the exact value', async () => {
    const p = newPipeline();
    await p.run([{ b: 9223372036854775807n, s: 9007199254740993n }], { tableName: 't' });
    expect(await columns(p, 't')).toEqual([['b', 'bigint', true], ['s', 'bigint', true]]);
    const rows = await q<{ b: unknown; s: unknown }>(p, `SELECT CAST(b AS VARCHAR) AS b, CAST(s AS VARCHAR) AS s FROM "${p.datasetName}"."t"`);
    expect(rows).toEqual([{ b: '9223372036854775807', s: '9007199254740993' }]);
  });

  it('a mergeKey column is NOT NULL in the schema and the table', async () => {
    const p = newPipeline();
    await p.run(resource([{ id: 1, day: 20240101 }], { name: 't', writeDisposition: 'merge', mergeKey: 'day' }));
    expect(p.defaultSchema!.tables.t!.columns.day).toMatchObject({ mergeKey: true, nullable: false, dataType: 'bigint' });
    expect((await columns(p, 't')).sort()).toEqual([['day', 'bigint', false], ['id', 'bigint', true]]);
  });

  it('an integer column keeps bigint when a fraction arrives later in the same run: the value goes to x__v_double', async () => {
    const p = newPipeline();
    await p.run([{ x: 1 }, { x: 2.5 }], { tableName: 't' });
    expect(await columns(p, 't')).toEqual([['x', 'bigint', true], ['x__v_double', 'double', true].map((v, i) => (i === 1 ? (target.name === 'postgres' ? 'double precision' : 'double') : v)) as [string, string, boolean]]);
    const rows = await q<{ x: unknown; v: unknown }>(p, `SELECT x, x__v_double AS v FROM "${p.datasetName}"."t" ORDER BY x NULLS LAST`);
    expect(rows.map((r) => [r.x === null ? null : Number(r.x), r.v])).toEqual([[1, null], [null, 2.5]]);
  });

  it('an ISO timestamp string in an existing bigint column goes to x__v_text, typed timestamp', async () => {
    const p = newPipeline();
    await p.run([{ x: 1 }], { tableName: 't' });
    await p.run([{ x: '2024-01-01T00:00:00Z' }], { tableName: 't' });
    expect(await columns(p, 't')).toEqual([['x', 'bigint', true], ['x__v_text', 'timestamp with time zone', true]]);
    const rows = await q<{ v: unknown }>(p, `SELECT x__v_text AS v FROM "${p.datasetName}"."t" WHERE x__v_text IS NOT NULL`);
    expect(new Date(rows[0]!.v as string | Date).toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });

  it('a null primary key in a merge row fails at normalize, before any table is created; the package is discarded', async () => {
    const p = newPipeline();
    const e = await p.run(resource([{ id: 1, v: 1 }, { id: null, v: 2 }], { name: 'z', writeDisposition: 'merge', primaryKey: 'id' })).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(PipelineStepFailed);
    expect((e as PipelineStepFailed).step).toBe('normalize');
    const cause = (e as Error).cause as NullValueError;
    expect(cause).toBeInstanceOf(NullValueError);
    expect(cause).toMatchObject({ table: 'z', column: 'id' });
    expect(cause.message).toContain('{"id":null,"v":2}');
    expect(p.hasPendingData).toBe(false);
    expect(await p.dataset().tables()).not.toContain('z');
  });

  it('a precision the destination has no type for is refused before anything is extracted; the advice works', async () => {
    const p = newPipeline();
    const limits = target.name === 'postgres' ? { ts: 6, int: 64 } : { ts: 9, int: 128 };
    const ts = await p.run([{ at: '2024-01-01T00:00:00.123456Z' }], { tableName: 't', columns: { at: { dataType: 'timestamp', timezone: false, precision: limits.ts + 1 } } }).catch((e: unknown) => e);
    expect((ts as Error).message).toContain(`column "at" of table "t": ${target.name} keeps at most ${limits.ts} fractional digits of a timestamp (precision ${limits.ts + 1}); hint a precision from 0 to ${limits.ts}`);
    const int = await p.run([{ n: 1 }], { tableName: 't', columns: { n: { dataType: 'bigint', precision: limits.int * 2 } } }).catch((e: unknown) => e);
    expect((int as Error).message).toContain(`column "n" of table "t": ${target.name} has no integer type of ${limits.int * 2} bits (at most ${limits.int})`);
    expect(p.hasPendingData).toBe(false);
    await p.run([{ at: '2024-01-01T00:00:00.123456Z', n: 1 }], { tableName: 't', columns: { at: { dataType: 'timestamp', timezone: false, precision: limits.ts }, n: { dataType: 'bigint', precision: limits.int } } });
    expect((await columns(p, 't')).map(([c]) => c)).toEqual(['at', 'n']);
  });
});
