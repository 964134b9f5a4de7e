/**
 * Names longer than a destination allows (PostgreSQL: 63) are shortened exactly as dlt
 * shortens them. The expected names below are dlt's own output, not re-derived here:
 * dlt 1.31.0 from PyPI in a throw-away venv,
 *   NamingConvention.shorten_identifier(s, s, 63)      for the plain cases, and
 *   dlt.pipeline(destination="postgres").extract(DATA, table_name=LONG_TABLE); .normalize()
 * printing `pipeline.default_schema` tables and columns for the nested case.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeFiles, normalizeTableName } from '../../src/normalize/index.js';
import { Schema } from '../../src/schema/schema.js';
import { identifierTag, shortenIdentifier } from '../../src/schema/shorten.js';

const LONG_TABLE = 'A Very Long Table Name That Goes On And On Beyond The Postgres Limit';
const LONG_KEY = 'ThisIsAVeryLongKeyNameThatWillDefinitelyExceedTheSixtyThreeCharacterLimit';
const VAR_KEY = 'a_column_name_that_is_fifty_eight_characters_long_abcdefgh';
const DATA = [
  {
    id: 1,
    [LONG_KEY]: 'x',
    [VAR_KEY]: 1,
    outer_object_with_a_long_name: { inner_object_with_an_even_longer_name: { leaf_value_name: 5 } },
    items_list_with_quite_a_long_name_indeed: [{ sub: 1, tags_list_that_also_has_a_long_name: ['a', 'b'] }],
  },
  { id: 2, [VAR_KEY]: 'not a number' },
];

/** dlt 1.31.0's schema for DATA on postgres (see the file comment). */
const DLT_TABLES: Record<string, { parent: string | null; columns: string[] }> = {
  a_very_long_table_name_that_gohb9zaon_beyond_the_postgres_limit: {
    parent: null,
    columns: [
      'id',
      'this_is_a_very_long_key_name_n9bk3w_sixty_three_character_limit',
      'a_column_name_that_is_fifty_eight_characters_long_abcdefgh',
      'outer_object_with_a_long_namepjybgalonger_name__leaf_value_name',
      '_dlt_load_id',
      '_dlt_id',
      'a_column_name_that_is_fifty_ehes4saacters_long_abcdefgh__v_text',
    ],
  },
  a_very_long_table_name_that_gftuebaith_quite_a_long_name_indeed: {
    parent: 'a_very_long_table_name_that_gohb9zaon_beyond_the_postgres_limit',
    columns: ['sub', '_dlt_parent_id', '_dlt_list_idx', '_dlt_id'],
  },
  a_very_long_table_name_that_gmfq2owst_that_also_has_a_long_name: {
    parent: 'a_very_long_table_name_that_gftuebaith_quite_a_long_name_indeed',
    columns: ['value', '_dlt_parent_id', '_dlt_list_idx', '_dlt_id'],
  },
};

describe("dlt's shorten_identifier", () => {
  it('tags with shake_128 of the original name and keeps head and tail', () => {
    expect(identifierTag('abc')).toBe('wiejlq');
    expect(shortenIdentifier('a'.repeat(70), 'a'.repeat(70), 63)).toBe('aaaaaaaaaaaaaaaaaaaaaaaaaaaaamo6cbaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    expect(shortenIdentifier('x'.repeat(64), 'x'.repeat(64), 63)).toBe('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxe0hf6wxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
    // at the limit, or without one, nothing changes
    expect(shortenIdentifier('x'.repeat(63), 'x'.repeat(63), 63)).toBe('x'.repeat(63));
    expect(shortenIdentifier('x'.repeat(100), 'x'.repeat(100), undefined)).toBe('x'.repeat(100));
    for (const n of [64, 70, 200]) expect(shortenIdentifier('y'.repeat(n), 'y'.repeat(n), 63)).toHaveLength(63);
  });

  it('shortens a table name given by the user like normalize_tables_path', () => {
    expect(normalizeTableName(LONG_TABLE, 63)).toBe('a_very_long_table_name_that_gohb9zaon_beyond_the_postgres_limit');
    expect(normalizeTableName(LONG_TABLE)).toBe('a_very_long_table_name_that_goes_on_and_on_beyond_the_postgres_limit');
  });
});

describe('normalize with a maximum identifier length', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'haul-shorten-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function normalize(maxIdentifierLength: number | undefined): Promise<Schema> {
    const table = normalizeTableName(LONG_TABLE, maxIdentifierLength);
    const schema = new Schema('shorten');
    schema.ensureTable(table, { writeDisposition: 'append', resource: table });
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, DATA.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const out = join(dir, `out-${maxIdentifierLength ?? 'none'}`);
    mkdirSync(out);
    let n = 0;
    await normalizeFiles({ schema, loadId: '1.1', inputs: [{ table, path: input }], outDir: out, nextFileId: () => String(n++), maxIdentifierLength });
    return schema;
  }

  it("names tables, flattened columns, child tables and variants as dlt does for postgres", async () => {
    const schema = await normalize(63);
    const got = Object.fromEntries(
      Object.values(schema.tables).map((t) => [t.name, { parent: t.parent ?? null, columns: Object.keys(t.columns) }]),
    );
    expect(got).toEqual(DLT_TABLES);
  });

  it('leaves names alone without a limit', async () => {
    const schema = await normalize(undefined);
    expect(Object.keys(schema.tables).sort()).toEqual([
      'a_very_long_table_name_that_goes_on_and_on_beyond_the_postgres_limit',
      'a_very_long_table_name_that_goes_on_and_on_beyond_the_postgres_limit__items_list_with_quite_a_long_name_indeed',
      'a_very_long_table_name_that_goes_on_and_on_beyond_the_postgres_limit__items_list_with_quite_a_long_name_indeed__tags_list_that_also_has_a_long_name',
    ]);
  });
});

describe('long dataset names, as dlt 1.31 names the PostgreSQL schemas', () => {
  // dlt's own names from a side-by-side run (normalize_dataset_name / normalize_staging_dataset_name)
  it('hashes the name as given, and names staging `<dataset_name>_staging` normalized', async () => {
    const { postgres } = await import('../../src/destinations/postgres/index.js');
    const names = (datasetName: string) => {
      const c = postgres({ credentials: 'postgresql://postgres@127.0.0.1:5432/test' }).createClient({ pipelineName: 'p', datasetName }) as unknown as { datasetName: string; stagingDatasetName: string };
      return [c.datasetName, c.stagingDatasetName];
    };
    expect(names(`probe_pg_dlt_${'long_dataset_name_'.repeat(4)}`)[0]).toBe('probe_pg_dlt_long_dataset_namziya3gaset_name_long_dataset_namex');
    expect(names(`Probe_PG-X ${'Long_'.repeat(12)}`)).toEqual([
      'probe_pg_x_long_long_long_lonf443fqng_long_long_long_long_longx',
      'probe_pg_x_long_long_long_lonakfzpq_long_long_long_long_staging',
    ]);
  });
});
