/*
 * Whole numbers that their source wrote as floats: `10.0` or `1e3` in JSON text, a whole value
 * of a reader's float column (pandas float64, parquet DOUBLE). A JS number does not keep the
 * difference, so normalize would type them bigint where dlt, which gets Python floats, types
 * double. Where each one was is marked on its holder (object or array) under a symbol key:
 * normalize types a new column from a marked value as double, and extract writes a marked
 * value as a float again (`10.0`), so the job file keeps what the source said.
 *
 * A non-enumerable symbol property, not a WeakMap: reading it costs what a field does (a
 * reader marks each row that holds a whole float), and JSON.stringify, `for...in`,
 * `Object.keys`, spread copies and deep-equality checks (node:assert, vitest) do not see
 * it. Values a user's code makes are never marked.
 */

const WHOLE_FLOATS = Symbol('haul.wholeFloats');
/** Sets shared by many holders (a reader's float columns): never added to in place. */
const shared = new WeakSet<ReadonlySet<string>>();
/** Nothing was ever marked in this process: the checks cost nothing. */
let none = true;

type Marked = { [WHOLE_FLOATS]?: ReadonlySet<string> };

/** Records that holder[key] was written as a float in the JSON text it was parsed from. */
export function markWholeFloat(holder: object, key: string): void {
  none = false;
  const h = holder as Marked;
  const keys = h[WHOLE_FLOATS];
  if (keys !== undefined && !shared.has(keys)) (keys as Set<string>).add(key);
  else setMarks(h, new Set(keys).add(key));
}

/**
 * Records that the holder's `keys` are float columns (a reader's row): their whole values
 * are floats. One set shared by every row of a reader, so marking a row allocates nothing.
 */
export function markFloatColumns(holder: object, keys: ReadonlySet<string>): void {
  none = false;
  shared.add(keys);
  setMarks(holder as Marked, keys);
}

function setMarks(h: Marked, keys: ReadonlySet<string>): void {
  Object.defineProperty(h, WHOLE_FLOATS, { value: keys, enumerable: false, writable: true, configurable: true });
}

/** Whether holder[key] is a whole number that its source wrote as a float. */
export function isWholeFloat(holder: object, key: string): boolean {
  if (none) return false;
  const v = (holder as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isInteger(v) && (holder as Marked)[WHOLE_FLOATS]?.has(key) === true;
}

/** The holder's marked keys (whose values may have changed since: check with isWholeFloat). */
export function wholeFloatKeys(holder: object): ReadonlySet<string> {
  return (holder as Marked)[WHOLE_FLOATS] ?? NONE;
}
const NONE: ReadonlySet<string> = new Set();

/** Whether the holder has a marked key (extract's serializer looks at each object only when some value was ever marked). */
export function holdsWholeFloats(holder: object): boolean {
  return !none && (holder as Marked)[WHOLE_FLOATS] !== undefined;
}

/** Whether any value was ever marked in this process. */
export function wholeFloatsSeen(): boolean {
  return !none;
}
