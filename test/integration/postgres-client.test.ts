/**
 * PostgreSQL-only behaviour of the destination client, against the real server: UNIQUE
 * constraints (createIndexes) added when a load completes and enforced afterwards, and a
 * CSV file COPY'd as it is.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PostgresDialect } from '../../src/destinations/postgres/dialect.js';
import { PostgresClient, PostgresSqlClient, postgres, resolvePostgresCredentials } from '../../src/destinations/postgres/index.js';
import { DestinationError, LoadJobFailedError } from '../../src/errors.js';
import { Schema } from '../../src/schema/schema.js';
import type { ColumnSchema } from '../../src/schema/types.js';
import { PG_URL, pgDatasetName } from '../postgres-env.js';

const dir = mkdtempSync(join(tmpdir(), 'haul-pg-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const open: PostgresClient[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) {
    await c.dropDataset();
    await c.close();
  }
});

async function client(createIndexes?: boolean): Promise<PostgresClient> {
  const c = postgres({ credentials: PG_URL, createIndexes }).createClient({ pipelineName: 'pgc', datasetName: pgDatasetName('hcl') }) as PostgresClient;
  await c.open();
  open.push(c);
  return c;
}

function eventsSchema(): Schema {
  const s = new Schema('pgc');
  s.ensureTable('events', { writeDisposition: 'append', resource: 'events' });
  const cols: ColumnSchema[] = [
    { name: 'n', dataType: 'bigint', nullable: true },
    { name: 'note', dataType: 'text', nullable: true },
    { name: '_dlt_load_id', dataType: 'text', nullable: false },
    { name: '_dlt_id', dataType: 'text', nullable: false, rowKey: true, unique: true },
  ];
  for (const c of cols) s.addColumn('events', c);
  s.bumpVersion();
  return s;
}

let n = 0;
function jsonl(rows: Array<Record<string, unknown>>) {
  const jobName = `events.${(++n).toString().padStart(4, '0')}.0.jsonl`;
  const path = join(dir, jobName);
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { jobName, path, table: 'events', format: 'jsonl' as const };
}

async function uniqueColumns(c: PostgresClient): Promise<string[]> {
  const rows = await c.query<{ t: string }>(
    `SELECT tc.table_name || '.' || kcu.column_name AS t FROM information_schema.table_constraints tc
     JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
     WHERE tc.table_schema = $1 AND tc.constraint_type = 'UNIQUE' ORDER BY 1`,
    [c.datasetName],
  );
  return rows.map((r) => r.t);
}

describe('postgres client', () => {
  it('adds UNIQUE on _dlt_id when the first load completes, then enforces it per row', async () => {
    const c = await client();
    const s = eventsSchema();
    await c.updateStoredSchema(s);
    await c.loadAppendJob('1', s, jsonl([{ n: 1, _dlt_load_id: '1', _dlt_id: 'a' }, { n: 2, _dlt_load_id: '1', _dlt_id: 'b' }]));
    expect(await uniqueColumns(c)).toEqual([]); // built once, at completion
    await c.completeLoad('1', s.name, s.versionHash);
    expect(await uniqueColumns(c)).toEqual(['_dlt_pipeline_state._dlt_id', 'events._dlt_id']);

    // the next load checks each row: a duplicate fails its job and changes nothing
    await c.updateStoredSchema(s);
    await expect(c.loadAppendJob('2', s, jsonl([{ n: 3, _dlt_load_id: '2', _dlt_id: 'a' }]))).rejects.toSatisfy(
      (e: unknown) => e instanceof LoadJobFailedError && /duplicate key|unique/i.test(e.message),
    );
    expect(await c.query('SELECT count(*) AS n FROM events')).toEqual([{ n: 2 }]);
  });

  it('a first load with duplicate keys cannot complete and says which table to fix', async () => {
    const c = await client();
    const s = eventsSchema();
    await c.updateStoredSchema(s);
    await c.loadAppendJob('1', s, jsonl([{ n: 1, _dlt_load_id: '1', _dlt_id: 'same' }, { n: 2, _dlt_load_id: '1', _dlt_id: 'same' }]));
    const err = await c.completeLoad('1', s.name, s.versionHash).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DestinationError);
    expect((err as DestinationError).message).toMatch(/table "events" .* duplicate values in "_dlt_id"/);
    expect(await c.isLoadCompleted('1')).toBe(false);
  });

  it('createIndexes: false adds no constraints', async () => {
    const c = await client(false);
    const s = eventsSchema();
    await c.updateStoredSchema(s);
    await c.loadAppendJob('1', s, jsonl([{ n: 1, _dlt_load_id: '1', _dlt_id: 'x' }]));
    await c.completeLoad('1', s.name, s.versionHash);
    expect(await uniqueColumns(c)).toEqual([]);
  });

  it('COPYs a CSV file with a header as it is (columns in any order, empty = NULL, "" = empty text)', async () => {
    const c = await client();
    const s = eventsSchema();
    await c.updateStoredSchema(s);
    const path = join(dir, 'events.csv');
    writeFileSync(path, '"_dlt_id",note,n,_dlt_load_id\nr1,"a, ""quoted"" note",7,L\nr2,,8,L\nr3,"",,L\n');
    const dialect = new PostgresDialect();
    const sql = new PostgresSqlClient(resolvePostgresCredentials({ explicit: PG_URL }));
    try {
      const inserted = await sql.transaction((tx) => dialect.bulkLoadCsv(tx, { schema: c.datasetName, table: 'events' }, path));
      expect(inserted).toBe(3);
    } finally {
      await sql.close();
    }
    expect(await c.query('SELECT _dlt_id, note, n FROM events ORDER BY _dlt_id')).toEqual([
      { _dlt_id: 'r1', note: 'a, "quoted" note', n: 7 },
      { _dlt_id: 'r2', note: null, n: 8 },
      { _dlt_id: 'r3', note: '', n: null },
    ]);
  });
});
