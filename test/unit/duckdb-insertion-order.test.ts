/**
 * The turns DuckDB inserts take on the instance-wide preserve_insertion_order
 * (src/destinations/duckdb/insertion-order.ts): appends of any order run together, an
 * ordered insert never overlaps them, and the last append of a group sets the default back.
 */
import { describe, expect, it } from 'vitest';
import { inAnyOrder, inInsertionOrder } from '../../src/destinations/duckdb/insertion-order.js';
import type { SqlExecutor } from '../../src/destinations/sql/dialect.js';

/** Records the SETs it is given, in order, into `log`. */
function recorder(log: string[]): SqlExecutor {
  return {
    execute: async (sql: string) => {
      log.push(sql.replace('SET preserve_insertion_order = ', 'set '));
      return 0;
    },
    query: async <T>() => [] as T[],
  } as SqlExecutor;
}

/** An insert that logs its start and end and finishes when `release` is called. */
function insert(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  const body = async () => {
    log.push(`${name} start`);
    await done;
    log.push(`${name} end`);
  };
  return { body, release };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('DuckDB insertion-order turns', () => {
  it('runs appends together; an ordered insert waits for them, and the last one sets the default back', async () => {
    const log: string[] = [];
    const a = insert(log, 'a');
    const b = insert(log, 'b');
    const m = insert(log, 'merge');
    const pa = inAnyOrder(recorder(log), a.body);
    const pb = inAnyOrder(recorder(log), b.body);
    const pm = inInsertionOrder(recorder(log), m.body);
    await tick();
    // both appends are running; the ordered insert has not started
    expect(log).toEqual(['set false', 'set false', 'a start', 'b start']);
    a.release();
    await pa;
    await tick();
    // a finished first: it leaves the setting to b, still running
    expect(log).toEqual(['set false', 'set false', 'a start', 'b start', 'a end']);
    b.release();
    await pb;
    await tick();
    expect(log).toEqual(['set false', 'set false', 'a start', 'b start', 'a end', 'b end', 'set true', 'set true', 'merge start']);
    m.release();
    await pm;
  });

  it('an append that comes while an ordered insert runs waits for it', async () => {
    const log: string[] = [];
    const m = insert(log, 'merge');
    const a = insert(log, 'a');
    const pm = inInsertionOrder(recorder(log), m.body);
    const pa = inAnyOrder(recorder(log), a.body);
    await tick();
    expect(log).toEqual(['set true', 'merge start']);
    m.release();
    await pm;
    await tick();
    expect(log).toEqual(['set true', 'merge start', 'merge end', 'set false', 'a start']);
    a.release();
    await pa;
    expect(log.at(-1)).toBe('set true');
  });
});
