/**
 * Whole numbers that JSON text writes as floats (`10.0`, `1e3`) type double, as dlt types the
 * floats Python's json gives it; JSON.parse alone makes them integers, which typed bigint and
 * put the next fraction into a `__v_double` variant. Checked against dlt 1.31 (bench/.venv-dlt,
 * filesystem + read_jsonl of the same lines): price, big, items.w and tags.value are DOUBLE.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { filesystemSource, readCsv, readJsonl, readParquet, restApiSource } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';

const LINES = '{"id":1,"price":10.0,"items":[{"w":2.0}],"tags":[1.0,2.5],"big":1e3,"n":7}\n{"id":2,"price":10.5,"items":[{"w":2.5}],"tags":[3.0],"big":2e3,"n":8}\n';

async function columnTypes(p: ReturnType<typeof testPipeline>, table: string): Promise<Record<string, string>> {
  const rows = await query<{ column_name: string; data_type: string }>(
    p,
    'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
    [p.datasetName, table],
  );
  return Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
}

async function expectDltTypes(p: ReturnType<typeof testPipeline>): Promise<void> {
  expect(await columnTypes(p, 'prices')).toMatchObject({ id: 'BIGINT', price: 'DOUBLE', big: 'DOUBLE', n: 'BIGINT' });
  expect(Object.keys(await columnTypes(p, 'prices')).filter((c) => c.includes('__v_'))).toEqual([]);
  expect(await columnTypes(p, 'prices__items')).toMatchObject({ w: 'DOUBLE' });
  expect(await columnTypes(p, 'prices__tags')).toMatchObject({ value: 'DOUBLE' });
  expect(await query(p, `SELECT id, price, big, n FROM ${p.datasetName}.prices ORDER BY id`)).toEqual([
    { id: 1, price: 10, big: 1000, n: 7 },
    { id: 2, price: 10.5, big: 2000, n: 8 },
  ]);
  expect((await query<{ value: number }>(p, `SELECT value FROM ${p.datasetName}.prices__tags ORDER BY value`)).map((r) => r.value)).toEqual([1, 2.5, 3]);
}

describe('whole floats in JSON text type double, as in dlt', () => {
  it('readJsonl lines, passed on raw and parsed in extract (a map step)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'prices.jsonl'), LINES);
    const raw = testPipeline(dir, 'wf_raw');
    await raw.run(filesystemSource({ bucketUrl: dir, fileGlob: '*.jsonl' }).pipeTo(readJsonl()), { tableName: 'prices' });
    await expectDltTypes(raw);

    // parsed at extract for the step (which changes the item in place), then written to the job file again
    const mapped = testPipeline(dir, 'wf_mapped');
    const src = filesystemSource({ bucketUrl: dir, fileGlob: '*.jsonl' }).pipeTo(readJsonl());
    await mapped.run(
      src.addMap((item) => Object.assign(item, { seen: true })),
      { tableName: 'prices' },
    );
    await expectDltTypes(mapped);
    expect(await columnTypes(mapped, 'prices')).toMatchObject({ seen: 'BOOLEAN' });
  });

  it('a REST API answer', async () => {
    const dir = tempDir();
    const body = `{"data":[${LINES.trim().split('\n').join(',')}]}`;
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const p = testPipeline(dir, 'wf_rest');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await p.run(restApiSource({ client: { baseUrl: url, paginator: 'single_page' }, resources: [{ name: 'prices', endpoint: { path: 'prices', dataSelector: 'data' } }] }));
      await expectDltTypes(p);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('readCsv and readParquet: a float column\'s whole values are floats (pandas float64, parquet DOUBLE)', async () => {
    const dir = tempDir();
    // dlt 1.31 (bench/.venv-dlt): f, fl2, expo and f64 are DOUBLE, one column each, no variant
    writeFileSync(join(dir, 'm.csv'), 'id,f,fl2,expo\n1,1,1.0,1e3\n2,2,2.50,2E-2\n3,4.5,3,3\n');
    const csv = testPipeline(dir, 'wf_csv');
    await csv.run(filesystemSource({ bucketUrl: dir, fileGlob: 'm.csv' }).pipeTo(readCsv({ name: 'm' })));
    expect(await columnTypes(csv, 'm')).toEqual(expect.objectContaining({ id: 'BIGINT', f: 'DOUBLE', fl2: 'DOUBLE', expo: 'DOUBLE' }));
    expect(Object.keys(await columnTypes(csv, 'm')).filter((c) => c.includes('__v_'))).toEqual([]);
    expect(await query(csv, `SELECT f, fl2, expo FROM ${csv.datasetName}.m ORDER BY id`)).toEqual([
      { f: 1, fl2: 1, expo: 1000 },
      { f: 2, fl2: 2.5, expo: 0.02 },
      { f: 4.5, fl2: 3, expo: 3 },
    ]);

    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`COPY (SELECT * FROM (VALUES (1, 1.0::DOUBLE, 1.0::FLOAT), (2, 0.1::DOUBLE, 2.0::FLOAT), (3, NULL, 3.0::FLOAT)) t(id, f64, f32)) TO '${join(dir, 'p.parquet')}' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    const pq = testPipeline(dir, 'wf_parquet');
    await pq.run(filesystemSource({ bucketUrl: dir, fileGlob: 'p.parquet' }).pipeTo(readParquet({ name: 'p' })));
    expect(await columnTypes(pq, 'p')).toEqual(expect.objectContaining({ id: 'BIGINT', f64: 'DOUBLE', f32: 'DOUBLE' }));
    expect(Object.keys(await columnTypes(pq, 'p')).filter((col) => col.includes('__v_'))).toEqual([]);
    expect(await query(pq, `SELECT f64, f32 FROM ${pq.datasetName}.p ORDER BY id`)).toEqual([
      { f64: 1, f32: 1 },
      { f64: 0.1, f32: 2 },
      { f64: null, f32: 3 },
    ]);
  });

  it('an integer past int64 in JSONL keeps its digits as text (it became a rounded double)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'h.jsonl'), '{"id":1,"huge":18446744073709551615,"i64":9223372036854775807}\n');
    const p = testPipeline(dir, 'wf_huge');
    await p.run(filesystemSource({ bucketUrl: dir, fileGlob: 'h.jsonl' }).pipeTo(readJsonl()), { tableName: 'h' });
    expect(await columnTypes(p, 'h')).toMatchObject({ huge: 'VARCHAR', i64: 'BIGINT' });
    expect(await query(p, `SELECT huge, i64::VARCHAR AS i64 FROM ${p.datasetName}.h`)).toEqual([{ huge: '18446744073709551615', i64: '9223372036854775807' }]);
  });

  it('JS numbers stay as JS has them; a whole float into a bigint column is that integer', async () => {
    const dir = tempDir();
    const p = testPipeline(dir, 'wf_js');
    await p.run([{ id: 1, price: 10 }], { tableName: 'prices' });
    expect(await columnTypes(p, 'prices')).toMatchObject({ price: 'BIGINT' });
    writeFileSync(join(dir, 'more.jsonl'), '{"id":2,"price":11.0}\n');
    await p.run(filesystemSource({ bucketUrl: dir, fileGlob: 'more.jsonl' }).pipeTo(readJsonl()), { tableName: 'prices' });
    expect(await columnTypes(p, 'prices')).toMatchObject({ price: 'BIGINT' });
    expect(Object.keys(await columnTypes(p, 'prices')).filter((c) => c.includes('__v_'))).toEqual([]);
    expect(await query(p, `SELECT id, price FROM ${p.datasetName}.prices ORDER BY id`)).toEqual([
      { id: 1, price: 10 },
      { id: 2, price: 11 },
    ]);
  });
});
