/**
 * A haul worker in a child process (test/fixtures/temporal-worker.ts) that a test can
 * SIGKILL at a fault point (HAUL_FAULT, HAUL_FAULT_AFTER; src/common/faults.ts) and replace
 * with a new one. Children still running when the test file ends are killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, inject } from 'vitest';

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export interface WorkerProcess {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

/** Starts the fixture worker with `env` on top of the suite's Temporal settings; resolves once it polls. */
export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'temporal-worker.ts')], {
    env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace'), HAUL_WORKFLOW_BUNDLE: inject('workflowBundlePath'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    proc.on('exit', (code, signal) => {
      children.delete(proc);
      resolve({ code, signal, output });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('ready')) resolve();
    });
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    void exited.then(({ code, signal }) => reject(new Error(`worker exited (${code ?? signal}) before it was ready:\n${output}`)));
  });
  return { proc, exited };
}

export async function stopWorkerProcess(w: WorkerProcess): Promise<void> {
  if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGTERM');
  await w.exited;
}
