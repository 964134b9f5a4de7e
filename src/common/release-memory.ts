import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Garbage the step before left in the JS heap, given back before the next step allocates.
 *
 * Why: extract promotes many short-lived rows into V8's old space, and the write and read
 * buffers it drops are freed only by a major GC. A step that then allocates mostly outside
 * the JS heap (DuckDB's buffer pool while loading) triggers no major GC, so the garbage stays
 * resident beside it: 35–45 MB at the load step's peak on the 1M-row bench
 * (docs/performance.md, section 23). One full collection costs 10–20 ms in a plain process.
 */

/** Heap growth since the last collection below which a collection is not worth its pause. */
export const RELEASE_THRESHOLD_BYTES = 16 * 1024 * 1024;

/**
 * Job file bytes a step takes in below which the step before left too little to collect. In a
 * Temporal worker (70–90 MB of live heap) a full GC takes 40–55 ms: small runs must not pay it.
 */
export const RELEASE_MIN_WORK_BYTES = 32 * 1024 * 1024;

type FullGc = (options?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * A full collection that also gives back the young generation's pages. Extract grows the
 * young generation to its limit (32 MB on Node 20 and 22, 64–128 MB on Node 24 and 26 on a
 * large machine, section 32), and a plain full GC keeps it committed through the load. V8 12
 * and newer (Node 22+) shrink it on a last-resort collection. Node 20's V8 (11) does not, and
 * the 1M bench peaked 30–40 MB higher with these options there (docs/performance.md,
 * section 36), so it keeps the plain one.
 */
const SHRINKING_GC = Number(process.versions.v8.split('.')[0]) >= 12 ? ({ type: 'major', execution: 'sync', flavor: 'last-resort' } as const) : undefined;
let fullGc: FullGc | null | undefined;
let heldAfterLastRelease = 0;

/** V8's gc(): the process's own when node runs with --expose-gc, otherwise one exposed for a fresh context. */
function obtainGc(): FullGc | null {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as FullGc;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as FullGc) : null;
  } catch {
    return null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/** JS heap in use plus ArrayBuffer memory (Buffers), which only a GC returns. */
function heldBytes(): number {
  const u = process.memoryUsage();
  return u.heapUsed + u.arrayBuffers;
}

/**
 * Before a step that takes in `workBytes` of job files: runs a full GC when that is at least
 * `RELEASE_MIN_WORK_BYTES` and the heap and buffers grew by `RELEASE_THRESHOLD_BYTES` since
 * the last one; returns whether it ran. Small runs (a 10-row load on a warm worker) skip it.
 */
export function releaseFreedMemory(workBytes: number): boolean {
  if (workBytes < RELEASE_MIN_WORK_BYTES) return false;
  if (heldBytes() - heldAfterLastRelease < RELEASE_THRESHOLD_BYTES) return false;
  if (fullGc === undefined) fullGc = obtainGc();
  if (fullGc === null) return false;
  fullGc(SHRINKING_GC);
  heldAfterLastRelease = heldBytes();
  return true;
}
