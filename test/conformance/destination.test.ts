/**
 * The destination conformance suite: the same assertions about the data that lands, run
 * against every destination in DESTINATIONS. To add a destination, add an entry with a
 * factory for a fresh place, the type names its information_schema reports, and at least
 * one way to point it at something that cannot be opened.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { duckdb } from '../../src/destinations/duckdb/index.js';
import { postgres } from '../../src/destinations/postgres/index.js';
import { filesystem } from '../../src/destinations/filesystem/index.js';
import { resolveDestination } from '../../src/destinations/index.js';
import type { DestinationClient, DestinationFactory, JobFile } from '../../src/destinations/types.js';
import { DestinationUnreachableError, HaulError, LoadJobFailedError } from '../../src/errors.js';
import { Schema } from '../../src/schema/schema.js';
import type { ColumnSchema, DataType, WriteDisposition } from '../../src/schema/types.js';
import { PG_DATABASE, PG_URL } from '../postgres-env.js';
import { withJobFormat } from './formatted-jobs.js';

interface DestinationUnderTest {
  name: string;
  /** A factory whose clients work in a fresh place under `dir`. */
  factory(dir: string): DestinationFactory;
  /** `information_schema.columns.data_type` for each haul type (default precision). */
  expectedTypes: Record<DataType, string>;
  /** Factories pointing at places that cannot be opened (at least one), with the text the error must name. */
  unreachable(dir: string): Array<{ factory: DestinationFactory; names: string }>;
  /**
   * Factories that reach the destination but are refused (unknown user, missing database):
   * a non-retryable error with this code that names the place.
   */
  misconfigured?(): Array<{ factory: DestinationFactory; names: string; code: string }>;
  /**
   * What the destination does not do, each with the reason (dlt's filesystem: no merge, no
   * constraints, job files copied as normalize wrote them, markers as files not a table).
   * The cases that need it are skipped; the refusals are asserted instead where there is one.
   */
  lacks?: { merge?: string; constraints?: string; fileValidation?: string; jobsTable?: string };
}

const DESTINATIONS: DestinationUnderTest[] = [
  {
    name: 'duckdb',
    factory: (dir) => duckdb({ path: join(dir, 'conformance.duckdb') }),
    expectedTypes: {
      text: 'VARCHAR',
      bigint: 'BIGINT',
      double: 'DOUBLE',
      bool: 'BOOLEAN',
      timestamp: 'TIMESTAMP WITH TIME ZONE',
      date: 'DATE',
      time: 'TIME',
      decimal: 'DECIMAL(38,9)',
      binary: 'BLOB',
      json: 'JSON',
    },
    unreachable: (dir) => {
      const asDir = join(dir, 'is-a-directory.duckdb');
      mkdirSync(asDir, { recursive: true });
      const notDb = join(dir, 'not-a-database.duckdb');
      writeFileSync(notDb, 'this is a text file, not a DuckDB database\n'.repeat(200));
      return [
        { factory: duckdb({ path: asDir }), names: asDir },
        { factory: duckdb({ path: notDb }), names: notDb },
      ];
    },
  },
  {
    name: 'postgres',
    factory: () => postgres({ credentials: PG_URL }),
    expectedTypes: {
      text: 'character varying',
      bigint: 'bigint',
      double: 'double precision',
      bool: 'boolean',
      timestamp: 'timestamp with time zone',
      date: 'date',
      time: 'time without time zone',
      decimal: 'numeric',
      binary: 'bytea',
      json: 'jsonb',
    },
    unreachable: () => {
      // port 1 on this host: nothing listens, the connection is refused at once
      const refused = new URL(PG_URL);
      refused.port = '1';
      return [{ factory: postgres({ credentials: refused.toString() }), names: `${refused.hostname}:1/${PG_DATABASE}` }];
    },
    misconfigured: () => {
      const noDb = new URL(PG_URL);
      noDb.pathname = '/haul_no_such_database';
      const noUser = new URL(PG_URL);
      noUser.username = 'haul_no_such_role';
      return [
        { factory: postgres({ credentials: noDb.toString() }), names: `${noDb.hostname}:${noDb.port || 5432}/haul_no_such_database`, code: 'DestinationConfig' },
        { factory: postgres({ credentials: noUser.toString() }), names: `${noUser.hostname}:${noUser.port || 5432}/${PG_DATABASE}`, code: 'DestinationAuth' },
      ];
    },
  },
  {
    name: 'filesystem',
    factory: (dir) => filesystem({ bucketUrl: join(dir, 'bucket') }),
    // read through DuckDB views typed by the stored schema, as dlt reads a bucket
    expectedTypes: {
      text: 'VARCHAR',
      bigint: 'BIGINT',
      double: 'DOUBLE',
      bool: 'BOOLEAN',
      timestamp: 'TIMESTAMP WITH TIME ZONE',
      date: 'DATE',
      time: 'TIME',
      decimal: 'DECIMAL(38,9)',
      binary: 'BLOB',
      json: 'JSON',
    },
    unreachable: (dir) => {
      const file = join(dir, 'bucket-is-a-file');
      writeFileSync(file, 'not a folder\n');
      return [{ factory: filesystem({ bucketUrl: file }), names: file }];
    },
    lacks: {
      merge: 'dlt merges on a filesystem only into delta tables',
      constraints: 'files hold whatever rows normalize wrote; NOT NULL is not enforced',
      fileValidation: 'job files are copied as normalize wrote them, not parsed',
      jobsTable: 'job markers are files under _haul_jobs/, not a table',
    },
  },
];

// The filesystem once more per job file format it stores besides JSONL: the same cases over parquet and csv files.
const FILESYSTEM = DESTINATIONS.find((d) => d.name === 'filesystem')!;
for (const format of ['parquet', 'csv'] as const) {
  DESTINATIONS.push({ ...FILESYSTEM, name: `filesystem_${format}`, factory: (dir) => withJobFormat(FILESYSTEM.factory(dir), format) });
}

// ------------------------------------------------------------------ helpers

const ALL_TYPES: DataType[] = ['text', 'bigint', 'double', 'bool', 'timestamp', 'date', 'time', 'decimal', 'binary', 'json'];

function col(name: string, dataType: DataType, extra: Partial<ColumnSchema> = {}): ColumnSchema {
  return { name, dataType, nullable: true, ...extra };
}

const systemRootCols = (): ColumnSchema[] => [
  col('_dlt_load_id', 'text', { nullable: false }),
  col('_dlt_id', 'text', { nullable: false, rowKey: true }),
];
const childCols = (): ColumnSchema[] => [
  col('_dlt_root_id', 'text', { nullable: false, rootKey: true }),
  col('_dlt_parent_id', 'text', { nullable: false, parentKey: true }),
  col('_dlt_list_idx', 'bigint', { nullable: false }),
  col('_dlt_id', 'text', { nullable: false, rowKey: true }),
];

function addTable(
  schema: Schema,
  name: string,
  columns: ColumnSchema[],
  opts: { parent?: string; writeDisposition?: WriteDisposition } = {},
): void {
  schema.ensureTable(name, opts.parent ? { parent: opts.parent } : { writeDisposition: opts.writeDisposition ?? 'append', resource: name });
  for (const c of columns) schema.addColumn(name, c);
  schema.bumpVersion();
}

let fileCounter = 0;
/** Writes a JSONL job file (canonical values) and returns its JobFile. */
function jobFile(dir: string, table: string, rows: Array<Record<string, unknown>>): JobFile {
  const jobName = `${table}.${(++fileCounter).toString(36).padStart(6, '0')}.0.jsonl`;
  const path = join(dir, jobName);
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
  return { jobName, path, table, format: 'jsonl' };
}

let idCounter = 0;
const nextId = () => `id${(++idCounter).toString(36)}`;

// ------------------------------------------------------------------ the suite

describe.each(DESTINATIONS)('destination conformance: $name', (dut) => {
  let root: string;
  let dir: string;
  let datasetCounter = 0;
  const open: DestinationClient[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), `haul-conf-${dut.name}-`));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const c of open.splice(0)) {
      try {
        await c.dropDataset();
      } finally {
        await c.close();
      }
    }
  });

  async function newClient(datasetName?: string, factory?: DestinationFactory): Promise<DestinationClient> {
    dir = mkdtempSync(join(root, 'case-'));
    const f = factory ?? dut.factory(root);
    const client = f.createClient({
      pipelineName: 'conformance',
      datasetName: datasetName ?? `conf_${process.pid}_${++datasetCounter}`,
    });
    await client.open();
    open.push(client);
    return client;
  }

  /** Qualified name of a dataset table, quoted like any identifier. */
  const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
  const ds = (client: DestinationClient, table: string) =>
    `${q(client.datasetName)}.${q(table)}`;

  async function rows<T = Record<string, unknown>>(client: DestinationClient, table: string, orderBy = '_dlt_id'): Promise<T[]> {
    return client.query<T>(`SELECT * FROM ${ds(client, table)} ORDER BY ${q(orderBy)}`);
  }
  async function count(client: DestinationClient, table: string): Promise<number> {
    const r = await client.query<{ n: number | bigint }>(`SELECT COUNT(*) AS n FROM ${ds(client, table)}`);
    return Number(r[0]!.n);
  }
  async function columnTypes(client: DestinationClient, table: string): Promise<Record<string, string>> {
    const r = await client.query<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [client.datasetName, table],
    );
    return Object.fromEntries(r.map((x) => [x.column_name, x.data_type]));
  }

  function allTypesSchema(): Schema {
    const s = new Schema('conformance');
    addTable(s, 'all_types', [...ALL_TYPES.map((t) => col(`c_${t}`, t)), ...systemRootCols()]);
    return s;
  }

  // ---------------------------------------------------------------- schema

  it('creates tables from a schema with the mapped column types', async () => {
    const client = await newClient();
    expect(await client.isStorageInitialized()).toBe(false);
    await client.initializeStorage();
    expect(await client.isStorageInitialized()).toBe(true);
    const schema = allTypesSchema();
    expect(await client.updateStoredSchema(schema)).toEqual(['all_types']);

    const types = await columnTypes(client, 'all_types');
    for (const t of ALL_TYPES) expect(types[`c_${t}`], `type of c_${t}`).toBe(dut.expectedTypes[t]);
    expect(types._dlt_id).toBe(dut.expectedTypes.text);

    // system tables with dlt's columns
    expect(Object.keys(await columnTypes(client, '_dlt_loads'))).toEqual(['load_id', 'schema_name', 'status', 'inserted_at', 'schema_version_hash']);
    expect(Object.keys(await columnTypes(client, '_dlt_version'))).toEqual(['version', 'engine_version', 'inserted_at', 'schema_name', 'version_hash', 'schema']);
    if (!dut.lacks?.jobsTable) expect(Object.keys(await columnTypes(client, '_haul_jobs'))).toEqual(['load_id', 'job_name', 'inserted_at']);
    expect(Object.keys(await columnTypes(client, '_dlt_pipeline_state'))).toEqual([
      'version', 'engine_version', 'pipeline_name', 'state', 'created_at', 'version_hash', '_dlt_load_id', '_dlt_id',
    ]);

    // migrating again changes nothing and stores no second version row
    expect(await client.updateStoredSchema(schema)).toEqual([]);
    expect(await count(client, '_dlt_version')).toBe(1);
  });

  it('honours precision, scale and nullability hints', async () => {
    const client = await newClient();
    const s = new Schema('conformance');
    addTable(s, 'hinted', [col('amount', 'decimal', { precision: 10, scale: 2 }), col('req', 'text', { nullable: false })]);
    await client.updateStoredSchema(s);
    const types = await columnTypes(client, 'hinted');
    expect(types.amount).toMatch(/DECIMAL\(10,\s*2\)|numeric/i);
    if (dut.lacks?.constraints) return;
    const f = jobFile(dir, 'hinted', [{ amount: '12.345' }]); // req missing -> NULL -> NOT NULL violated
    await expect(client.loadAppendJob('1.1', s, f)).rejects.toBeInstanceOf(LoadJobFailedError);
    expect(await count(client, 'hinted')).toBe(0);
  });

  it('adds a column later without touching existing rows', async () => {
    const client = await newClient();
    const schema = new Schema('conformance');
    addTable(schema, 'evolving', [col('a', 'bigint'), ...systemRootCols()]);
    await client.updateStoredSchema(schema);
    await client.loadAppendJob('100.1', schema, jobFile(dir, 'evolving', [{ a: 1, _dlt_load_id: '100.1', _dlt_id: 'r1' }]));

    schema.addColumn('evolving', col('b', 'text'));
    schema.addColumn('evolving', col('c', 'timestamp', { nullable: false }));
    schema.bumpVersion();
    expect(await client.updateStoredSchema(schema, ['evolving'])).toEqual(['evolving']);
    const types = await columnTypes(client, 'evolving');
    expect(Object.keys(types)).toEqual(['a', '_dlt_load_id', '_dlt_id', 'b', 'c']);
    expect(types.c).toBe(dut.expectedTypes.timestamp);
    expect(await count(client, '_dlt_version')).toBe(2);

    await client.loadAppendJob('100.2', schema, jobFile(dir, 'evolving', [{ a: 2, b: 'x', c: '2024-05-01T10:00:00Z', _dlt_load_id: '100.2', _dlt_id: 'r2' }]));
    const got = await rows<{ a: number; b: string | null; c: Date | null }>(client, 'evolving');
    expect(got.map((r) => [r.a, r.b, r.c?.toISOString() ?? null])).toEqual([
      [1, null, null],
      [2, 'x', '2024-05-01T10:00:00.000Z'],
    ]);
  });

  // ---------------------------------------------------------------- append

  it('appends a job with its marker, converting canonical values', async () => {
    const client = await newClient();
    const schema = allTypesSchema();
    await client.updateStoredSchema(schema);
    const loadId = '1700000000.000001';
    const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
    const job = jobFile(dir, 'all_types', [
      {
        c_text: 'héllo "world"\n',
        c_bigint: 42,
        c_double: 1.5,
        c_bool: true,
        c_timestamp: '2024-01-02T03:04:05.123Z',
        c_date: '2024-02-29',
        c_time: '13:14:15.5',
        c_decimal: '12345678901234567890.123456789',
        c_binary: Buffer.from(bytes).toString('base64'),
        c_json: { a: [1, 'two', null], b: { c: true } },
        _dlt_load_id: loadId,
        _dlt_id: 'a',
      },
      { c_bigint: '9223372036854775807', c_json: 'just a string', _dlt_load_id: loadId, _dlt_id: 'b' },
      { _dlt_load_id: loadId, _dlt_id: 'c', c_json: null, c_unknown_key: 'ignored' },
    ]);
    await client.loadAppendJob(loadId, schema, job);

    const got = await rows(client, 'all_types');
    expect(got).toHaveLength(3);
    const [a, b, c] = got as Array<Record<string, unknown>>;
    expect(a!.c_text).toBe('héllo "world"\n');
    expect(a!.c_bigint).toBe(42);
    expect(a!.c_double).toBe(1.5);
    expect(a!.c_bool).toBe(true);
    expect(a!.c_timestamp).toBeInstanceOf(Date);
    expect((a!.c_timestamp as Date).toISOString()).toBe('2024-01-02T03:04:05.123Z');
    expect(a!.c_date).toBe('2024-02-29');
    expect(a!.c_time).toMatch(/^13:14:15\.50*$/);
    expect(a!.c_decimal).toBe('12345678901234567890.123456789');
    expect(Array.from(a!.c_binary as Uint8Array)).toEqual(Array.from(bytes));
    expect(a!.c_json).toEqual({ a: [1, 'two', null], b: { c: true } });
    expect(b!.c_bigint).toBe(9223372036854775807n);
    expect(b!.c_json).toBe('just a string');
    for (const t of ALL_TYPES) expect(c![`c_${t}`], `c_${t} missing -> NULL`).toBeNull();

    expect(await client.completedJobs(loadId)).toEqual(new Set([job.jobName]));
    expect(await client.completedJobs('other')).toEqual(new Set());
  });

  it('never loads a job twice: a committed job has a marker, and a replay is a no-op', async () => {
    const client = await newClient();
    const schema = new Schema('conformance');
    addTable(schema, 'events', [col('n', 'bigint'), ...systemRootCols()]);
    await client.updateStoredSchema(schema);
    const loadId = '1700000001.1';
    const job = jobFile(dir, 'events', [1, 2, 3].map((n) => ({ n, _dlt_load_id: loadId, _dlt_id: nextId() })));
    await client.loadAppendJob(loadId, schema, job);

    // The caller (load step) resumes by skipping jobs whose marker exists...
    const done = await client.completedJobs(loadId);
    expect(done.has(job.jobName)).toBe(true);
    // ...and even a replay that gets through is recognised inside the transaction.
    await client.loadAppendJob(loadId, schema, job);
    expect(await count(client, 'events')).toBe(3);

    // the same file name in another load is another job
    await client.loadAppendJob('1700000002.1', schema, job);
    expect(await count(client, 'events')).toBe(6);
  });

  it('completeLoad writes _dlt_loads and clears the markers, once', async () => {
    const client = await newClient();
    const schema = new Schema('conformance');
    addTable(schema, 'events', [col('n', 'bigint'), ...systemRootCols()]);
    await client.updateStoredSchema(schema);
    const loadId = '1700000003.5';
    const job = jobFile(dir, 'events', [{ n: 1, _dlt_load_id: loadId, _dlt_id: 'x' }]);
    expect(await client.isLoadCompleted(loadId)).toBe(false);
    await client.loadAppendJob(loadId, schema, job);
    await client.completeLoad(loadId, schema.name, schema.versionHash);
    await client.completeLoad(loadId, schema.name, schema.versionHash); // idempotent

    const loads = await client.query<Record<string, unknown>>(`SELECT * FROM ${ds(client, '_dlt_loads')}`);
    expect(loads).toHaveLength(1);
    expect(loads[0]).toMatchObject({ load_id: loadId, schema_name: 'conformance', status: 0, schema_version_hash: schema.versionHash });
    expect(loads[0]!.inserted_at).toBeInstanceOf(Date);
    expect(await client.isLoadCompleted(loadId)).toBe(true);
    expect(await client.completedJobs(loadId)).toEqual(new Set());
    if (!dut.lacks?.jobsTable) expect(await count(client, '_haul_jobs')).toBe(0);
  });

  it('works on a fresh dataset before anything exists', async () => {
    const client = await newClient();
    expect(await client.isLoadCompleted('1')).toBe(false);
    expect(await client.completedJobs('1')).toEqual(new Set());
    expect(await client.getStoredSchema('conformance')).toBeUndefined();
    expect(await client.getStoredState('conformance')).toBeUndefined();
    await client.truncateTables(['nope']);
    await client.dropTables(['nope']);
    await client.dropDataset();
  });

  // ---------------------------------------------------------------- replace

  function nestedSchema(disposition: WriteDisposition, keys: { primaryKey?: boolean; mergeKey?: string } = {}): Schema {
    const s = new Schema('conformance');
    addTable(
      s,
      'users',
      [
        col('id', 'bigint', { nullable: false, primaryKey: keys.primaryKey }),
        col('name', 'text'),
        col('day', 'date', { mergeKey: keys.mergeKey === 'day' }),
        ...systemRootCols(),
      ],
      { writeDisposition: disposition },
    );
    addTable(s, 'users__tags', [col('value', 'text'), ...childCols()], { parent: 'users' });
    return s;
  }

  /** Rows of a user and its tags as canonical JSONL objects. */
  function user(loadId: string, id: number, name: string, tags: string[], day = '2024-01-01') {
    const rid = `${id}-${name}-${nextId()}`;
    return {
      root: { id, name, day, _dlt_load_id: loadId, _dlt_id: rid },
      tags: tags.map((value, i) => ({ value, _dlt_root_id: rid, _dlt_parent_id: rid, _dlt_list_idx: i, _dlt_id: `${rid}-t${i}` })),
    };
  }
  function files(table: string, users: Array<ReturnType<typeof user>>): JobFile[] {
    return [jobFile(dir, table, users.map((u) => u.root)), jobFile(dir, `${table}__tags`, users.flatMap((u) => u.tags))];
  }
  async function usersAndTags(client: DestinationClient) {
    const us = await client.query<{ id: number; name: string; _dlt_id: string }>(
      `SELECT id, name, _dlt_id FROM ${ds(client, 'users')} ORDER BY id, name`,
    );
    const tags = await client.query<{ value: string; _dlt_root_id: string }>(
      `SELECT value, _dlt_root_id FROM ${ds(client, 'users__tags')} ORDER BY value`,
    );
    return {
      users: us.map((u) => `${u.id}:${u.name}`),
      tags: tags.map((t) => `${us.find((u) => u._dlt_id === t._dlt_root_id)?.id ?? 'orphan'}:${t.value}`).sort(),
    };
  }

  it('replace truncates the whole chain and inserts the new files in one transaction', async () => {
    const client = await newClient();
    const schema = nestedSchema('replace');
    await client.updateStoredSchema(schema);
    const chain = { disposition: 'replace' as const, tables: ['users', 'users__tags'] };

    await client.loadTableChain('1', schema, { ...chain, files: files('users', [user('1', 1, 'a', ['x', 'y']), user('1', 2, 'b', ['z'])]) });
    expect(await usersAndTags(client)).toEqual({ users: ['1:a', '2:b'], tags: ['1:x', '1:y', '2:z'] });

    const second = files('users', [user('2', 3, 'c', ['w'])]);
    await client.loadTableChain('2', schema, { ...chain, files: second });
    expect(await usersAndTags(client)).toEqual({ users: ['3:c'], tags: ['3:w'] });
    expect(await client.completedJobs('2')).toEqual(new Set(second.map((f) => f.jobName)));

    // replaying a committed chain does not truncate again
    await client.loadTableChain('2', schema, { ...chain, files: second });
    expect(await usersAndTags(client)).toEqual({ users: ['3:c'], tags: ['3:w'] });

    // a replace with no rows at all still empties every table of the chain
    await client.loadTableChain('3', schema, { ...chain, files: [] });
    expect(await count(client, 'users')).toBe(0);
    expect(await count(client, 'users__tags')).toBe(0);
  });

  it('replace with only root rows empties the nested table too', async () => {
    const client = await newClient();
    const schema = nestedSchema('replace');
    await client.updateStoredSchema(schema);
    const chain = { disposition: 'replace' as const, tables: ['users', 'users__tags'] };
    await client.loadTableChain('1', schema, { ...chain, files: files('users', [user('1', 1, 'a', ['x'])]) });
    await client.loadTableChain('2', schema, { ...chain, files: [jobFile(dir, 'users', [user('2', 2, 'b', []).root])] });
    expect(await usersAndTags(client)).toEqual({ users: ['2:b'], tags: [] });
  });

  // ---------------------------------------------------------------- merge

  it.runIf(!!dut.lacks?.merge)('refuses merge with a typed error, before a file is written', async () => {
    const client = await newClient();
    const schema = nestedSchema('merge', { primaryKey: true });
    await client.updateStoredSchema(schema);
    expect(client.capabilities.supportedWriteDispositions).not.toContain('merge');
    expect(client.capabilities.unsupportedWriteDispositionAdvice?.merge).toMatch(/delta/);
    const err = await client
      .loadTableChain('1', schema, { disposition: 'merge', tables: ['users', 'users__tags'], files: files('users', [user('1', 1, 'a', ['x'])]) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HaulError);
    expect((err as HaulError).retryable).toBe(false);
    expect((err as Error).message).toMatch(/merge only for delta tables/);
    expect(await count(client, 'users')).toBe(0);
    expect(await client.completedJobs('1')).toEqual(new Set());
  });

  it.skipIf(!!dut.lacks?.merge)('merge on the primary key updates rows and replaces their nested rows', async () => {
    const client = await newClient();
    const schema = nestedSchema('merge', { primaryKey: true });
    await client.updateStoredSchema(schema);
    const chain = { disposition: 'merge' as const, tables: ['users', 'users__tags'] };

    await client.loadTableChain('1', schema, { ...chain, files: files('users', [user('1', 1, 'a', ['a1', 'a2']), user('1', 2, 'b', ['b1', 'b2'])]) });
    await client.completeLoad('1', schema.name, schema.versionHash);
    expect(await usersAndTags(client)).toEqual({ users: ['1:a', '2:b'], tags: ['1:a1', '1:a2', '2:b1', '2:b2'] });

    await client.loadTableChain('2', schema, { ...chain, files: files('users', [user('2', 2, 'b-new', ['b3']), user('2', 3, 'c', ['c1'])]) });
    expect(await usersAndTags(client)).toEqual({ users: ['1:a', '2:b-new', '3:c'], tags: ['1:a1', '1:a2', '2:b3', '3:c1'] });

    // an update with no nested rows removes the old nested rows
    await client.loadTableChain('3', schema, { ...chain, files: files('users', [user('3', 1, 'a-new', [])]) });
    expect(await usersAndTags(client)).toEqual({ users: ['1:a-new', '2:b-new', '3:c'], tags: ['2:b3', '3:c1'] });
    expect(await client.completedJobs('3')).toHaveProperty('size', 2);
  });

  it.skipIf(!!dut.lacks?.merge)('merge keeps the last row of a primary key seen twice in one load (file order)', async () => {
    const client = await newClient();
    const schema = nestedSchema('merge', { primaryKey: true });
    await client.updateStoredSchema(schema);
    const first = [user('1', 1, 'first', ['f']), user('1', 2, 'only', ['o']), user('1', 1, 'second', ['s'])];
    const second = [user('1', 1, 'third', ['t1', 't2'])];
    await client.loadTableChain('1', schema, {
      disposition: 'merge',
      tables: ['users', 'users__tags'],
      files: [...files('users', first), ...files('users', second)],
    });
    expect(await usersAndTags(client)).toEqual({ users: ['1:third', '2:only'], tags: ['1:t1', '1:t2', '2:o'] });
  });

  it.skipIf(!!dut.lacks?.merge)('merge keeps the last duplicate across many rows (order survives parallel reading)', async () => {
    const client = await newClient();
    const schema = nestedSchema('merge', { primaryKey: true });
    await client.updateStoredSchema(schema);
    // 200k rows over 1000 keys: the kept row per key must be the last one in the file.
    const n = 200_000;
    const rowsOut = Array.from({ length: n }, (_, i) => ({ id: i % 1000, name: `v${i}`, day: '2024-01-01', _dlt_load_id: '1', _dlt_id: `r${i}` }));
    await client.loadTableChain('1', schema, { disposition: 'merge', tables: ['users', 'users__tags'], files: [jobFile(dir, 'users', rowsOut)] });
    const got = await client.query<{ id: number; name: string }>(`SELECT id, name FROM ${ds(client, 'users')} ORDER BY id`);
    expect(got).toHaveLength(1000);
    expect(got.every((r) => r.name === `v${n - 1000 + r.id}`)).toBe(true);
  });

  it.skipIf(!!dut.lacks?.merge)('merge with only a merge key deletes matching rows and inserts all staged rows', async () => {
    const client = await newClient();
    const schema = nestedSchema('merge', { mergeKey: 'day' });
    await client.updateStoredSchema(schema);
    const chain = { disposition: 'merge' as const, tables: ['users', 'users__tags'] };
    await client.loadTableChain('1', schema, {
      ...chain,
      files: files('users', [user('1', 1, 'd1a', ['x'], '2024-01-01'), user('1', 2, 'd1b', [], '2024-01-01'), user('1', 3, 'd2', ['y'], '2024-01-02')]),
    });
    await client.loadTableChain('2', schema, {
      ...chain,
      files: files('users', [user('2', 3, 'd2-new', ['z'], '2024-01-02'), user('2', 3, 'd2-dup', ['w'], '2024-01-02')]),
    });
    expect(await usersAndTags(client)).toEqual({ users: ['1:d1a', '2:d1b', '3:d2-dup', '3:d2-new'], tags: ['1:x', '3:w', '3:z'] });
  });

  it.skipIf(!!dut.lacks?.merge)('merge without any key appends', async () => {
    const client = await newClient();
    const schema = nestedSchema('merge');
    await client.updateStoredSchema(schema);
    const chain = { disposition: 'merge' as const, tables: ['users', 'users__tags'] };
    await client.loadTableChain('1', schema, { ...chain, files: files('users', [user('1', 1, 'a', ['x'])]) });
    await client.loadTableChain('2', schema, { ...chain, files: files('users', [user('2', 1, 'a', ['x'])]) });
    expect(await usersAndTags(client)).toEqual({ users: ['1:a', '1:a'], tags: ['1:x', '1:x'] });
  });

  it('never replays a committed chain, even where the replay would change the result', async () => {
    // A retried load (crash after the commit) may call loadTableChain again with the same
    // load id and files: the chain's markers must make that a no-op, not a second load.
    const chain = { tables: ['users', 'users__tags'] };

    // merge without a key appends: a replay would add the rows again
    if (!dut.lacks?.merge) {
    const appending = await newClient();
    const plain = nestedSchema('merge');
    await appending.updateStoredSchema(plain);
    const once = { ...chain, disposition: 'merge' as const, files: files('users', [user('1', 1, 'a', ['x'])]) };
    await appending.loadTableChain('1', plain, once);
    await appending.loadTableChain('1', plain, once);
    expect(await usersAndTags(appending)).toEqual({ users: ['1:a'], tags: ['1:x'] });
    }

    // replace, then the table changed: a replay would truncate the newer rows away
    const replacing = await newClient();
    const rschema = nestedSchema('replace');
    await replacing.updateStoredSchema(rschema);
    const replaced = { ...chain, disposition: 'replace' as const, files: files('users', [user('2', 2, 'b', ['y'])]) };
    await replacing.loadTableChain('2', rschema, replaced);
    for (const f of files('users', [user('3', 3, 'c', ['z'])])) await replacing.loadAppendJob('3', rschema, f);
    await replacing.loadTableChain('2', rschema, replaced);
    expect(await usersAndTags(replacing)).toEqual({ users: ['2:b', '3:c'], tags: ['2:y', '3:z'] });

    // merge on the key, then a newer load updated the row: a replay would bring the old one back
    if (dut.lacks?.merge) return;
    const merging = await newClient();
    const keyed = nestedSchema('merge', { primaryKey: true });
    await merging.updateStoredSchema(keyed);
    const older = { ...chain, disposition: 'merge' as const, files: files('users', [user('4', 4, 'old', ['o'])]) };
    await merging.loadTableChain('4', keyed, older);
    await merging.loadTableChain('5', keyed, { ...chain, disposition: 'merge', files: files('users', [user('5', 4, 'new', ['n'])]) });
    await merging.loadTableChain('4', keyed, older);
    expect(await usersAndTags(merging)).toEqual({ users: ['4:new'], tags: ['4:n'] });
  });

  // ---------------------------------------------------------------- stored schema and state

  it('round-trips the stored schema (newest version wins)', async () => {
    const client = await newClient();
    const schema = allTypesSchema();
    await client.updateStoredSchema(schema);
    expect(await client.getStoredSchema('conformance')).toEqual(schema.toStored());
    expect(await client.getStoredSchema('other')).toBeUndefined();

    schema.addColumn('all_types', col('later', 'bigint'));
    schema.bumpVersion();
    await client.updateStoredSchema(schema);
    const stored = await client.getStoredSchema('conformance');
    expect(stored?.version).toBe(schema.version);
    expect(stored).toEqual(schema.toStored());
  });

  it('returns the newest state of a completed load', async () => {
    const client = await newClient();
    const schema = new Schema('conformance');
    await client.initializeStorage();
    expect(await client.getStoredState('pipe')).toBeUndefined();
    const stateRow = (loadId: string, version: number, pipeline = 'pipe') => ({
      version,
      engine_version: 1,
      pipeline_name: pipeline,
      state: JSON.stringify({ v: version }),
      created_at: `2024-03-0${version}T00:00:00Z`,
      version_hash: `h${version}`,
      _dlt_load_id: loadId,
      _dlt_id: nextId(),
    });
    addTable(schema, '_dlt_pipeline_state', [
      col('version', 'bigint', { nullable: false }),
      col('engine_version', 'bigint', { nullable: false }),
      col('pipeline_name', 'text', { nullable: false }),
      col('state', 'text', { nullable: false }),
      col('created_at', 'timestamp', { nullable: false }),
      col('version_hash', 'text'),
      col('_dlt_load_id', 'text', { nullable: false }),
      col('_dlt_id', 'text', { nullable: false }),
    ]);
    await client.updateStoredSchema(schema);
    await client.loadAppendJob('100.1', schema, jobFile(dir, '_dlt_pipeline_state', [stateRow('100.1', 1), stateRow('100.1', 2, 'other')]));
    await client.completeLoad('100.1', 'conformance', schema.versionHash);
    await client.loadAppendJob('100.2', schema, jobFile(dir, '_dlt_pipeline_state', [stateRow('100.2', 3)]));
    await client.completeLoad('100.2', 'conformance', schema.versionHash);
    // a newer state whose load never completed does not count
    await client.loadAppendJob('100.3', schema, jobFile(dir, '_dlt_pipeline_state', [stateRow('100.3', 4)]));

    const st = await client.getStoredState('pipe');
    expect(st).toEqual({
      version: 3,
      engineVersion: 1,
      pipelineName: 'pipe',
      state: '{"v":3}',
      createdAt: new Date('2024-03-03T00:00:00Z'),
      versionHash: 'h3',
      loadId: '100.2',
    });
    expect((await client.getStoredState('other'))?.version).toBe(2);
    expect(await client.getStoredState('missing')).toBeUndefined();
  });

  // ---------------------------------------------------------------- maintenance

  it('truncates tables, drops tables and drops the dataset', async () => {
    const client = await newClient();
    const schema = nestedSchema('append');
    await client.updateStoredSchema(schema);
    for (const f of files('users', [user('1', 1, 'a', ['x'])])) await client.loadAppendJob('1', schema, f);
    expect(await count(client, 'users__tags')).toBe(1);

    await client.truncateTables(['users', 'users__tags', 'not_there']);
    expect(await count(client, 'users')).toBe(0);
    expect(await count(client, 'users__tags')).toBe(0);

    await client.dropTables(['users__tags', 'not_there']);
    expect(Object.keys(await columnTypes(client, 'users__tags'))).toEqual([]);
    expect(Object.keys(await columnTypes(client, 'users'))).not.toEqual([]);
    // a dropped table comes back on the next migration
    expect(await client.updateStoredSchema(schema)).toEqual(['users__tags']);

    await client.dropDataset();
    expect(await client.isStorageInitialized()).toBe(false);
    const schemas = await client.query('SELECT schema_name FROM information_schema.schemata WHERE schema_name = $1', [
      client.datasetName,
    ]);
    expect(schemas).toEqual([]);
    // and the client still works afterwards
    await client.initializeStorage();
    expect(await client.isStorageInitialized()).toBe(true);
  });

  // ---------------------------------------------------------------- identifiers

  it('quotes identifiers with quotes, spaces and upper case safely', async () => {
    const client = await newClient(`Conf "Weird" ds ${process.pid}`);
    const schema = new Schema('conformance');
    const table = 'we"ird name';
    // merge where the destination has it: replace leaves the same rows (only load 2's)
    const disposition = dut.lacks?.merge ? ('replace' as const) : ('merge' as const);
    addTable(schema, table, [col('Mixed Case "col"', 'text', { primaryKey: true }), col("it's; DROP TABLE x; --", 'bigint'), ...systemRootCols()], {
      writeDisposition: disposition,
    });
    addTable(schema, `${table}__Kids`, [col('v"al', 'text'), ...childCols()], { parent: table });
    await client.updateStoredSchema(schema);
    const rid = 'r"1';
    const chain = (loadId: string, value: number, kid: string) => ({
      disposition,
      tables: [table, `${table}__Kids`],
      files: [
        jobFile(dir, table, [{ 'Mixed Case "col"': 'k"1', "it's; DROP TABLE x; --": value, _dlt_load_id: loadId, _dlt_id: `${rid}${loadId}` }]),
        jobFile(dir, `${table}__Kids`, [{ 'v"al': kid, _dlt_root_id: `${rid}${loadId}`, _dlt_parent_id: `${rid}${loadId}`, _dlt_list_idx: 0, _dlt_id: `k${loadId}` }]),
      ],
    });
    await client.loadTableChain('1', schema, chain('1', 1, 'kid-1'));
    await client.loadTableChain('2', schema, chain('2', 2, 'kid-2'));
    const got = await client.query(`SELECT * FROM ${ds(client, table)}`);
    expect(got).toEqual([{ 'Mixed Case "col"': 'k"1', "it's; DROP TABLE x; --": 2, _dlt_load_id: '2', _dlt_id: `${rid}2` }]);
    const kids = await client.query<Record<string, unknown>>(`SELECT "v""al" FROM ${ds(client, `${table}__Kids`)}`);
    expect(kids).toEqual([{ 'v"al': 'kid-2' }]);
    // unqualified names resolve to the dataset
    expect(await client.query(`SELECT COUNT(*) AS n FROM ${q(table)}`)).toEqual([{ n: 1 }]);
    await client.completeLoad('2', schema.name, schema.versionHash);
    expect(await client.isLoadCompleted('2')).toBe(true);
  });

  // ---------------------------------------------------------------- failures

  it.runIf(!!dut.lacks?.fileValidation)('a job file that cannot be read fails with a typed error naming it', async () => {
    const client = await newClient();
    const schema = new Schema('conformance');
    addTable(schema, 'events', [col('n', 'bigint'), ...systemRootCols()]);
    await client.updateStoredSchema(schema);
    const gone = { jobName: 'events.gone.0.jsonl', path: join(dir, 'gone.jsonl'), table: 'events', format: 'jsonl' as const };
    const err = await client.loadAppendJob('2', schema, gone).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoadJobFailedError);
    expect((err as LoadJobFailedError).jobFile).toBe(gone.jobName);
    expect((err as Error).message).toContain(gone.path);
    expect(await count(client, 'events')).toBe(0);
    expect(await client.completedJobs('2')).toEqual(new Set());
  });

  it.skipIf(!!dut.lacks?.fileValidation)('a broken job file fails with a typed error naming the file and changes nothing', async () => {
    const client = await newClient();
    const schema = new Schema('conformance');
    addTable(schema, 'events', [col('n', 'bigint'), ...systemRootCols()]);
    await client.updateStoredSchema(schema);
    await client.loadAppendJob('1', schema, jobFile(dir, 'events', [{ n: 1, _dlt_load_id: '1', _dlt_id: 'a' }]));

    const broken = jobFile(dir, 'events', [{ n: 2, _dlt_load_id: '2', _dlt_id: 'b' }]);
    writeFileSync(broken.path, `${JSON.stringify({ n: 2, _dlt_load_id: '2', _dlt_id: 'b' })}\n{"n": 3, "_dlt_id": \n`);
    const err = await client.loadAppendJob('2', schema, broken).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LoadJobFailedError);
    const e = err as LoadJobFailedError;
    expect(e.code).toBe('LoadJobFailed');
    expect(e.retryable).toBe(false);
    expect(e.jobFile).toBe(broken.jobName);
    expect(e.message).toContain(broken.jobName);
    expect(e.message).toContain(broken.path);
    expect(await count(client, 'events')).toBe(1);
    expect(await client.completedJobs('2')).toEqual(new Set());

    // a value that cannot be converted is a broken file too
    const badValue = jobFile(dir, 'events', [{ n: 4, _dlt_load_id: '2', _dlt_id: 'c' }, { n: 'not a number', _dlt_load_id: '2', _dlt_id: 'd' }]);
    await expect(client.loadAppendJob('2', schema, badValue)).rejects.toBeInstanceOf(LoadJobFailedError);
    // a missing file as well
    await expect(client.loadAppendJob('2', schema, { ...badValue, path: join(dir, 'gone.jsonl') })).rejects.toThrow(/gone\.jsonl/);
    expect(await count(client, 'events')).toBe(1);
  });

  it.skipIf(!!dut.lacks?.merge)('a broken file in a merge chain rolls back the whole chain', async () => {
    const client = await newClient();
    const schema = nestedSchema('merge', { primaryKey: true });
    await client.updateStoredSchema(schema);
    const chain = { disposition: 'merge' as const, tables: ['users', 'users__tags'] };
    await client.loadTableChain('1', schema, { ...chain, files: files('users', [user('1', 1, 'a', ['x'])]) });
    const next = files('users', [user('2', 1, 'a-new', ['y'])]);
    writeFileSync(next[1]!.path, '{"value": "y", broken\n');
    await expect(client.loadTableChain('2', schema, { ...chain, files: next })).rejects.toSatisfy(
      (e: unknown) => e instanceof LoadJobFailedError && e.jobFile === next[1]!.jobName && e.message.includes(next[1]!.path),
    );
    expect(await usersAndTags(client)).toEqual({ users: ['1:a'], tags: ['1:x'] });
    expect(await client.completedJobs('2')).toEqual(new Set());

    // same for replace: nothing truncated
    const rschema = nestedSchema('replace');
    const rfiles = files('users', [user('3', 9, 'z', [])]);
    writeFileSync(rfiles[0]!.path, 'not json at all\n');
    await expect(
      client.loadTableChain('3', rschema, { disposition: 'replace', tables: ['users', 'users__tags'], files: rfiles }),
    ).rejects.toBeInstanceOf(LoadJobFailedError);
    expect(await usersAndTags(client)).toEqual({ users: ['1:a'], tags: ['1:x'] });
  });

  it('a destination that cannot be opened gives DestinationUnreachableError naming the place', async () => {
    const cases = dut.unreachable(root);
    expect(cases.length, 'a destination declares at least one place that cannot be opened').toBeGreaterThan(0);
    for (const { factory, names } of cases) {
      const client = factory.createClient({ pipelineName: 'conformance', datasetName: 'x' });
      const err = await client.open().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, names).toBeInstanceOf(DestinationUnreachableError);
      expect((err as HaulError).message).toContain(names);
      expect((err as HaulError).retryable).toBe(true);
      await client.close();
    }
  });

  it('a destination that refuses the connection gives a non-retryable typed error naming the place', async () => {
    if (!dut.misconfigured) return;
    for (const { factory, names, code } of dut.misconfigured()) {
      const client = factory.createClient({ pipelineName: 'conformance', datasetName: 'x' });
      const err = await client.open().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, names).toBeInstanceOf(HaulError);
      expect((err as HaulError).code, names).toBe(code);
      expect((err as HaulError).message).toContain(names);
      expect((err as HaulError).retryable).toBe(false);
      await client.close();
    }
  });

  it('two clients on the same destination work side by side', async () => {
    const a = await newClient();
    const b = await newClient();
    const schema = new Schema('conformance');
    addTable(schema, 'events', [col('n', 'bigint'), ...systemRootCols()]);
    await a.updateStoredSchema(schema);
    await b.updateStoredSchema(schema);
    await a.loadAppendJob('1', schema, jobFile(dir, 'events', [{ n: 1, _dlt_load_id: '1', _dlt_id: 'a' }]));
    await b.loadAppendJob('1', schema, jobFile(dir, 'events', [{ n: 2, _dlt_load_id: '1', _dlt_id: 'b' }]));
    open.splice(open.indexOf(a), 1);
    await a.dropDataset();
    await a.close();
    expect(await count(b, 'events')).toBe(1);
    // the place can be opened again after every client closed
    const c = await newClient();
    await c.initializeStorage();
    expect(await c.isStorageInitialized()).toBe(true);
  });

  it('concurrent calls on one client are serialized', async () => {
    const client = await newClient();
    const schema = new Schema('conformance');
    addTable(schema, 'events', [col('n', 'bigint'), ...systemRootCols()]);
    await client.updateStoredSchema(schema);
    const jobs = Array.from({ length: 8 }, (_, i) => jobFile(dir, 'events', [{ n: i, _dlt_load_id: '1', _dlt_id: `r${i}` }]));
    await Promise.all([...jobs.map((j) => client.loadAppendJob('1', schema, j)), client.completedJobs('1'), client.query('SELECT 1 AS x')]);
    expect(await count(client, 'events')).toBe(8);
    expect((await client.completedJobs('1')).size).toBe(8);
  });
});

describe('resolveDestination', () => {
  it('resolves names and passes factories through', () => {
    expect(resolveDestination('duckdb').destinationName).toBe('duckdb');
    const f = duckdb({ path: '/tmp/x.duckdb' });
    expect(resolveDestination(f)).toBe(f);
    expect(resolveDestination('duckdb', f.options).options).toEqual({ path: '/tmp/x.duckdb' });
    expect(() => resolveDestination('nope')).toThrow(/unknown destination "nope"/);
  });
});
