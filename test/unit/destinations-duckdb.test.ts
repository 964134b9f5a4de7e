import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDBDialect, duckdb, duckdbColumnType } from '../../src/destinations/duckdb/index.js';
import { MAX_OBJECT_SIZE, objectSizeFor, parseMemorySize } from '../../src/destinations/duckdb/dialect.js';
import { quoteIdentifierStandard } from '../../src/destinations/sql/dialect.js';
import { InvalidOptionsError } from '../../src/errors.js';
import { resolveDestination } from '../../src/destinations/registry.js';
import { Schema } from '../../src/schema/schema.js';

const root = mkdtempSync(join(tmpdir(), 'haul-duckdb-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('duckdb dialect', () => {
  it('maps haul types like dlt', () => {
    const t = (dataType: Parameters<typeof duckdbColumnType>[0]['dataType'], extra = {}) => duckdbColumnType({ dataType, ...extra });
    expect(t('text')).toBe('VARCHAR');
    expect(t('bigint')).toBe('BIGINT');
    expect(t('bigint', { precision: 8 })).toBe('TINYINT');
    expect(t('bigint', { precision: 16 })).toBe('SMALLINT');
    expect(t('bigint', { precision: 32 })).toBe('INTEGER');
    expect(t('bigint', { precision: 128 })).toBe('HUGEINT');
    expect(t('double')).toBe('DOUBLE');
    expect(t('bool')).toBe('BOOLEAN');
    expect(t('timestamp')).toBe('TIMESTAMP WITH TIME ZONE');
    expect(t('timestamp', { timezone: false })).toBe('TIMESTAMP');
    expect(t('date')).toBe('DATE');
    expect(t('time')).toBe('TIME');
    expect(t('decimal')).toBe('DECIMAL(38,9)');
    expect(t('decimal', { precision: 10, scale: 2 })).toBe('DECIMAL(10,2)');
    expect(t('binary')).toBe('BLOB');
    expect(t('json')).toBe('JSON');
  });

  it('always quotes and escapes identifiers', () => {
    const d = new DuckDBDialect();
    expect(d.quoteIdentifier('a')).toBe('"a"');
    expect(d.quoteIdentifier('we"ird name')).toBe('"we""ird name"');
    expect(d.qualify({ schema: 'my ds', table: 'T"1' })).toBe('"my ds"."T""1"');
    expect(() => quoteIdentifierStandard('a\u0000b')).toThrow(/NUL/);
    // column names inside read_json's column map are string literals, escaped as such
    expect(d.readJsonSql([{ name: "it's", dataType: 'text', nullable: true }])).toContain(`'it''s': 'VARCHAR'`);
  });

  it('tells transient errors from errors of the data', () => {
    const d = new DuckDBDialect();
    expect(d.isTransientError(new Error('TransactionContext Error: Catalog write-write conflict on create with "x"'))).toBe(true);
    expect(d.isTransientError(new Error('IO Error: Could not set lock on file "x.duckdb"'))).toBe(true);
    expect(d.isTransientError(new Error('Invalid Input Error: Malformed JSON in file "x"'))).toBe(false);
    expect(d.isTransientError(new Error('Constraint Error: NOT NULL constraint failed: t.a'))).toBe(false);
    // The same job needs the same memory again: retrying it as if transient cannot help.
    expect(d.isTransientError(new Error('Out of Memory Error: failed to allocate data of size 16.0 KiB (244.1 MiB/244.1 MiB used)'))).toBe(false);
  });

  it("sizes read_json's line limit from the longest row normalize recorded, and reads DuckDB's memory sizes", () => {
    const d = new DuckDBDialect();
    const col = [{ name: 'a', dataType: 'text' as const, nullable: true }];
    expect(d.readJsonSql(col)).toContain(`maximum_object_size = ${MAX_OBJECT_SIZE}`);
    expect(d.readJsonSql(col, '$1', 2000)).toContain(`maximum_object_size = ${MAX_OBJECT_SIZE}`);
    expect(objectSizeFor(50 * 2 ** 20)).toBeGreaterThan(50 * 2 ** 20);
    expect(d.readJsonSql(col, '$1', 50 * 2 ** 20)).toContain(`maximum_object_size = ${objectSizeFor(50 * 2 ** 20)}`);
    expect(parseMemorySize('244.1 MiB')).toBeCloseTo(244.1 * 2 ** 20);
    expect(parseMemorySize('2GB')).toBe(2e9);
    expect(parseMemorySize('lots')).toBeUndefined();
  });
});

describe('duckdb factory and client', () => {
  it('refuses an option it does not take, from code or from JSON options (the CLI, a Temporal input)', () => {
    // a typo loaded into <pipelineName>.duckdb in the worker's directory, silently
    expect(() => resolveDestination('duckdb', { pathx: '/tmp/x.duckdb' })).toThrow(InvalidOptionsError);
    expect(() => resolveDestination('duckdb', { pathx: '/tmp/x.duckdb' })).toThrow(/unknown option "pathx"; it takes path, memoryLimit/);
    expect(() => duckdb({ memory_limit: '1GB' } as unknown as Parameters<typeof duckdb>[0])).toThrow(/unknown option "memory_limit"; did you mean memoryLimit\?/);
    expect(resolveDestination('duckdb', { path: '/tmp/x.duckdb', memoryLimit: '256MB', compressRowIds: true }).options).toEqual({ path: '/tmp/x.duckdb', memoryLimit: '256MB', compressRowIds: true });
  });

  it('defaults to <pipelineName>.duckdb in the working directory, like dlt', () => {
    const c = duckdb().createClient({ pipelineName: 'my_pipe', datasetName: 'ds' });
    expect(c.displayLocation).toBe(resolve(process.cwd(), 'my_pipe.duckdb'));
    expect(c.destinationName).toBe('duckdb');
    expect(c.datasetName).toBe('ds');
    expect(duckdb().options).toEqual({});
    expect(duckdb({ path: 'rel/x.duckdb' }).options).toEqual({ path: resolve('rel/x.duckdb') });
    expect(() => duckdb({ path: '' })).toThrow(InvalidOptionsError);
  });

  it('loads job files whose path has glob characters', async () => {
    const path = join(root, 'glob.duckdb');
    const client = duckdb({ path }).createClient({ pipelineName: 'p', datasetName: 'ds' });
    const schema = new Schema('s');
    schema.ensureTable('t', { writeDisposition: 'append' });
    schema.addColumn('t', { name: 'a', dataType: 'bigint', nullable: true });
    schema.bumpVersion();
    await client.updateStoredSchema(schema);
    writeFileSync(join(root, 't.1.0.jsonl'), '{"a":1}\n');
    const tricky = join(root, 't[1]*?{x}.jsonl');
    writeFileSync(tricky, '{"a":2}\n');
    await client.loadAppendJob('1', schema, { jobName: 't.2.0.jsonl', path: tricky, table: 't', format: 'jsonl' });
    expect(await client.query('SELECT a FROM t')).toEqual([{ a: 2 }]);
    await client.close();
  });

  it('returns query values as documented', async () => {
    const client = duckdb({ path: ':memory:' }).createClient({ pipelineName: 'p', datasetName: 'ds' });
    const [row] = await client.query(
      `SELECT 1::BIGINT AS small, 9007199254740993::BIGINT AS big, (-0.5)::DECIMAL(10,3) AS dec, DATE '2024-02-29' AS d,
        TIME '01:02:03' AS t, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS ts, '{"a":1}'::JSON AS j, 'x' AS s, NULL AS n,
        $1::TIMESTAMPTZ AS p_date, $2::BLOB AS p_blob`,
      [new Date('2024-05-06T07:08:09.010Z'), Uint8Array.from([1, 2])],
    );
    const { p_blob: _blob, ...rest } = row!;
    expect(rest).toEqual({
      small: 1,
      big: 9007199254740993n,
      dec: '-0.500',
      d: '2024-02-29',
      t: '01:02:03',
      ts: new Date('2024-01-01T00:00:00Z'),
      j: { a: 1 },
      s: 'x',
      n: null,
      p_date: new Date('2024-05-06T07:08:09.010Z'),
    });
    expect(row!.p_blob).toBeInstanceOf(Uint8Array);
    expect(Array.from(row!.p_blob as Uint8Array)).toEqual([1, 2]);
    await client.close();
  });

  it('shares one database instance per file and releases the file when the last client closes', async () => {
    const path = join(root, 'shared.duckdb');
    const f = duckdb({ path });
    const a = f.createClient({ pipelineName: 'p', datasetName: 'a' });
    const b = duckdb({ path: join(root, '.', 'x', '..', 'shared.duckdb') }).createClient({ pipelineName: 'p', datasetName: 'b' });
    await a.initializeStorage();
    await b.initializeStorage();
    await a.close();
    expect(await b.isStorageInitialized()).toBe(true);
    await b.close();
    await a.close(); // closing twice is harmless
    // the file is free again: a separate instance can open it
    const raw = await DuckDBInstance.create(path);
    const conn = await raw.connect();
    const r = await conn.runAndReadAll(`SELECT COUNT(*)::INTEGER AS n FROM information_schema.schemata WHERE schema_name IN ('a', 'b')`);
    expect(r.getRowObjectsJS()).toEqual([{ n: 2 }]);
    conn.closeSync();
    raw.closeSync();
  });
});
