import { describe, expect, it } from 'vitest';
import { isOutOfMemory, nextMemoryLimitMiB } from '../../src/destinations/duckdb/memory-growth.js';
import { duckdb, memoryBudget } from '../../src/destinations/duckdb/index.js';
import { InvalidOptionsError } from '../../src/errors.js';

const MiB = 2 ** 20;

describe('DuckDB memory growth', () => {
  it('multiplies the limit by 4 up to the maximum, and stops there', () => {
    expect(nextMemoryLimitMiB(128e6, 16e9)).toBe(Math.floor(512e6 / MiB));
    expect(nextMemoryLimitMiB(512e6, 1e9)).toBe(Math.floor(1e9 / MiB));
    // DuckDB reads 1GB back as 953.6 MiB: at the maximum, no further step
    expect(nextMemoryLimitMiB(953.6 * MiB, 1e9)).toBeUndefined();
    expect(nextMemoryLimitMiB(2e9, 1e9)).toBeUndefined();
  });

  it("finds DuckDB's out-of-memory error among the causes", () => {
    const duck = new Error('Out of Memory Error: failed to allocate data of size 32.0 MiB (1.0 MiB/30.5 MiB used)');
    expect(isOutOfMemory(new Error('load 1: job x failed', { cause: new Error('x.jsonl: ...', { cause: duck }) }))).toBe(true);
    expect(isOutOfMemory(new Error('Conversion Error: Could not convert string "a" to INT64'))).toBe(false);
    expect(isOutOfMemory('Out of Memory Error')).toBe(false);
  });

  it('starts at 128MB; the maximum is half the memory by default, else the limit set', () => {
    const byDefault = memoryBudget({});
    expect(byDefault.memoryLimit).toBe('128MB');
    expect(byDefault.maxBytes).toBeGreaterThan(128e6);
    expect(memoryBudget({ memoryLimit: '2GB' })).toEqual({ memoryLimit: '2GB', maxBytes: 2e9 });
    expect(memoryBudget({ memoryLimit: '64MB', maxMemoryLimit: '1GiB' })).toEqual({ memoryLimit: '64MB', maxBytes: 2 ** 30 });
  });

  it('refuses a limit that is not a size', () => {
    expect(() => duckdb({ memoryLimit: 'lots' })).toThrow(InvalidOptionsError);
    expect(() => duckdb({ maxMemoryLimit: '8' })).toThrow(/`maxMemoryLimit` must be a size such as "256MB"/);
    expect(duckdb({ memoryLimit: '64MB', maxMemoryLimit: '2GiB' }).options).toEqual({ memoryLimit: '64MB', maxMemoryLimit: '2GiB' });
  });
});
