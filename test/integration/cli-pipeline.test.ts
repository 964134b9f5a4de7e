/**
 * The `haul` CLI as a subprocess (through the package's bin, src/cli/haul.js) against real
 * pipelines loaded into DuckDB: output text, --json, exit codes (0 ok, 1 failure, 2 usage).
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { attach, incremental, pipeline, postgres, resource, resourceState, source, sourceState, type Pipeline } from '../../src/index.js';
import { dropPgSchemas, PG_URL, pgDatasetName } from '../postgres-env.js';
import { count, editNormalizedJob, query, tempDir, testPipeline } from '../helpers.js';
import { applyRefreshStep } from '../../src/load/refresh-step.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'src', 'cli', 'haul.js');

let dir: string;
let pipelinesDir: string;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `haul <args>` with stdin not a TTY (as in CI and scripts). */
function haul(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? dir,
    env: { ...process.env, HAUL_PIPELINES_DIR: pipelinesDir, ...opts.env },
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking (to run several at once). */
function haulAsync(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, HAUL_PIPELINES_DIR: pipelinesDir }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdin.end();
    proc.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function ok(args: string[], opts?: Parameters<typeof haul>[1]): string {
  const r = haul(args, opts);
  expect(r.status, `haul ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

function json<T = Record<string, unknown>>(args: string[]): T {
  return JSON.parse(ok([...args, '--json'])) as T;
}

/** A one-line error on stderr, no stack trace. */
function expectOneLineError(r: Result, status: number, pattern: RegExp): void {
  expect(r.status, r.stderr).toBe(status);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const shop = source(function shop(day: number) {
  const users = resource(
    function* users() {
      yield { id: 1, name: 'ann', updated_at: `2024-01-0${day}T00:00:00Z`, tags: ['a', 'b'] };
      yield { id: 2, name: 'bob', updated_at: `2024-01-0${day}T12:00:00Z`, tags: [] };
    },
    { primaryKey: 'id', writeDisposition: 'merge', incremental: incremental('updated_at', { initialValue: '2024-01-01T00:00:00Z' }) },
  );
  const orders = resource([{ id: day, total: 9.5 }], { name: 'orders' });
  return [users, orders];
});

/** A pipeline whose last package is partially loaded: `good` loaded, `t` failed. */
async function brokenPipeline(): Promise<{ p: Pipeline; loadId: string; job: string }> {
  const p = testPipeline(dir, 'broken');
  await p.run([{ id: 1, n: 1 }], { tableName: 't' });
  const ex = await p.extract([resource([{ id: 2, n: 2 }], { name: 't' }), resource([{ g: 1 }], { name: 'good' })]);
  await p.normalize();
  const { job } = editNormalizedJob(p, ex.loadId, 't', (text) => text.replace('"n":2', '"n":"not a number"'));
  const info = await p.load({ raiseOnFailedJobs: false });
  expect(info.hasFailedJobs).toBe(true);
  return { p, loadId: ex.loadId, job };
}

let shopPipeline: Pipeline;
let broken: Awaited<ReturnType<typeof brokenPipeline>>;

beforeAll(async () => {
  dir = tempDir('haul-cli-');
  pipelinesDir = join(dir, 'pipelines');
  shopPipeline = testPipeline(dir, 'shop');
  await shopPipeline.run(shop(2));
  await shopPipeline.run(shop(3));
  broken = await brokenPipeline();
});

describe('haul pipeline: inspect', () => {
  it('--help works on every command; usage errors exit 2', async () => {
    expect(ok(['--help'])).toMatch(/pipeline[\s\S]*worker[\s\S]*schedule/);
    expect(ok(['pipeline', '--help'])).toMatch(/info[\s\S]*trace[\s\S]*load-package[\s\S]*failed-jobs[\s\S]*schema[\s\S]*sync[\s\S]*drop[\s\S]*drop-pending-packages/);
    // operations are listed in the order they are typed: the name first
    expect(ok(['pipeline', '--help'])).toMatch(/^\s+<name> info \[options\]/m);
    expect(ok(['pipeline', '--help'])).toMatch(/^\s+<name> load-package \[loadId\] \[options\]/m);
    const ops = ['info', 'trace', 'load-package', 'failed-jobs', 'schema', 'sync', 'drop', 'drop-pending-packages'];
    const helps = await Promise.all(ops.map((op) => haulAsync(['pipeline', 'shop', op, '--help'])));
    ops.forEach((op, i) => {
      expect(helps[i]!.status).toBe(0);
      expect(helps[i]!.stdout).toContain(`Usage: haul pipeline <name> ${op}`);
      expect(helps[i]!.stdout).toContain('--pipelines-dir');
    });
    expect(ok(['pipeline', 'shop', 'drop', '--help'])).toMatch(/--drop-all[\s\S]*--state-paths[\s\S]*--yes/);
    expect(ok(['--version']).trim()).toMatch(/^\d+\.\d+\.\d+/);

    const usage = await Promise.all([['pipeline', 'shop', 'explode'], ['pipeline', 'shop', 'info', '--bogus'], ['pipeline', 'shop', 'schema', '--format', 'xml'], ['pipeline'], ['nonsense'], ['pipeline', 'shop', 'info', 'extra']].map((a) => haulAsync(a)));
    for (const r of usage) {
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/error: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(usage[0]!.stderr.trim()).toBe("error: unknown operation 'explode' in \"haul pipeline shop explode\"; operations: info, trace, load-package, failed-jobs, schema, sync, drop, drop-pending-packages (haul pipeline --help)");
  });

  it('--list shows the pipelines in the pipelines dir (and --pipelines-dir picks another)', () => {
    const text = ok(['pipeline', '--list']);
    expect(text).toContain(`pipeline(s) in ${pipelinesDir}:`);
    expect(text).toContain('  shop (duckdb, dataset shop_data)');
    expect(text).toContain('  broken (duckdb, dataset broken_data)');
    const listed = json<{ pipelines: Array<{ name: string }> }>(['pipeline', '-l']);
    expect(listed.pipelines.map((p) => p.name)).toEqual(expect.arrayContaining(['shop', 'broken']));
    const empty = tempDir();
    expect(ok(['pipeline', '--list', '--pipelines-dir', empty])).toContain(`0 pipeline(s) in ${empty}`);
  });

  it('info: destination, dataset, state with incremental cursors, schemas and tables, packages', () => {
    const text = ok(['pipeline', 'shop', 'info'], { cwd: tempDir() }); // from any directory
    expect(text).toContain('Pipeline shop');
    expect(text).toContain(`destination: duckdb at ${join(dir, 'shop.duckdb')}`);
    expect(text).toContain('dataset: shop_data');
    expect(text).toContain('resource users: incremental updated_at: last value "2024-01-03T12:00:00Z"');
    expect(text).toMatch(/Schema shop \(default\): version \d+/);
    expect(text).toContain('  users (merge, resource users): ');
    expect(text).toContain('    users__tags (child of users)');
    expect(text).toContain('  orders (append, resource orders)');
    expect(text).toContain('Pending packages: none');
    expect(text).toMatch(/Completed packages: 2 \(last \d+\.\d+/);
    expect(text).not.toContain('bigint'); // columns only with -v

    const verbose = ok(['pipeline', 'shop', 'info', '-v']);
    expect(verbose).toMatch(/id\s+bigint\s+not null\s+primaryKey/);

    const v = json<{ destination: { name: string; location: string }; datasetName: string; state: { sources: Record<string, { resources: Record<string, { incremental: unknown[] }> }> }; schemas: Array<{ name: string; tables: Array<{ name: string }> }>; packages: { pending: unknown[]; completed: string[] } }>(['pipeline', 'shop', 'info']);
    expect(v.destination).toMatchObject({ name: 'duckdb', location: join(dir, 'shop.duckdb') });
    expect(v.datasetName).toBe('shop_data');
    expect(v.state.sources.shop!.resources.users!.incremental).toEqual([{ cursor: 'updated_at', lastValue: '2024-01-03T12:00:00Z', initialValue: '2024-01-01T00:00:00Z' }]);
    expect(v.schemas[0]!.tables.map((t) => t.name)).toEqual(expect.arrayContaining(['users', 'users__tags', 'orders', '_dlt_pipeline_state']));
    expect(v.packages.completed).toEqual(shopPipeline.listCompletedLoadPackages());
  });

  it('info lists the tables a refresh put aside and what to do with each', async () => {
    const own = tempDir();
    const p = testPipeline(own, 'refreshed');
    await p.run([{ id: 1 }], { tableName: 'users' });
    const { loadId } = await p.extract([{ id: 2 }], { tableName: 'users', refresh: 'drop_sources' });
    await p.normalize();
    // what a workflow run does before it is terminated; then its package is discarded
    p.takeSnapshot('run-1');
    await applyRefreshStep(p.loadContext(), loadId, 'run-1');
    p.dropPendingPackages();

    const text = ok(['pipeline', 'refreshed', 'info', '--pipelines-dir', join(own, 'pipelines')]);
    expect(text).toContain('Refresh backups: 1 table(s) a refresh put aside');
    expect(text).toMatch(new RegExp(`  users -> (users__bak_\\w+) \\(snapshot run-1\\): its package ${loadId.replace('.', '\\.')} was discarded: rename \\1 back to users to undo the refresh, or drop it`));
    const v = JSON.parse(ok(['pipeline', 'refreshed', 'info', '--pipelines-dir', join(own, 'pipelines'), '--json'])) as { refreshBackups: unknown[] };
    expect(v.refreshBackups).toEqual([{ snapshotId: 'run-1', table: 'users', backup: expect.stringMatching(/^users__bak_/), loadId, package: 'discarded' }]);
    expect(ok(['pipeline', 'shop', 'info'])).not.toContain('Refresh backups');
  });

  it('info warns about a partially loaded package; failed-jobs shows each failed job with its error', () => {
    const text = ok(['pipeline', 'broken', 'info']);
    expect(text).toContain(`Pending packages: 1`);
    expect(text).toContain(`WARNING: package ${broken.loadId} is partially loaded`);
    const pending = json<{ packages: { pending: Array<{ loadId: string; partiallyLoaded: boolean; jobs: Record<string, number> }> } }>(['pipeline', 'broken', 'info']).packages.pending;
    expect(pending).toMatchObject([{ loadId: broken.loadId, partiallyLoaded: true, jobs: { failed_jobs: 1 } }]);

    const failed = ok(['pipeline', 'broken', 'failed-jobs']);
    expect(failed).toContain('1 failed job(s):');
    expect(failed).toContain(`${broken.loadId} ${broken.job} (table t)`);
    expect(failed).toMatch(/not a number/i);
    const fj = json<Array<{ loadId: string; job: string; table: string; message: string }>>(['pipeline', 'broken', 'failed-jobs']);
    expect(fj).toEqual([{ loadId: broken.loadId, job: broken.job, table: 't', message: expect.stringContaining('failed') }]);
    expect(ok(['pipeline', 'shop', 'failed-jobs'])).toContain('pipeline "shop" has no failed jobs');
    // a failed job is retried by every run and fails the same way: info says so, and the ways out
    expect(text).toContain(`WARNING: package ${broken.loadId} has 1 failed job(s): each run retries them first and fails the same way until the cause is fixed`);
    expect(text).toContain('"haul pipeline broken drop-pending-packages"');
  });

  it('a package whose only job failed is not called partially loaded: nothing of it reached the destination', async () => {
    const p = testPipeline(dir, 'only_failed');
    const ex = await p.extract([{ id: 1, n: 1 }], { tableName: 't' });
    await p.normalize();
    editNormalizedJob(p, ex.loadId, 't', (text) => text.replace('"n":1', '"n":"not a number"'));
    await p.run([{ id: 2, n: 'x' }], { tableName: 'other' }).catch(() => undefined);
    const text = ok(['pipeline', 'only_failed', 'info']);
    expect(text).not.toContain('partially loaded');
    expect(text).toContain(`package ${ex.loadId} has 1 failed job(s)`);
    expect(text).toContain('the next run loads them first: those with failed jobs fail again until the cause is fixed');
    expect(ok(['pipeline', 'only_failed', 'load-package', ex.loadId])).toContain(`Load package ${ex.loadId} of schema only_failed: FAILED JOBS`);
  });

  it("trace: the last run's steps with timings, load ids, row counts", () => {
    const text = ok(['pipeline', 'shop', 'trace']);
    const last = shopPipeline.listCompletedLoadPackages().at(-1)!;
    expect(text).toMatch(/^Run of pipeline shop started .*, took \d+\.\d\d s: OK/);
    expect(text).toMatch(/ {2}sync +\d+\.\d\d s/);
    expect(text).toMatch(new RegExp(`extract +\\d+\\.\\d\\d s  load ${last}  items: (users 2, orders 1|orders 1, users 2)`));
    expect(text).toMatch(/normalize .*rows: .*users__tags 2/);
    expect(text).toMatch(/load .*rows: /);
    const t = json<{ steps: Array<{ step: string; loadIds: string[] }> }>(['pipeline', 'shop', 'trace']);
    expect(t.steps.map((s) => s.step)).toEqual(['sync', 'extract', 'normalize', 'load']);
  });

  it('load-package: the newest by default, or by id; each job with table, state, format, size, time', () => {
    const ids = shopPipeline.listCompletedLoadPackages();
    const text = ok(['pipeline', 'shop', 'load-package']);
    expect(text).toContain(`Load package ${ids.at(-1)} of schema shop: LOADED`);
    expect(text).toMatch(/TABLE\s+STATE\s+FORMAT\s+SIZE\s+TIME\s+JOB/);
    expect(text).toMatch(/users\s+completed\s+jsonl\s+\d+(\.\d)? (B|KiB)\s+\d{4}-\d\d-\d\dT/);
    const first = json<{ loadId: string; stage: string; jobs: Array<{ table: string; state: string; format: string; sizeBytes: number }> }>(['pipeline', 'shop', 'load-package', ids[0]!]);
    expect(first).toMatchObject({ loadId: ids[0], stage: 'loaded' });
    expect(first.jobs.map((j) => j.table).sort()).toEqual(['_dlt_pipeline_state', 'orders', 'users', 'users__tags']);
    expect(first.jobs.every((j) => j.state === 'completed' && j.format === 'jsonl' && j.sizeBytes > 0)).toBe(true);

    const partial = ok(['pipeline', 'broken', 'load-package', broken.loadId]);
    expect(partial).toContain('PARTIALLY LOADED');
    expect(partial).toMatch(new RegExp(`failed ${broken.job.replace(/\./g, '\\.')}: `));

    expectOneLineError(haul(['pipeline', 'shop', 'load-package', '123.456']), 1, /no load package "123\.456" \(most recent: .*\); see "haul pipeline shop info"/);
    expectOneLineError(haul(['pipeline', 'shop', 'load-package', '../../etc']), 1, /no load package/);
  });

  it('schema as YAML (default) or JSON', () => {
    const yaml = ok(['pipeline', 'shop', 'schema']);
    expect(yaml).toMatch(/^name: shop$/m);
    expect(yaml).toMatch(/^ {2}users:$/m);
    const s = JSON.parse(ok(['pipeline', 'shop', 'schema', '--format', 'json'])) as { name: string; tables: Record<string, unknown> };
    expect(s.name).toBe('shop');
    expect(Object.keys(s.tables)).toEqual(expect.arrayContaining(['users', 'orders']));
    expectOneLineError(haul(['pipeline', 'shop', 'schema', '--schema', 'nope']), 1, /has no schema "nope" \(schemas: shop\)/);
  });

  it('info works without the destination\'s credentials (a machine that only has the working dir), as dlt\'s', async () => {
    const datasetName = pgDatasetName('cli_info_offline');
    const name = datasetName;
    const p = pipeline({ pipelineName: name, pipelinesDir, destination: postgres({ credentials: PG_URL }), datasetName });
    try {
      await p.run([{ id: 1 }], { tableName: 'offline' });
      // no credentials in this process's environment or the (empty) project dir
      expect(process.env.DESTINATION__POSTGRES__CREDENTIALS).toBeUndefined();
      const r = haul(['pipeline', name, 'info'], { cwd: tempDir() });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('destination: postgres at (not shown: the destination is not configured here)');
      expect(r.stdout).toMatch(/offline \(append, resource offline\)/);
    } finally {
      await dropPgSchemas(datasetName);
    }
  });

  it('a missing pipeline and a corrupt state.json are one-line errors that say what to do', () => {
    expectOneLineError(haul(['pipeline', 'nope', 'info']), 1, new RegExp(`no pipeline "nope" in ${pipelinesDir} \\(pipelines there: .*shop.*\\); check the name or pass --pipelines-dir`));
    expectOneLineError(haul(['pipeline', 'nope', 'trace', '--pipelines-dir', join(dir, 'elsewhere')]), 1, /no pipeline "nope" in .*elsewhere \(it has no pipelines\)/);

    const p = testPipeline(dir, 'corrupt');
    void p;
    writeFileSync(join(pipelinesDir, 'corrupt', 'state.json'), '{"_state_version": 3, "sources": ');
    for (const op of ['info', 'trace', 'schema', 'load-package', 'drop']) {
      expectOneLineError(haul(['pipeline', 'corrupt', op]), 1, /corrupt\/state\.json is corrupt \(not valid JSON: .*\); restore the pipeline from its destination with "haul pipeline corrupt sync --yes"/);
    }
    expect(ok(['pipeline', '--list'])).toMatch(/corrupt \(unreadable: .*not valid JSON/);
  });
});

describe('haul pipeline: repair', () => {
  it('drop asks for confirmation: without a TTY and without --yes it refuses and changes nothing', async () => {
    const r = haul(['pipeline', 'shop', 'drop', 'orders']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('About to drop from pipeline "shop"');
    expect(r.stdout).toContain('tables (dropped at the destination, with their data): orders');
    expect(r.stderr.trim()).toBe('error: refusing to drop from pipeline "shop" without confirmation: stdin is not a terminal; pass --yes to confirm');
    expect(await count(shopPipeline, 'orders')).toBe(2);
  });

  it('drop refuses while packages are pending; drop-pending-packages confirms, then discards them', async () => {
    expectOneLineError(haul(['pipeline', 'broken', 'drop', 't', '--yes']), 1, new RegExp(`has 1 pending load package\\(s\\) \\(${broken.loadId}\\); load them first .* or discard them .*drop-pending-packages`));
    const refused = haul(['pipeline', 'broken', 'drop-pending-packages']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/refusing to drop pending packages .* pass --yes/);
    expect(attach({ pipelineName: 'broken', pipelinesDir }).hasPendingData).toBe(true);
    expect(ok(['pipeline', 'broken', 'drop-pending-packages', '--yes'])).toContain(`Dropped 1 pending package(s): ${broken.loadId}`);
    expect(attach({ pipelineName: 'broken', pipelinesDir }).hasPendingData).toBe(false);
    expect(ok(['pipeline', 'broken', 'drop-pending-packages'])).toContain('has no pending packages');
  });

  it('drop <resource> --yes drops its tables at the destination, and its schema and state, there and locally', async () => {
    const p = testPipeline(dir, 'dropme');
    await p.run(shop(2));
    expect(await count(p, 'users')).toBe(2);
    const out = ok(['pipeline', 'dropme', 'drop', 'users', '--yes']);
    expect(out).toContain('  resources: users');
    expect(out).toContain('  tables (dropped at the destination, with their data): users, users__tags');
    expect(out).toContain('  state: sources.shop.resources.users');
    expect(out).toMatch(/Dropped 2 table\(s\) and 1 state path\(s\); load package \d+\.\d+ carried/);

    const tables = (await query<{ table_name: string }>(p, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'dropme_data'")).map((r) => r.table_name);
    expect(tables).not.toContain('users');
    expect(tables).not.toContain('users__tags');
    expect(tables).toContain('orders');
    const after = attach({ pipelineName: 'dropme', pipelinesDir });
    expect(Object.keys(after.getSchema('shop')!.tables)).not.toContain('users');
    expect(after.state.sources.shop?.resources?.users).toBeUndefined();
    expect(after.hasPendingData).toBe(false);

    // The destination has the new state and schema: a sync restores them without users.
    rmSync(after.workingDir, { recursive: true, force: true });
    const restored = testPipeline(dir, 'dropme');
    await restored.syncDestination();
    expect(restored.state.sources.shop?.resources?.users).toBeUndefined();
    expect(Object.keys(restored.getSchema('shop')!.tables)).not.toContain('users');
    // ... and the next run starts users from the initial value again.
    await restored.run(shop(2));
    expect(await count(restored, 'users')).toBe(2);
  });

  it('drop --state-paths / --state-only / --drop-all, --json, and re: patterns', async () => {
    const p = testPipeline(dir, 'dropmore');
    const custom = source(function shop() {
      const r = resource(function* users() {
        sourceState().last_page = 7;
        sourceState().cursors = { a: 1, b: 2 };
        resourceState().seen = 2;
        yield { id: 1 };
      });
      return [r, resource([{ id: 1 }], { name: 'orders' })];
    });
    await p.run(custom());
    expect(p.state.sources.shop).toMatchObject({ last_page: 7, cursors: { a: 1, b: 2 }, resources: { users: { seen: 2 } } });
    const paths = JSON.parse(ok(['pipeline', 'dropmore', 'drop', '--state-paths', 'last_page', '$.cursors.*', '--yes', '--json'])) as { resources: string[]; tables: string[]; statePaths: string[] };
    expect(paths).toMatchObject({ resources: [], tables: [], statePaths: ['sources.shop.last_page', 'sources.shop.cursors.a', 'sources.shop.cursors.b'] });
    const reset = attach({ pipelineName: 'dropmore', pipelinesDir }).state.sources.shop!;
    expect(reset.last_page).toBeUndefined();
    expect(reset.cursors).toEqual({});
    expect(reset.resources?.users).toEqual({ seen: 2 });
    expect(await count(p, 'users')).toBe(1);
    const stateOnly = JSON.parse(ok(['pipeline', 'dropmore', 'drop', 're:^ord', '--state-only', '--yes', '--json'])) as { resources: string[]; tables: string[]; dropped: boolean };
    expect(stateOnly).toMatchObject({ resources: ['orders'], tables: [] });
    expect(await count(p, 'orders')).toBe(1);

    expectOneLineError(haul(['pipeline', 'dropmore', 'drop', 'nosuch', '--yes']), 1, /resource "nosuch" is not in schema "shop" \(resources: orders, users\)/);
    expectOneLineError(haul(['pipeline', 'dropmore', 'drop', '--yes']), 1, /name the resources to drop, or pass dropAll/);

    const all = JSON.parse(ok(['pipeline', 'dropmore', 'drop', '--drop-all', '--yes', '--json'])) as { resources: string[]; tables: string[]; loadInfo: { loadIds: string[] } };
    expect(all.resources).toEqual(['orders', 'users']);
    expect(all.tables.sort()).toEqual(['orders', 'users']);
    expect(all.loadInfo.loadIds).toHaveLength(1);
    const tables = (await query<{ table_name: string }>(p, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'dropmore_data'")).map((r) => r.table_name);
    expect(tables.filter((t) => !t.startsWith('_dlt_') && !t.startsWith('_haul_'))).toEqual([]);
    expect(ok(['pipeline', 'dropmore', 'drop', '--drop-all', '--yes'])).toContain('Nothing to drop');
    // as dlt's --drop-all: every resource's state goes, the source's own keys stay
    const after = attach({ pipelineName: 'dropmore', pipelinesDir }).state.sources.shop!;
    expect(after.resources ?? {}).toEqual({});
    expect(after.cursors).toEqual({});
  });

  it('sync drops the local state and restores it from the destination (also from a corrupt state.json)', async () => {
    const p = testPipeline(dir, 'syncme');
    await p.run(shop(2));
    const before = p.state;
    const refused = haul(['pipeline', 'syncme', 'sync']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/refusing to sync pipeline "syncme" without confirmation/);

    // a local change the destination never saw is dropped by sync
    const local = JSON.parse(readFileSync(join(p.workingDir, 'state.json'), 'utf8')) as { sources: Record<string, unknown> };
    local.sources.local_only = { x: 1 };
    writeFileSync(join(p.workingDir, 'state.json'), JSON.stringify(local));
    await p.extract([{ a: 1 }], { tableName: 'pending_rows' });
    const out = ok(['pipeline', 'syncme', 'sync', '--yes']);
    expect(out).toMatch(new RegExp(`Restored pipeline "syncme" from duckdb at .*syncme\\.duckdb, dataset syncme_data: state version ${before._state_version}, schemas: shop`));
    expect(out).toMatch(/Dropped pending packages: \d+\.\d+/);
    const after = attach({ pipelineName: 'syncme', pipelinesDir });
    expect(after.state.sources).toEqual(before.sources);
    expect(after.hasPendingData).toBe(false);
    expect(Object.keys(after.getSchema('shop')!.tables)).toEqual(expect.arrayContaining(['users', 'orders']));

    // corrupt state.json: sync needs to be told the destination
    writeFileSync(join(p.workingDir, 'state.json'), 'garbage');
    expectOneLineError(haul(['pipeline', 'syncme', 'sync', '--yes']), 1, /state\.json is corrupt .*pass --destination, --destination-options and --dataset-name/);
    const fixed = JSON.parse(
      ok(['pipeline', 'syncme', 'sync', '--yes', '--json', '--destination', 'duckdb', '--destination-options', JSON.stringify({ path: join(dir, 'syncme.duckdb') }), '--dataset-name', 'syncme_data']),
    ) as { stateVersion: number; schemas: string[] };
    expect(fixed).toMatchObject({ stateVersion: before._state_version, schemas: ['shop'] });
    expect(attach({ pipelineName: 'syncme', pipelinesDir }).state.sources).toEqual(before.sources);

    // a destination without this pipeline's state: nothing is wiped
    copyFileSync(join(p.workingDir, 'state.json'), join(dir, 'syncme-state.json'));
    expectOneLineError(
      haul(['pipeline', 'syncme', 'sync', '--yes', '--dataset-name', 'other_data']),
      1,
      /has no state of pipeline "syncme": nothing to restore; the working dir was left as it is/,
    );
    expect(readFileSync(join(p.workingDir, 'state.json'), 'utf8')).toBe(readFileSync(join(dir, 'syncme-state.json'), 'utf8'));
  });

  it('a pipeline on the default DuckDB file of another directory is not synced into a new empty file', () => {
    const wd = join(pipelinesDir, 'shop', 'state.json');
    expect(existsSync(wd)).toBe(true);
    const st = JSON.parse(readFileSync(wd, 'utf8')) as { _local: { destination_options: Record<string, unknown> } };
    const name = 'defaultfile';
    const copy = join(pipelinesDir, name);
    rmSync(copy, { recursive: true, force: true });
    const p = testPipeline(dir, name, { destination: 'duckdb' });
    void p;
    void st;
    const elsewhere = tempDir();
    expectOneLineError(haul(['pipeline', name, 'sync', '--yes'], { cwd: elsewhere }), 1, new RegExp(`its duckdb file ${join(elsewhere, name)}\\.duckdb does not exist`));
    expect(existsSync(join(elsewhere, `${name}.duckdb`))).toBe(false);
  });

  it('npx haul resolves the package bin', () => {
    const r = spawnSync('npx', ['--no-install', 'haul', 'pipeline', '--list'], { cwd: ROOT, env: { ...process.env, HAUL_PIPELINES_DIR: pipelinesDir }, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('shop (duckdb, dataset shop_data)');
  });
});
