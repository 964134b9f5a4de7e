/**
 * Issue 14's "attach() gives a pipeline on which all of them work": a pipeline reopened from
 * its working dir in a fresh object, with every Pipeline member of the issue used on it, on
 * DuckDB and PostgreSQL.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attach, duckdb, pipeline, postgres, type Pipeline } from '../../src/index.js';
import { count, query, tempDir } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';

const dir = tempDir('haul-pipeline-attach-');
const pipelinesDir = join(dir, 'pipelines');
const pgDatasets: string[] = [];
afterAll(() => dropPgSchemas(...pgDatasets));

const targets = [
  {
    name: 'duckdb',
    make: (pipelineName: string) => {
      const datasetName = `${pipelineName}_data`;
      return { datasetName, destination: duckdb({ path: join(dir, `${pipelineName}.duckdb`) }) };
    },
    maxIdentifier: 65536,
    env: {},
  },
  {
    name: 'postgres',
    make: (pipelineName: string) => {
      const datasetName = pgDatasetName(pipelineName);
      pgDatasets.push(datasetName);
      return { datasetName, destination: postgres({ credentials: PG_URL }) };
    },
    maxIdentifier: 63,
    // credentials are never stored: the attached pipeline finds them in the secrets, as in dlt
    env: { DESTINATION__POSTGRES__CREDENTIALS: PG_URL },
  },
] as const;

async function storedStates(p: Pipeline): Promise<Array<Record<string, unknown>>> {
  const rows = await query<{ state: string }>(p, `SELECT state FROM "${p.datasetName}"._dlt_pipeline_state ORDER BY version`);
  return rows.map((r) => JSON.parse(r.state) as Record<string, unknown>);
}

describe.each(targets)('an attached pipeline on $name', (target) => {
  it('has every member of the issue, working', async () => {
    const pipelineName = `attach_${target.name}`;
    const { datasetName, destination } = target.make(pipelineName);
    const original = pipeline({ pipelineName, pipelinesDir, destination, datasetName });
    const first = await original.run([{ id: 1, UserName: 'ann', tags: ['x', 'y'] }], { tableName: 'users' });
    const firstLoadId = first.loadPackages[0]!.loadId;

    // a fresh object from the working dir alone: no destination or dataset given
    const p = attach({ pipelineName, pipelinesDir });
    expect(p).not.toBe(original);
    Object.assign(process.env, target.env);
    try {
      await usesEveryMember(p, original, firstLoadId, { pipelineName, datasetName, target });
    } finally {
      for (const k of Object.keys(target.env)) delete process.env[k];
    }
  });
});

async function usesEveryMember(
  p: Pipeline,
  original: Pipeline,
  firstLoadId: string,
  { pipelineName, datasetName, target }: { pipelineName: string; datasetName: string; target: (typeof targets)[number] },
): Promise<void> {
  // attribute names of the reference
  expect(p.pipelineName).toBe(pipelineName);
  expect(p.pipelinesDir).toBe(original.pipelinesDir);
  expect(p.workingDir).toBe(join(pipelinesDir, pipelineName));
  expect(p.destination.destinationName).toBe(target.name);
  expect(p.staging).toBeUndefined();
  expect(p.datasetName).toBe(datasetName);
  expect(p.devMode).toBe(false);
  expect(p.defaultSchemaName).toBe(pipelineName);
  expect(p.schemaNames).toEqual([pipelineName]);
  expect(p.pipelineSalt).toBe(original.pipelineSalt);

  // the trace of the run the other object made, read from the working dir
  expect(p.lastTrace?.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['extract', 'normalize', 'load']));
  expect(p.lastTrace?.steps.find((s) => s.step === 'load')?.loadIds).toEqual([firstLoadId]);

  // firstRun / hasData / hasPendingData / state
  expect(p.firstRun).toBe(false);
  expect(p.hasData).toBe(true);
  expect(p.hasPendingData).toBe(false);
  expect(p.state).toMatchObject({ pipeline_name: pipelineName, dataset_name: datasetName, default_schema_name: pipelineName, destination_name: target.name });

  // naming: the default schema's convention, bounded by the destination
  expect(p.naming.normalizeIdentifier('UserName')).toBe('user_name');
  expect(p.naming.normalizeTableIdentifier('Order Items')).toBe('order_items');
  expect(p.naming.maxLength).toBe(target.maxIdentifier);
  expect(p.naming.shortenIdentifier('z'.repeat(80))).toHaveLength(Math.min(target.maxIdentifier, 80));
  expect(p.defaultSchema!.getTable('users')!.columns.user_name).toBeDefined();

  // the active pipeline: attach() activates, as creating does
  expect(p.isActive).toBe(true);
  expect(original.isActive).toBe(false);
  expect(pipeline()).toBe(p);
  p.deactivate();
  expect(p.isActive).toBe(false);
  original.activate();
  expect(pipeline()).toBe(original);
  p.activate();
  expect(pipeline()).toBe(p);

  // a load package's state
  expect(p.getLoadPackageState(firstLoadId)).toMatchObject({ loadId: firstLoadId, schemaName: pipelineName, rowCounts: { users: 1, users__tags: 2 } });

  // local state values: on this machine only
  p.setLocalStateVal('checked_at', '2024-05-01');
  expect(p.getLocalStateVal('checked_at')).toBe('2024-05-01');
  expect(original.getLocalStateVal('checked_at')).toBe('2024-05-01');

  // managedState: kept on success, dropped on throw; loads with the next package
  await p.managedState((s) => {
    s.sources[pipelineName] = { cursor: 5 };
  });
  await expect(
    p.managedState((s) => {
      s.sources[pipelineName] = { cursor: 99 };
      throw new Error('rolled back');
    }),
  ).rejects.toThrow('rolled back');
  expect(p.state.sources[pipelineName]).toEqual({ cursor: 5 });
  // extractState, here from an await using block: a package of its own carries the state
  {
    await using m = p.managedState({ extractState: true });
    m.state.sources[pipelineName] = { cursor: 6 };
    expect(await m.commit()).toBe(p.listExtractedLoadPackages()[0]);
  }
  const statePackage = p.listExtractedLoadPackages()[0]!;

  // pending data, then a run on the attached pipeline finishes it and loads more
  const { loadId: pendingId } = await p.extract([{ id: 2, UserName: 'bob', tags: [] }], { tableName: 'users' });
  expect(p.hasPendingData).toBe(true);
  expect(p.getLoadPackageState(pendingId).itemCounts).toEqual({ users: 1 });
  const second = await p.run([{ id: 3, UserName: 'cy', tags: ['z'] }], { tableName: 'users' });
  expect(second.loadPackages.map((lp) => lp.loadId)).toEqual(expect.arrayContaining([statePackage, pendingId]));
  expect(p.hasPendingData).toBe(false);
  expect(await count(p, 'users')).toBe(3);
  expect(p.lastTrace?.steps.some((s) => s.loadIds.includes(pendingId))).toBe(true);
  const stored = await storedStates(p);
  expect((stored.at(-1)!.sources as Record<string, unknown>)[pipelineName]).toMatchObject({ cursor: 6 });
  expect(JSON.stringify(stored)).not.toContain('checked_at');

  // destinationClient: an opened client of the dataset; drop the dataset with it
  await expect(p.destinationClient('no_such_schema')).rejects.toThrow(/has no schema no_such_schema; its schemas: attach_/);
  const client = await p.destinationClient(pipelineName);
  try {
    expect(await client.listTables()).toEqual(expect.arrayContaining(['users', 'users__tags', '_dlt_loads', '_dlt_pipeline_state']));
    await client.dropDataset();
  } finally {
    await client.close();
  }
  // syncSchema makes the destination have the schema's tables again
  const changed = await p.syncSchema(pipelineName);
  expect(changed).toEqual(expect.arrayContaining(['users', 'users__tags']));
  expect(await count(p, 'users')).toBe(0);
  const again = await p.destinationClient();
  try {
    expect(await again.listTables()).toEqual(expect.arrayContaining(['users', 'users__tags']));
  } finally {
    await again.close();
  }

  // drop(newName): the working dir goes; a fresh, active pipeline keeps dataset and destination, as dlt
  const renamed = p.drop(`${pipelineName}_2`);
  expect(existsSync(join(p.workingDir, 'state.json'))).toBe(false);
  expect(renamed.pipelineName).toBe(`${pipelineName}_2`);
  expect(renamed.isActive).toBe(true);
  expect(renamed.firstRun).toBe(true);
  expect(renamed.hasData).toBe(false);
  expect(renamed.datasetName).toBe(datasetName);
  expect(renamed.destination.destinationName).toBe(target.name);
  await renamed.run([{ id: 4, UserName: 'dee', tags: [] }], { tableName: 'users' });
  expect(await count(renamed, 'users')).toBe(1);
  // attaching the new name gives it back
  expect(attach({ pipelineName: `${pipelineName}_2`, pipelinesDir }).firstRun).toBe(false);
}
