/**
 * Parquet and csv job files: normalize writes them when a run asks (`loaderFileFormat`), the
 * destination bulk-loads them, and the tables hold exactly what the JSONL path loads from the
 * same data — every type, nested tables, variants, NULL vs empty string, replace and merge.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { duckdb, filesystem, InvalidOptionsError, pipeline, postgres, type LoaderFileFormat, type Pipeline } from '../../src/index.js';
import { query, tempDir } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';

const dir = tempDir('haul-formats-');
const pgDatasets: string[] = [];
afterAll(() => dropPgSchemas(...pgDatasets));

/** Rows with every type and the awkward values a file format can get wrong. */
function rows(): Array<Record<string, unknown>> {
  return [
    {
      id: 1,
      big: 2n ** 62n,
      huge: 2n ** 70n,
      ratio: 0.1,
      ok: true,
      name: 'comma, "quote"\nnewline',
      empty: '',
      at: new Date('2024-02-29T23:59:58.123Z'),
      day: '2024-03-01',
      price: '12.34',
      blob: Buffer.from([0, 1, 2, 254, 255]),
      meta: { k: [1, { x: 'y' }], n: null },
      tags: ['a', 'b'],
      owner: { name: 'ann', age: 41 },
      mixed: 5,
    },
    { id: 2, name: null, empty: null, tags: [], mixed: 'five', owner: { name: null } },
    { id: 3, name: 'ü € 😀', at: '2024-01-01T00:00:00Z', mixed: 6 },
  ];
}

const columns = {
  day: { dataType: 'date' as const },
  price: { dataType: 'decimal' as const, precision: 10, scale: 2 },
  meta: { dataType: 'json' as const },
};

function duckPipeline(name: string): Pipeline {
  return pipeline({ pipelineName: name, pipelinesDir: join(dir, 'p'), destination: duckdb({ path: join(dir, `${name}.duckdb`) }), datasetName: `${name}_data` });
}

function pgPipeline(name: string): Pipeline {
  const datasetName = pgDatasetName(name);
  pgDatasets.push(datasetName);
  return pipeline({ pipelineName: datasetName, pipelinesDir: join(dir, 'p'), destination: postgres({ credentials: PG_URL }), datasetName });
}

function fsPipeline(name: string): Pipeline {
  return pipeline({ pipelineName: name, pipelinesDir: join(dir, 'p'), destination: filesystem({ bucketUrl: join(dir, 'fs-bucket') }), datasetName: `${name}_data` });
}

/** Every data table's rows without the per-run random columns, in a stable order. */
async function snapshot(p: Pipeline, tables: string[]): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of tables) {
    const rs = await query<Record<string, unknown>>(p, `SELECT * FROM "${p.datasetName}"."${t}"`);
    out[t] = rs
      .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !['_dlt_id', '_dlt_load_id', '_dlt_parent_id', '_dlt_root_id'].includes(k))))
      .sort((a, b) => JSON.stringify(a, big).localeCompare(JSON.stringify(b, big)));
  }
  return out;
}

function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

function jobExtensions(p: Pipeline): string[] {
  const loadId = p.listCompletedLoadPackages().at(-1)!;
  return [...new Set(p.getLoadPackageInfo(loadId).jobs.filter((j) => !j.table.startsWith('_dlt')).map((j) => j.job.split('.').at(-1)!))];
}

async function sameAsJsonl(make: (name: string) => Pipeline, format: LoaderFileFormat) {
  const viaJsonl = make(`fmt_jsonl_${format}`);
  const viaFormat = make(`fmt_${format}`);
  await viaJsonl.run(rows(), { tableName: 'things', columns });
  await viaFormat.run(rows(), { tableName: 'things', columns, loaderFileFormat: format });
  expect(jobExtensions(viaFormat)).toEqual([format]);
  const tables = ['things', 'things__tags'];
  const expected = await snapshot(viaJsonl, tables);
  expect(expected.things).toHaveLength(3);
  expect(expected.things__tags).toHaveLength(2);
  expect(await snapshot(viaFormat, tables)).toEqual(expected);
  // the types that land are the same too
  const types = async (p: Pipeline) =>
    query<{ column_name: string; data_type: string }>(p, `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'things' ORDER BY column_name`, [p.datasetName]);
  expect(await types(viaFormat)).toEqual(await types(viaJsonl));
  return viaFormat;
}

describe('parquet job files into DuckDB', () => {
  it('load the same rows and types as JSONL', async () => {
    const p = await sameAsJsonl(duckPipeline, 'parquet');
    const [row] = await query<Record<string, unknown>>(p, `SELECT * FROM "${p.datasetName}".things WHERE id = 1`);
    expect(row).toMatchObject({ big: 4611686018427387904n, ratio: 0.1, ok: true, empty: '', name: 'comma, "quote"\nnewline', price: '12.34', day: '2024-03-01' });
    expect(row!.at).toEqual(new Date('2024-02-29T23:59:58.123Z'));
    expect(row!.blob).toEqual(Buffer.from([0, 1, 2, 254, 255]));
  });

  it('replace with no rows truncates, and merge deduplicates by primary key', async () => {
    const p = duckPipeline('fmt_parquet_dispositions');
    await p.run([{ id: 1, v: 'a', kids: [1, 2] }, { id: 2, v: 'b' }], { tableName: 'r', writeDisposition: 'replace', loaderFileFormat: 'parquet' });
    await p.run([], { tableName: 'r', writeDisposition: 'replace', loaderFileFormat: 'parquet' });
    expect(await query(p, `SELECT count(*)::INT AS n FROM "${p.datasetName}".r`)).toEqual([{ n: 0 }]);

    const merge = { tableName: 'm', writeDisposition: 'merge' as const, primaryKey: 'id', loaderFileFormat: 'parquet' as const };
    await p.run([{ id: 1, v: 'a', kids: [1, 2] }, { id: 2, v: 'b', kids: [3] }], merge);
    await p.run([{ id: 1, v: 'a2', kids: [9] }], merge);
    expect(await query(p, `SELECT id::INT AS id, v FROM "${p.datasetName}".m ORDER BY id`)).toEqual([{ id: 1, v: 'a2' }, { id: 2, v: 'b' }]);
    expect(await query(p, `SELECT value::INT AS value FROM "${p.datasetName}".m__kids ORDER BY value`)).toEqual([{ value: 3 }, { value: 9 }]);
  });
});

describe('csv job files into PostgreSQL', () => {
  it('load the same rows and types as JSONL (COPY as they are)', async () => {
    const p = await sameAsJsonl(pgPipeline, 'csv');
    const [row] = await query<Record<string, unknown>>(p, `SELECT * FROM "${p.datasetName}".things WHERE id = 1`);
    expect(row).toMatchObject({ empty: '', name: 'comma, "quote"\nnewline' });
    expect(row!.blob).toEqual(Buffer.from([0, 1, 2, 254, 255]));
    const [two] = await query<Record<string, unknown>>(p, `SELECT name, empty FROM "${p.datasetName}".things WHERE id = 2`);
    expect(two).toEqual({ name: null, empty: null });
  });
});

describe('parquet job files into the filesystem destination', () => {
  it('sit beside the JSONL files of the same table and read back together, typed', async () => {
    const bucket = join(dir, 'bucket');
    const p = pipeline({ pipelineName: 'fmt_fs', pipelinesDir: join(dir, 'p'), destination: filesystem({ bucketUrl: bucket }), datasetName: 'fmt_fs_data' });
    await p.run([{ id: 1, v: 'a' }], { tableName: 'things' });
    await p.run([{ id: 2, v: 'b', extra: 1.5, at: new Date('2024-05-06T07:08:09.123Z'), blob: Buffer.from([7, 8]) }], { tableName: 'things', loaderFileFormat: 'parquet' });
    const files = readdirSync(join(bucket, 'fmt_fs_data', 'things'));
    expect(files.filter((f) => f.endsWith('.jsonl'))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
    const rows = await p.dataset().table('things').select('id', 'v', 'extra', 'at', 'blob').orderBy('id').fetchAll();
    expect(rows).toEqual([
      { id: 1, v: 'a', extra: null, at: null, blob: null },
      { id: 2, v: 'b', extra: 1.5, at: new Date('2024-05-06T07:08:09.123Z'), blob: Buffer.from([7, 8]) },
    ]);
  });
});

describe('csv job files into the filesystem destination', () => {
  it('land as .csv files with a header and read back the same rows and types as JSONL', async () => {
    const p = await sameAsJsonl(fsPipeline, 'csv');
    const folder = join(dir, 'fs-bucket', p.datasetName, 'things');
    const files = readdirSync(folder).filter((f) => f !== 'init');
    const loadId = p.listCompletedLoadPackages().at(-1)!;
    expect(files).toEqual([expect.stringMatching(new RegExp(`^${loadId.replace('.', '\\.')}\\.\\w+\\.csv$`))]);
    const text = readFileSync(join(folder, files[0]!), 'utf8');
    expect(text.split('\n')[0]!.split(',')).toEqual(expect.arrayContaining(['id', 'big', 'name', 'blob', '_dlt_id']));
    // dlt's csv: quoting only when needed, "" inside quotes, NULL an empty field, '' a quoted empty field
    expect(text).toContain('"comma, ""quote""\nnewline"');

    const ds = p.dataset();
    const [one, two, three] = await ds.table('things').orderBy('id').fetchAll();
    expect(one).toMatchObject({ id: 1, big: 2n ** 62n, huge: String(2n ** 70n), ratio: 0.1, ok: true, name: 'comma, "quote"\nnewline', empty: '', price: '12.34', day: '2024-03-01', meta: { k: [1, { x: 'y' }], n: null } });
    expect(one!.at).toEqual(new Date('2024-02-29T23:59:58.123Z'));
    expect(one!.blob).toEqual(Buffer.from([0, 1, 2, 254, 255]));
    expect(two).toMatchObject({ name: null, empty: null, mixed__v_text: 'five', at: null, blob: null });
    expect(three).toMatchObject({ name: 'ü € 😀', mixed: 6 });
    expect(three!.at).toEqual(new Date('2024-01-01T00:00:00Z'));
  });

  it('read older files without the columns later files added, beside JSONL files of the same table', async () => {
    const p = fsPipeline('fmt_fs_csv_evolve');
    await p.run([{ id: 1, v: 'a' }], { tableName: 't', loaderFileFormat: 'csv' });
    await p.run([{ id: 2, v: 'b', extra: 1.5, at: new Date('2024-05-06T07:08:09.123Z') }], { tableName: 't', loaderFileFormat: 'csv' });
    await p.run([{ id: 3, extra: 2.5 }], { tableName: 't' });
    const files = readdirSync(join(dir, 'fs-bucket', p.datasetName, 't'));
    expect(files.filter((f) => f.endsWith('.csv'))).toHaveLength(2);
    expect(files.filter((f) => f.endsWith('.jsonl'))).toHaveLength(1);
    expect(await p.dataset().table('t').select('id', 'v', 'extra', 'at').orderBy('id').fetchAll()).toEqual([
      { id: 1, v: 'a', extra: null, at: null },
      { id: 2, v: 'b', extra: 1.5, at: new Date('2024-05-06T07:08:09.123Z') },
      { id: 3, v: null, extra: 2.5, at: null },
    ]);
    const types = await query<{ column_name: string; data_type: string }>(p, `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 't' AND column_name IN ('id', 'extra', 'at') ORDER BY column_name`, [p.datasetName]);
    expect(types).toEqual([
      { column_name: 'at', data_type: 'TIMESTAMP WITH TIME ZONE' },
      { column_name: 'extra', data_type: 'DOUBLE' },
      { column_name: 'id', data_type: 'BIGINT' },
    ]);
  });
});

describe('a format the destination cannot load', () => {
  it('is refused before anything is written', async () => {
    const p = duckPipeline('fmt_refused');
    await expect(p.run([{ id: 1 }], { tableName: 't', loaderFileFormat: 'csv' })).rejects.toSatisfy(
      (e: unknown) => e instanceof Error && e.cause instanceof InvalidOptionsError && /does not load "csv" files \(it loads jsonl, parquet\)/.test(e.message),
    );
    expect(p.hasPendingData).toBe(false);
    const pg = pgPipeline('fmt_refused_pg');
    await expect(pg.run([{ id: 1 }], { tableName: 't', loaderFileFormat: 'parquet' })).rejects.toSatisfy((e: unknown) => e instanceof Error && e.cause instanceof InvalidOptionsError);
    expect(pg.hasPendingData).toBe(false);
  });
});
