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
import { filesystemSource, readJsonl, restApiSource } from '../../src/index.js';
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
