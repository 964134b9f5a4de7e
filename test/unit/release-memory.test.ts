/**
 * Between steps, the garbage the step before left (rows promoted to the old space, dropped
 * Buffers) is collected once it is worth a pause, without --expose-gc.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { RELEASE_MIN_WORK_BYTES, RELEASE_THRESHOLD_BYTES, releaseFreedMemory } from '../../src/common/release-memory.js';

const BIG_STEP = RELEASE_MIN_WORK_BYTES;

const held = () => {
  const u = process.memoryUsage();
  return u.heapUsed + u.arrayBuffers;
};

/** Bytes of the young generation that the process holds in memory. */
const youngGeneration = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.physical_space_size;

/** Garbage like extract's: objects that lived long enough to be promoted, and Buffers. */
function makeGarbage(): number {
  let keep: object[] = [];
  for (let i = 0; i < 300_000; i++) keep.push({ id: i, name: `row ${i}`, items: [i, i + 1] });
  let buffers: Buffer[] = [];
  for (let i = 0; i < 24; i++) buffers.push(Buffer.allocUnsafeSlow(1 << 20));
  const n = keep.length + buffers.length;
  keep = [];
  buffers = [];
  return n;
}

/** How many forced (not V8's own) collections ran during `fn`, from Node's gc performance entries. */
async function forcedCollectionsDuring(fn: () => void): Promise<number> {
  let forced = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((((e as { detail?: { flags?: number } }).detail)?.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) forced++;
  });
  observer.observe({ entryTypes: ['gc'] });
  fn();
  // entries arrive after the collection, on a later turn
  await new Promise((r) => setTimeout(r, 50));
  observer.disconnect();
  return forced;
}

describe('releaseFreedMemory', () => {
  it('runs without --expose-gc and gives back the garbage a step left', () => {
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    releaseFreedMemory(BIG_STEP); // whatever the test runner left
    expect(makeGarbage()).toBeGreaterThan(0);
    const before = held();
    expect(before).toBeGreaterThan(RELEASE_THRESHOLD_BYTES);
    expect(releaseFreedMemory(BIG_STEP)).toBe(true);
    const after = held();
    // 24 MiB of Buffers and the promoted rows are gone
    expect(before - after).toBeGreaterThan(24 * 1024 * 1024);
    // and the process's own global scope did not get a gc function
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });

  it('skips the pause when the heap grew less than the threshold since the last one', () => {
    releaseFreedMemory(BIG_STEP);
    const small = Array.from({ length: 1000 }, (_, i) => ({ i }));
    expect(small).toHaveLength(1000);
    expect(releaseFreedMemory(BIG_STEP)).toBe(false);
  });

  it('skips the pause before a step with little data, however much garbage there is', async () => {
    releaseFreedMemory(BIG_STEP);
    expect(makeGarbage()).toBeGreaterThan(0);
    // no forced collection (V8 may still collect on its own meanwhile, so the heap is no proof)
    expect(await forcedCollectionsDuring(() => expect(releaseFreedMemory(RELEASE_MIN_WORK_BYTES - 1)).toBe(false))).toBe(0);
    expect(makeGarbage()).toBeGreaterThan(0);
    expect(await forcedCollectionsDuring(() => expect(releaseFreedMemory(BIG_STEP)).toBe(true))).toBe(1);
  });

  it("gives back the young generation's pages where V8 can (V8 12+, Node 22 and newer)", () => {
    releaseFreedMemory(BIG_STEP);
    // many short-lived objects, as extract makes: the young generation grows to hold them
    let live: object[] = [];
    for (let i = 0; i < 3_000_000; i++) {
      live.push({ i, name: `row ${i}` });
      if (live.length > 100_000) live = [];
    }
    expect(makeGarbage()).toBeGreaterThan(0);
    expect(youngGeneration()).toBeGreaterThan(8 * 1024 * 1024);
    expect(releaseFreedMemory(BIG_STEP)).toBe(true);
    if (Number(process.versions.v8.split('.')[0]) >= 12) expect(youngGeneration()).toBeLessThan(4 * 1024 * 1024);
    // Node 20's V8 keeps it committed (docs/performance.md, section 36)
    else expect(youngGeneration()).toBeGreaterThan(8 * 1024 * 1024);
  });
});
