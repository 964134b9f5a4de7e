/**
 * Extract's raw path for chunks of JSON lines (JsonLines, readJsonl): the rows, tables,
 * columns and types that land in DuckDB are the same as when the objects are yielded, on
 * data with nested objects, lists, unicode, escapes, an integer beyond 2^53, CRLF, blank
 * lines and no last newline; the bytes really go to the job file unparsed; a cursor, a map or
 * a transformer get the parsed objects; addLimit counts a chunk once; a bad line fails at
 * extract naming file and line; a durable extract resumes after its checkpoint.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  filesystemSource,
  incremental,
  jsonLines,
  type JsonLines,
  readJsonl,
  resource,
  source,
  SourceFileUnreadableError,
  transformer,
  type Pipeline,
  type ResourceContext,
} from '../../src/index.js';
import { count, failureCause, query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir('haul-raw-lines-');

/** The data as JSONL: spaces kept, CRLF, blank lines, escapes, no newline at the end. */
const TEXT = [
  '{"id": 1, "name": "Zoë 日本 🎉", "big": 9007199254740993, "nested": {"a": {"b": "deep"}, "n": 1.5}, "tags": ["x", "y"], "items": [{"k": 1, "v": [1, 2]}, {"k": 2}], "at": "2024-01-02T03:04:05Z", "flag": true, "none": null}\r\n',
  '\r\n',
  '{"id":2,"name":"plain","big":-9007199254740995,"nested":{"a":{"b":"x"},"n":2},"tags":[],"items":[],"at":"2024-01-03T00:00:00Z","flag":false}\n',
  '\n   \n',
  '{"id":3,"name":"quote \\" backslash \\\\ newline \\n tab \\t \\u00e9 \\ud83d\\ude00","big":1,"nested":{"n":-0.25e-3},"tags":["z"]}',
].join('');

/** The same items as objects (the integer beyond 2^53 as a bigint, as haul yields it exactly). */
const OBJECTS = [
  { id: 1, name: 'Zoë 日本 🎉', big: 9007199254740993n, nested: { a: { b: 'deep' }, n: 1.5 }, tags: ['x', 'y'], items: [{ k: 1, v: [1, 2] }, { k: 2 }], at: '2024-01-02T03:04:05Z', flag: true, none: null },
  { id: 2, name: 'plain', big: -9007199254740995n, nested: { a: { b: 'x' }, n: 2 }, tags: [], items: [], at: '2024-01-03T00:00:00Z', flag: false },
  { id: 3, name: 'quote " backslash \\ newline \n tab \t é 😀', big: 1, nested: { n: -0.25e-3 }, tags: ['z'] },
];

const RANDOM_IDS = new Set(['_dlt_id', '_dlt_load_id', '_dlt_parent_id', '_dlt_root_id']);

/** Every table of `t` (root and children): its columns with their types, and its rows without random ids, sorted. */
async function dump(p: Pipeline, root = 't'): Promise<Record<string, { columns: Record<string, string>; rows: unknown[] }>> {
  const cols = await query<{ table_name: string; column_name: string; data_type: string }>(
    p,
    'SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND (table_name = $2 OR starts_with(table_name, $3)) ORDER BY table_name, column_name',
    [p.datasetName, root, `${root}__`],
  );
  const out: Record<string, { columns: Record<string, string>; rows: unknown[] }> = {};
  for (const c of cols) (out[c.table_name] ??= { columns: {}, rows: [] }).columns[c.column_name] = c.data_type;
  for (const [table, t] of Object.entries(out)) {
    const keep = Object.keys(t.columns).filter((c) => !RANDOM_IDS.has(c));
    const rows = await query<Record<string, unknown>>(p, `SELECT ${keep.map((c) => `"${c}"`).join(', ')} FROM "${table}"`);
    t.rows = rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).sort();
  }
  return out;
}

/** The extracted job files of table `t` in the pipeline's (only) extracted package. */
function extractedLines(p: Pipeline, table = 't'): string {
  const pkgs = join(p.workingDir, 'normalize', 'extracted');
  const [loadId] = readdirSync(pkgs);
  const jobs = join(pkgs, loadId!, 'new_jobs');
  return readdirSync(jobs)
    .filter((f) => f.startsWith(`${table}.`))
    .map((f) => readFileSync(join(jobs, f), 'utf8'))
    .join('');
}

function bucket(name: string, files: Record<string, string | Buffer>): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  for (const [rel, content] of Object.entries(files)) writeFileSync(join(root, rel), content);
  return root;
}

describe('raw JSON lines land as the objects would', () => {
  it('a resource yielding a chunk, readJsonl on a file and on a .gz file: same tables, columns, types and values as yielding the objects', async () => {
    const objects = testPipeline(dir, 'objects');
    await objects.run(OBJECTS, { tableName: 't' });
    const expected = await dump(objects);
    // what the comparison covers
    expect(Object.keys(expected).sort()).toEqual(['t', 't__items', 't__items__v', 't__tags']);
    expect(expected['t']!.columns).toMatchObject({ id: 'BIGINT', big: 'BIGINT', name: 'VARCHAR', nested__a__b: 'VARCHAR', nested__n: 'DOUBLE', at: 'TIMESTAMP WITH TIME ZONE', flag: 'BOOLEAN' });
    expect(expected['t']!.rows).toContain(JSON.stringify({ at: '2024-01-02T03:04:05.000Z', big: '9007199254740993n', flag: true, id: 1, name: 'Zoë 日本 🎉', nested__a__b: 'deep', nested__n: 1.5 }));

    const chunk = testPipeline(dir, 'chunk');
    await chunk.extract(resource(function* t() { yield jsonLines(TEXT); }));
    // the job file holds the input's own bytes (spaces and escapes kept), tidied: no CR, no blank lines
    expect(extractedLines(chunk)).toBe(TEXT.replace(/\r\n/g, '\n').split('\n').filter((l) => l.trim() !== '').join('\n') + '\n');
    await chunk.normalize();
    await chunk.load();
    expect(await dump(chunk)).toEqual(expected);

    const root = bucket('same', { 'a.jsonl': TEXT, 'b.jsonl.gz': gzipSync(TEXT) });
    for (const glob of ['*.jsonl', '*.gz']) {
      const files = testPipeline(dir, `files_${glob === '*.gz' ? 'gz' : 'plain'}`);
      await files.extract(filesystemSource({ bucketUrl: root, fileGlob: glob }).pipeTo(readJsonl({ name: 't', chunkSize: 2 })));
      expect(extractedLines(files)).toContain('{"id": 1, "name": "Zoë');
      await files.normalize();
      await files.load();
      expect(await dump(files)).toEqual(expected);
    }
  });

  it('forms JSON.stringify would have rewritten (1.0, -0, 1e2, 1e400, escapes, a repeated key, an integer beyond 64 bits) land as the parsed objects', async () => {
    const text = '{"a":1,"b":2.5,"c":"x"}\n{"a":1.0,"b":-0,"c":"y","a":7}\n{"a":2,"b":1e400,"c":"\\u0041"}\n{"a":3,"b":1E2,"c":"z","d":12345678901234567890}\n';
    const dumps = [];
    for (const raw of [false, true]) {
      const p = testPipeline(dir, `forms_${raw}`);
      await p.run(resource(function* t() { yield raw ? jsonLines(text) : jsonLines(text).items(); }));
      dumps.push(await dump(p));
    }
    expect(dumps[1]).toEqual(dumps[0]);
    // an integer beyond 64 bits keeps its digits, as text (JSON.parse rounded it to a double)
    expect(dumps[0]!['t']!.columns).toMatchObject({ a: 'BIGINT', b: 'DOUBLE', c: 'VARCHAR', d: 'VARCHAR' });
    expect(dumps[0]!['t']!.rows).toHaveLength(4);
  });

  it('with addMap, addFilter, a zod model or incremental the chunk is parsed: the same rows as the objects, over two runs', async () => {
    const second = '{"id": 3, "v": "c2"}\n{"id": 4, "v": "d"}\n{"id": 5, "v": "e", "big": 9223372036854775807}\n';
    const first = '{"id": 1, "v": "a"}\n{"id": 2, "v": "b"}\n{"id": 3, "v": "c"}\n';
    type Data = (text: string) => JsonLines | Record<string, unknown>[];
    const asObjects: Data = (text) => jsonLines(text).items();
    const variants = {
      map: (data: Data) => (text: string) => resource(function* t() { yield data(text); }).addMap((r) => ({ ...r, mapped: true })),
      filter: (data: Data) => (text: string) => resource(function* t() { yield data(text); }).addFilter((r) => r['id'] !== 4),
      model: (data: Data) => (text: string) => resource(function* t() { yield data(text); }, { columns: z.object({ id: z.number(), v: z.string() }) }),
      incremental: (data: Data) => (text: string) =>
        resource(function* t() { yield data(text); }, { primaryKey: 'id', writeDisposition: 'merge', incremental: incremental('id', { initialValue: 0 }) }),
    };
    for (const [name, make] of Object.entries(variants)) {
      const results = [];
      for (const [label, data] of [['objects', asObjects], ['chunks', jsonLines]] as Array<[string, Data]>) {
        const p = testPipeline(dir, `${name}_${label}`);
        await p.extract(make(data)(first));
        // parsed at extract: the job file holds JSON.stringify's lines, not the input's spaces
        expect(extractedLines(p)).not.toContain('"id": ');
        await p.normalize();
        await p.load();
        await p.run(make(data)(second));
        results.push(await dump(p));
      }
      expect(results[1]).toEqual(results[0]);
      expect(Object.values(results[0]![ 't']!.rows).length).toBeGreaterThan(0);
    }
  });

  it('a transformer gets a parent chunk as the page of its objects; addLimit counts a chunk once', async () => {
    const seen: unknown[] = [];
    const parent = resource(function* lines() { yield jsonLines('{"id":1}\n{"id":2}\n'); yield jsonLines('{"id":3}\n'); }, { selected: false });
    const child = transformer(function* (page: unknown) {
      seen.push(page);
      for (const r of page as Array<{ id: number }>) yield { id: r.id, doubled: r.id * 2 };
    }, { name: 't' });
    const p = testPipeline(dir, 'transformer');
    await p.run(parent.pipeTo(child));
    expect(seen).toEqual([[{ id: 1 }, { id: 2 }], [{ id: 3 }]]);
    expect(await query(p, 'SELECT id::INT AS id, doubled::INT AS doubled FROM t ORDER BY id')).toEqual([{ id: 1, doubled: 2 }, { id: 2, doubled: 4 }, { id: 3, doubled: 6 }]);

    const text = Array.from({ length: 10 }, (_, i) => `{"id":${i}}`).join('\n') + '\n';
    const root = bucket('limit', { 'ten.jsonl': text });
    const limited = testPipeline(dir, 'limit');
    await limited.run(filesystemSource({ bucketUrl: root }).pipeTo(readJsonl({ chunkSize: 3 }).addLimit(2)));
    expect(await query(limited, 'SELECT id::INT AS id FROM read_jsonl ORDER BY id')).toEqual([0, 1, 2, 3, 4, 5].map((id) => ({ id })));
  });

  it('a chunk inside a page is refused with a clear error instead of being stored as an object', async () => {
    const p = testPipeline(dir, 'nested_chunk');
    const err = await failureCause(p.run(resource(function* t() { yield [jsonLines('{"id":1}\n')]; })));
    expect((err as Error).message).toMatch(/JsonLines chunk must be yielded on its own/);
  });
});

describe('bad lines fail at extract, naming file and line', () => {
  it('a line that is not JSON, one that is JSON but no object, one almost JSON: SourceFileUnreadableError, nothing pending', async () => {
    const cases: Array<[string, number, RegExp]> = [
      ['{"id":1}\r\n\r\n{"id":\r\n', 3, /not JSON/],
      ['{"id":1}\n[1,2]\n', 2, /not a JSON object \(it is an array\)/],
      ['{"id":1}\n{"id":2}\n{"id":3,}\n{"id":4}', 3, /not JSON/],
    ];
    for (const [i, [text, line, why]] of cases.entries()) {
      const root = bucket(`bad_${i}`, { 'bad.jsonl.gz': gzipSync(text) });
      const p = testPipeline(dir, `bad_${i}`);
      const err = await failureCause(p.run(filesystemSource({ bucketUrl: root }).pipeTo(readJsonl({ chunkSize: 2 }))));
      expect(err).toBeInstanceOf(SourceFileUnreadableError);
      const msg = (err as Error).message;
      expect(msg).toContain(`${pathToFileURL(join(root, 'bad.jsonl.gz')).href} line ${line}:`);
      expect(msg).toMatch(why);
      expect(msg).toContain('fix the line or filter the file out with fileGlob');
      expect(p.hasPendingData).toBe(false);
    }
  });
});

describe('a durable extract of raw chunks', () => {
  /** Pages of `per` lines as chunks, a checkpoint after each; `failAt` throws before that page. */
  const paged = (calls: unknown[], opts: { pages: number; per: number; failAt?: number }) =>
    source(function paged() {
      return resource(
        async function* t(ctx: ResourceContext) {
          calls.push(ctx.resumeFrom);
          const first = ctx.resumeFrom === undefined ? 1 : (ctx.resumeFrom as { page: number }).page;
          for (let page = first; page <= opts.pages; page++) {
            if (page === opts.failAt) throw new Error(`connection reset before page ${page}`);
            yield jsonLines(Array.from({ length: opts.per }, (_, i) => `{"id": ${(page - 1) * opts.per + i + 1}, "page": ${page}}`).join('\n'));
            ctx.checkpoint?.({ page: page + 1 });
          }
        },
        { name: 't' },
      );
    })();

  it('resumes after the last checkpoint: every row once, counts and files as without the failure', async () => {
    const p = testPipeline(dir, 'raw_resume');
    const calls: unknown[] = [];
    const loadId = '1700000000.7';
    const policy = { everyItems: 14, everyMs: 3_600_000 };
    const checkpoints: number[] = [];
    await expect(p.extract(paged(calls, { pages: 10, per: 7, failAt: 7 }), {}, { loadId, checkpoint: policy, onCheckpoint: (c) => checkpoints.push(c.seq) })).rejects.toThrow(/page 7/);
    // after pages 2, 4 and 6
    expect(checkpoints).toEqual([1, 2, 3]);
    const info = await p.extract(paged(calls, { pages: 10, per: 7 }), {}, { loadId, checkpoint: policy });
    expect(calls).toEqual([undefined, { page: 7 }]);
    expect(info.resumedFrom).toEqual({ checkpoint: 3, items: { t: 42 } });
    expect(info.itemCounts).toEqual({ t: 70 });
    await p.normalize();
    await p.load();
    expect(await count(p, 't')).toBe(70);
    expect(await query(p, 'SELECT min(id)::INT AS lo, max(id)::INT AS hi, count(DISTINCT id)::INT AS n FROM t')).toEqual([{ lo: 1, hi: 70, n: 70 }]);
  });
});
