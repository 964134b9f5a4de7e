import { setActiveSourceStateReader, type SourceStateReader } from '../extract/context.js';

/**
 * The active pipeline of this process, as dlt keeps one: the last pipeline created or
 * activated. It answers `pipeline()` called without options and sourceState() in a source's
 * body (made before any step runs); the engine never reads it (steps get their pipeline
 * passed in, so two pipelines in one process never mix state).
 */
let active: object | undefined;

/** `readSourceState` answers sourceState() in a source's body while `p` is active. */
export function setActive(p: object | undefined, readSourceState?: SourceStateReader): void {
  active = p;
  setActiveSourceStateReader(p && readSourceState);
}

export function getActive(): object | undefined {
  return active;
}
