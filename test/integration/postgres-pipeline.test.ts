/**
 * Whole pipelines into the real PostgreSQL: nested data lands as dlt lands it (tables,
 * columns, types, constraints), merge with child tables, incremental loading across runs,
 * state restored from the destination after the working dir is lost, and names longer than
 * 63 characters shortened as dlt shortens them. Each test has its own dataset and drops it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresClient } from '../../src/destinations/postgres/index.js';
import { incremental, pipeline, postgres, resource, source, type Pipeline } from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';

const dir = tempDir('haul-pg-pipeline-');
const datasets: string[] = [];
afterAll(async () => {
  await dropPgSchemas(...datasets);
});

function pgPipeline(name: string, dataset?: string): Pipeline {
  const datasetName = dataset ?? pgDatasetName(name);
  if (!datasets.includes(datasetName)) datasets.push(datasetName);
  return pipeline({ pipelineName: name, pipelinesDir: join(dir, 'pipelines'), destination: postgres({ credentials: PG_URL }), datasetName });
}

async function q<T = Record<string, unknown>>(p: Pipeline, sql: string, params?: unknown[]): Promise<T[]> {
  const c = p.sqlClient();
  try {
    return await c.query<T>(sql, params);
  } finally {
    await c.close();
  }
}

async function columnsOf(p: Pipeline): Promise<string[][]> {
  const rows = await q<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
    p,
    `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
     WHERE table_schema = $1 AND table_name NOT LIKE '\\_dlt%' AND table_name NOT LIKE '\\_haul%' ORDER BY table_name, ordinal_position`,
    [p.datasetName],
  );
  return rows.map((r) => [r.table_name, r.column_name, r.data_type, r.is_nullable]);
}

const people = (version: number) => [
  {
    id: 1,
    name: version === 1 ? 'Ada' : 'Ada L.',
    score: 9.5,
    active: true,
    joined: '2024-01-02T03:04:05Z',
    note: null,
    meta: { level: 3, origin: { country: 'UK' } },
    tags: version === 1 ? ['math', 'poetry'] : ['engines'],
    orders: [{ order_id: 10, amount: 12.5, items: [{ sku: 'x', qty: 2 }, { sku: 'y', qty: 1 }] }],
  },
  {
    id: version === 1 ? 2 : 3,
    name: version === 1 ? 'Bob' : 'Cy',
    score: 7,
    active: false,
    joined: '2024-02-03T04:05:06.123456Z',
    note: 'hi',
    meta: { level: 1, origin: { country: 'US' } },
    tags: [],
    orders: [],
  },
];

/*
 * information_schema.columns of the same data loaded by dlt 1.31.0 into this server
 * (`dlt.pipeline(destination="postgres").run(people(1), table_name="people",
 * primary_key="id", write_disposition="merge")`, system tables left out).
 */
const DLT_COLUMNS = [
  ['people', 'id', 'bigint', 'NO'],
  ['people', 'name', 'character varying', 'YES'],
  ['people', 'score', 'double precision', 'YES'],
  ['people', 'active', 'boolean', 'YES'],
  ['people', 'joined', 'timestamp with time zone', 'YES'],
  ['people', 'meta__level', 'bigint', 'YES'],
  ['people', 'meta__origin__country', 'character varying', 'YES'],
  ['people', '_dlt_load_id', 'character varying', 'NO'],
  ['people', '_dlt_id', 'character varying', 'NO'],
  ['people', 'note', 'character varying', 'YES'],
  ['people__orders', 'order_id', 'bigint', 'YES'],
  ['people__orders', 'amount', 'double precision', 'YES'],
  ['people__orders', '_dlt_root_id', 'character varying', 'NO'],
  ['people__orders', '_dlt_parent_id', 'character varying', 'NO'],
  ['people__orders', '_dlt_list_idx', 'bigint', 'NO'],
  ['people__orders', '_dlt_id', 'character varying', 'NO'],
  ['people__orders__items', 'sku', 'character varying', 'YES'],
  ['people__orders__items', 'qty', 'bigint', 'YES'],
  ['people__orders__items', '_dlt_root_id', 'character varying', 'NO'],
  ['people__orders__items', '_dlt_parent_id', 'character varying', 'NO'],
  ['people__orders__items', '_dlt_list_idx', 'bigint', 'NO'],
  ['people__orders__items', '_dlt_id', 'character varying', 'NO'],
  ['people__tags', 'value', 'character varying', 'YES'],
  ['people__tags', '_dlt_root_id', 'character varying', 'NO'],
  ['people__tags', '_dlt_parent_id', 'character varying', 'NO'],
  ['people__tags', '_dlt_list_idx', 'bigint', 'NO'],
  ['people__tags', '_dlt_id', 'character varying', 'NO'],
];
/** dlt's UNIQUE constraints on that dataset (create_indexes defaults to true). */
const DLT_UNIQUE = ['_dlt_pipeline_state._dlt_id', 'people._dlt_id', 'people__orders._dlt_id', 'people__orders__items._dlt_id', 'people__tags._dlt_id'];

describe('postgres pipelines', () => {
  it('loads nested data with the tables, columns, types and constraints dlt makes, and merges with child tables', async () => {
    const p = pgPipeline('hp_nested');
    const info = await p.run(people(1), { tableName: 'people', primaryKey: 'id', writeDisposition: 'merge' });
    expect(info.destinationName).toBe('postgres');
    expect(await columnsOf(p)).toEqual(DLT_COLUMNS);
    const unique = await q<{ t: string }>(
      p,
      `SELECT tc.table_name || '.' || kcu.column_name AS t FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
       WHERE tc.table_schema = $1 AND tc.constraint_type = 'UNIQUE' ORDER BY 1`,
      [p.datasetName],
    );
    expect(unique.map((r) => r.t)).toEqual(DLT_UNIQUE);
    // the row key sorts by bytes ("C"): its constraint builds and checks without strcoll; every other column keeps the default
    const collated = await q<{ t: string; collation_name: string }>(
      p,
      'SELECT table_name || \'.\' || column_name AS t, collation_name FROM information_schema.columns WHERE table_schema = $1 AND collation_name IS NOT NULL ORDER BY 1',
      [p.datasetName],
    );
    expect(collated).toEqual(DLT_UNIQUE.filter((t) => !t.startsWith('_dlt_pipeline_state')).map((t) => ({ t, collation_name: 'C' })));

    const rows = await q(p, 'SELECT id, name, score, active, joined, note, meta__level, meta__origin__country FROM people ORDER BY id');
    expect(rows).toEqual([
      { id: 1, name: 'Ada', score: 9.5, active: true, joined: new Date('2024-01-02T03:04:05Z'), note: null, meta__level: 3, meta__origin__country: 'UK' },
      { id: 2, name: 'Bob', score: 7, active: false, joined: new Date('2024-02-03T04:05:06.123Z'), note: 'hi', meta__level: 1, meta__origin__country: 'US' },
    ]);
    const micros = await q<{ s: string }>(p, "SELECT to_char(joined AT TIME ZONE 'UTC', 'HH24:MI:SS.US') AS s FROM people WHERE id = 2");
    expect(micros[0]!.s).toBe('04:05:06.123456');
    const items = await q(p, 'SELECT i.sku, i.qty, i._dlt_list_idx AS idx FROM people__orders__items i JOIN people__orders o ON i._dlt_parent_id = o._dlt_id ORDER BY 1');
    expect(items).toEqual([
      { sku: 'x', qty: 2, idx: 0 },
      { sku: 'y', qty: 1, idx: 1 },
    ]);

    // second run: id 1 changes (its nested rows are replaced), id 3 is new, id 2 stays
    await p.run(people(2), { tableName: 'people', primaryKey: 'id', writeDisposition: 'merge' });
    const after = await q<{ id: number; name: string; tags: string | null }>(
      p,
      `SELECT p.id, p.name, string_agg(t.value, ',' ORDER BY t._dlt_list_idx) AS tags
       FROM people p LEFT JOIN people__tags t ON t._dlt_root_id = p._dlt_id GROUP BY p.id, p.name ORDER BY p.id`,
    );
    expect(after).toEqual([
      { id: 1, name: 'Ada L.', tags: 'engines' },
      { id: 2, name: 'Bob', tags: null },
      { id: 3, name: 'Cy', tags: null },
    ]);
    expect(await q(p, 'SELECT count(*) AS n FROM people__orders__items')).toEqual([{ n: 2 }]);
    const orphans = await q(p, 'SELECT count(*) AS n FROM people__orders__items i WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p._dlt_id = i._dlt_root_id)');
    expect(orphans).toEqual([{ n: 0 }]);
    const loads = await q(p, 'SELECT count(*) AS n FROM _dlt_loads WHERE status = 0');
    expect(loads).toEqual([{ n: 2 }]);
    // the merge staging dataset was used and left empty
    const staging = await q(p, "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1", [`${p.datasetName}_staging`]);
    expect(staging).toEqual([{ n: 0 }]);
  });

  it('loads incrementally across runs and restores state from postgres when the working dir is gone', async () => {
    const dataset = pgDatasetName('hp_inc');
    const seen: unknown[] = [];
    const feed = (upTo: number) =>
      source(function feed() {
        return resource(
          function* events(ctx) {
            seen.push(ctx.incremental!.startValue);
            for (let i = 1; i <= upTo; i++) yield { id: i, ts: Math.ceil(i / 2), payload: { n: i * 1000 } };
          },
          { primaryKey: 'id', incremental: incremental('ts', { initialValue: 0 }) },
        );
      })();

    const p = pgPipeline('hp_inc', dataset);
    await p.run(feed(4));
    await p.run(feed(6));
    expect(seen).toEqual([0, 2]);
    expect(await q(p, 'SELECT count(*) AS n FROM events')).toEqual([{ n: 6 }]);
    expect(await q(p, 'SELECT payload__n AS v FROM events WHERE id = 6')).toEqual([{ v: 6000 }]);

    rmSync(p.workingDir, { recursive: true, force: true });
    const p2 = pgPipeline('hp_inc', dataset);
    await p2.run(feed(8));
    expect(seen[2]).toBe(3); // the cursor came back from _dlt_pipeline_state
    expect(p2.state.sources.feed!.resources!.events!.incremental!.ts!.last_value).toBe(4);
    expect(await q(p2, 'SELECT count(*) AS n FROM events')).toEqual([{ n: 8 }]);
    expect(await q(p2, 'SELECT id FROM events GROUP BY id HAVING count(*) > 1')).toEqual([]);
    expect(p2.defaultSchema?.getTable('events')?.columns.payload__n?.dataType).toBe('bigint');
  });

  it('drops NUL characters from text, as dlt does, where PostgreSQL would refuse the whole job', async () => {
    const p = pgPipeline('hp_nul');
    const info = await p.run([{ id: 1, s: 'a\u0000b', t: 'plain' }, { id: 2, s: '\u0000', t: 'x"\u0000"y' }], { tableName: 'nul' });
    expect(info.hasFailedJobs).toBe(false);
    expect(await q(p, `SELECT id::int AS id, s, t FROM "${p.datasetName}".nul ORDER BY id`)).toEqual([
      { id: 1, s: 'ab', t: 'plain' },
      { id: 2, s: '', t: 'x""y' },
    ]);
  });

  it('shortens names longer than 63 characters as dlt does, for tables, columns and the staging dataset', async () => {
    // a dataset name that only fits once shortened, so staging must be shortened too
    const dataset = pgDatasetName('hp_long_dataset_name_that_is_much_longer_than_postgres_allows');
    const p = pgPipeline('hp_long', dataset);
    const LONG_TABLE = 'A Very Long Table Name That Goes On And On Beyond The Postgres Limit';
    const LONG_KEY = 'ThisIsAVeryLongKeyNameThatWillDefinitelyExceedTheSixtyThreeCharacterLimit';
    await p.run(
      [
        { id: 1, [LONG_KEY]: 'x', outer_object_with_a_long_name: { inner_object_with_an_even_longer_name: { leaf_value_name: 5 } }, items_list_with_quite_a_long_name_indeed: [{ sub: 1 }] },
      ],
      { tableName: LONG_TABLE, primaryKey: 'id', writeDisposition: 'merge' },
    );
    const client = p.destination.createClient({ pipelineName: 'hp_long', datasetName: dataset }) as PostgresClient;
    expect(client.datasetName).toHaveLength(63);
    expect(client.stagingDatasetName).toHaveLength(63);
    expect(client.stagingDatasetName).not.toBe(client.datasetName);
    datasets.push(client.datasetName, client.stagingDatasetName);
    const schemas = await q<{ n: string }>(p, 'SELECT nspname AS n FROM pg_namespace WHERE nspname IN ($1, $2) ORDER BY 1', [client.datasetName, client.stagingDatasetName]);
    expect(schemas.map((s) => s.n)).toEqual([client.datasetName, client.stagingDatasetName].sort());
    const tables = await q<{ table_name: string; column_name: string }>(
      p,
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name LIKE 'a\\_very%' ORDER BY table_name, ordinal_position`,
      [client.datasetName],
    );
    // names from dlt 1.31.0 for the same table and keys (see test/unit/identifier-shortening.test.ts)
    expect([...new Set(tables.map((t) => t.table_name))]).toEqual([
      'a_very_long_table_name_that_gftuebaith_quite_a_long_name_indeed',
      'a_very_long_table_name_that_gohb9zaon_beyond_the_postgres_limit',
    ]);
    expect(tables.filter((t) => t.table_name.endsWith('limit')).map((t) => t.column_name)).toEqual([
      'id',
      'this_is_a_very_long_key_name_n9bk3w_sixty_three_character_limit',
      'outer_object_with_a_long_namepjybgalonger_name__leaf_value_name',
      '_dlt_load_id',
      '_dlt_id',
    ]);
    const rows = await q(p, 'SELECT id, "this_is_a_very_long_key_name_n9bk3w_sixty_three_character_limit" AS k FROM "a_very_long_table_name_that_gohb9zaon_beyond_the_postgres_limit"');
    expect(rows).toEqual([{ id: 1, k: 'x' }]);
  });
});
