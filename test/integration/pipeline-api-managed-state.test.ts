/**
 * dlt's `managed_state(extract_state=True)` (issue 14): a changed state goes into a load
 * package and reaches `_dlt_pipeline_state` with the next load, on DuckDB and PostgreSQL;
 * the `await using` form keeps changes only on commit().
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { duckdb, HaulError, InvalidOptionsError, pipeline, postgres, type DestinationFactory, type Pipeline } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';
import { PG_URL, dropPgSchemas, pgDatasetName } from '../postgres-env.js';

const dir = tempDir('haul-managed-state-');
const pgDatasets: string[] = [];
afterAll(() => dropPgSchemas(...pgDatasets));

async function storedSources(p: Pipeline): Promise<Array<Record<string, unknown>>> {
  const rows = await query<{ state: string }>(p, `SELECT state FROM "${p.datasetName}"._dlt_pipeline_state ORDER BY version`);
  return rows.map((r) => (JSON.parse(r.state) as { sources: Record<string, unknown> }).sources);
}

const targets: Array<[string, (name: string) => { destination: DestinationFactory; datasetName: string }]> = [
  ['duckdb', (name) => ({ destination: duckdb({ path: join(dir, `${name}.duckdb`) }), datasetName: `${name}_data` })],
  [
    'postgres',
    (name) => {
      const datasetName = pgDatasetName(name);
      pgDatasets.push(datasetName);
      return { destination: postgres({ credentials: PG_URL }), datasetName };
    },
  ],
];

describe.each(targets)('managedState({ extractState }) on %s', (_, target) => {
  it('extracts a changed state into a package the next run loads; a throw or no change extracts nothing', async () => {
    const name = `ms_extract_${_}`;
    const t = target(name);
    const p = pipeline({ pipelineName: name, pipelinesDir: join(dir, 'pipelines'), ...t });
    await p.run([{ id: 1 }], { tableName: 'users' });
    const packagesBefore = p.listCompletedLoadPackages().length;

    const out = await p.managedState({ extractState: true }, (s) => {
      s.sources[name] = { ...s.sources[name], cursor: 5 };
      return 'done';
    });
    expect(out).toBe('done');
    const [loadId] = p.listExtractedLoadPackages();
    expect(loadId).toBeDefined();
    expect(p.getLoadPackageState(loadId!).pipelineState?.sources[name]).toMatchObject({ cursor: 5 });
    expect(p.state.sources[name]).toMatchObject({ cursor: 5 }); // kept locally at once, as dlt

    // a throw keeps nothing, an unchanged state extracts nothing
    const failing = p.managedState({ extractState: true }, (s) => {
      s.sources[name] = { cursor: 99 };
      throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    await p.managedState({ extractState: true }, () => undefined);
    expect(p.listExtractedLoadPackages()).toEqual([loadId]);
    expect(p.state.sources[name]).toMatchObject({ cursor: 5 });

    // run() without data loads the package: the state row lands, the load is recorded
    const info = await p.run();
    expect(info.loadPackages.map((x) => x.loadId)).toEqual([loadId]);
    expect(p.hasPendingData).toBe(false);
    expect(p.listCompletedLoadPackages()).toHaveLength(packagesBefore + 1);
    expect((await storedSources(p)).at(-1)![name]).toMatchObject({ cursor: 5 });
    const loads = await query<{ load_id: string }>(p, `SELECT load_id FROM "${p.datasetName}"._dlt_loads WHERE load_id = '${loadId}'`);
    expect(loads).toHaveLength(1);

    // a pipeline with an empty working dir restores the state from the destination alone
    const fresh = pipeline({ pipelineName: name, pipelinesDir: join(dir, 'fresh-pipelines'), ...t });
    await fresh.run();
    expect(fresh.state.sources[name]).toMatchObject({ cursor: 5 });
  });
});

describe('managedState() with await using', () => {
  it('keeps changes on commit(), drops them when the block throws or leaves without commit', async () => {
    const p = testPipeline(dir, 'ms_using');
    {
      await using m = p.managedState({ extractState: true });
      m.state.sources.ms_using = { page: 1 };
      expect(await m.commit()).toBe(m.loadId);
    }
    expect(p.state.sources.ms_using).toEqual({ page: 1 });
    expect(p.listExtractedLoadPackages()).toHaveLength(1);

    const failing = async () => {
      await using m = p.managedState({ extractState: true });
      m.state.sources.ms_using = { page: 2 };
      throw new Error('boom');
    };
    await expect(failing()).rejects.toThrow('boom');
    {
      await using m = p.managedState();
      m.state.sources.ms_using = { page: 3 };
      // no commit: leaving the block rolls back
    }
    expect(p.state.sources.ms_using).toEqual({ page: 1 });
    expect(p.listExtractedLoadPackages()).toHaveLength(1);

    await p.run();
    expect((await storedSources(p)).at(-1)!.ms_using).toEqual({ page: 1 });
  });

  it('refuses a commit when the state changed while the block was open, and a second commit', async () => {
    const p = testPipeline(dir, 'ms_conflict');
    await using m = p.managedState();
    m.state.sources.ms_conflict = { mine: true };
    await p.managedState((s) => void (s.sources.ms_conflict = { theirs: true }));
    const err = await m.commit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HaulError);
    expect((err as HaulError).code).toBe('StateChanged');
    expect(p.state.sources.ms_conflict).toEqual({ theirs: true });
    await expect(m.commit()).rejects.toThrow(/already committed, rolled back or disposed/);

    // options are checked, also from JavaScript
    expect(() => p.managedState({ extractstate: true } as never)).toThrow(InvalidOptionsError);
    expect(() => p.managedState({ extractState: 'yes' } as never)).toThrow(/extractState must be true or false/);

    await using ok = p.managedState();
    ok.state.sources.ms_conflict = { mine: true };
    await ok.commit();
    expect(p.state.sources.ms_conflict).toEqual({ mine: true });
  });
});
