import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { incremental, resource, resourceState, source, sourceState } from '../../src/index.js';
import { count, query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir();

/** Items 1..upTo with cursor `ts`; the resource records what start value it was given. */
function eventsSource(upTo: number, seen: unknown[], opts: Parameters<typeof incremental>[1] = { initialValue: 0 }) {
  return source(function feed() {
    return resource(
      function* events(ctx) {
        seen.push(ctx.incremental!.startValue);
        for (let i = 1; i <= upTo; i++) yield { id: i, ts: Math.ceil(i / 2) };
      },
      { primaryKey: 'id', incremental: incremental('ts', opts) },
    );
  })();
}

describe('incremental loading and state', () => {
  it('a run with nothing new makes no load, as dlt: no package, no _dlt_loads row; a replace with no rows still empties its table', async () => {
    const p = testPipeline(dir, 'inc_nothing_new');
    const seen: unknown[] = [];
    await p.run(eventsSource(4, seen));
    const loads = async () => (await query<{ n: number }>(p, 'SELECT count(*)::INT AS n FROM _dlt_loads'))[0]!.n;
    expect(await loads()).toBe(1);
    // the same items again: all deduplicated, the cursor does not move, nothing to load
    const again = await p.run(eventsSource(4, seen));
    expect(again.loadIds).toEqual([]);
    expect(await loads()).toBe(1);
    expect(await count(p, 'events')).toBe(4);
    // a resource that yields nothing and keeps no state: no load either (dlt 1.31 makes none)
    const plain = testPipeline(dir, 'plain_nothing_new');
    await plain.run([{ a: 1 }], { tableName: 'x' });
    expect((await plain.run([], { tableName: 'nothing' })).loadIds).toEqual([]);
    expect(await count(plain, '_dlt_loads')).toBe(1);
    // new items load as before
    await p.run(eventsSource(6, seen));
    expect(await count(p, 'events')).toBe(6);
    expect(await loads()).toBe(2);
    // replace with no rows is a load that empties the table, as in dlt
    await p.run([{ a: 1 }], { tableName: 'snapshot', writeDisposition: 'replace' });
    expect((await p.run([], { tableName: 'snapshot', writeDisposition: 'replace' })).loadIds).toHaveLength(1);
    expect(await count(p, 'snapshot')).toBe(0);
  });

  it('loads only new items, dedupes the boundary and continues after the working dir is lost', async () => {
    const p = testPipeline(dir, 'inc');
    const seen: unknown[] = [];
    await p.run(eventsSource(4, seen)); // ids 1..4, ts 1,1,2,2
    expect(await count(p, 'events')).toBe(4);
    const st = p.state.sources.feed!.resources!.events!.incremental!.ts!;
    expect(st.last_value).toBe(2);
    expect(st.unique_hashes).toHaveLength(2);
    // the range start of the run that moved the cursor, as dlt 1.31 keeps it
    expect(Object.keys(st)).toEqual(['initial_value', 'last_value', 'unique_hashes', 'start_value']);
    expect(st.start_value).toBe(0);

    await p.run(eventsSource(6, seen)); // ts 2 boundary rows are deduplicated; 5,6 new
    expect(await count(p, 'events')).toBe(6);
    expect(seen).toEqual([0, 2]);
    expect(p.state.sources.feed!.resources!.events!.incremental!.ts).toMatchObject({ last_value: 3, start_value: 2 });
    await p.run(eventsSource(6, seen)); // nothing new: the cursor stays, and so does its start
    expect(p.state.sources.feed!.resources!.events!.incremental!.ts).toMatchObject({ last_value: 3, start_value: 2 });
    seen.pop();

    // Lose the working dir: state comes back from _dlt_pipeline_state.
    rmSync(join(dir, 'pipelines', 'inc'), { recursive: true, force: true });
    const p2 = testPipeline(dir, 'inc');
    await p2.run(eventsSource(8, seen));
    expect(seen[2]).toBe(3);
    expect(await count(p2, 'events')).toBe(8);
    const dups = await query(p2, 'SELECT id FROM events GROUP BY id HAVING count(*) > 1');
    expect(dups).toEqual([]);
    expect(p2.defaultSchema?.getTable('events')).toBeDefined();
  });

  it('a dataset dropped at the destination starts the pipeline over, as dlt: the next run loads everything again', async () => {
    const p = testPipeline(dir, 'inc_gone');
    const seen: unknown[] = [];
    await p.run(eventsSource(4, seen));
    const sql = p.sqlClient();
    await sql.query(`DROP SCHEMA ${p.datasetName} CASCADE`);
    await sql.close();
    await p.run(eventsSource(4, seen));
    // the cursor started over at initialValue, so the rows came back
    expect(seen).toEqual([0, 0]);
    expect(await count(p, 'events')).toBe(4);
    expect(p.state.sources.feed!.resources!.events!.incremental!.ts!.last_value).toBe(2);
    // the same dataset afterwards: incremental again
    await p.run(eventsSource(6, seen));
    expect(seen[2]).toBe(2);
    expect(await count(p, 'events')).toBe(6);
  });

  it('state is saved only when the package loads; a second extract builds on the pending one', async () => {
    const p = testPipeline(dir, 'pend');
    const seen: unknown[] = [];
    await p.extract(eventsSource(4, seen));
    expect(p.state.sources.feed).toBeUndefined();
    await p.extract(eventsSource(6, seen));
    expect(seen).toEqual([0, 2]);
    await p.normalize();
    await p.load();
    expect(p.state.sources.feed!.resources!.events!.incremental!.ts!.last_value).toBe(3);
    expect(await count(p, 'events')).toBe(6);
  });

  it('endValue loads a range without changing state; rowOrder stops reading early', async () => {
    const p = testPipeline(dir, 'range');
    const seen: unknown[] = [];
    await p.run(eventsSource(10, seen, { initialValue: 2, endValue: 4 }));
    const ts = await query<{ ts: unknown }>(p, 'SELECT DISTINCT ts FROM events ORDER BY ts');
    expect(ts.map((r) => Number(r.ts))).toEqual([2, 3]);
    expect(p.state.sources.feed?.resources?.events?.incremental?.ts?.last_value ?? 2).toBe(2);

    let pulled = 0;
    const ordered = resource(
      function* ordered() {
        for (let i = 1; i <= 1000; i++) {
          pulled++;
          yield { id: i, ts: i };
        }
      },
      { incremental: incremental('ts', { initialValue: 0, endValue: 10, rowOrder: 'asc' }) },
    );
    await p.run(ordered);
    expect(await count(p, 'ordered')).toBe(9);
    expect(pulled).toBeLessThan(20);
  });

  it('state that JSON cannot keep (a Map, a bigint) is a typed error naming where it is, and nothing is stored', async () => {
    const p = testPipeline(dir, 'state_values');
    const keeps = (value: unknown) =>
      source(function vals() {
        return resource(function* r(ctx) {
          (ctx.state as Record<string, unknown>).v = value;
          yield { id: 1 };
        });
      })();
    await expect(p.run(keeps(new Map([['a', 1]])))).rejects.toThrow(/pipeline state at sources\.vals\.resources\.r\.v holds a Map/);
    await expect(p.run(keeps(5n))).rejects.toThrow(/sources\.vals\.resources\.r\.v holds a bigint/);
    expect(p.hasPendingData).toBe(false);
    await p.run(keeps({ a: 1, at: new Date('2024-01-01T00:00:00Z') }));
    expect(p.state.sources.vals!.resources!.r).toMatchObject({ v: { a: 1, at: '2024-01-01T00:00:00.000Z' } });
  });

  it('resourceState() and sourceState() persist between runs', async () => {
    const p = testPipeline(dir, 'rstate');
    const src = source(function counter() {
      return resource(function* ticks() {
        const rs = resourceState<{ runs?: number }>();
        const ss = sourceState<{ total?: number }>();
        rs.runs = (rs.runs ?? 0) + 1;
        ss.total = (ss.total ?? 0) + 10;
        yield { run: rs.runs };
      });
    });
    await p.run(src());
    await p.run(src());
    expect(p.state.sources.counter!.resources!.ticks!.runs).toBe(2);
    expect(p.state.sources.counter!.total).toBe(20);
    const rows = await query<{ run: unknown }>(p, 'SELECT run FROM ticks ORDER BY run');
    expect(rows.map((r) => Number(r.run))).toEqual([1, 2]);
    const stateRows = await query(p, 'SELECT version, pipeline_name FROM _dlt_pipeline_state');
    expect(stateRows.length).toBe(2);
  });

  it('allowExternalSchedulers: a run with an externalWindow loads exactly [start, end) in the cursor\'s terms and leaves the cursor alone', async () => {
    const p = testPipeline(dir, 'window');
    const seen: unknown[] = [];
    // A numeric cursor: the window's instants become unix seconds (ts 1..5 here).
    const opts = { initialValue: 0, allowExternalSchedulers: true };
    await p.run(eventsSource(6, seen, opts)); // no window: the cursor as usual, ts 1..3
    const before = structuredClone(p.state.sources.feed!.resources!.events!.incremental!.ts!);
    expect(before.last_value).toBe(3);
    const window = { start: new Date(2000).toISOString(), end: new Date(3000).toISOString() }; // [2 s, 3 s)
    const info = await p.run(eventsSource(6, seen, opts), { externalWindow: window });
    expect(await query(p, 'SELECT id FROM events WHERE _dlt_load_id = $1 ORDER BY id', [info.loadPackages[0]!.loadId])).toEqual([{ id: 3 }, { id: 4 }]);
    expect(seen.at(-1)).toBe(2); // the resource sees the window's start
    expect(p.state.sources.feed!.resources!.events!.incremental!.ts).toEqual(before);
    // Without allowExternalSchedulers the window is ignored: the cursor decides (nothing new).
    const plain = await p.run(eventsSource(6, seen, { initialValue: 0 }), { externalWindow: window });
    expect(plain.loadPackages.every((x) => !x.rowCounts?.events)).toBe(true);
    await expect(p.run(eventsSource(6, seen, opts), { externalWindow: { start: window.end, end: window.start } })).rejects.toThrow(/start must be before end/);
  });
});
