import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attach,
  CorruptPackageFileError,
  DestinationUnreachableError,
  duckdb,
  IdentifierCollisionError,
  InvalidIdentifierError,
  pipeline,
  PipelineNotFoundError,
  PipelineStepFailed,
  UnserializableValueError,
} from '../../src/index.js';
import { count, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir();

async function failure(promise: Promise<unknown>): Promise<PipelineStepFailed> {
  const e = await promise.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(PipelineStepFailed);
  return e as PipelineStepFailed;
}

describe('bad input gives typed errors and loses nothing', () => {
  it('functions, symbols and circular references name the table and field', async () => {
    const p = testPipeline(dir, 'unser');
    await p.run([{ id: 1 }], { tableName: 'ok' });
    const stateBefore = p.state;

    const fn = await failure(p.run([{ id: 1, cb: () => 1 }], { tableName: 'bad' }));
    expect(fn.step).toBe('extract');
    expect(fn.cause).toBeInstanceOf(UnserializableValueError);
    expect(fn.message).toMatch(/"bad".*cb.*function/);

    const sym = await failure(p.run([{ id: 1, nested: { s: Symbol('x') } }], { tableName: 'bad' }));
    expect(sym.message).toMatch(/nested\.s.*symbol/);

    const loop: Record<string, unknown> = { id: 1 };
    loop.self = loop;
    const circ = await failure(p.run([loop], { tableName: 'bad' }));
    expect(circ.cause).toBeInstanceOf(UnserializableValueError);
    expect(circ.message).toMatch(/at self: a circular reference/);
    expect(circ.message.length).toBeLessThan(500);

    // JSON.stringify would turn these into {} silently: each is an error naming the field.
    for (const [value, what] of [
      [/ab+c/i, /at v: a RegExp \/ab\+c\/i/],
      [new Error('boom'), /at v: an Error "boom"/],
      [Promise.resolve(1), /at v: a Promise \(await it before yielding the item\)/],
    ] as const) {
      const e = await failure(p.run([{ id: 1, v: value }], { tableName: 'bad' }));
      expect(e.cause).toBeInstanceOf(UnserializableValueError);
      expect(e.message).toMatch(what);
    }

    expect(p.hasPendingData).toBe(false);
    expect(p.state).toEqual(stateBefore);
    expect(await count(p, 'ok')).toBe(1);
  });

  it('a table name too long for file names and a pipelinesDir that is a file are typed errors with advice', async () => {
    const p = testPipeline(dir, 'longname');
    const e = await failure(p.run([{ id: 1 }], { tableName: 'x'.repeat(500) }));
    expect(e.cause).toBeInstanceOf(InvalidIdentifierError);
    expect(e.message).toMatch(/normalizes to a table name of 500 bytes; at most 200 fit in a load package's file names: give resource "x+" a shorter tableName/);
    expect(p.hasPendingData).toBe(false);
    await p.run([{ id: 1 }], { tableName: 'x'.repeat(150) }); // the advice works
    expect(await count(p, 'x'.repeat(150))).toBe(1);

    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    expect(() => pipeline({ pipelineName: 'p', pipelinesDir: file })).toThrow(/not-a-dir is a file, not a directory; pass another pipelinesDir/);
  });

  it('keys that normalize to the same column are a collision error naming both', async () => {
    const p = testPipeline(dir, 'coll');
    const e = await failure(p.run([{ userId: 1, user_id: 2 }], { tableName: 'users' }));
    expect(e.step).toBe('normalize');
    expect(e.cause).toBeInstanceOf(IdentifierCollisionError);
    expect(e.message).toMatch(/userId.*user_id|user_id.*userId/);
    // run()'s own package cannot ever normalize: it is discarded, so it blocks no later run.
    expect(e.discarded).toBe(true);
    expect(p.hasPendingData).toBe(false);
  });

  it('a corrupt package file names the file and the package stays pending', async () => {
    const p = testPipeline(dir, 'corrupt');
    const ex = await p.extract([{ id: 1 }, { id: 2 }], { tableName: 't' });
    const jobsDir = join(p.workingDir, 'normalize', 'extracted', ex.loadId, 'new_jobs');
    const file = readdirSync(jobsDir).find((f) => f.startsWith('t.'))!;
    writeFileSync(join(jobsDir, file), '{"id": 1}\n{"id": \n');
    const e = await failure(p.normalize());
    expect(e.cause).toBeInstanceOf(CorruptPackageFileError);
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/line 2/);
    expect(p.listExtractedLoadPackages()).toEqual([ex.loadId]);
    // Repair the file and the same package finishes.
    writeFileSync(join(jobsDir, file), '{"id": 1}\n{"id": 2}\n');
    await p.normalize();
    await p.load();
    expect(await count(p, 't')).toBe(2);
  });

  it('a destination that cannot be opened fails the load and keeps the package', async () => {
    const bad = join(dir, 'a-directory.duckdb');
    mkdirSync(bad, { recursive: true });
    const p = pipeline({ pipelineName: 'nodb', pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path: bad }), datasetName: 'x' });
    const sync = await failure(p.run([{ id: 1 }], { tableName: 't' }));
    expect(sync.step).toBe('sync');
    expect(sync.cause).toBeInstanceOf(DestinationUnreachableError);
    await p.extract([{ id: 1 }], { tableName: 't' });
    await p.normalize();
    const e = await failure(p.load());
    expect(e.step).toBe('load');
    expect(e.cause).toBeInstanceOf(DestinationUnreachableError);
    expect(e.message).toContain(bad);
    expect(p.listNormalizedLoadPackages()).toHaveLength(1);
  });

  it('attach to a missing pipeline says what to do', () => {
    expect(() => attach({ pipelineName: 'nope', pipelinesDir: join(dir, 'pipelines') })).toThrow(PipelineNotFoundError);
  });
});
