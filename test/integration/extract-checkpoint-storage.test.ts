/**
 * Extract checkpoints without Temporal: the storage of a checkpoint (temp folder kept by
 * recover(), files written after it cut away on resume, discarded by another load, gone once
 * the package commits), and an extract of the same load id that failed after a checkpoint
 * continuing where it stopped — every row exactly once, incremental state as if it never failed.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { incremental, resource, source, sourceStateAtStart, type ResourceContext } from '../../src/index.js';
import { Schema } from '../../src/schema/schema.js';
import { PackageStorage } from '../../src/storage/package-storage.js';
import { count, query, tempDir, testPipeline } from '../helpers.js';

describe('checkpoint storage', () => {
  it('keeps a checkpointed temp package through recover(), cuts it back to the checkpoint on resume, and drops it on commit', () => {
    const dir = tempDir();
    const storage = new PackageStorage(join(dir, 'wd'));
    storage.ensureLayout();
    const b = storage.beginPackage('extracted', '100.1', { resume: true });
    expect(b.checkpoint).toBeUndefined();
    writeFileSync(join(b.newJobsDir, 'users.aaaa.0.jsonl'), '{"id":1}\n');
    b.writeCheckpoint({ seq: 1, createdAt: new Date().toISOString(), jobFiles: ['users.aaaa.0.jsonl'], progress: { any: 'thing' } });
    // Written after the checkpoint, then the process died: half a file, and a state file.
    writeFileSync(join(b.newJobsDir, 'users.bbbb.0.jsonl'), '{"id":2}\n{"id":');
    b.writeState({ loadId: '100.1' } as never);
    // A temp package without a checkpoint (another step's half-built folder) goes as before.
    const other = storage.beginPackage('extracted', '100.2');
    writeFileSync(join(other.newJobsDir, 'x.cccc.0.jsonl'), '{}\n');

    storage.recover();
    expect(storage.checkpointedLoadIds()).toEqual(['100.1']);
    expect(storage.readCheckpoint('100.1')?.seq).toBe(1);
    expect(storage.findStage('100.1')).toBeUndefined(); // not a package yet

    const again = storage.beginPackage('extracted', '100.1', { resume: true });
    expect(again.checkpoint).toMatchObject({ seq: 1, jobFiles: ['users.aaaa.0.jsonl'], progress: { any: 'thing' } });
    expect(readdirSync(again.newJobsDir)).toEqual(['users.aaaa.0.jsonl']);

    // Without `resume`, a build of the same id starts empty.
    const fresh = storage.beginPackage('extracted', '100.3', { resume: true });
    fresh.writeCheckpoint({ seq: 4, createdAt: '', jobFiles: [], progress: {} });
    expect(storage.beginPackage('extracted', '100.3').checkpoint).toBeUndefined();
    expect(storage.readCheckpoint('100.3')).toBeUndefined();

    // A checkpoint naming a file that is gone cannot be trusted: start over.
    const lost = storage.beginPackage('extracted', '100.4', { resume: true });
    lost.writeCheckpoint({ seq: 2, createdAt: '', jobFiles: ['t.dddd.0.jsonl'], progress: {} });
    expect(storage.beginPackage('extracted', '100.4', { resume: true }).checkpoint).toBeUndefined();

    // Another load starts: checkpoints of other ids are discarded, its own kept.
    const keep = storage.beginPackage('extracted', '100.5', { resume: true });
    keep.writeCheckpoint({ seq: 1, createdAt: '', jobFiles: [], progress: {} });
    storage.discardCheckpoints('100.1');
    expect(storage.checkpointedLoadIds()).toEqual(['100.1']);

    again.writeSchema(new Schema('s'));
    again.writeState({ loadId: '100.1' } as never);
    again.commit();
    expect(storage.findStage('100.1')).toBe('extracted');
    expect(storage.readCheckpoint('100.1')).toBeUndefined();
    expect(storage.checkpointedLoadIds()).toEqual([]);
    expect(storage.jobs('100.1', 'new_jobs', 'extracted')).toEqual(['users.aaaa.0.jsonl']);
    expect(existsSync(join(dir, 'wd', 'normalize', 'extracted', '100.1', 'checkpoint.json'))).toBe(false);
  });
});

/** Pages 1..pages of `per` events; `failAt` throws (a retryable failure) before that page. */
function pagedSource(calls: Array<{ resumeFrom: unknown }>, opts: { pages: number; per: number; failAt?: number }, lookupsOpened = { n: 0 }) {
  return source(function paged() {
    const events = resource(
      async function* events(ctx: ResourceContext) {
        calls.push({ resumeFrom: ctx.resumeFrom });
        const first = ctx.resumeFrom === undefined ? 1 : (ctx.resumeFrom as { page: number }).page;
        for (let page = first; page <= opts.pages; page++) {
          if (page === opts.failAt) throw new Error(`connection reset before page ${page}`);
          yield Array.from({ length: opts.per }, (_, i) => ({ id: (page - 1) * opts.per + i + 1, ts: (page - 1) * opts.per + i + 1, page }));
          ctx.checkpoint?.({ page: page + 1 });
        }
      },
      { primaryKey: 'id', incremental: incremental('ts', { initialValue: 0 }) },
    );
    const lookups = resource(
      function* lookups() {
        lookupsOpened.n++;
        for (let i = 1; i <= 3; i++) yield { code: i };
      },
      { name: 'lookups' },
    );
    return [lookups, events];
  });
}

describe('an extract resumed from its checkpoint', () => {
  it('continues after the last checkpoint: resources done are not read again, every row once, state as without the failure', async () => {
    const dir = tempDir();
    const p = testPipeline(dir, 'cp_resume');
    const calls: Array<{ resumeFrom: unknown }> = [];
    const loadId = '1700000000.5';
    // Every 14 items (two pages); the clock never decides here.
    const policy = { everyItems: 14, everyMs: 3_600_000 };
    const checkpoints: number[] = [];
    const failing = pagedSource(calls, { pages: 10, per: 7, failAt: 7 })();
    await expect(p.extract(failing, {}, { loadId, checkpoint: policy, onCheckpoint: (c) => checkpoints.push(c.seq) })).rejects.toThrow(/connection reset before page 7/);
    // lookups done (1), then pages 2, 4 and 6 reach 14 items since the last one.
    expect(checkpoints).toEqual([1, 2, 3, 4]);
    expect(p.hasPendingData).toBe(false);

    const lookupsOpened = { n: 0 };
    const info = await p.extract(pagedSource(calls, { pages: 10, per: 7 }, lookupsOpened)(), {}, { loadId, checkpoint: policy });
    expect(calls.map((c) => c.resumeFrom)).toEqual([undefined, { page: 7 }]);
    expect(lookupsOpened.n).toBe(0);
    expect(info.resumedFrom).toEqual({ checkpoint: 4, items: { lookups: 3, events: 42 } });
    expect(info.itemCounts).toEqual({ lookups: 3, events: 70 });
    await p.normalize();
    await p.load();
    expect(await count(p, 'events')).toBe(70);
    expect(await query(p, 'SELECT id FROM events GROUP BY id HAVING count(*) > 1')).toEqual([]);
    expect(await count(p, 'lookups')).toBe(3);
    expect(p.state.sources['paged']!.resources!['events']!.incremental!['ts']!.last_value).toBe(70);

    // The next run starts after the cursor: nothing new.
    const next = await p.extract(pagedSource([], { pages: 10, per: 7 })(), {}, { loadId: '1700000001.5' });
    expect(next.itemCounts['events']).toBe(0);
  });

  it('a resource resumed after an earlier one committed its cursor still sees the source state as the load began', async () => {
    const dir = tempDir();
    const p = testPipeline(dir, 'cp_start');
    const seen: unknown[] = [];
    const make = (n: number, fail: boolean) =>
      source(function two() {
        const first = resource(function* first() { for (let i = 1; i <= n; i++) yield { id: i }; }, { name: 'first', incremental: incremental('id', { initialValue: 0 }) });
        const second = resource(
          function* second() {
            const st = sourceStateAtStart<{ resources?: Record<string, { incremental?: Record<string, { last_value: unknown }> }> }>();
            seen.push(st.resources?.['first']?.incremental?.['id']?.last_value);
            if (fail) throw new Error('timeout');
            yield { id: 1 };
          },
          { name: 'second' },
        );
        return [first, second];
      })();
    await p.run(make(4, false));
    const loadId = '1700000002.5';
    await expect(p.extract(make(6, true), {}, { loadId })).rejects.toThrow(/timeout/);
    const info = await p.extract(make(6, false), {}, { loadId });
    expect(info.resumedFrom?.checkpoint).toBe(1);
    // Every attempt of the second load saw `first`'s cursor as that load began (4), not as `first` left it (6).
    expect(seen).toEqual([undefined, 4, 4]);
    expect(info.itemCounts).toEqual({ first: 2, second: 1 });
  });

  it('in-process runs without a load id record no checkpoint and start over, as before', async () => {
    const dir = tempDir();
    const p = testPipeline(dir, 'cp_plain');
    const calls: Array<{ resumeFrom: unknown }> = [];
    await expect(p.run(pagedSource(calls, { pages: 5, per: 2, failAt: 4 })())).rejects.toThrow(/page 4/);
    expect(readdirSync(join(p.workingDir, 'normalize', 'extracted'))).toEqual([]);
    await p.run(pagedSource(calls, { pages: 5, per: 2 })());
    expect(calls.map((c) => c.resumeFrom)).toEqual([undefined, undefined]);
    expect(await count(p, 'events')).toBe(10);
  });
});
