/** Which append batches the DuckDB destination loads at once, and how it splits them (concurrent-appends.ts). */
import { describe, expect, it } from 'vitest';
import { batchesToLoadAtOnce, twoSides } from '../../src/destinations/duckdb/concurrent-appends.js';

const MB = 1024 * 1024;

describe('batchesToLoadAtOnce', () => {
  it('takes the large batches of about even sides, leaving small ones (the state row) to load first', () => {
    expect(batchesToLoadAtOnce([500, 66 * MB, 69 * MB])).toEqual([1, 2]);
    expect(batchesToLoadAtOnce([30 * MB, 10 * MB, 12 * MB, 9 * MB, 200])).toEqual([0, 1, 2, 3]);
  });

  it('declines one large table, little data, or sides too uneven', () => {
    expect(batchesToLoadAtOnce([500, 300 * MB])).toBeUndefined();
    expect(batchesToLoadAtOnce([3 * MB, 3 * MB])).toBeUndefined();
    expect(batchesToLoadAtOnce([90 * MB, 10 * MB])).toBeUndefined();
    expect(batchesToLoadAtOnce([60 * MB, 40 * MB])).toEqual([0, 1]);
    expect(batchesToLoadAtOnce([200, 512 * 1024, 20 * MB])).toBeUndefined();
  });
});

describe('twoSides', () => {
  it('puts the largest first, each on the lighter side, each side in input order', () => {
    expect(twoSides([10, 30, 20, 5])).toEqual([[1, 3], [0, 2]]);
    expect(twoSides([7])).toEqual([[0], []]);
  });
});
