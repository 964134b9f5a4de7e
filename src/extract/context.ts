import { AsyncLocalStorage } from 'node:async_hooks';
import { HaulError } from '../errors.js';
import type { ResourceState, SourceState } from '../state/state.js';

interface ExtractContext {
  sourceState: SourceState;
  resourceState: ResourceState;
  /** The source state as this extract (this load) began; the same after a resume from a checkpoint. */
  sourceStateAtStart?: SourceState;
}

export const extractContext = new AsyncLocalStorage<ExtractContext>();

function current(fn: string): ExtractContext {
  const ctx = extractContext.getStore();
  if (!ctx) throw new HaulError('NoExtractContext', `${fn}() can only be called while a resource is being extracted`);
  return ctx;
}

/** The state of the resource being extracted; changes are saved when its package loads. */
export function resourceState<T extends Record<string, unknown> = Record<string, unknown>>(): T {
  return current('resourceState').resourceState as T;
}

/** The state of the source being extracted, shared by its resources. */
export function sourceState<T extends Record<string, unknown> = Record<string, unknown>>(): T {
  return current('sourceState').sourceState as T;
}

/**
 * The source state as this load's extract began, before any of its resources committed
 * (read-only). A resource that must see what an earlier resource of the same run saw (the
 * REST source's children of an incremental parent) reads it here: it stays the same when
 * the extract resumes from a checkpoint taken after the earlier resource was done.
 */
export function sourceStateAtStart<T extends Record<string, unknown> = Record<string, unknown>>(): T {
  const ctx = current('sourceStateAtStart');
  return (ctx.sourceStateAtStart ?? ctx.sourceState) as T;
}
