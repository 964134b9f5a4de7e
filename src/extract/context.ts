import { AsyncLocalStorage } from 'node:async_hooks';
import { HaulError } from '../errors.js';
import type { ResourceState, SourceState } from '../state/state.js';

interface StateContext {
  sourceState: SourceState;
  /** Absent in a source's body: no resource is running there. */
  resourceState?: ResourceState;
  /** The source state as this extract (this load) began; the same after a resume from a checkpoint. */
  sourceStateAtStart?: SourceState;
}

/** What a resource runs with: its own state as well. */
export type ResourceRunContext = StateContext & { resourceState: ResourceState };

export const extractContext = new AsyncLocalStorage<StateContext>();

function current(fn: string): StateContext {
  const ctx = extractContext.getStore();
  if (!ctx) throw new HaulError('NoExtractContext', `${fn}() can only be called while a resource is being extracted, or in a source's body`);
  return ctx;
}

/** The state of the resource being extracted; changes are saved when its package loads. */
export function resourceState<T extends Record<string, unknown> = Record<string, unknown>>(): T {
  const state = current('resourceState').resourceState;
  if (!state) throw new HaulError('NoExtractContext', "resourceState() can only be called inside a resource; a source's body can read sourceState() (read-only)");
  return state as T;
}

/**
 * The state of the source being extracted, shared by its resources. In a source's body it
 * is a copy of the state the last load committed: changes there are discarded, as in dlt.
 */
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

/** A source's committed state, read for sourceState() in a source's body. */
export type SourceStateReader = (sourceName: string) => SourceState | undefined;

const readerInScope = new AsyncLocalStorage<SourceStateReader>();
let activeReader: SourceStateReader | undefined;

/** The active pipeline's reader (dlt's active pipeline answers source_state() in a source's body). */
export function setActiveSourceStateReader(reader: SourceStateReader | undefined): void {
  activeReader = reader;
}

/**
 * Makes a source inside `fn` for a given pipeline: a runner that serves several pipelines
 * in one process (a Temporal worker) names the one it runs instead of the active one.
 */
export function withSourceStateReader<T>(reader: SourceStateReader, fn: () => T): T {
  return readerInScope.run(reader, fn);
}

/**
 * Runs a source's body with sourceState() answering a copy of the source's committed state,
 * read on first use only (most bodies never ask). No pipeline known: an empty state.
 */
export function runSourceBody<T>(sourceName: string, body: () => T): T {
  const reader = readerInScope.getStore() ?? activeReader;
  let copy: SourceState | undefined;
  const ctx: StateContext = {
    get sourceState() {
      return (copy ??= structuredClone(reader?.(sourceName) ?? {}));
    },
  };
  return extractContext.run(ctx, body);
}
