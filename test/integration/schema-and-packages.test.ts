import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { FailedJobsError, PipelineStepFailed } from '../../src/index.js';
import { count, editNormalizedJob, query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir();

describe('schema versions, YAML export/import, dev mode', () => {
  it('bumps the schema version and hash only when the schema changes', async () => {
    const p = testPipeline(dir, 'ver');
    await p.run([{ a: 1 }], { tableName: 't' });
    const v1 = p.defaultSchema!;
    await p.run([{ a: 2 }], { tableName: 't' });
    expect(p.defaultSchema!.versionHash).toBe(v1.versionHash);
    await p.run([{ a: 3, b: 'new' }], { tableName: 't' });
    const v3 = p.defaultSchema!;
    expect(v3.version).toBeGreaterThan(v1.version);
    expect(v3.versionHash).not.toBe(v1.versionHash);
    expect(v3.previousHashes).toContain(v1.versionHash);
    const stored = await query<{ version_hash: string }>(p, 'SELECT version_hash FROM _dlt_version ORDER BY inserted_at');
    expect(stored.map((r) => r.version_hash)).toContain(v3.versionHash);
  });

  it('exports the schema as YAML and imports hints from it', async () => {
    const exportDir = join(dir, 'export');
    const p = testPipeline(dir, 'yml', { exportSchemaPath: exportDir });
    await p.run([{ id: 1, price: 1.5, tags: ['x'] }], { tableName: 'items' });
    const file = join(exportDir, 'yml.schema.yaml');
    expect(existsSync(file)).toBe(true);
    const doc = YAML.parse(readFileSync(file, 'utf8'));
    expect(doc.tables.items.columns.price.dataType).toBe('double');
    expect(doc.tables.items__tags.parent).toBe('items');

    // Import: declare `code` as text although the data has numbers.
    const importDir = join(dir, 'import');
    doc.name = 'imp';
    doc.tables = { items: { name: 'items', writeDisposition: 'append', columns: { code: { name: 'code', dataType: 'text', nullable: true } } } };
    const { mkdirSync } = await import('node:fs');
    mkdirSync(importDir, { recursive: true });
    writeFileSync(join(importDir, 'imp.schema.yaml'), YAML.stringify(doc));
    const q = testPipeline(dir, 'imp', { importSchemaPath: importDir });
    await q.run([{ code: 7 }], { tableName: 'items' });
    const cols = await query<{ data_type: string }>(q, "SELECT data_type FROM information_schema.columns WHERE table_schema = 'imp_data' AND table_name = 'items' AND column_name = 'code'");
    expect(cols[0]!.data_type).toBe('VARCHAR');
    expect((await query<{ code: string }>(q, 'SELECT code FROM items'))[0]!.code).toBe('7');
  });

  it('devMode loads into a fresh dataset with a datetime suffix', async () => {
    const p = testPipeline(dir, 'dev', { devMode: true, datasetName: 'dev_data' });
    expect(p.datasetName).toMatch(/^dev_data_\d{14}$/);
    await p.run([{ a: 1 }], { tableName: 't' });
    expect(await count(p, 't')).toBe(1);
  });
});

describe('load packages and failed jobs', () => {
  it('a job the destination rejects fails the run, stays pending, and loads once fixed', async () => {
    const p = testPipeline(dir, 'failjob');
    await p.run([{ id: 1, n: 1 }], { tableName: 't' });
    const ex = await p.extract([{ id: 2, n: 2 }], { tableName: 't' });
    await p.normalize();
    const { job, original: good } = editNormalizedJob(p, ex.loadId, 't', (text) => text.replace('"n":2', '"n":"not a number"'));

    const info = await p.load({ raiseOnFailedJobs: false });
    expect(info.hasFailedJobs).toBe(true);
    expect(info.failedJobs[0]!.job).toBe(job);
    expect(info.failedJobs[0]!.table).toBe('t');
    expect(() => info.raiseOnFailedJobs()).toThrow(FailedJobsError);
    expect(p.listFailedJobs(ex.loadId).map((j) => j.job)).toEqual([job]);
    expect(p.listNormalizedLoadPackages()).toEqual([ex.loadId]);
    expect(await count(p, 't')).toBe(1);

    // run() raises while the job keeps failing, and so does load() by default (dlt 1.x);
    // the message names the job once
    const e = await p.run().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(PipelineStepFailed);
    const thrown = await p.load().catch((err: unknown) => err);
    expect(thrown).toBeInstanceOf(PipelineStepFailed);
    expect((thrown as Error).cause).toBeInstanceOf(FailedJobsError);
    expect((thrown as Error).message.split(`job ${job}`).length).toBe(2);

    const failedDir = join(p.workingDir, 'load', 'normalized', ex.loadId, 'failed_jobs');
    writeFileSync(join(failedDir, job), good);
    const fixed = await p.load();
    expect(fixed.hasFailedJobs).toBe(false);
    expect(await count(p, 't')).toBe(2);
    expect(p.hasPendingData).toBe(false);
  });

  it("a table's append files load together in one batch; a bad file in the batch is found by loading them one by one", async () => {
    const loadProgress: Array<{ loadId?: string; jobsDone?: number }> = [];
    const p = testPipeline(dir, 'batch', { progress: { on: (e) => { if (e.type === 'progress' && e.step === 'load') loadProgress.push(e); } } });
    await p.run([{ id: 0, n: 0 }], { tableName: 't' });
    // a package with three job files of one table (the second and third written beside the first)
    const ex = await p.extract([{ id: 1, n: 1 }], { tableName: 't' });
    await p.normalize();
    const jobs = join(p.workingDir, 'load', 'normalized', ex.loadId, 'new_jobs');
    const first = readdirSync(jobs).find((f) => f.startsWith('t.'))!;
    const line = readFileSync(join(jobs, first), 'utf8');
    const row = (id: number, n: unknown) => line.replace('"id":1', `"id":${id}`).replace('"n":1', `"n":${JSON.stringify(n)}`).replace(/"_dlt_id":"[^"]+"/, `"_dlt_id":"batch${id}"`);
    writeFileSync(join(jobs, 't.bbbbbbbbbb.0.jsonl'), row(2, 2) + row(3, 3));
    writeFileSync(join(jobs, 't.cccccccccc.0.jsonl'), row(4, 'not a number'));

    const info = await p.load({ raiseOnFailedJobs: false });
    // only the bad file failed; the other two committed with their markers
    expect(info.failedJobs.map((j) => j.job)).toEqual(['t.cccccccccc.0.jsonl']);
    expect(await query(p, 'SELECT id::INT AS id FROM t ORDER BY id')).toEqual([{ id: 0 }, { id: 1 }, { id: 2 }, { id: 3 }]);
    expect(readdirSync(join(p.workingDir, 'load', 'normalized', ex.loadId, 'completed_jobs')).sort()).toEqual([first, 't.bbbbbbbbbb.0.jsonl'].sort());
    // the batch ran without DuckDB's insertion order; the user's own queries get it back
    expect(await query(p, `SELECT current_setting('preserve_insertion_order') AS o`)).toEqual([{ o: true }]);

    // fixed, the rest loads once; nothing committed before is loaded again
    writeFileSync(join(p.workingDir, 'load', 'normalized', ex.loadId, 'failed_jobs', 't.cccccccccc.0.jsonl'), row(4, 4));
    await p.load();
    expect(await query(p, 'SELECT id::INT AS id, n::INT AS n FROM t ORDER BY id')).toEqual([0, 1, 2, 3, 4].map((id) => ({ id, n: id })));

    // a package of good files only: one batch, every row once
    const ex2 = await p.extract([{ id: 5, n: 5 }], { tableName: 't' });
    await p.normalize();
    const jobs2 = join(p.workingDir, 'load', 'normalized', ex2.loadId, 'new_jobs');
    writeFileSync(join(jobs2, 't.dddddddddd.0.jsonl'), row(6, 6) + row(7, 7));
    const info2 = await p.load();
    expect(info2.hasFailedJobs).toBe(false);
    // the two files of t committed together: one step of two jobs, not two steps of one
    expect(loadProgress.filter((e) => e.loadId === ex2.loadId).map((e) => e.jobsDone)).toEqual([2]);
    expect(await query(p, 'SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids FROM t')).toEqual([{ n: 8, ids: 8 }]);
    expect(await query(p, `SELECT current_setting('preserve_insertion_order') AS o`)).toEqual([{ o: true }]);
  });

  it('dropPendingPackages discards pending packages and drop() wipes the working dir', async () => {
    const p = testPipeline(dir, 'dropper');
    await p.run([{ a: 1 }], { tableName: 't' });
    await p.extract([{ a: 2 }], { tableName: 't' });
    expect(p.hasPendingData).toBe(true);
    p.dropPendingPackages();
    expect(p.hasPendingData).toBe(false);
    expect(p.listCompletedLoadPackages()).toHaveLength(1);
    const fresh = p.drop();
    // as dlt: the working dir starts over (no packages, no state), the destination is untouched
    expect(fresh.listCompletedLoadPackages()).toEqual([]);
    expect(fresh.firstRun).toBe(true);
    expect(fresh.schemaNames).toEqual([]);
    expect(await count(p, 't')).toBe(1);
  });
});
