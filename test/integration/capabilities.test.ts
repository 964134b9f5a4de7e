/**
 * The generic code reads what a destination declares: a file format or write disposition it
 * cannot take is refused before anything is written, and names it makes fit its limits.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupTableName } from '../../src/load/refresh.js';
import { duckdb, InvalidOptionsError, UnsupportedWriteDispositionError, PipelineStepFailed, type DestinationCapabilities, type DestinationFactory } from '../../src/index.js';
import { count, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir();

/** A real DuckDB destination that declares fewer capabilities (as a file destination would). */
function duckdbDeclaring(path: string, caps: Partial<DestinationCapabilities>): DestinationFactory {
  const inner = duckdb({ path });
  return {
    destinationName: 'duckdb',
    options: inner.options,
    createClient(ctx) {
      const client = inner.createClient(ctx);
      Object.assign(client, { capabilities: { ...client.capabilities, ...caps } });
      return client;
    },
  };
}

describe('destination capabilities', () => {
  it('an unsupported write disposition is refused before extract writes a package', async () => {
    const p = testPipeline(dir, 'nomerge', { destination: duckdbDeclaring(join(dir, 'nomerge.duckdb'), { supportedWriteDispositions: ['append', 'replace', 'skip'] }) });
    await p.run([{ id: 1 }], { tableName: 'users' });
    const err = await p.run([{ id: 1, name: 'x' }], { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineStepFailed);
    expect((err as Error).message).toMatch(/table "users" \(resource "users"\) uses "merge", which destination duckdb does not support \(it supports append, replace, skip\)/);
    expect((err as PipelineStepFailed).cause).toBeInstanceOf(UnsupportedWriteDispositionError);
    expect(p.hasPendingData).toBe(false);
    expect(await count(p, 'users')).toBe(1);
    // The advice works: a supported disposition loads.
    await p.run([{ id: 2 }], { tableName: 'users', writeDisposition: 'append' });
    expect(await count(p, 'users')).toBe(2);
  });

  it('a file format the destination does not load is refused, naming what it loads', async () => {
    const p = testPipeline(dir, 'formats');
    const err = await p.run([{ id: 1 }], { tableName: 't', loaderFileFormat: 'csv' }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/destination duckdb does not load "csv" files \(it loads jsonl, parquet\)/);
    expect(p.hasPendingData).toBe(false);
    expect(p.listCompletedLoadPackages()).toEqual([]);
  });

  it('backup table names fit the identifier limit and stay apart', () => {
    const long = 'a'.repeat(70);
    const a = backupTableName(long + '_x', '1700000000.123456', 63);
    const b = backupTableName(long + '_y', '1700000000.123456', 63);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    const tag = backupTableName('users', '1700000000.123456', 63).slice('users__bak_'.length);
    expect(tag).toMatch(/^[a-z0-9]{8}$/);
    expect(a.endsWith(`__bak_${tag}`)).toBe(true);
    // two workflow runs (UUIDv7 run ids) started within the same minute share their first
    // characters; their backups must not (a second refresh took the first one's backup for its own)
    const run1 = '019af0c2-7a10-7c3e-9b1d-2f1e4a5b6c7d';
    const run2 = '019af0c2-7b44-7d01-8e2f-0a9b8c7d6e5f';
    expect(backupTableName('users', run1, 63)).not.toBe(backupTableName('users', run2, 63));
    expect(backupTableName('users', run1, 63)).toBe(backupTableName('users', run1, 63));
  });
});
