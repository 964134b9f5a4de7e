/**
 * The active pipeline of this process, as dlt keeps one: the last pipeline created or
 * activated. It only answers `pipeline()` called without options; the engine never reads it
 * (steps get their pipeline passed in, so two pipelines in one process never mix state).
 */
let active: object | undefined;

export function setActive(p: object | undefined): void {
  active = p;
}

export function getActive(): object | undefined {
  return active;
}
