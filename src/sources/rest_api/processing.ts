/** `processingSteps`: filter, map and yieldMap applied in order to each item, as dlt does. */
import type { ProcessingStep } from './config.js';

/** Runs the steps over one page; returns the items that remain. */
export function applySteps(items: unknown[], steps: ProcessingStep[] | undefined): unknown[] {
  if (!steps?.length) return items;
  let cur = items;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const item of cur) {
      const it = item as Record<string, unknown>;
      if ('filter' in step) {
        if (step.filter(it)) next.push(item);
      } else if ('map' in step) {
        const v = step.map(it);
        if (v !== undefined && v !== null) next.push(v);
      } else for (const v of step.yieldMap(it)) next.push(v);
    }
    cur = next;
  }
  return cur;
}
