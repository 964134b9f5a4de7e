/**
 * Named fault points for crash tests: when HAUL_FAULT names this point, the process kills
 * itself with SIGKILL right there, like a power cut. `HAUL_FAULT_AFTER=n` lets the point
 * pass n times first. Costs one env lookup when unset.
 */
const target = process.env.HAUL_FAULT;
let countdown = Number(process.env.HAUL_FAULT_AFTER ?? 0);

export function faultPoint(name: string): void {
  if (target === undefined || target !== name) return;
  if (countdown-- > 0) return;
  process.kill(process.pid, 'SIGKILL');
}
