import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resource, source, type ProgressEvent } from '../../src/index.js';
import { BarCollector, barCollector, LogCollector, logCollector } from '../../src/progress/index.js';
import { count, tempDir, testPipeline } from '../helpers.js';

const SRC_INDEX = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'index.ts')).href;

function shop() {
  return source(
    function shop() {
      return [
        resource(function* users() {
          for (let i = 0; i < 70_000; i++) yield { id: i, name: `u${i}`, tags: i % 1000 === 0 ? ['a', 'b'] : [] };
        }),
        resource([{ id: 1, total: 9.5 }, { id: 2, total: 3 }], { name: 'orders' }),
      ];
    },
  )();
}

/** Captures pino lines written to a stream. */
function lineSink(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('progress', () => {
  it('a custom collector receives run, step and progress events of a real run', async () => {
    const dir = tempDir();
    const events: ProgressEvent[] = [];
    const p = testPipeline(dir, 'progress_custom', { progress: { on: (e) => events.push(e) } });
    const info = await p.run(shop());
    expect(await count(p, 'users')).toBe(70_000);

    const types = events.map((e) => (e.type === 'step_start' || e.type === 'step_end' ? `${e.type}:${e.step}` : e.type)).filter((t) => t !== 'progress');
    expect(types).toEqual(['run_start', 'step_start:extract', 'step_end:extract', 'step_start:normalize', 'step_end:normalize', 'step_start:load', 'step_end:load', 'run_end']);

    const progress = events.filter((e): e is Extract<ProgressEvent, { type: 'progress' }> => e.type === 'progress');
    const extract = progress.filter((e) => e.step === 'extract');
    // extract reports items per resource while it runs (a few times a second, at multiples of
    // 1,024 items) and at the end
    const users = extract.filter((e) => e.resource === 'users').map((e) => e.count!);
    expect(users.at(-1)).toBe(70_000);
    for (const [i, n] of users.slice(0, -1).entries()) {
      expect(n % 1024).toBe(0);
      expect(n).toBeGreaterThan(i === 0 ? 0 : users[i - 1]!);
    }
    expect(extract.find((e) => e.resource === 'orders')).toMatchObject({ table: 'orders', count: 2, loadId: info.loadIds[0] });
    expect(progress.some((e) => e.step === 'normalize' && e.table === 'users')).toBe(true);
    const load = progress.filter((e) => e.step === 'load');
    expect(load.at(-1)).toMatchObject({ loadId: info.loadIds[0] });
    expect(load.at(-1)!.jobsDone).toBe(load.at(-1)!.jobsTotal);

    const ends = Object.fromEntries(events.filter((e) => e.type === 'step_end').map((e) => [e.step, e]));
    expect(ends.extract).toMatchObject({ counts: { users: 70_000, orders: 2 }, loadIds: info.loadIds });
    expect(ends.normalize.counts).toMatchObject({ users: 70_000, orders: 2, users__tags: 140 });
    expect(ends.load.counts).toMatchObject(info.rowCounts);
    for (const s of ['extract', 'normalize', 'load']) {
      expect(ends[s].files).toBeGreaterThan(0);
      expect(ends[s].elapsedMs).toBeGreaterThanOrEqual(0);
      expect(ends[s].error).toBeUndefined();
    }
  });

  it("a failing step ends with its (redacted) error; a collector that throws never fails the run", async () => {
    const dir = tempDir();
    const events: ProgressEvent[] = [];
    const p = testPipeline(dir, 'progress_fail', { progress: { on: (e) => events.push(e) } });
    const bad = resource(function* broken() {
      yield { id: 1 };
      throw new Error('upstream said no: password=hunter2xx');
    });
    await expect(p.run(bad)).rejects.toThrow(/upstream said no/);
    const end = events.find((e) => e.type === 'step_end' && e.step === 'extract');
    expect(end).toMatchObject({ type: 'step_end', error: expect.stringContaining('password=***') });
    expect(JSON.stringify(events)).not.toContain('hunter2xx');
    expect(events.at(-1)).toMatchObject({ type: 'run_end', error: expect.stringContaining('upstream said no') });

    const throwing = testPipeline(dir, 'progress_throwing', { progress: { on: () => { throw new Error('collector bug'); } } });
    const info = await throwing.run([{ a: 1 }], { tableName: 't' });
    expect(info.rowCounts).toMatchObject({ t: 1 });
  });

  it("'log' writes pino lines: step start, periodic lines with counts, memory and CPU, and a summary per step", async () => {
    const dir = tempDir();
    const sink = lineSink();
    const p = testPipeline(dir, 'progress_log', { progress: logCollector({ destination: sink.stream, periodMs: 25 }) });
    const slow = resource(async function* slow() {
      for (let i = 0; i < 8; i++) {
        await new Promise((r) => setTimeout(r, 20));
        yield { id: i };
      }
    });
    await p.run([slow, resource([{ id: 1 }], { name: 'fast' })]);
    const lines = sink.lines();
    const msgs = lines.map((l) => String(l.msg));
    expect(msgs).toContain('extract started');
    expect(lines.every((l) => l.pipeline === 'progress_log' && l.name === 'haul')).toBe(true);
    const periodic = lines.filter((l) => l.step === 'extract' && typeof l.rss_mb === 'number' && l.files === undefined);
    expect(periodic.length).toBeGreaterThan(0);
    expect(periodic[0]).toMatchObject({ cpu_pct: expect.any(Number), heap_mb: expect.any(Number), elapsed_s: expect.any(Number) });
    const extractDone = lines.find((l) => l.step === 'extract' && typeof l.files === 'number')!;
    expect(extractDone).toMatchObject({ items: { slow: 8, fast: 1 }, total: 9 });
    expect(extractDone.msg).toMatch(/^extract done: 9 items \(slow: 8, fast: 1\), \d+ file\(s\) in \d+\.\d\d s$/);
    const normalizeDone = lines.find((l) => l.step === 'normalize' && typeof l.files === 'number')!;
    expect(normalizeDone).toMatchObject({ rows: { slow: 8, fast: 1 } });
    const loadDone = lines.find((l) => l.step === 'load' && typeof l.files === 'number')!;
    expect(loadDone).toMatchObject({ rows: { slow: 8, fast: 1 } });
    expect(msgs.at(-1)).toMatch(/^run done in /);
  });

  it("progress: 'log' in a script writes the lines to stderr; 'bar' degrades to them without a TTY", () => {
    const dir = tempDir();
    for (const mode of ['log', 'bar']) {
      const script = join(dir, `run-${mode}.mts`);
      writeFileSync(
        script,
        `import { pipeline, duckdb } from ${JSON.stringify(SRC_INDEX)};
const p = pipeline({ pipelineName: 'script_${mode}', pipelinesDir: ${JSON.stringify(join(dir, 'pipelines'))}, destination: duckdb({ path: ${JSON.stringify(join(dir, `${mode}.duckdb`))} }), progress: '${mode}' });
const info = await p.run([{ id: 1 }, { id: 2 }], { tableName: 'items' });
console.log(JSON.stringify(info.rowCounts));
`,
      );
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim())).toMatchObject({ items: 2 });
      const lines = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['extract started', 'normalize started', 'load started']));
      expect(lines.find((l) => l.step === 'load' && l.files !== undefined)).toMatchObject({ pipeline: `script_${mode}`, rows: { items: 2 }, total: 2 });
    }
  });

  it("'bar' draws bars per step and resource on a terminal", () => {
    expect(barCollector()).toBeInstanceOf(LogCollector); // vitest's stdout is not a TTY
    const out = new PassThrough() as unknown as NodeJS.WriteStream & { isTTY: boolean; columns: number };
    out.isTTY = true;
    out.columns = 120;
    let text = '';
    (out as unknown as PassThrough).on('data', (d: Buffer) => (text += d.toString()));
    const bar = new BarCollector({ stream: out });
    const base = { pipelineName: 'p' };
    bar.on({ type: 'run_start', ...base, at: new Date() });
    bar.on({ type: 'step_start', ...base, step: 'extract', at: new Date() });
    bar.on({ type: 'progress', ...base, step: 'extract', resource: 'users', table: 'users', count: 500 });
    bar.on({ type: 'step_end', ...base, step: 'extract', loadIds: ['1'], counts: { users: 1000 }, files: 1, elapsedMs: 5 });
    bar.on({ type: 'step_start', ...base, step: 'load', at: new Date() });
    bar.on({ type: 'progress', ...base, step: 'load', loadId: '1', table: 'users', jobsDone: 1, jobsTotal: 2 });
    bar.on({ type: 'run_end', ...base, elapsedMs: 10 });
    expect(text).toContain('extract users 1000 items');
    expect(text).toMatch(/load 1 \|.*\| 1\/2 jobs/);
  });
});
