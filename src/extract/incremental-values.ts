import { createHash } from 'node:crypto';
import { sortedJson } from '../common/sorted-json.js';

/*
 * How an incremental cursor's values compare, step back by a lag and hash for boundary
 * deduplication. Values are compared as dlt compares them (Python's `max`/`min` over the
 * values themselves), with one deliberate leniency: UTC ISO strings compare by instant.
 */

/** Values of different kinds (a number and a string) cannot be compared; dlt raises too. */
export class IncomparableValuesError extends Error {
  constructor(
    readonly a: unknown,
    readonly b: unknown,
  ) {
    super(`${describe(a)} and ${describe(b)} cannot be compared`);
  }
}

function describe(v: unknown): string {
  return `${JSON.stringify(v) ?? String(v)} (${typeof v})`;
}

/** Dates become ISO strings so they compare and serialize the same way as in state. */
export function toComparable(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return Number(v);
  return v;
}

const ISO_UTC = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

/** UTC ISO timestamps with any number of fraction digits compare by instant (`...:00Z` = `...:00.000Z`). */
function sortKey(s: string): string {
  const m = ISO_UTC.exec(s);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z` : s;
}

/** Orders two cursor values of the same kind; throws IncomparableValuesError otherwise. */
export function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    const sa = sortKey(a);
    const sb = sortKey(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new IncomparableValuesError(a, b);
}

/** Equal as cursor values: by instant for UTC ISO strings, by content otherwise. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  if (typeof a === typeof b && (typeof a === 'string' || typeof a === 'number')) return compare(a, b) === 0;
  return JSON.stringify(a) === JSON.stringify(b);
}

const DATE_ONLY = /^\d{4}-\d\d-\d\d$/;
const DAY_MS = 86_400_000;

/**
 * dlt's lag: the start value stepped back (for `max`; forward for `min`) by `lag` — seconds for
 * a timestamp, days for a date, units for a number — without crossing `initial`.
 */
export function applyLag(lag: number, last: unknown, initial: unknown, fn: 'max' | 'min'): unknown {
  const sign = fn === 'max' ? -1 : 1;
  let lagged: unknown;
  if (typeof last === 'number') {
    lagged = last + sign * lag;
    if (Number.isInteger(last)) lagged = Math.trunc(lagged as number);
  } else if (typeof last === 'string' && DATE_ONLY.test(last)) {
    lagged = new Date(Date.parse(`${last}T00:00:00Z`) + sign * lag * DAY_MS).toISOString().slice(0, 10);
  } else if (typeof last === 'string' && Number.isFinite(Date.parse(last))) {
    lagged = new Date(Date.parse(last) + sign * lag * 1000).toISOString();
  } else {
    return last;
  }
  if (initial !== undefined && initial !== null && compare(lagged, initial) * sign > 0) return initial;
  return lagged;
}

/** A boundary row's hash: of its key values, or of the whole row with sorted keys (dlt's). */
export function dedupHash(value: unknown): string {
  return createHash('sha256').update(sortedJson(value)).digest('base64url').slice(0, 20);
}

/** The whole-row hash haul stored before it sorted keys: still recognised at the boundary. */
export function legacyDedupHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value) ?? '').digest('base64url').slice(0, 20);
}
