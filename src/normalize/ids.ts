import { randomBytes } from 'node:crypto';

/*
 * Row ids (`_dlt_id`), 14 base64url characters (84 bits) like dlt's 10-byte ids.
 *
 * Root rows get random ids; random bytes are drawn in pools so there is no crypto call per
 * row. Child rows get a deterministic id from (parent id, child table, list index), so the
 * same parent always yields the same child ids. That hash is a fast non-cryptographic one
 * (three 32-bit lanes, murmur-style mixing): child ids must be unique, not unguessable.
 */

export const ROW_ID_LENGTH = 14;

const POOL_IDS = 4096;
/** 12 random bytes make 16 base64url characters; we keep 14 of them (84 bits). */
const BYTES_PER_ID = 12;
const CHARS_PER_ID = 16;

/** Hands out random root row ids from a pool of random bytes refilled as needed. */
export class RandomIdPool {
  private pool = '';
  private bytes: Buffer = Buffer.alloc(0);
  private pos = 0;

  /** `source` replaces crypto.randomBytes (tests use it for reproducible ids). */
  constructor(private readonly source: (n: number) => Buffer = randomBytes) {}

  private refill(): void {
    this.pool = this.source(POOL_IDS * BYTES_PER_ID).toString('base64url');
    this.bytes = Buffer.from(this.pool, 'latin1');
    this.pos = 0;
  }

  next(): string {
    if (this.pos >= this.pool.length) this.refill();
    const s = this.pool.slice(this.pos, this.pos + ROW_ID_LENGTH);
    this.pos += CHARS_PER_ID;
    return s;
  }

  /** Writes the next id as 14 ASCII bytes into `dst` at `off`. */
  nextInto(dst: Uint8Array, off: number): void {
    if (this.pos >= this.pool.length) this.refill();
    const b = this.bytes;
    const p = this.pos;
    for (let i = 0; i < ROW_ID_LENGTH; i++) dst[off + i] = b[p + i];
    this.pos += CHARS_PER_ID;
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const A: number[] = Array.from(ALPHABET, (c) => c.charCodeAt(0));

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Per-table seed for child ids: three 32-bit lanes hashed from the table name. */
export interface TableSeed {
  a: number;
  b: number;
  c: number;
}

export function tableSeed(table: string): TableSeed {
  let a = 0x9e3779b9 | 0;
  let b = 0x7f4a7c15 | 0;
  let c = 0x1b873593 | 0;
  for (let i = 0; i < table.length; i++) {
    const ch = table.charCodeAt(i);
    a = Math.imul(a ^ ch, 0x01000193);
    b = Math.imul(b ^ ch, 0x5bd1e995);
    c = Math.imul(c ^ ch, 0x27d4eb2f);
  }
  // Mark the end of the table name so ("ab", id) and ("a", "b" + id) differ.
  return { a: fmix32(a ^ table.length), b: fmix32(b ^ 0x2f), c: fmix32(c ^ (table.length << 8)) };
}

/**
 * Deterministic id of the child row at `idx` of a list in `table` (via its seed) under the
 * parent row `parentId`.
 */
export function childRowIdSeeded(parentId: string, seed: TableSeed, idx: number): string {
  let a = seed.a;
  let b = seed.b;
  let c = seed.c;
  const n = parentId.length;
  for (let i = 0; i < n; i++) {
    const ch = parentId.charCodeAt(i);
    a = Math.imul(a ^ ch, 0xcc9e2d51);
    a = (a << 15) | (a >>> 17);
    b = Math.imul(b ^ ch, 0x1b873593);
    b = (b << 13) | (b >>> 19);
    c = Math.imul(c ^ ch, 0x85ebca6b);
    c = (c << 11) | (c >>> 21);
  }
  // the index: lanes take it in different forms so lists longer than 2^32 stay distinct enough
  const lo = idx | 0;
  const hi = (idx / 4294967296) | 0;
  a = Math.imul(a ^ lo, 0xcc9e2d51) ^ n;
  b = Math.imul(b ^ ((lo << 16) | (lo >>> 16)), 0x1b873593) ^ hi;
  c = Math.imul(c ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b) ^ (n << 3);
  // cross the lanes, then finalize each
  a = fmix32(a + b + c);
  b = fmix32(b ^ a);
  c = fmix32(c + a + b);
  // 84 bits: 30 of a, 30 of b, 24 of c -> 5 + 5 + 4 characters
  return String.fromCharCode(
    A[a & 63], A[(a >>> 6) & 63], A[(a >>> 12) & 63], A[(a >>> 18) & 63], A[(a >>> 24) & 63],
    A[b & 63], A[(b >>> 6) & 63], A[(b >>> 12) & 63], A[(b >>> 18) & 63], A[(b >>> 24) & 63],
    A[c & 63], A[(c >>> 6) & 63], A[(c >>> 12) & 63], A[(c >>> 18) & 63],
  );
}

/**
 * The same id as `childRowIdSeeded`, for a 14-byte ASCII parent id held in `src`; writes the
 * 14 ASCII bytes of the child id into `dst` at `dstOff`.
 */
export function childRowIdInto(src: Uint8Array, seed: TableSeed, idx: number, dst: Uint8Array, dstOff: number): void {
  let a = seed.a;
  let b = seed.b;
  let c = seed.c;
  const n = ROW_ID_LENGTH;
  for (let i = 0; i < n; i++) {
    const ch = src[i];
    a = Math.imul(a ^ ch, 0xcc9e2d51);
    a = (a << 15) | (a >>> 17);
    b = Math.imul(b ^ ch, 0x1b873593);
    b = (b << 13) | (b >>> 19);
    c = Math.imul(c ^ ch, 0x85ebca6b);
    c = (c << 11) | (c >>> 21);
  }
  const lo = idx | 0;
  const hi = (idx / 4294967296) | 0;
  a = Math.imul(a ^ lo, 0xcc9e2d51) ^ n;
  b = Math.imul(b ^ ((lo << 16) | (lo >>> 16)), 0x1b873593) ^ hi;
  c = Math.imul(c ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b) ^ (n << 3);
  a = fmix32(a + b + c);
  b = fmix32(b ^ a);
  c = fmix32(c + a + b);
  const o = dstOff;
  dst[o] = A[a & 63];
  dst[o + 1] = A[(a >>> 6) & 63];
  dst[o + 2] = A[(a >>> 12) & 63];
  dst[o + 3] = A[(a >>> 18) & 63];
  dst[o + 4] = A[(a >>> 24) & 63];
  dst[o + 5] = A[b & 63];
  dst[o + 6] = A[(b >>> 6) & 63];
  dst[o + 7] = A[(b >>> 12) & 63];
  dst[o + 8] = A[(b >>> 18) & 63];
  dst[o + 9] = A[(b >>> 24) & 63];
  dst[o + 10] = A[c & 63];
  dst[o + 11] = A[(c >>> 6) & 63];
  dst[o + 12] = A[(c >>> 12) & 63];
  dst[o + 13] = A[(c >>> 18) & 63];
}

const seeds = new Map<string, TableSeed>();

/** Deterministic `_dlt_id` of a child row: hash of parent id, child table name and list index. */
export function childRowId(parentId: string, childTable: string, idx: number): string {
  let s = seeds.get(childTable);
  if (!s) {
    s = tableSeed(childTable);
    if (seeds.size > 10_000) seeds.clear();
    seeds.set(childTable, s);
  }
  return childRowIdSeeded(parentId, s, idx);
}
