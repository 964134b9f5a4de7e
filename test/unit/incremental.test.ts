/**
 * The incremental cursor's filter and state, case by case against what dlt 1.31 did with the
 * same items (a side-by-side probe: the expected ids below are dlt's).
 */
import { describe, expect, it } from 'vitest';
import { incremental, IncrementalCursorMissingError, type IncrementalOptions } from '../../src/extract/incremental.js';
import type { ResourceState } from '../../src/state/state.js';
import { InvalidOptionsError } from '../../src/errors.js';

type Row = Record<string, unknown>;

/** One extract: binds to `state`, filters `rows` in order, commits; the ids kept and whether it stopped. */
function run(state: ResourceState, opts: IncrementalOptions, rows: Row[], pk?: string | string[], cursor = 'ts') {
  const inc = incremental(cursor, opts);
  inc.bind('r', state, pk);
  const kept: unknown[] = [];
  let pulled = 0;
  for (const row of rows) {
    pulled++;
    if (inc.accept(row)) kept.push(row.id);
    if (inc.isStopped) break;
  }
  inc.commit();
  return { kept, pulled, startValue: inc.startValue };
}

const rows = (...ts: unknown[]): Row[] => ts.map((t, i) => ({ id: i + 1, ts: t }));

describe('incremental (dlt 1.31 semantics)', () => {
  it('a backfill (endValue) starts at initialValue and neither reads nor writes the stored cursor', () => {
    const state: ResourceState = {};
    expect(run(state, { initialValue: 0 }, rows(1, 2, 3, 4, 5, 6)).kept).toEqual([1, 2, 3, 4, 5, 6]);
    const stored = structuredClone(state.incremental);
    expect(run(state, { initialValue: 0, endValue: 4 }, rows(1, 2, 3, 4, 5, 6)).kept).toEqual([1, 2, 3]);
    expect(run(state, { initialValue: 2, endValue: 4 }, rows(1, 2, 3, 4, 5, 6)).kept).toEqual([2, 3]);
    expect(state.incremental).toEqual(stored);
    // the next normal run continues from the stored cursor: only the new row
    expect(run(state, { initialValue: 0 }, rows(1, 2, 3, 4, 5, 6, 7)).kept).toEqual([7]);
    // a backfill on a fresh resource leaves no state behind
    const fresh: ResourceState = {};
    run(fresh, { initialValue: 0, endValue: 3 }, rows(1, 2));
    expect(fresh.incremental?.ts).toBeUndefined();
  });

  it('a changed initialValue does not reset the stored cursor', () => {
    const state: ResourceState = {};
    run(state, { initialValue: 0 }, rows(1, 2));
    expect(run(state, { initialValue: 1 }, rows(1, 2, 3)).kept).toEqual([3]);
    expect(state.incremental!.ts).toMatchObject({ initial_value: 0, last_value: 3 });
  });

  it('primaryKey [] turns boundary deduplication off: every row at the cursor loads', () => {
    const state: ResourceState = {};
    run(state, { initialValue: 0, primaryKey: [] }, [{ id: 1, ts: 1 }, { id: 2, ts: 2 }]);
    const second = run(state, { initialValue: 0, primaryKey: [] }, [{ id: 3, ts: 2 }, { id: 4, ts: 2 }, { id: 5, ts: 3 }]);
    expect(second.kept).toEqual([3, 4, 5]);
    expect(state.incremental!.ts!.unique_hashes).toEqual([]);
  });

  it('a custom lastValueFunc filters as max does', () => {
    const state: ResourceState = {};
    const lastValueFunc = (vs: unknown[]) => Math.max(...(vs as number[]));
    run(state, { initialValue: 0, lastValueFunc }, rows(1, 2), 'id');
    expect(run(state, { initialValue: 0, lastValueFunc }, rows(1, 2, 3), 'id').kept).toEqual([3]);
    expect(state.incremental!.ts!.last_value).toBe(3);
  });

  it('cursor values of different types are an error naming the value, not a text comparison', () => {
    const state: ResourceState = {};
    run(state, { initialValue: 0 }, rows(5));
    expect(() => run(state, { initialValue: 0 }, [{ id: 2, ts: '10' }])).toThrow(/"10" \(string\).*stored cursor 5 \(number\)/);
    expect(state.incremental!.ts!.last_value).toBe(5);
  });

  it("rowOrder follows lastValueFunc's order: asc stops past the end, desc before the start", () => {
    const desc = rows(12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    const asc = run({}, { initialValue: 10, endValue: 5, lastValueFunc: 'min', rowOrder: 'asc' }, desc);
    expect(asc.kept).toEqual([3, 4, 5, 6, 7]);
    expect(asc.pulled).toBe(8);
    const d = run({}, { initialValue: 10, endValue: 5, lastValueFunc: 'min', rowOrder: 'desc' }, desc);
    expect(d.kept).toEqual([]);
    expect(d.pulled).toBe(1);
    // desc with max stops at the boundary row already loaded (dlt pulls no further)
    const state: ResourceState = {};
    run(state, { initialValue: 0 }, rows(5, 4, 3, 2, 1), 'id');
    const again = run(state, { initialValue: 0, rowOrder: 'desc' }, [8, 7, 6, 5, 4, 3].map((ts) => ({ id: ts === 5 ? 1 : ts * 10, ts })), 'id');
    expect(again.kept).toEqual([80, 70, 60]);
    expect(again.pulled).toBe(4);
  });

  it('onCursorValueMissing: raise (null and missing told apart), include, exclude', () => {
    const items = [{ id: 1, ts: 1 }, { id: 2 }, { id: 3, ts: null }, { id: 4, ts: 4 }];
    expect(() => run({}, {}, items)).toThrow(IncrementalCursorMissingError);
    expect(() => run({}, {}, [{ id: 3, ts: null }])).toThrow(/has null at incremental cursor path "ts".*onCursorValueMissing/);
    expect(() => run({}, {}, [{ id: 2 }])).toThrow(/has no value at incremental cursor path "ts"/);
    expect(run({}, { onCursorValueMissing: 'include' }, items).kept).toEqual([1, 2, 3, 4]);
    expect(run({}, { onCursorValueMissing: 'exclude' }, items).kept).toEqual([1, 4]);
  });

  it('rangeStart open drops rows at the start value; rangeEnd closed keeps rows at the end value', () => {
    const state: ResourceState = {};
    run(state, { initialValue: 0 }, rows(1, 2, 3));
    expect(run(state, { initialValue: 0, rangeStart: 'open' }, [{ id: 9, ts: 3 }, { id: 10, ts: 4 }]).kept).toEqual([10]);
    expect(run({}, { initialValue: 1, endValue: 3, rangeEnd: 'closed' }, rows(1, 2, 3, 4)).kept).toEqual([1, 2, 3]);
  });

  it('lag starts before the stored cursor (units, seconds, days), never before initialValue, and stores the true last value', () => {
    const state: ResourceState = {};
    run(state, { initialValue: 0, lag: 2 }, rows(1, 2, 3, 4, 5));
    const lagged = run(state, { initialValue: 0, lag: 2 }, rows(1, 2, 3, 4, 5, 6, 7));
    expect(lagged.startValue).toBe(3);
    expect(lagged.kept).toEqual([3, 4, 5, 6, 7]);
    expect(state.incremental!.ts!.last_value).toBe(7);
    expect(run({}, { initialValue: 4, lag: 10 }, rows(1, 5)).startValue).toBe(4);
    const ts: ResourceState = {};
    run(ts, { initialValue: '2024-01-01T00:00:00Z', lag: 60 }, rows('2024-01-01T10:00:00Z'));
    expect(run(ts, { initialValue: '2024-01-01T00:00:00Z', lag: 60 }, rows('2024-01-01T09:59:30Z', '2024-01-01T09:58:00Z')).kept).toEqual([1]);
    const day: ResourceState = {};
    run(day, { initialValue: '2024-01-01', lag: 1 }, rows('2024-01-10'));
    expect(run(day, { initialValue: '2024-01-01', lag: 1 }, rows('2024-01-09', '2024-01-08')).startValue).toBe('2024-01-09');
  });

  it('without a primary key, a row at the boundary is the same row whatever its key order', () => {
    const state: ResourceState = {};
    run(state, { initialValue: 0 }, [{ id: 1, ts: 2, v: 'a' }]);
    expect(run(state, { initialValue: 0 }, [{ v: 'a', ts: 2, id: 1 }, { id: 2, ts: 2, v: 'b' }]).kept).toEqual([2]);
  });

  it('refuses an endValue without initialValue, or before it, and JSONPath it cannot follow; takes $.a.b and $[\'a.b\']', () => {
    expect(() => incremental('ts', { endValue: 5 })).toThrow(InvalidOptionsError);
    expect(() => incremental('ts', { initialValue: 5, endValue: 3 })).toThrow(/endValue 3 \(number\) must be higher than initialValue 5/);
    expect(() => incremental('ts', { initialValue: 5, endValue: 3, lastValueFunc: 'min' })).not.toThrow();
    expect(() => incremental('data[*].ts')).toThrow(/not a field path.*addMap/);
    expect(run({}, {}, [{ id: 1, data: { ts: 1 } }], undefined, '$.data.ts').kept).toEqual([1]);
    expect(run({}, {}, [{ id: 1, 'a.b': 1 }], undefined, "$['a.b']").kept).toEqual([1]);
  });
});
