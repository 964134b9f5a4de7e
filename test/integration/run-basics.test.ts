import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, MissingTableNameError, PipelineStepFailed, resource, source } from '../../src/index.js';
import { count, query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir();

describe('run(): nested data into DuckDB', () => {
  it('loads the README example into parent and child tables with dlt names and types', async () => {
    const p = testPipeline(dir, 'chess');
    const info = await p.run(
      [
        { id: 1, tags: ['a', 'b'], owner: { name: 'x' }, rating: 2.5, active: true, joined: '2024-05-01T10:00:00Z' },
        { id: 2, tags: [], owner: { name: 'y' }, rating: 3, active: false, joined: '2024-05-02T10:00:00+02:00' },
      ],
      { tableName: 'players' },
    );
    expect(info.hasFailedJobs).toBe(false);
    expect(info.loadIds).toHaveLength(1);
    expect(info.rowCounts).toMatchObject({ players: 2, players__tags: 2 });
    expect(info.toString()).toContain('players: 2');

    const cols = await query<{ column_name: string; data_type: string }>(
      p,
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'chess_data' AND table_name = 'players' ORDER BY ordinal_position",
    );
    const types = Object.fromEntries(cols.map((c) => [c.column_name, c.data_type]));
    expect(types).toMatchObject({
      id: 'BIGINT',
      owner__name: 'VARCHAR',
      rating: 'DOUBLE',
      active: 'BOOLEAN',
      joined: 'TIMESTAMP WITH TIME ZONE',
      _dlt_load_id: 'VARCHAR',
      _dlt_id: 'VARCHAR',
    });
    const players = await query<{ id: unknown; owner__name: string; _dlt_id: string; _dlt_load_id: string }>(p, 'SELECT * FROM players ORDER BY id');
    expect(players.map((r) => [Number(r.id), r.owner__name])).toEqual([[1, 'x'], [2, 'y']]);
    expect(players[0]!._dlt_load_id).toBe(info.loadIds[0]);
    const tags = await query<{ value: string; _dlt_parent_id: string; _dlt_list_idx: unknown }>(
      p,
      'SELECT value, _dlt_parent_id, _dlt_list_idx FROM players__tags ORDER BY _dlt_list_idx',
    );
    expect(tags.map((t) => [t.value, Number(t._dlt_list_idx), t._dlt_parent_id])).toEqual([
      ['a', 0, players[0]!._dlt_id],
      ['b', 1, players[0]!._dlt_id],
    ]);
    const loads = await query<{ load_id: string; status: unknown; schema_name: string }>(p, 'SELECT load_id, status, schema_name FROM _dlt_loads');
    expect(loads.map((l) => [l.load_id, Number(l.status), l.schema_name])).toEqual([[info.loadIds[0], 0, 'chess']]);
    const versions = await query(p, 'SELECT version_hash FROM _dlt_version');
    expect(versions.length).toBeGreaterThanOrEqual(1);
    expect(p.defaultSchema?.getTable('players__tags')?.parent).toBe('players');
  });

  it('accepts generators, async generators, resources, sources and lists of resources', async () => {
    const p = testPipeline(dir, 'kinds');
    function* numbers() {
      yield { n: 1 };
      yield [{ n: 2 }, { n: 3 }]; // a page of items
    }
    async function* letters() {
      yield { l: 'a' };
      await new Promise((r) => setTimeout(r, 1));
      yield { l: 'b' };
    }
    await p.run(numbers);
    await p.run(letters(), { tableName: 'letters' });
    await p.run(resource([{ x: 1 }], { name: 'xs' }));
    await p.run([resource([{ y: 1 }], { name: 'ys' }), resource(function* zs() { yield { z: 1 }; })]);
    const src = source(function things() {
      return [resource([{ a: 1 }], { name: 'aa' }), resource([{ b: 1 }], { name: 'bb' })];
    });
    await p.run(src().withResources('bb'));
    expect(await count(p, 'numbers')).toBe(3);
    expect(await count(p, 'letters')).toBe(2);
    expect(await count(p, 'xs')).toBe(1);
    expect(await count(p, 'ys')).toBe(1);
    expect(await count(p, 'zs')).toBe(1);
    expect(await count(p, 'bb')).toBe(1);
    await expect(query(p, 'SELECT * FROM aa')).rejects.toThrow();
  });

  it('an anonymous iterable without tableName is a clear error', async () => {
    const p = testPipeline(dir, 'anon');
    const err = await p.run([{ a: 1 }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineStepFailed);
    expect((err as PipelineStepFailed).cause).toBeInstanceOf(MissingTableNameError);
    expect(p.hasPendingData).toBe(false);
  });

  it('a Promise (an async source factory not awaited) is an error that says to await it', async () => {
    const p = testPipeline(dir, 'promise');
    const pending = Promise.resolve(resource([{ a: 1 }], { name: 'rows' }));
    const err = await p.run(pending as unknown as Parameters<typeof p.run>[0], { tableName: 'rows' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineStepFailed);
    expect((err as PipelineStepFailed).cause).toBeInstanceOf(InvalidOptionsError);
    expect((err as Error).message).toMatch(/got a Promise: await it first/);
    expect(p.hasPendingData).toBe(false);
    await p.run(await pending); // what the advice says works
    expect(await count(p, 'rows')).toBe(1);
  });

  it('extract, normalize and load can run one by one', async () => {
    const p = testPipeline(dir, 'steps');
    const ex = await p.extract([{ id: 1, sub: [{ k: 1 }] }], { tableName: 'things' });
    expect(p.listExtractedLoadPackages()).toEqual([ex.loadId]);
    expect(p.hasPendingData).toBe(true);
    const norm = await p.normalize();
    expect(norm.rowCounts).toMatchObject({ things: 1, things__sub: 1 });
    expect(p.listNormalizedLoadPackages()).toEqual([ex.loadId]);
    const pkg = p.getLoadPackageInfo(ex.loadId);
    expect(pkg.stage).toBe('normalized');
    expect(pkg.jobs.map((j) => j.table).sort()).toEqual(['_dlt_pipeline_state', 'things', 'things__sub']);
    const info = await p.load();
    expect(info.loadIds).toEqual([ex.loadId]);
    expect(p.listCompletedLoadPackages()).toEqual([ex.loadId]);
    expect(p.getLoadPackageInfo(ex.loadId).jobs.every((j) => j.state === 'completed_jobs')).toBe(true);
    expect(p.lastTrace?.steps.map((s) => s.step)).toEqual(['load']);
    expect(await count(p, 'things__sub')).toBe(1);
  });

  it('run() records a trace of its steps', async () => {
    const p = testPipeline(dir, 'traced');
    await p.run([{ a: 1 }], { tableName: 't' });
    const trace = p.lastTrace!;
    expect(trace.steps.map((s) => s.step)).toEqual(['sync', 'extract', 'normalize', 'load']);
    expect(trace.steps[1]!.rowCounts).toEqual({ t: 1 });
  });
});
