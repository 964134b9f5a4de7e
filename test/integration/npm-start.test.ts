/**
 * `npm start` (examples/durable.ts) as a newcomer runs it. On a terminal (a pty from
 * util-linux `script`) it keeps its own dev server and Web UI up until Ctrl-C, then stops
 * the server and exits 0; without a terminal it exits after the run; against a server given
 * by TEMPORAL_ADDRESS it prints the UI link from TEMPORAL_UI_URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { uniqueQueue } from './temporal-env.js';

const REPO = join(import.meta.dirname, '..', '..');
const dir = tempDir('haul-npm-start-');

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Its own dev server unless a test gives TEMPORAL_ADDRESS; npm's script variables of `npm test` dropped.
  const { TEMPORAL_ADDRESS: _server, TEMPORAL_UI_URL: _ui, HAUL_EXIT: _exit, NODE_OPTIONS: _loader, ...rest } = process.env;
  for (const k of Object.keys(rest)) if (/^npm_(package_|lifecycle_|command$|config_local_prefix$)/.test(k)) delete rest[k];
  return { ...rest, HAUL_PIPELINES_DIR: join(dir, 'pipelines'), ...extra };
}

interface Started {
  proc: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
  /** Resolves when the output contains `text`; rejects if the process exits first. */
  waitFor: (text: string) => Promise<void>;
}

function startNpm(args: string[], extra: Record<string, string> = {}): Started {
  const [cmd, ...rest] = args;
  const proc = spawn(cmd, rest, { cwd: REPO, env: env(extra), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) (out.includes(w.text) ? w.resolve() : waiters.push(w));
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    out: () => out,
    exited,
    waitFor: (text) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(text)) return resolve();
        waiters.push({ text, resolve });
        void exited.then((code) => reject(new Error(`exited (${code}) before printing "${text}":\n${out}`)));
      }),
  };
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
      .once('connect', () => s.end(() => resolve(true)))
      .once('error', () => resolve(false));
  });
}

/** The server's ports close when it stops; give its process a moment to go. */
async function portClosed(port: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!(await portAnswers(port))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function serverPort(out: string): number {
  return Number(/Temporal at [\d.]+:(\d+)/.exec(out)![1]);
}

describe('npm start', () => {
  it('on a terminal keeps the dev server and its UI up until Ctrl-C, then stops it and exits 0', async () => {
    // `script` gives npm a pty; a Ctrl-C byte written to it is the terminal's SIGINT to the whole foreground group.
    // `exec`: script runs the command through $SHELL -c, and dash (CI's /bin/sh) waiting on a child
    // exits 130 on that SIGINT whatever npm returns; a user's terminal has no such extra shell.
    const run = startNpm(['script', '-qefc', 'exec npm start', '/dev/null']);
    try {
      await run.waitFor('stay up until Ctrl-C');
      const ui = /its UI \((http:\/\/[^)]+)\)/.exec(run.out())![1];
      const port = serverPort(run.out());
      expect(run.out()).toContain(`Temporal UI: ${ui}/namespaces/default/workflows/pipeline%2Fchess`);
      expect((await fetch(ui)).status).toBe(200);
      expect(await portAnswers(port)).toBe(true);
      expect(run.proc.exitCode).toBeNull();
      run.proc.stdin!.write('\x03');
      expect(await run.exited, run.out()).toBe(0);
      expect(run.out()).toContain('Stopping the dev server');
      expect(await portClosed(port)).toBe(true);
      expect(await portClosed(Number(new URL(ui).port))).toBe(true);
    } finally {
      if (run.proc.exitCode === null) run.proc.kill('SIGKILL');
    }
  });

  it('without a terminal exits 0 after the run and leaves no server', async () => {
    const run = startNpm(['npm', 'start']);
    expect(await run.exited, run.out()).toBe(0);
    expect(run.out()).toMatch(/players: 3/);
    expect(run.out()).not.toContain('until Ctrl-C');
    expect(await portClosed(serverPort(run.out()))).toBe(true);
  });

  it('with TEMPORAL_ADDRESS uses that server and links its UI from TEMPORAL_UI_URL', async () => {
    const run = startNpm(['npm', 'start'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      TEMPORAL_UI_URL: 'http://temporal-ui.example:8080/',
      HAUL_TASK_QUEUE: uniqueQueue('haul-npm-start'),
    });
    expect(await run.exited, run.out()).toBe(0);
    expect(run.out()).not.toContain('Starting a local Temporal dev server');
    expect(run.out()).toContain(`Temporal UI: http://temporal-ui.example:8080/namespaces/${inject('temporalNamespace')}/workflows/pipeline%2Fchess`);
  });
});
