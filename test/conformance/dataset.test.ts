/**
 * `pipeline.dataset()` over every destination: what a pipeline loaded reads back the same
 * way, with the same value shapes, through each destination's DatasetReader (DuckDB and
 * PostgreSQL directly, the filesystem through DuckDB views over its files).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  HaulError,
  UnknownTableError,
  duckdb,
  filesystem,
  pipeline,
  postgres,
  type DestinationFactory,
  type LoaderFileFormat,
  type Pipeline,
} from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';

const root = tempDir('haul-dataset-');
const pgDatasets: string[] = [];
afterAll(async () => {
  await dropPgSchemas(...pgDatasets);
});

/** Each destination; the filesystem once per job file format it stores (its views read each format back typed). */
const DESTINATIONS: Array<{ name: string; factory: (dir: string) => DestinationFactory; dataset: () => string; format?: LoaderFileFormat }> = [
  { name: 'duckdb', factory: (dir) => duckdb({ path: join(dir, 'ds.duckdb') }), dataset: () => 'shop' },
  {
    name: 'postgres',
    factory: () => postgres({ credentials: PG_URL }),
    dataset: () => {
      const d = pgDatasetName('hds');
      pgDatasets.push(d);
      return d;
    },
  },
  { name: 'filesystem', factory: (dir) => filesystem({ bucketUrl: join(dir, 'bucket') }), dataset: () => 'shop' },
  { name: 'filesystem_parquet', factory: (dir) => filesystem({ bucketUrl: join(dir, 'bucket') }), dataset: () => 'shop', format: 'parquet' },
  { name: 'filesystem_csv', factory: (dir) => filesystem({ bucketUrl: join(dir, 'bucket') }), dataset: () => 'shop', format: 'csv' },
];

const USERS = [
  {
    id: 1,
    name: 'ada',
    big: 2n ** 62n,
    amount: '12.50',
    joined: new Date('2024-01-02T03:04:05.123Z'),
    day: '2024-02-29',
    photo: Buffer.from([0, 1, 254, 255]),
    prefs: { theme: 'dark', tags: ['a'] },
    pets: [{ kind: 'cat' }, { kind: 'dog' }],
  },
  { id: 2, name: 'bob', big: 5n, amount: '0.1', joined: new Date('2024-06-01T00:00:00Z'), day: '2024-06-01', pets: [] },
  ...Array.from({ length: 23 }, (_, i) => ({ id: 3 + i, name: `u${3 + i}` })),
];

const HINTS = {
  tableName: 'users',
  columns: {
    big: { dataType: 'bigint' as const },
    amount: { dataType: 'decimal' as const },
    day: { dataType: 'date' as const },
    prefs: { dataType: 'json' as const },
  },
};

describe.each(DESTINATIONS)('pipeline.dataset() on $name', ({ name, factory, dataset, format }) => {
  let p: Pipeline;

  it('reads back what was loaded, with typed values', async () => {
    const dir = join(root, name);
    p = pipeline({ pipelineName: `ds_${name}`, pipelinesDir: join(dir, 'pipelines'), destination: factory(dir), datasetName: dataset() });
    await p.run(USERS, { ...HINTS, ...(format && { loaderFileFormat: format }) });
    await p.run([{ id: 1, total: 9.5 }], { tableName: 'orders', ...(format && { loaderFileFormat: format }) });
    if (format) expect(readdirSync(join(dir, 'bucket', 'shop', 'users')).filter((f) => f.endsWith(`.${format}`))).toHaveLength(1);
    const ds = p.dataset();

    expect(await ds.tables()).toEqual(['orders', 'users', 'users__pets']);
    expect(await ds.tables({ includeSystem: true })).toEqual(expect.arrayContaining(['_dlt_loads', '_dlt_pipeline_state', '_dlt_version', 'orders', 'users']));
    expect(await ds.rowCounts()).toEqual({ orders: 1, users: 25, users__pets: 2 });
    expect(await ds.rowCounts({ tables: ['_dlt_loads'] })).toEqual({ _dlt_loads: 2 });

    const cols = (await ds.columns('users')).map((c) => c.name);
    expect(cols).toEqual(expect.arrayContaining(['id', 'name', 'big', 'amount', 'joined', 'day', 'photo', 'prefs', '_dlt_load_id', '_dlt_id']));
    expect(cols).not.toContain('pets');

    const [ada, bob] = await ds.table('users').orderBy('id').limit(2).fetchAll();
    expect(ada).toMatchObject({ id: 1, name: 'ada', big: 2n ** 62n, amount: '12.500000000', day: '2024-02-29', prefs: { theme: 'dark', tags: ['a'] } });
    expect(ada!.joined).toEqual(new Date('2024-01-02T03:04:05.123Z'));
    expect(Buffer.isBuffer(ada!.photo)).toBe(true);
    expect([...(ada!.photo as Buffer)]).toEqual([0, 1, 254, 255]);
    expect(bob).toMatchObject({ id: 2, big: 5, amount: '0.100000000', photo: null, prefs: null });

    const pets = await ds.table('users__pets').select('kind', '_dlt_list_idx').orderBy('kind', 'desc').fetchAll();
    expect(pets).toEqual([
      { kind: 'dog', _dlt_list_idx: 1 },
      { kind: 'cat', _dlt_list_idx: 0 },
    ]);
    expect(await ds.table('users').select('id').orderBy('id').offset(23).fetchAll()).toEqual([{ id: 24 }, { id: 25 }]);
    expect(await ds.table('users').select('name').orderBy('id', 'desc').fetchOne()).toEqual({ name: 'u25' });
    expect(await ds.table('users').select('id').orderBy('id').head(3)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);

    expect(await ds.query('SELECT count(*) AS n FROM users WHERE id > $1 AND name <> $2', [20, 'u21'])).toEqual([{ n: 4 }]);
    // a join between a table and its nested table, with unqualified names
    expect(await ds.query("SELECT p.kind FROM users u JOIN users__pets p ON p._dlt_parent_id = u._dlt_id WHERE u.name = 'ada' ORDER BY p._dlt_list_idx")).toEqual([
      { kind: 'cat' },
      { kind: 'dog' },
    ]);
  });

  it('iterates in batches of chunkSize, every row once', async () => {
    const ds = p.dataset();
    const sizes: number[] = [];
    const ids: number[] = [];
    for await (const batch of ds.table<{ id: number }>('users').select('id').orderBy('id').iter({ chunkSize: 10 })) {
      sizes.push(batch.length);
      ids.push(...batch.map((r) => r.id));
      // the dataset can be queried while a stream is open
      if (sizes.length === 1) expect(await ds.rowCounts({ tables: ['orders'] })).toEqual({ orders: 1 });
    }
    expect(sizes).toEqual([10, 10, 5]);
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    // limit and offset travel as parameters into the stream (a server-side cursor on PostgreSQL)
    const window: number[][] = [];
    for await (const batch of ds.table<{ id: number }>('users').select('id').orderBy('id').offset(3).limit(7).iter({ chunkSize: 3 })) window.push(batch.map((r) => r.id));
    expect(window).toEqual([[4, 5, 6], [7, 8, 9], [10]]);
    // breaking out early closes the stream
    for await (const batch of ds.table('users').iter({ chunkSize: 3 })) {
      expect(batch).toHaveLength(3);
      break;
    }
    expect(await ds.rowCounts({ tables: ['users'] })).toEqual({ users: 25 });
  });

  it('names a missing table or column in a typed error', async () => {
    const ds = p.dataset();
    const err = await ds.table('nope').fetchAll().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownTableError);
    expect((err as Error).message).toMatch(/table "nope" does not exist in dataset ".*"; tables there: .*users/);
    await expect(ds.columns('nope')).rejects.toBeInstanceOf(UnknownTableError);
    const bad = await ds.table('users').select('id', 'no_such_column').fetchAll().catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(HaulError);
    expect((bad as Error).message).toMatch(/table "users" in dataset ".*" has no column "no_such_column"/);
    expect(() => ds.table('users').limit(-1)).toThrow(/limit/);
  });
});

describe('pipeline.dataset() before anything was loaded', () => {
  it('reads an empty dataset and creates no database file', async () => {
    const dir = join(root, 'empty');
    const path = join(dir, 'never.duckdb');
    const p = pipeline({ pipelineName: 'never', pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path }), datasetName: 'nothing' });
    const ds = p.dataset();
    expect(await ds.tables()).toEqual([]);
    expect(await ds.rowCounts()).toEqual({});
    await expect(ds.table('users').fetchAll()).rejects.toBeInstanceOf(UnknownTableError);
    const fs = pipeline({ pipelineName: 'never_fs', pipelinesDir: join(dir, 'pipelines'), destination: filesystem({ bucketUrl: join(dir, 'bucket') }), datasetName: 'nothing' });
    expect(await fs.dataset().tables()).toEqual([]);
    await expect(fs.dataset().table('users').fetchAll()).rejects.toBeInstanceOf(UnknownTableError);
    expect(existsSync(path)).toBe(false);
  });
});
