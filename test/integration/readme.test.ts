/**
 * README.md runs as written. Its ```ts blocks are written out, in order, into one folder
 * (a block whose first line is `// <name>.ts` under that name, so later blocks can import
 * it; the others as snippet-<n>.ts), with the ```toml blocks whose first line is
 * `# <path>` (the .dlt/ files the config example reads). All of them must typecheck
 * together against the source, then each runs with tsx in that folder, importing `haul` and
 * `haul/temporal` by name (tsconfig paths). A block that calls `worker.run()` is a worker:
 * it runs in the background while the later blocks start pipelines and schedules on the
 * suite's dev server, and must stop with exit code 0 on Ctrl-C (SIGINT).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { temporal } from '@temporalio/proto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { deleteSchedule, listSchedules } from '../../src/temporal/client.js';
import { testClient, uniqueQueue } from './temporal-env.js';

const REPO = join(import.meta.dirname, '..', '..');

interface Block {
  line: number;
  lang: string;
  code: string;
  file?: string;
}

/** The fenced blocks of a markdown text, with the file a first-line comment names. */
function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const re = /^```(\w*)[^\n]*\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    const line = markdown.slice(0, m.index).split('\n').length;
    const first = m[2].split('\n', 1)[0];
    const named = /^(?:\/\/|#)\s*(\.?[\w./-]+\.(?:ts|toml))\s*$/.exec(first);
    blocks.push({ line, lang: m[1], code: m[2], file: named?.[1] });
  }
  return blocks;
}

// Inside the repo (ignored by git), so `zod`, `tsx` and the tsconfig paths resolve as in a project.
const dir = join(REPO, '.haul-test', `readme-${randomBytes(4).toString('hex')}`);
const blocks = fencedBlocks(readFileSync(join(REPO, 'README.md'), 'utf8'));
const tsBlocks = blocks.filter((b) => b.lang === 'ts').map((b, i) => ({ ...b, file: b.file ?? `snippet-${i + 1}.ts` }));
const files = blocks.filter((b) => b.lang === 'toml' && b.file).concat(tsBlocks);
const taskQueue = uniqueQueue('haul-readme');
let worker: { proc: ChildProcess; out: () => string; exited: Promise<number | null> } | undefined;

afterAll(async () => {
  // The schedule example leaves its (paused) schedule on the suite's server.
  for (const b of tsBlocks.filter((t) => t.code.includes('schedulePipeline('))) {
    const name = /pipelineName: '(\w+)'/.exec(b.code)?.[1];
    for (const s of name ? await listSchedules(await testClient(), name) : []) await deleteSchedule(await testClient(), s.scheduleId);
  }
  if (worker?.proc.exitCode === null) {
    worker.proc.kill('SIGKILL');
    await worker.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _loader, ...rest } = process.env;
  return {
    ...rest,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    HAUL_TASK_QUEUE: taskQueue,
    HAUL_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
    HAUL_PIPELINES_DIR: join(dir, 'pipelines'),
    DLT_DATA_DIR: join(dir, 'dlt-home'), // not this machine's ~/.dlt
  };
}

function start(file: string): { proc: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', file], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, out: () => out, exited };
}

async function duckdbRows(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

describe('README.md', () => {
  it('has TypeScript examples, a worker among them, and the files they read', () => {
    expect(tsBlocks.length).toBeGreaterThanOrEqual(6);
    expect(tsBlocks.filter((b) => b.code.includes('worker.run()'))).toHaveLength(1);
    expect(files.map((f) => f.file)).toEqual(expect.arrayContaining(['.dlt/secrets.toml', '.dlt/config.toml', 'my-sources.ts']));
  });

  it('the first example does not use the pipeline name npm start uses', () => {
    const startName = /pipelineName: '(\w+)'/.exec(readFileSync(join(REPO, 'examples', 'durable.ts'), 'utf8'))![1];
    expect(/pipelineName: '(\w+)'/.exec(tsBlocks[0].code)![1]).not.toBe(startName);
  });

  it('every TypeScript example typechecks', () => {
    mkdirSync(dir, { recursive: true });
    for (const f of files) {
      mkdirSync(dirname(join(dir, f.file!)), { recursive: true });
      writeFileSync(join(dir, f.file!), f.code);
    }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noEmit: true }, include: ['*.ts'] }));
    const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  for (const b of tsBlocks) {
    const isWorker = b.code.includes('worker.run()');
    it(`README.md:${b.line} (${b.file}) ${isWorker ? 'starts a worker' : 'runs and exits 0'}`, async () => {
      if (isWorker) {
        worker = start(b.file);
        // Up once it polls: a worker that dies at start fails here, not as a hung client.
        const client = await testClient();
        for (let i = 0; i < 600; i++) {
          const { pollers } = await client.workflowService.describeTaskQueue({
            namespace: inject('temporalNamespace'),
            taskQueue: { name: taskQueue },
            taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
          });
          if (pollers?.length) break;
          if (worker.proc.exitCode !== null) throw new Error(`the worker exited (${worker.proc.exitCode}):\n${worker.out()}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        return;
      }
      const run = start(b.file);
      // A client waits for a worker forever: stop waiting when the worker is gone.
      const workerGone = worker?.exited.then((c) => `the worker exited (${c})`);
      const code = await Promise.race([run.exited, ...(workerGone ? [workerGone] : [])]);
      if (run.proc.exitCode === null) run.proc.kill('SIGKILL');
      expect(code, `${b.file} printed:\n${run.out()}${worker ? `\nthe worker printed:\n${worker.out()}` : ''}`).toBe(0);
    });
  }

  it('the first example made the tables the README lists', async () => {
    const rows = await duckdbRows(join(dir, 'quickstart.duckdb'), "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'quickstart_data'");
    const columns = (t: string) => rows.filter((r) => r.table_name === t).map((r) => r.column_name).sort();
    expect(columns('players')).toEqual(['_dlt_id', '_dlt_load_id', 'id', 'owner__name']);
    expect(columns('players__tags')).toEqual(['_dlt_id', '_dlt_list_idx', '_dlt_parent_id', 'value']);
    for (const t of ['_dlt_loads', '_dlt_version', '_dlt_pipeline_state']) expect(columns(t).length).toBeGreaterThan(0);
  });

  it('the incremental example merged the changed order', async () => {
    expect(await duckdbRows(join(dir, 'shop.duckdb'), 'SELECT id::INT AS id, status FROM shop_data.orders ORDER BY id')).toEqual([
      { id: 1, status: 'shipped' },
      { id: 2, status: 'open' },
    ]);
    expect(await duckdbRows(join(dir, 'shop.duckdb'), 'SELECT count(*)::INT AS n FROM shop_data.orders__lines')).toEqual([{ n: 2 }]);
  });

  it('the worker ran the client and schedule examples, then stops on Ctrl-C with exit code 0', async () => {
    expect(worker, 'no worker example ran').toBeDefined();
    const client = await testClient();
    // The scheduled run was only triggered: wait until it (and every other run on the queue) closed.
    let open = -1;
    let scheduled = 0;
    for (let i = 0; i < 300 && (open !== 0 || scheduled === 0); i++) {
      open = 0;
      scheduled = 0;
      for await (const w of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
        if (w.status.name === 'RUNNING') open++;
        if (w.type === 'scheduledPipelineWorkflow') scheduled++;
      }
      if (open !== 0 || scheduled === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect({ open, scheduled }).toEqual({ open: 0, scheduled: 1 });
    worker!.proc.kill('SIGINT');
    expect(await worker!.exited, worker!.out()).toBe(0);
    const leagues = await duckdbRows(join(dir, 'teams.duckdb'), 'SELECT league, count(*)::INT AS n FROM teams_data.teams GROUP BY league ORDER BY league');
    expect(leagues).toEqual([
      { league: 'east', n: 3 },
      { league: 'north', n: 3 },
      { league: 'south', n: 3 },
    ]);
  });
});
