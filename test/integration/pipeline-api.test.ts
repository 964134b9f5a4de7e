/**
 * dlt's Pipeline members (issue 14) on real destinations: firstRun/hasData, naming, local
 * state, managedState, syncSchema, destinationClient, the active pipeline, drop(newName),
 * pipelineSalt.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attach, duckdb, filesystem, InvalidOptionsError, pipeline, postgres, type Pipeline } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';

const dir = tempDir('haul-pipeline-api-');
const pgDatasets: string[] = [];
afterAll(() => dropPgSchemas(...pgDatasets));

async function storedStates(p: Pipeline): Promise<Array<Record<string, unknown>>> {
  const rows = await query<{ state: string }>(p, `SELECT state FROM "${p.datasetName}"._dlt_pipeline_state ORDER BY version`);
  return rows.map((r) => JSON.parse(r.state) as Record<string, unknown>);
}

describe('Pipeline members', () => {
  it('firstRun and hasData follow the pipeline from new to loaded', async () => {
    const p = testPipeline(dir, 'api_first');
    expect(p.firstRun).toBe(true);
    expect(p.hasData).toBe(false);
    expect(p.defaultSchemaName).toBeUndefined();
    const { loadId } = await p.extract([{ id: 1 }], { tableName: 'users' });
    expect(p.firstRun).toBe(true);
    expect(p.hasData).toBe(true); // a pending package
    expect(p.getLoadPackageState(loadId)).toMatchObject({ loadId, schemaName: 'api_first', itemCounts: { users: 1 } });
    await p.run();
    expect(p.firstRun).toBe(false);
    expect(p.hasData).toBe(true);
    expect(p.defaultSchemaName).toBe('api_first');
    expect(p.getLoadPackageState(loadId).rowCounts).toMatchObject({ users: 1 });
    expect(() => p.getLoadPackageState('1.5')).toThrow(/no load package 1\.5/);
  });

  it('local state values stay on this machine; managedState keeps changes on success only and loads them with the next package', async () => {
    const p = testPipeline(dir, 'api_state');
    p.setLocalStateVal('last_checked', '2024-05-01');
    expect(p.getLocalStateVal('last_checked')).toBe('2024-05-01');
    await p.managedState((s) => {
      s.sources.api_state = { cursor: 10 };
    });
    await expect(
      p.managedState((s) => {
        s.sources.api_state = { cursor: 99 };
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(p.state.sources.api_state).toEqual({ cursor: 10 });
    await p.run([{ id: 1 }], { tableName: 't' });
    const stored = await storedStates(p);
    const last = stored.at(-1)!;
    expect((last.sources as Record<string, unknown>).api_state).toMatchObject({ cursor: 10 });
    expect(JSON.stringify(stored)).not.toContain('last_checked');
    // a pipeline opened again reads both
    const again = attach({ pipelineName: 'api_state', pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path: join(dir, 'api_state.duckdb') }) });
    expect(again.getLocalStateVal('last_checked')).toBe('2024-05-01');
    expect(again.state.sources.api_state).toMatchObject({ cursor: 10 });
  });

  it('destinationClient is an opened client; syncSchema creates the schema\'s tables at the destination', async () => {
    const datasetName = pgDatasetName('api_sync');
    pgDatasets.push(datasetName);
    const p = pipeline({ pipelineName: datasetName, pipelinesDir: join(dir, 'pipelines'), destination: postgres({ credentials: PG_URL }), datasetName });
    await p.extract([{ id: 1, name: 'a', tags: ['x'] }], { tableName: 'users' });
    await p.normalize();
    await p.load();
    // an opened client: drop the whole dataset through it
    const client = await p.destinationClient();
    try {
      expect(await client.listTables()).toEqual(expect.arrayContaining(['users', 'users__tags', '_dlt_loads']));
      await client.dropDataset();
    } finally {
      await client.close();
    }
    // the schema still has the tables; syncSchema makes the destination agree again
    const changed = await p.syncSchema();
    expect(changed).toEqual(expect.arrayContaining(['users', 'users__tags']));
    const cols = await query<{ column_name: string }>(p, `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'users' ORDER BY ordinal_position`, [datasetName]);
    expect(cols.map((c) => c.column_name)).toEqual(['id', 'name', '_dlt_load_id', '_dlt_id']);
  });

  it('naming follows the destination: PostgreSQL names are shortened to 63 bytes as dlt does', () => {
    const pg = pipeline({ pipelineName: 'api_naming_pg', pipelinesDir: join(dir, 'pipelines'), destination: postgres({ credentials: PG_URL }) });
    expect(pg.naming.normalizeIdentifier('UserName')).toBe('user_name');
    expect(pg.naming.normalizeTableIdentifier('Order Items')).toBe('order_items');
    // dlt's normalize_identifier collapses `__`; normalize_path (what keys become) keeps it
    expect(pg.naming.normalizeIdentifier('a__b')).toBe('a_b');
    expect(pg.naming.normalizePath('a__B')).toBe('a__b');
    const long = pg.naming.normalizeIdentifier('x'.repeat(100));
    expect(long).toHaveLength(63);
    expect(pg.naming.shortenIdentifier('y'.repeat(100))).toHaveLength(63);
    const duck = testPipeline(dir, 'api_naming_duck');
    expect(duck.naming.normalizeIdentifier('x'.repeat(100))).toHaveLength(100);
  });

  it('pipeline() without options returns the active pipeline; activate/deactivate/isActive', () => {
    const a = testPipeline(dir, 'api_active_a');
    expect(a.isActive).toBe(true);
    expect(pipeline()).toBe(a);
    const b = testPipeline(dir, 'api_active_b');
    expect(a.isActive).toBe(false);
    expect(pipeline()).toBe(b);
    a.activate();
    expect(pipeline()).toBe(a);
    a.deactivate();
    expect(a.isActive).toBe(false);
  });

  it('drop(newName) wipes the working dir and returns a fresh, active pipeline under the new name', async () => {
    const p = testPipeline(dir, 'api_drop');
    await p.run([{ id: 1 }], { tableName: 't' });
    const renamed = p.drop('api_drop_2');
    expect(renamed.pipelineName).toBe('api_drop_2');
    expect(renamed.isActive).toBe(true);
    expect(renamed.firstRun).toBe(true);
    expect(p.hasData).toBe(false);
    const same = p.drop();
    expect(same.pipelineName).toBe('api_drop');
    expect(same.datasetName).toBe(p.datasetName);
  });

  it('pipelineSalt: derived from the name by default, from secrets or code otherwise, never shown', async () => {
    const p = testPipeline(dir, 'api_salt');
    expect(p.pipelineSalt).toMatch(/^[A-Za-z0-9+/]{20}$/);
    expect(testPipeline(dir, 'api_salt').pipelineSalt).toBe(p.pipelineSalt);
    expect(testPipeline(dir, 'api_salt_other').pipelineSalt).not.toBe(p.pipelineSalt);
    process.env.PIPELINE_SALT = 'env-salt-value-123';
    try {
      expect(testPipeline(dir, 'api_salt_env').pipelineSalt).toBe('env-salt-value-123');
    } finally {
      delete process.env.PIPELINE_SALT;
    }
    const coded = testPipeline(dir, 'api_salt_code', { pipelineSalt: 'code-salt-value-456' });
    expect(coded.pipelineSalt).toBe('code-salt-value-456');
    await coded.run([{ note: 'code-salt-value-456' }], { tableName: 't' });
    expect(JSON.stringify(coded.lastTrace)).not.toContain('code-salt-value-456');
  });
});

describe('per-call options (dlt run/load/normalize arguments)', () => {
  it('run() and load() take destination, datasetName and credentials; credentials are never stored', async () => {
    const datasetName = pgDatasetName('api_percall');
    pgDatasets.push(datasetName);
    const p = testPipeline(dir, 'api_percall');
    await p.run([{ id: 1 }], { tableName: 't' });
    expect(p.destination.destinationName).toBe('duckdb');

    const secretUrl = PG_URL.replace('postgres@', 'postgres:per-call-Secret-77@');
    await p.run([{ id: 2 }], { tableName: 't', destination: 'postgres', datasetName, credentials: secretUrl });
    expect(p.destination.destinationName).toBe('postgres');
    expect(p.datasetName).toBe(datasetName);
    expect(await query(p, `SELECT id::INT AS id FROM "${datasetName}".t`)).toEqual([{ id: 2 }]);
    const stateFile = readFileSync(join(p.workingDir, 'state.json'), 'utf8');
    expect(stateFile).toContain(datasetName);
    expect(stateFile).not.toContain('per-call-Secret-77');
    expect(JSON.stringify(p.lastTrace)).not.toContain('per-call-Secret-77');

    // load() too: extract and normalize here, load into another DuckDB dataset
    const q = testPipeline(dir, 'api_percall_load');
    await q.extract([{ id: 3 }], { tableName: 't' });
    await q.normalize({ loaderFileFormat: 'parquet', workers: 1 });
    expect(q.pendingPackages()[0]!.jobs).toBeGreaterThan(0);
    await q.load({ datasetName: 'elsewhere', raiseOnFailedJobs: true });
    expect(await query(q, 'SELECT id::INT AS id FROM elsewhere.t')).toEqual([{ id: 3 }]);
    const done = q.listCompletedLoadPackages().at(-1)!;
    expect(q.getLoadPackageInfo(done).jobs.some((j) => j.job.startsWith('t.') && j.job.endsWith('.parquet'))).toBe(true);
  });

  it('a destination without credentials and a format it cannot load are typed errors', async () => {
    const bucket = join(dir, 'percall-bucket');
    const p = pipeline({ pipelineName: 'api_percall_fs', pipelinesDir: join(dir, 'pipelines'), destination: filesystem({ bucketUrl: bucket }) });
    await expect(p.run([{ id: 1 }], { tableName: 't', credentials: 'x' })).rejects.toBeInstanceOf(InvalidOptionsError);
    const d = testPipeline(dir, 'api_percall_fmt');
    await d.extract([{ id: 1 }], { tableName: 't' });
    await expect(d.normalize({ loaderFileFormat: 'csv' })).rejects.toBeInstanceOf(InvalidOptionsError);
    expect(d.hasPendingData).toBe(true);
  });
});
