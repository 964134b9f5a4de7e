/**
 * The filesystem destination end to end: dlt's layout and system files in a real folder,
 * dispositions, the merge refusal, config, state restored from the bucket alone, refresh
 * and drop through folder operations, and exactly-once after a SIGKILL.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidOptionsError,
  PipelineStepFailed,
  UnsupportedWriteDispositionError,
  attach,
  filesystem,
  incremental,
  pipeline,
  resource,
  type Pipeline,
} from '../../src/index.js';
import { Schema } from '../../src/schema/schema.js';
import { runFixture, tempDir } from '../helpers.js';

const root = tempDir('haul-fs-');
let counter = 0;

/** Files below a folder, relative to it, sorted. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<{ isFile(): boolean; name: string; parentPath: string }>)
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** A table folder's job files (without dlt's `init` marker). */
const dataFiles = (dir: string) => filesUnder(dir).filter((f) => f !== 'init' && !f.endsWith('/init'));

function jsonl(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function fsPipeline(name: string, extra: { layout?: string; bucket?: string } = {}): { p: Pipeline; bucket: string; dataset: string } {
  const dir = join(root, `${name}-${++counter}`);
  const bucket = extra.bucket ?? join(dir, 'bucket');
  const p = pipeline({
    pipelineName: name,
    pipelinesDir: join(dir, 'pipelines'),
    destination: filesystem({ bucketUrl: bucket, layout: extra.layout }),
    datasetName: `${name}_data`,
  });
  return { p, bucket, dataset: join(bucket, `${name}_data`) };
}

async function rows(p: Pipeline, sql: string): Promise<Array<Record<string, unknown>>> {
  return p.dataset().query(sql);
}

afterEach(() => {
  delete process.env.DESTINATION__FILESYSTEM__BUCKET_URL;
});

describe('filesystem destination', () => {
  it("writes dlt's default layout and system files under <bucket>/<dataset>/", async () => {
    const { p, dataset } = fsPipeline('layout');
    const info = await p.run([{ id: 1, name: 'a', tags: ['x', 'y'] }], { tableName: 'users' });
    const loadId = info.loadIds[0]!;
    const files = filesUnder(dataset);
    const users = files.filter((f) => f.startsWith('users/') && f !== 'users/init');
    expect(users).toHaveLength(1);
    expect(users[0]).toMatch(new RegExp(`^users/${loadId.replace('.', '\\.')}\\.[0-9a-f]{10}\\.jsonl$`));
    expect(files.filter((f) => f.startsWith('users__tags/') && !f.endsWith('/init'))).toHaveLength(1);
    expect(files).toEqual(expect.arrayContaining(['init', 'users/init', '_dlt_loads/init', '_dlt_version/init', '_dlt_pipeline_state/init']));
    expect(files).toContain(`_dlt_loads/layout__${loadId}.jsonl`);
    expect(files.some((f) => new RegExp(`^_dlt_pipeline_state/layout__${loadId.replace('.', '\\.')}__[0-9a-f]+\\.jsonl$`).test(f))).toBe(true);
    expect(files.filter((f) => new RegExp(`^_dlt_version/layout__\\d+\\.\\d{6}__[0-9a-f]+\\.jsonl$`).test(f))).toHaveLength(1);
    // nothing temporary or unfinished is left
    expect(files.filter((f) => f.includes('.haul-tmp-') || f.startsWith('_haul_jobs/'))).toEqual([]);

    expect(jsonl(join(dataset, users[0]!))).toEqual([{ id: 1, name: 'a', _dlt_load_id: loadId, _dlt_id: expect.any(String) }]);
    expect(jsonl(join(dataset, `_dlt_loads/layout__${loadId}.jsonl`))).toEqual([
      { load_id: loadId, schema_name: 'layout', status: 0, inserted_at: expect.any(String), schema_version_hash: p.getSchema('layout')!.versionHash },
    ]);
    expect(await rows(p, 'SELECT value FROM users__tags ORDER BY value')).toEqual([{ value: 'x' }, { value: 'y' }]);
  });

  it("renders dlt's layout placeholders and refuses unknown ones before anything runs", async () => {
    const { p, dataset } = fsPipeline('placeholders', { layout: '{table_name}/{YYYY}/{MM}/{DD}/{schema_name}-{load_id}-{file_id}.{ext}' });
    const info = await p.run([{ id: 1 }], { tableName: 'events' });
    const now = new Date();
    const day = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${String(now.getUTCDate()).padStart(2, '0')}`;
    const events = dataFiles(dataset).filter((f) => f.startsWith('events/'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(new RegExp(`^events/${day}/placeholders-${info.loadIds[0]!.replace('.', '\\.')}-[0-9a-f]{10}\\.jsonl$`));
    expect(await rows(p, 'SELECT id FROM events')).toEqual([{ id: 1 }]);

    const extra = filesystem({ bucketUrl: join(root, 'x'), layout: '{table_name}/{env}/{load_id}.{file_id}.{ext}', extraPlaceholders: { env: 'prod' } });
    expect(extra.options).toMatchObject({ extraPlaceholders: { env: 'prod' } });
    expect(() => filesystem({ bucketUrl: join(root, 'x'), layout: '{table_name}/{nope}.{file_id}.{ext}' })).toThrow(InvalidOptionsError);
    expect(() => filesystem({ bucketUrl: join(root, 'x'), layout: '{table_name}/{nope}.{file_id}.{ext}' })).toThrow(/unknown placeholder \{nope\}/);
    expect(() => filesystem({ bucketUrl: join(root, 'x'), layout: '{load_id}/{table_name}.{file_id}.{ext}' })).toThrow(/must start with \{table_name\}\//);
    expect(() => filesystem({ bucketUrl: join(root, 'x'), layout: '{table_name}/{load_id}.{ext}' })).toThrow(/must contain \{file_id\}/);
    expect(() => filesystem({ bucketUrl: 's3://bucket/path' })).toThrow(/s3:\/\/ buckets are not supported yet/);
  });

  it("takes the bucket from destination.filesystem.bucket_url (a file:// URL) with destination: 'filesystem'", async () => {
    const bucket = join(root, `from-config-${++counter}`);
    process.env.DESTINATION__FILESYSTEM__BUCKET_URL = pathToFileURL(bucket).href;
    const p = pipeline({ pipelineName: 'configured', pipelinesDir: join(bucket, '..', `pipes-${counter}`), destination: 'filesystem', datasetName: 'cfg' });
    await p.run([{ id: 7 }], { tableName: 't' });
    expect(dataFiles(join(bucket, 'cfg')).filter((f) => f.startsWith('t/'))).toHaveLength(1);
    expect(await rows(p, 'SELECT id FROM t')).toEqual([{ id: 7 }]);

    delete process.env.DESTINATION__FILESYSTEM__BUCKET_URL;
    const none = pipeline({ pipelineName: 'unconfigured', pipelinesDir: join(root, `pipes-none-${counter}`), destination: 'filesystem', datasetName: 'cfg' });
    const err = await none.run([{ id: 1 }], { tableName: 't' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineStepFailed);
    expect(String(err)).toMatch(/no bucketUrl: pass filesystem\(\{ bucketUrl \}\) or set destination\.filesystem\.bucket_url/);
  });

  it('append adds files; replace removes the previous files of the chain once the new ones are written', async () => {
    const { p, dataset } = fsPipeline('dispositions');
    await p.run([{ id: 1 }], { tableName: 'log' });
    await p.run([{ id: 2 }], { tableName: 'log' });
    expect(dataFiles(join(dataset, 'log'))).toHaveLength(2);
    expect(await rows(p, 'SELECT id FROM log ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);

    await p.run([{ id: 1, kids: [{ k: 1 }, { k: 2 }] }], { tableName: 'snap', writeDisposition: 'replace' });
    const first = dataFiles(join(dataset, 'snap'));
    const info = await p.run([{ id: 2, kids: [{ k: 3 }] }], { tableName: 'snap', writeDisposition: 'replace' });
    const second = dataFiles(join(dataset, 'snap'));
    expect(second).toHaveLength(1);
    expect(second[0]).toContain(info.loadIds[0]!);
    expect(second).not.toEqual(first);
    expect(await rows(p, 'SELECT id FROM snap')).toEqual([{ id: 2 }]);
    expect(await rows(p, 'SELECT k FROM snap__kids')).toEqual([{ k: 3 }]);

    // a replace with only root rows empties the nested table's folder too
    await p.run([{ id: 3 }], { tableName: 'snap', writeDisposition: 'replace' });
    expect(dataFiles(join(dataset, 'snap__kids'))).toEqual([]);
    expect(await p.dataset().rowCounts()).toEqual({ log: 2, snap: 1, snap__kids: 0 });
  });

  it('refuses merge with a typed error saying dlt merges on filesystems only into delta tables, before anything is written', async () => {
    const { p, dataset } = fsPipeline('nomerge');
    await p.run([{ id: 1 }], { tableName: 'users' });
    const before = filesUnder(dataset);
    const err = await p.run([{ id: 1, name: 'x' }], { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineStepFailed);
    const cause = (err as PipelineStepFailed).cause;
    expect(cause).toBeInstanceOf(UnsupportedWriteDispositionError);
    expect((cause as UnsupportedWriteDispositionError).disposition).toBe('merge');
    expect((cause as Error).message).toMatch(/supports merge only for delta tables/);
    expect((cause as Error).message).toMatch(/use "append" or "replace"/);
    expect(p.hasPendingData).toBe(false);
    expect(filesUnder(dataset)).toEqual(before);
  });

  it('restores state and schema from the bucket alone after the working dir is deleted', async () => {
    const dir = join(root, `restore-${++counter}`);
    const opts = { pipelineName: 'restore', pipelinesDir: join(dir, 'pipelines'), destination: filesystem({ bucketUrl: join(dir, 'bucket') }), datasetName: 'restored' };
    let upTo = 3;
    const events = () =>
      resource(
        function* events() {
          for (let i = 1; i <= upTo; i++) yield { id: i, ts: i };
        },
        { incremental: incremental('ts', { initialValue: 0 }) },
      );
    const p = pipeline(opts);
    await p.run(events());
    expect(p.state.sources.restore!.resources!.events!.incremental!.ts!.last_value).toBe(3);

    rmSync(join(dir, 'pipelines'), { recursive: true, force: true });
    upTo = 5;
    const again = pipeline(opts);
    await again.run(events());
    // the incremental cursor came back from _dlt_pipeline_state: only 4 and 5 were loaded
    expect(await rows(again, 'SELECT id FROM events ORDER BY id')).toEqual([1, 2, 3, 4, 5].map((id) => ({ id })));
    expect(again.state.sources.restore!.resources!.events!.incremental!.ts!.last_value).toBe(5);
    expect(again.getSchema('restore')!.tables.events).toBeDefined();
  });

  it('refresh and drop work on table folders', async () => {
    const { p, dataset } = fsPipeline('refresh');
    await p.run([{ id: 1, kids: [{ k: 1 }] }], { tableName: 'a' });
    await p.run([{ id: 2 }], { tableName: 'b' });
    await p.run([{ id: 3, kids: [{ k: 2 }] }], { tableName: 'a', refresh: 'drop_data' });
    expect(await rows(p, 'SELECT id FROM a')).toEqual([{ id: 3 }]);
    expect(await rows(p, 'SELECT k FROM a__kids')).toEqual([{ k: 2 }]);
    expect(await rows(p, 'SELECT id FROM b')).toEqual([{ id: 2 }]);

    const dropped = await p.dropResources(['b']);
    expect(dropped.tables).toEqual(['b']);
    expect(existsSync(join(dataset, 'b'))).toBe(false);
    expect(await p.dataset().tables()).toEqual(['a', 'a__kids']);
  });

  it('a job written again after a SIGKILL (after its commit, or after its file but before its marker) is visible once', async () => {
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    // load:after-commit (marker written): after 1 events committed, events__tags not; after 3
    // the products replace chain committed. filesystem:after-write (file renamed into place,
    // no marker yet): the rerun must write the same file name again although the layout
    // holds the time, and replace must not keep the earlier attempt's file.
    const cases = [
      { fault: 'load:after-commit', after: 0 },
      { fault: 'load:after-commit', after: 1 },
      { fault: 'load:after-commit', after: 3 },
      { fault: 'filesystem:after-write', after: 1 },
      { fault: 'filesystem:after-write', after: 3 },
    ];
    for (const { fault, after } of cases) {
      const dir = join(root, `crash-${after}-${++counter}`);
      const first = runFixture('fs-crash-runner.ts', [dir, '1']);
      expect(first.status, first.stderr).toBe(0);
      const killed = runFixture('fs-crash-runner.ts', [dir, '2'], { HAUL_FAULT: fault, HAUL_FAULT_AFTER: String(after), CRASH_LAYOUT: '{table_name}/{YYYY}{MM}{DD}{HH}{mm}{ss}.{timestamp_ms}.{load_id}.{file_id}.{ext}' });
      expect(killed.signal, `${killed.stdout}${killed.stderr}`).toBe('SIGKILL');
      const again = runFixture('fs-crash-runner.ts', [dir, 'pending'], { CRASH_LAYOUT: '{table_name}/{YYYY}{MM}{DD}{HH}{mm}{ss}.{timestamp_ms}.{load_id}.{file_id}.{ext}' });
      expect(again.status, again.stderr).toBe(0);

      const p = attach({ pipelineName: 'fscrash', pipelinesDir: join(dir, 'pipelines'), destination: filesystem({ bucketUrl: join(dir, 'bucket') }) });
      const ds = p.dataset();
      const col = async (sql: string) => (await ds.query<{ v: number }>(sql)).map((r) => Number(r.v));
      expect(await col('SELECT id AS v FROM events ORDER BY id'), `${fault} after ${after}`).toEqual(range(1, 200));
      expect(await col('SELECT count(*) AS v FROM events__tags'), `${fault} after ${after}`).toEqual([400]);
      expect(await col('SELECT id AS v FROM products ORDER BY id')).toEqual(range(201, 205));
      expect(await col('SELECT count(*) AS v FROM products__variants')).toEqual([10]);
      expect(await col('SELECT count(*) AS v FROM categories')).toEqual([3]);
      expect(await col('SELECT count(*) AS v FROM _dlt_loads')).toEqual([2]);
      expect(await col('SELECT count(*) AS v FROM _dlt_pipeline_state')).toEqual([2]);
      // one file per job: the rerun wrote the killed run's files under the same names
      const data = join(dir, 'bucket', 'crash_data');
      expect(dataFiles(join(data, 'events'))).toHaveLength(2);
      expect(dataFiles(join(data, 'events__tags'))).toHaveLength(2);
      expect(filesUnder(data).filter((f) => f.startsWith('_haul_jobs/') || f.includes('.haul-tmp-'))).toEqual([]);
      expect(p.state.sources.shop!.resources!.events!.incremental!.ts!.last_value).toBe(200);
      expect(p.hasPendingData).toBe(false);
    }
  });

  it('a replace chain retried after some of its markers were written keeps every file of the load', async () => {
    const dir = join(root, `partial-${++counter}`);
    mkdirSync(dir, { recursive: true });
    const client = filesystem({ bucketUrl: join(dir, 'bucket') }).createClient({ pipelineName: 'partial', datasetName: 'ds' });
    await client.open();
    const schema = new Schema('partial');
    schema.ensureTable('snap', { writeDisposition: 'replace', resource: 'snap' });
    for (const name of ['id', '_dlt_load_id', '_dlt_id']) schema.addColumn('snap', { name, dataType: name === 'id' ? 'bigint' : 'text', nullable: true });
    schema.bumpVersion();
    await client.updateStoredSchema(schema);
    const job = (name: string, ids: number[]) => {
      const path = join(dir, `${name}.jsonl`);
      writeFileSync(path, ids.map((id) => JSON.stringify({ id, _dlt_load_id: '2.0', _dlt_id: `r${id}` })).join('\n') + '\n');
      return { jobName: `snap.${name}.0.jsonl`, path, table: 'snap', format: 'jsonl' as const };
    };
    await client.loadTableChain('1.0', schema, { disposition: 'replace', tables: ['snap'], files: [job('old', [0])] });
    await client.completeLoad('1.0', 'partial', schema.versionHash);
    const a = job('aaaa', [1, 2]);
    const b = job('bbbb', [3]);
    await client.loadTableChain('2.0', schema, { disposition: 'replace', tables: ['snap'], files: [a, b] });
    // as if the process died after the first marker: the load step retries the unmarked job alone
    unlinkSync(join(dir, 'bucket', 'ds', '_haul_jobs', '2.0', `${b.jobName}.done`));
    expect(await client.completedJobs('2.0')).toEqual(new Set([a.jobName]));
    await client.loadTableChain('2.0', schema, { disposition: 'replace', tables: ['snap'], files: [b] });
    expect((await client.query<{ id: number }>('SELECT id FROM snap ORDER BY id')).map((r) => r.id)).toEqual([1, 2, 3]);
    await client.close();
  });

  it("keeps dlt's max_state_files newest state files per pipeline, and the newest state restores", async () => {
    const dir = join(root, `prune-${++counter}`);
    const opts = { pipelineName: 'prune', pipelinesDir: join(dir, 'pipelines'), destination: filesystem({ bucketUrl: join(dir, 'bucket'), maxStateFiles: 2 }), datasetName: 'pruned' };
    const p = pipeline(opts);
    let upTo = 0;
    const rows = () =>
      resource(
        function* t() {
          for (let i = 1; i <= upTo; i++) yield { id: i };
        },
        { incremental: incremental('id', { initialValue: 0 }) },
      );
    for (upTo = 1; upTo <= 4; upTo++) await p.run(rows());
    const stateDir = join(dir, 'bucket', 'pruned', '_dlt_pipeline_state');
    const states = dataFiles(stateDir);
    // the cursor moves on every run, so every load wrote a state file; the two newest remain
    expect(states).toHaveLength(2);
    const newest = p.listCompletedLoadPackages().sort().slice(-2);
    expect(states.map((f) => f.split('__')[1]).sort()).toEqual(newest);
    rmSync(join(dir, 'pipelines'), { recursive: true, force: true });
    const again = pipeline(opts);
    await again.syncDestination();
    expect(again.state._state_version).toBe(p.state._state_version);
    expect(again.state.sources.prune!.resources!.t!.incremental!.id!.last_value).toBe(4);
  });
});
