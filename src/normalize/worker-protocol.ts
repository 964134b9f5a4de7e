import { redact } from '../config/redact.js';
import * as errors from '../errors.js';
import type { StoredSchema } from '../schema/types.js';
import type { CreatedColumn, InputSlice } from './types.js';

/** What the main thread hands a normalize worker (as `workerData`). */
export interface WorkerInput {
  schema: StoredSchema;
  loadId: string;
  inputs: InputSlice[];
  outDir: string;
  maxFileBytes?: number;
  fastPath?: boolean;
  maxIdentifierLength?: number;
  /** Tests only: exit after the second chunk (a crashed worker). */
  crashForTest?: boolean;
}

/** What a worker got done: its share of the result and the schema it evolved from the snapshot. */
export interface WorkerOutput {
  rowCounts: Record<string, number>;
  files: Array<{ table: string; file: string }>;
  largestRowBytes: number;
  schema: StoredSchema;
  created: Record<string, Record<string, CreatedColumn>>;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** Own enumerable properties with plain values (code, retryable, table, file, errno, ...). */
  props: Record<string, string | number | boolean | null>;
}

export type WorkerMessage =
  /** Sent before the job file with this id is created: the main thread can always find a worker's files. */
  | { t: 'file'; id: string }
  | { t: 'progress'; table: string; rows: number }
  | { t: 'done'; output: WorkerOutput }
  | { t: 'error'; error: SerializedError };

export type MainMessage = { t: 'abort' };

/** Errors lose their class in a structured clone: send name, message, stack and plain fields. */
export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), props: {} };
  const props: SerializedError['props'] = {};
  for (const k of Object.keys(e)) {
    const v = (e as unknown as Record<string, unknown>)[k];
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') props[k] = v;
  }
  return { name: e.name, message: e.message, stack: e.stack, props };
}

const BUILTIN: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * The worker's error again, as an instance of the same class: haul's typed errors (by class
 * name, from errors.ts) and the built-in ones; anything else becomes an Error with the same
 * name, message and fields. Messages are redacted with this thread's known secrets.
 */
export function rebuildError(s: SerializedError): Error {
  const cls = (errors as Record<string, unknown>)[s.name] ?? BUILTIN[s.name];
  const proto = typeof cls === 'function' && (cls === Error || cls.prototype instanceof Error) ? (cls.prototype as Error) : Error.prototype;
  const e = Object.create(proto) as Error;
  // redacted again here: secrets registered in this thread at runtime are unknown to workers
  const message = redact(s.message);
  Object.defineProperty(e, 'message', { value: message, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(e, 'stack', { value: s.stack ? redact(s.stack) : `${s.name}: ${message}`, writable: true, configurable: true, enumerable: false });
  Object.assign(e, s.props);
  if (!Object.hasOwn(s.props, 'name') && e.name !== s.name) Object.defineProperty(e, 'name', { value: s.name, writable: true, configurable: true, enumerable: false });
  return e;
}
