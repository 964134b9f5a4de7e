import { InvalidOptionsError } from '../errors.js';
import type { DestinationFactory } from './types.js';

/** Builds a destination from its JSON-serializable options (as stored in state.json or sent in a workflow input). */
export type DestinationMaker = (options: Record<string, unknown>) => DestinationFactory;

/** The destination a pipeline uses when none is named: embedded DuckDB, as the product promises. */
export const DEFAULT_DESTINATION = 'duckdb';

const makers = new Map<string, DestinationMaker>();

/**
 * Makes a destination available by name (`pipeline({ destination: 'postgres' })`, a stored
 * pipeline's `destination_name`, a Temporal input). A new destination is a folder plus one
 * call of this at its module's top level.
 */
export function registerDestination(name: string, make: DestinationMaker): void {
  makers.set(name, make);
}

export function registeredDestinations(): string[] {
  return [...makers.keys()].sort();
}

export function isDestinationFactory(v: unknown): v is DestinationFactory {
  return typeof v === 'object' && v !== null && typeof (v as DestinationFactory).createClient === 'function' && typeof (v as DestinationFactory).destinationName === 'string';
}

/**
 * A name -> its registered factory made with `options`; a factory is returned as is.
 * `options` are what a factory's `options` stored (never secrets).
 */
export function resolveDestination(dest: string | DestinationFactory, options: Readonly<Record<string, unknown>> = {}): DestinationFactory {
  if (typeof dest !== 'string') {
    if (isDestinationFactory(dest)) return dest;
    throw new InvalidOptionsError('destination', 'expected a destination name or a destination factory such as duckdb({ path })');
  }
  const make = makers.get(dest);
  if (!make) {
    throw new InvalidOptionsError('destination', `unknown destination ${JSON.stringify(dest)}; known: ${registeredDestinations().join(', ')} (or pass a factory such as duckdb({ path }))`);
  }
  return make({ ...options });
}
