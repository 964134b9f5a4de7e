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
