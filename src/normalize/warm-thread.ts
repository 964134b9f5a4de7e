import type { Worker } from 'node:worker_threads';

/*
 * The pre-normalize thread, once extract ended and its files are done, is parked here for
 * the normalize step of the same package: taking it over as the step's first worker saves
 * starting a thread (~75 ms) and compiling the byte path again (its first 4 MiB chunk ran
 * at a quarter of the speed in a fresh thread; docs/performance.md, section 22). A thread
 * the step did not need (its work fit in one thread) is ended when the step is done, one
 * nobody asks for after 10 s; it never keeps the process alive.
 */

/** How long a parked thread waits for the normalize step. */
const PARK_MS = 10_000;

let parked: { loadId: string; worker: Worker; timer: NodeJS.Timeout; onExit: () => void } | undefined;

/** For tests: threads parked and taken over in this process. */
export const warmThreadCounts = { parked: 0, taken: 0 };

/** Parks an idle pre-normalize thread of `loadId` (ending any other parked one). */
export function parkThread(loadId: string, worker: Worker): void {
  endParked();
  worker.unref();
  const timer = setTimeout(endParked, PARK_MS);
  timer.unref();
  // a thread that dies while parked is simply gone
  const onExit = () => {
    if (parked?.worker !== worker) return;
    clearTimeout(parked.timer);
    parked = undefined;
  };
  worker.once('exit', onExit);
  // an error of a parked thread is nobody's: it ends, and the step starts a thread of its own
  worker.on('error', ignore);
  parked = { loadId, worker, timer, onExit };
  warmThreadCounts.parked++;
}

/** The parked thread of `loadId`, now the caller's to use (it answers the 'share' request), or undefined. */
export function takeParkedThread(loadId: string): Worker | undefined {
  if (parked === undefined || parked.loadId !== loadId) return undefined;
  const { worker, timer, onExit } = parked;
  clearTimeout(timer);
  parked = undefined;
  worker.off('exit', onExit);
  worker.off('error', ignore);
  worker.ref();
  warmThreadCounts.taken++;
  return worker;
}

/** Ends the parked thread of `loadId`, if any: its normalize step is over without it. */
export function endParkedThread(loadId: string): void {
  if (parked?.loadId === loadId) endParked();
}

function ignore(): void {}

function endParked(): void {
  if (parked === undefined) return;
  const { worker, timer } = parked;
  clearTimeout(timer);
  parked = undefined;
  void worker.terminate().catch(() => undefined);
}
