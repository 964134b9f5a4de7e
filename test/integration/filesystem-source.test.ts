/**
 * The filesystem source: files written here into a temp folder, listed by filesystemSource()
 * and read by readJsonl/readCsv/readParquet into DuckDB; asserted on the rows, columns and
 * types that land, glob selection, incremental runs and typed errors.
 */
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { filesystemSource, incremental, readCsv, readJsonl, readParquet, SourceBucketNotFoundError, SourceFileUnreadableError } from '../../src/index.js';
import { failureCause, query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir('haul-fs-source-');

async function columnTypes(p: ReturnType<typeof testPipeline>, table: string): Promise<Record<string, string>> {
  const cols = await query<{ column_name: string; data_type: string }>(
    p,
    'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
    [p.datasetName, table],
  );
  return Object.fromEntries(cols.map((c) => [c.column_name, c.data_type]));
}

function bucket(name: string, files: Record<string, string | Buffer>): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

describe('filesystemSource: the file listing', () => {
  it('yields dlt FileItems for the files the glob matches (* stays in the top folder, ** goes down)', async () => {
    const root = bucket('listing', { 'a.csv': 'x\n1\n', 'b.jsonl': '{"x":1}\n', 'sub/c.csv': 'x\n2\n', 'sub/deep/d.csv.gz': gzipSync('x\n3\n') });
    const p = testPipeline(dir, 'listing');
    await p.run(filesystemSource({ bucketUrl: root, fileGlob: '**/*.csv*' }));
    const rows = await query<Record<string, unknown>>(p, 'SELECT file_name, relative_path, file_url, mime_type, encoding, size_in_bytes::INT AS size FROM filesystem ORDER BY relative_path');
    expect(rows).toEqual([
      { file_name: 'a.csv', relative_path: 'a.csv', file_url: pathToFileURL(join(root, 'a.csv')).href, mime_type: 'text/csv', encoding: null, size: 4 },
      { file_name: 'c.csv', relative_path: 'sub/c.csv', file_url: pathToFileURL(join(root, 'sub/c.csv')).href, mime_type: 'text/csv', encoding: null, size: 4 },
      { file_name: 'd.csv.gz', relative_path: 'sub/deep/d.csv.gz', file_url: pathToFileURL(join(root, 'sub/deep/d.csv.gz')).href, mime_type: 'text/csv', encoding: 'gzip', size: gzipSync('x\n3\n').length },
    ]);
    const types = await columnTypes(p, 'filesystem');
    expect(types).toMatchObject({ file_name: 'VARCHAR', relative_path: 'VARCHAR', file_url: 'VARCHAR', mime_type: 'VARCHAR', modification_date: 'TIMESTAMP WITH TIME ZONE', size_in_bytes: 'BIGINT' });

    const top = testPipeline(dir, 'listing_top');
    await top.run(filesystemSource({ bucketUrl: pathToFileURL(root).href })); // default glob '*', as dlt
    expect(await query(top, 'SELECT relative_path, mime_type FROM filesystem ORDER BY 1')).toEqual([
      { relative_path: 'a.csv', mime_type: 'text/csv' },
      { relative_path: 'b.jsonl', mime_type: 'application/jsonl' },
    ]);
  });

  it('takes bucket_url from config and names a missing bucket in a typed error', async () => {
    const root = bucket('from_config', { 'x.jsonl': '{"id":1}\n{"id":2}\n' });
    process.env.SOURCES__FILESYSTEM__BUCKET_URL = root;
    try {
      const p = testPipeline(dir, 'from_config');
      await p.run(filesystemSource({ fileGlob: '*.jsonl' }).pipeTo(readJsonl()));
      expect(await query(p, 'SELECT id::INT AS id FROM read_jsonl ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    } finally {
      delete process.env.SOURCES__FILESYSTEM__BUCKET_URL;
    }
    const missing = join(dir, 'no-such-bucket');
    const err = await failureCause(testPipeline(dir, 'missing').run(filesystemSource({ bucketUrl: missing }).pipeTo(readCsv())));
    expect(err).toBeInstanceOf(SourceBucketNotFoundError);
    expect((err as Error).message).toContain(missing);
  });
});

describe('readers', () => {
  it('readJsonl streams JSON lines (gzip too) with the types JSON gives', async () => {
    const lines = [{ id: 1, name: 'a', score: 1.5, ok: true, at: '2024-01-02T03:04:05Z', tags: ['x'] }, { id: 2, name: null, score: 2.25, ok: false, at: '2024-01-03T00:00:00Z', tags: [] }];
    const root = bucket('jsonl', { 'one.jsonl': lines.map((l) => JSON.stringify(l)).join('\n') + '\n\n', 'two.jsonl.gz': gzipSync(JSON.stringify({ id: 3, name: 'c', score: 3, ok: true, at: '2024-01-04T00:00:00Z' }) + '\n') });
    const p = testPipeline(dir, 'jsonl');
    await p.run(filesystemSource({ bucketUrl: root, fileGlob: '*.jsonl*' }).pipeTo(readJsonl()));
    expect(await query(p, 'SELECT id::INT AS id, name, score, ok, "at"::VARCHAR AS "at" FROM read_jsonl ORDER BY id')).toEqual([
      { id: 1, name: 'a', score: 1.5, ok: true, at: '2024-01-02 03:04:05+00' },
      { id: 2, name: null, score: 2.25, ok: false, at: '2024-01-03 00:00:00+00' },
      { id: 3, name: 'c', score: 3, ok: true, at: '2024-01-04 00:00:00+00' },
    ]);
    expect(await columnTypes(p, 'read_jsonl')).toMatchObject({ id: 'BIGINT', name: 'VARCHAR', score: 'DOUBLE', ok: 'BOOLEAN', at: 'TIMESTAMP WITH TIME ZONE' });
    expect(await query(p, 'SELECT value FROM read_jsonl__tags')).toEqual([{ value: 'x' }]);
  });

  it('readCsv parses quotes, commas, newlines in fields and NULLs, typing columns as pandas does', async () => {
    const csv = [
      'id,name,amount,active,note,born,big',
      '1,"Smith, John",10.5,True,"said ""hi""",2020-01-01,9007199254740993',
      '2,plain,,false,"two',
      'lines",2020-02-02,12',
      '3,NULL,7,TRUE,NA,,-5',
      '',
    ].join('\r\n');
    const root = bucket('csv', { 'people.csv': csv, 'semi.txt': 'a;b\n1;x\n' });
    const p = testPipeline(dir, 'csv');
    await p.run(filesystemSource({ bucketUrl: root, fileGlob: '*.csv' }).pipeTo(readCsv()));
    expect(await query(p, 'SELECT id::INT AS id, name, amount, active, note, born, big::VARCHAR AS big FROM read_csv ORDER BY id')).toEqual([
      { id: 1, name: 'Smith, John', amount: 10.5, active: true, note: 'said "hi"', born: '2020-01-01', big: '9007199254740993' },
      { id: 2, name: 'plain', amount: null, active: false, note: 'two\r\nlines', born: '2020-02-02', big: '12' },
      { id: 3, name: null, amount: 7, active: true, note: null, born: null, big: '-5' },
    ]);
    // integers past 2^53 stay exact in a bigint column, as pandas' int64 and dlt 1.31 keep them
    expect(await columnTypes(p, 'read_csv')).toMatchObject({ id: 'BIGINT', name: 'VARCHAR', amount: 'DOUBLE', active: 'BOOLEAN', note: 'VARCHAR', born: 'VARCHAR', big: 'BIGINT' });

    const semi = testPipeline(dir, 'csv_semi');
    await semi.run(filesystemSource({ bucketUrl: root, fileGlob: '*.txt' }).pipeTo(readCsv({ delimiter: ';', name: 'semi' })));
    expect(await query(semi, 'SELECT a::INT AS a, b FROM "semi"')).toEqual([{ a: 1, b: 'x' }]);
  });

  // DECIMAL lands as exact text (dlt: decimal), see src/normalize/README.md
  it('readParquet reads a DuckDB-written parquet file with its types', async () => {
    const root = bucket('parquet', {});
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const file = join(root, 'orders.parquet');
    await c.run(`COPY (SELECT i AS id, 'item ' || i AS name, i * 1.5::DOUBLE AS price, (i * 1.25)::DECIMAL(10, 2) AS amount, i % 2 = 0 AS even,
      TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL 1 HOUR AS at, CASE WHEN i = 3 THEN NULL ELSE i END AS maybe
      FROM range(1, 6) t(i)) TO '${file}' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    const p = testPipeline(dir, 'parquet');
    await p.run(filesystemSource({ bucketUrl: root, fileGlob: '*.parquet' }).pipeTo(readParquet()));
    const rows = await query(p, "SELECT id::INT AS id, name, price, amount, even, strftime(\"at\", '%Y-%m-%d %H') AS \"at\", maybe::INT AS maybe FROM read_parquet ORDER BY id");
    expect(rows).toHaveLength(5);
    expect(rows[0]).toEqual({ id: 1, name: 'item 1', price: 1.5, amount: '1.25', even: false, at: '2024-01-01 01', maybe: 1 });
    expect(rows[2]).toMatchObject({ id: 3, maybe: null });
    expect(await columnTypes(p, 'read_parquet')).toMatchObject({ id: 'BIGINT', name: 'VARCHAR', price: 'DOUBLE', amount: 'VARCHAR', even: 'BOOLEAN', at: 'TIMESTAMP WITH TIME ZONE', maybe: 'BIGINT' });
  });

  it('reads a large file in pages of chunkSize (a page counts once for addLimit)', async () => {
    const n = 50_000;
    let text = 'id,label\n';
    for (let i = 0; i < n; i++) text += `${i},"row ${i}"\n`;
    const root = bucket('large', { 'big.csv': text });
    const all = testPipeline(dir, 'large_all');
    await all.run(filesystemSource({ bucketUrl: root }).pipeTo(readCsv({ chunkSize: 5_000 })));
    expect(await query(all, 'SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids, max(id)::INT AS top FROM read_csv')).toEqual([{ n, ids: n, top: n - 1 }]);
    const pages = testPipeline(dir, 'large_pages');
    await pages.run(filesystemSource({ bucketUrl: root }).pipeTo(readCsv({ chunkSize: 5_000 }).addLimit(3)));
    expect(await query(pages, 'SELECT count(*)::INT AS n FROM read_csv')).toEqual([{ n: 15_000 }]);
  });

  it('a broken JSON line, an unclosed CSV quote, a file that is not parquet: typed errors naming the file', async () => {
    const root = bucket('broken', { 'bad.jsonl': '{"id":1}\n{"id":\n' });
    const err = await failureCause(testPipeline(dir, 'broken').run(filesystemSource({ bucketUrl: root }).pipeTo(readJsonl())));
    expect(err).toBeInstanceOf(SourceFileUnreadableError);
    expect((err as Error).message).toContain(`${pathToFileURL(join(root, 'bad.jsonl')).href} line 2`);

    const other = bucket('broken_other', { 'bad.csv': 'a,b\n1,"never closed\n', 'fake.parquet': 'not parquet' });
    const csvErr = await failureCause(testPipeline(dir, 'broken_csv').run(filesystemSource({ bucketUrl: other, fileGlob: '*.csv' }).pipeTo(readCsv())));
    expect(csvErr).toBeInstanceOf(SourceFileUnreadableError);
    expect((csvErr as Error).message).toMatch(new RegExp(`${pathToFileURL(join(other, 'bad.csv')).href}: .*quote is not closed`));
    const pqErr = await failureCause(testPipeline(dir, 'broken_pq').run(filesystemSource({ bucketUrl: other, fileGlob: '*.parquet' }).pipeTo(readParquet())));
    expect(pqErr).toBeInstanceOf(SourceFileUnreadableError);
    expect((pqErr as Error).message).toContain(pathToFileURL(join(other, 'fake.parquet')).href);
  });
});

describe('the filesystem source, compared with dlt 1.31', () => {
  it("skips hidden files and folders, follows a symlinked folder, and names a bucket that is a file", async () => {
    const root = bucket('hidden', { 'a.csv': 'x\n1\n', '.DS_Store': 'junk', '.git/config.csv': 'x\n9\n', 'real/b.csv': 'x\n2\n' });
    symlinkSync(join(root, 'real'), join(root, 'linked'));
    const p = testPipeline(dir, 'hidden');
    await p.run(filesystemSource({ bucketUrl: root, fileGlob: '**' }).pipeTo(readCsv({ name: 'rows' })));
    expect(await query(p, 'SELECT x::INT AS x FROM rows ORDER BY 1')).toEqual([{ x: 1 }, { x: 2 }, { x: 2 }]);
    const err = await failureCause(testPipeline(dir, 'bucket_file').run(filesystemSource({ bucketUrl: join(root, 'a.csv') })));
    expect((err as Error).message).toMatch(/is a file, not a folder: use its folder as bucketUrl and its name as fileGlob/);
  });

  it('readCsv: an empty header name is "Unnamed: 0" (pandas), a BOM is dropped, too many fields is an error, bytes not in the encoding are an error whose advice works', async () => {
    const root = bucket('csv_edges', {
      'index.csv': ',id\n0,5\n1,6\n',
      'bom.csv': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,v\n1,a\n')]),
      'wide.csv': 'a,b\n1,2\n3,4,5\n',
      'latin.csv': Buffer.from('name\nM\xfcller\n', 'latin1'),
    });
    const p = testPipeline(dir, 'csv_edges');
    await p.run(filesystemSource({ bucketUrl: root, fileGlob: 'index.csv' }).pipeTo(readCsv({ name: 'idx' })));
    expect(await columnTypes(p, 'idx')).toMatchObject({ unnamed_0: 'BIGINT', id: 'BIGINT' });
    const seen: string[] = [];
    await p.run(filesystemSource({ bucketUrl: root, fileGlob: 'bom.csv' }).pipeTo(readCsv({ name: 'bom' }).addMap((r) => (seen.push(...Object.keys(r as object)), r))));
    expect(seen).toEqual(['id', 'v']);
    const wide = await failureCause(p.run(filesystemSource({ bucketUrl: root, fileGlob: 'wide.csv' }).pipeTo(readCsv({ name: 'wide' }))));
    expect((wide as Error).message).toMatch(/wide\.csv line 3: it has 3 fields where the header has 2/);
    const latin = await failureCause(p.run(filesystemSource({ bucketUrl: root, fileGlob: 'latin.csv' }).pipeTo(readCsv({ name: 'latin' }))));
    expect((latin as Error).message).toMatch(/latin\.csv: it is not valid utf-8 text.*encoding/);
    await p.run(filesystemSource({ bucketUrl: root, fileGlob: 'latin.csv' }).pipeTo(readCsv({ name: 'latin', encoding: 'latin-1' })));
    expect(await query(p, 'SELECT name FROM latin')).toEqual([{ name: 'Müller' }]);
    expect(() => readCsv({ encoding: 'klingon' })).toThrow(/not an encoding this reader knows/);
  });

  it('readParquet reads a file whose name has glob characters as that one file', async () => {
    const root = bucket('pq_glob', {});
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`COPY (SELECT 1 AS id) TO '${join(root, 'r[12].parquet')}' (FORMAT parquet)`);
    await c.run(`COPY (SELECT 2 AS id) TO '${join(root, 'r1.parquet')}' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    const p = testPipeline(dir, 'pq_glob');
    await p.run(filesystemSource({ bucketUrl: root, fileGlob: '*.parquet' }).pipeTo(readParquet()));
    expect(await query(p, 'SELECT id::INT AS id FROM read_parquet ORDER BY 1')).toEqual([{ id: 1 }, { id: 2 }]);
  });
});

describe('incremental on modification_date', () => {
  it('a second run reads only new and changed files; the cursor is kept under the parent', async () => {
    const root = bucket('incr', { 'a.jsonl': '{"id":1,"f":"a"}\n', 'b.jsonl': '{"id":2,"f":"b"}\n' });
    const old = new Date('2024-01-01T00:00:00Z');
    utimesSync(join(root, 'a.jsonl'), old, old);
    utimesSync(join(root, 'b.jsonl'), old, new Date('2024-01-02T00:00:00Z'));
    const p = testPipeline(dir, 'incr');
    const make = () => filesystemSource({ bucketUrl: root, fileGlob: '*.jsonl' }).applyHints({ incremental: incremental('modification_date') }).pipeTo(readJsonl());
    await p.run(make());
    expect(await query(p, 'SELECT id::INT AS id, f FROM read_jsonl ORDER BY id')).toEqual([{ id: 1, f: 'a' }, { id: 2, f: 'b' }]);

    // nothing changed: nothing read
    await p.run(make());
    expect(await query(p, 'SELECT count(*)::INT AS n FROM read_jsonl')).toEqual([{ n: 2 }]);

    // a new file and a changed one (newer mtime); a stays as it was
    writeFileSync(join(root, 'c.jsonl'), '{"id":3,"f":"c"}\n');
    writeFileSync(join(root, 'b.jsonl'), '{"id":22,"f":"b2"}\n');
    const now = new Date('2024-02-01T00:00:00Z');
    utimesSync(join(root, 'c.jsonl'), now, now);
    utimesSync(join(root, 'b.jsonl'), now, new Date('2024-02-02T00:00:00Z'));
    await p.run(make());
    expect(await query(p, 'SELECT id::INT AS id, f FROM read_jsonl ORDER BY id')).toEqual([{ id: 1, f: 'a' }, { id: 2, f: 'b' }, { id: 3, f: 'c' }, { id: 22, f: 'b2' }]);
    const cursor = p.state.sources.incr!.resources!.filesystem!.incremental!.modification_date!;
    expect(new Date(cursor.last_value as string).toISOString()).toBe('2024-02-02T00:00:00.000Z');
  });
});
