/**
 * DuckDB stores the row key `_dlt_id` (random text, unique per row) uncompressed: its
 * compression analysis of that column was about half of the bench's load (docs/performance.md,
 * section 39). `compressRowIds: true` leaves the choice to DuckDB. Every other column keeps
 * DuckDB's compression, and the rows are the same either way. DuckDB's own choice is made
 * visible here with its `force_compression` setting (dictionary), which a column's own
 * `USING COMPRESSION` overrides.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, duckdb, pipeline } from '../../src/index.js';
import { query, tempDir } from '../helpers.js';

const ROWS = 20_000;
function* users() {
  for (let i = 0; i < ROWS; i++) yield { id: i, country: i % 2 ? 'US' : 'DE', items: [{ sku: `A-${i % 7}` }, { sku: `B-${i % 5}` }] };
}

/** Each VARCHAR column's compressions in the file's stored segments. */
async function compressions(p: ReturnType<typeof pipeline>, table: string): Promise<Record<string, string[]>> {
  const rows = await query<{ column_name: string; compression: string[] }>(
    p,
    `SELECT column_name, list(DISTINCT compression ORDER BY compression) AS compression FROM pragma_storage_info('${p.datasetName}.${table}') WHERE segment_type = 'VARCHAR' GROUP BY column_name`,
  );
  return Object.fromEntries(rows.map((r) => [r.column_name, r.compression]));
}

describe('DuckDB row key column', () => {
  it('is stored uncompressed, other columns as DuckDB chooses; compressRowIds: true gives the choice back', async () => {
    const dir = tempDir();
    const globalConfig = { force_compression: 'dictionary' };
    const fast = pipeline({ pipelineName: 'ids_fast', pipelinesDir: join(dir, 'p'), destination: duckdb({ path: join(dir, 'fast.duckdb'), globalConfig }), datasetName: 'shop' });
    await fast.run(users(), { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' });
    const root = await compressions(fast, 'users');
    const child = await compressions(fast, 'users__items');
    expect(root._dlt_id).toEqual(['Uncompressed']);
    expect(child._dlt_id).toEqual(['Uncompressed']);
    // the ids that repeat, and every other column, as DuckDB chooses
    expect(child._dlt_parent_id).toEqual(['Dictionary']);
    expect(child._dlt_root_id).toEqual(['Dictionary']);
    expect(root.country).toEqual(['Dictionary']);

    const small = pipeline({ pipelineName: 'ids_small', pipelinesDir: join(dir, 'p'), destination: duckdb({ path: join(dir, 'small.duckdb'), globalConfig, compressRowIds: true }), datasetName: 'shop' });
    await small.run(users(), { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' });
    expect((await compressions(small, 'users'))._dlt_id).toEqual(['Dictionary']);
    expect((await compressions(small, 'users__items'))._dlt_id).toEqual(['Dictionary']);
    expect(small.destination.options).toMatchObject({ compressRowIds: true });

    // the same rows either way
    for (const p of [fast, small]) {
      expect(await query(p, 'SELECT count(*)::INT AS n, count(DISTINCT _dlt_id)::INT AS ids FROM shop.users')).toEqual([{ n: ROWS, ids: ROWS }]);
      expect(await query(p, 'SELECT count(*)::INT AS n FROM shop.users__items i JOIN shop.users u ON i._dlt_parent_id = u._dlt_id AND i._dlt_root_id = u._dlt_id')).toEqual([{ n: 2 * ROWS }]);
    }
    // a second merge load into the uncompressed column replaces, as before
    await fast.run([{ id: 1, country: 'FR', items: [] }], { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' });
    expect(await query(fast, "SELECT count(*)::INT AS n FROM shop.users WHERE country = 'FR'")).toEqual([{ n: 1 }]);
    expect(await query(fast, 'SELECT count(*)::INT AS n FROM shop.users__items')).toEqual([{ n: 2 * ROWS - 2 }]);
  });

  it('compressRowIds must be a boolean', () => {
    expect(() => duckdb({ compressRowIds: 'yes' as unknown as boolean })).toThrow(InvalidOptionsError);
  });
});
