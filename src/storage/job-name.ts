import { randomBytes } from 'node:crypto';
import { CorruptPackageFileError } from '../errors.js';

/** A job file name split into its parts: `<table>.<fileId>.<retryCount>.<format>`. */
export interface ParsedJobName {
  table: string;
  fileId: string;
  retryCount: number;
  format: string;
}

export function parseJobName(name: string): ParsedJobName {
  const parts = name.split('.');
  if (parts.length !== 4) throw new CorruptPackageFileError(name, 'job file name must be <table>.<fileId>.<retryCount>.<format>');
  const [table, fileId, retry, format] = parts as [string, string, string, string];
  return { table, fileId, retryCount: Number(retry), format };
}

export function jobName(table: string, fileId: string, retryCount: number, format: string): string {
  return `${table}.${fileId}.${retryCount}.${format}`;
}

/** Load ids are `<seconds>.<micros>`; compare numerically so ordering never depends on digits. */
export function compareLoadIds(a: string, b: string): number {
  const d = Number(a) - Number(b);
  return d !== 0 && !Number.isNaN(d) ? d : a < b ? -1 : a > b ? 1 : 0;
}

let fileSeq = 0;
/**
 * A file id that sorts in creation order (milliseconds, a counter, then random bytes), for
 * extract's job files: normalize takes a package's files sorted by name, so it sees a table's
 * rows in the order they were extracted, as the background pre-normalizer did.
 */
export function newSortableFileId(): string {
  fileSeq = (fileSeq + 1) & 0xffff;
  return Date.now().toString(16).padStart(12, '0') + fileSeq.toString(16).padStart(4, '0') + randomBytes(2).toString('hex');
}

/**
 * The time a load id was made, as ISO-8601 with its microseconds (`...T19:48:15.890123Z`):
 * a package's creation time, which scd2 takes as its boundary (dlt's have microseconds too).
 * Undefined for an id that is not seconds with six decimals.
 */
export function loadIdTime(loadId: string): string | undefined {
  const m = /^(\d+)\.(\d{6})$/.exec(loadId);
  if (!m) return undefined;
  const iso = new Date(Number(m[1]) * 1000).toISOString();
  return `${iso.slice(0, 19)}.${m[2]}Z`;
}

let lastLoadId = 0;
/** A new load id: unix time in seconds with microseconds, strictly increasing per process. */
export function newLoadId(): string {
  let t = Math.round((performance.timeOrigin + performance.now()) * 1000) / 1e6;
  if (t <= lastLoadId) t = Math.round((lastLoadId + 0.000001) * 1e6) / 1e6;
  lastLoadId = t;
  return t.toFixed(6);
}
