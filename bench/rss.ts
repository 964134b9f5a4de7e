/**
 * Peak RSS for the benches: a sampler every 50 ms, read per step (`takeStepPeak`) and for the
 * whole process (`stop`, which also counts the kernel's maxRSS between samples).
 */
export function startRssSampler(): { takeStepPeak: () => number; stop: () => number } {
  let peak = 0;
  let stepPeak = 0;
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    peak = Math.max(peak, rss);
    stepPeak = Math.max(stepPeak, rss);
  }, 50);
  return {
    /** Peak RSS (bytes) since the last call. */
    takeStepPeak() {
      const p = Math.max(stepPeak, process.memoryUsage.rss());
      stepPeak = 0;
      return p;
    },
    /** Stops sampling; the peak RSS (bytes) of the whole run. */
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.resourceUsage().maxRSS * 1024);
    },
  };
}

export const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
export const rate = (n: number, ms: number): string => Math.round((n / ms) * 1000).toLocaleString('en-US');

/** CPU time of this process so far (all threads), in ms. */
export const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export interface StepFigures<T> {
  result: T;
  /** Wall time. */
  ms: number;
  /** CPU time of the process: steadier than wall time on a shared machine. */
  cpuMs: number;
  /** Peak RSS (bytes) during the step. */
  peakRss: number;
}

/** Runs one pipeline step and measures it; `takeStepPeak` is the sampler's (call it once before the first step). */
export async function timeStep<T>(fn: () => Promise<T>, takeStepPeak: () => number): Promise<StepFigures<T>> {
  const c0 = cpuMs();
  const t0 = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - t0, cpuMs: cpuMs() - c0, peakRss: takeStepPeak() };
}
