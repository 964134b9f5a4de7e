import { AsyncLocalStorage } from 'node:async_hooks';
import { HaulError } from '../errors.js';
import type { ResourceState, SourceState } from '../state/state.js';

interface ExtractContext {
  sourceState: SourceState;
  resourceState: ResourceState;
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
