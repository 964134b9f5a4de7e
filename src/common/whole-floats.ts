/*
 * Whole numbers written as floats in JSON text (`10.0`, `1e3`). JSON.parse makes them JS
 * integers, which normalize would type bigint where dlt, reading the same text with Python's
 * json, gets floats and types double. The exact parser (big-ints.ts) marks where each one
 * was, by its holder (object or array) and key: normalize types a new column from a marked
 * value as double, and extract writes a marked value as a float again (`10.0`), so the job
 * file keeps what the text said. Values a user's code makes are never marked.
 */

const marks = new WeakMap<object, Set<string>>();
/** Nothing was ever marked in this process: the checks cost nothing. */
let none = true;

/** Records that holder[key] was written as a float in the JSON text it was parsed from. */
export function markWholeFloat(holder: object, key: string): void {
  none = false;
  let keys = marks.get(holder);
  if (keys === undefined) marks.set(holder, (keys = new Set()));
  keys.add(key);
}

/** Whether holder[key] is a whole number that its JSON text wrote as a float. */
export function isWholeFloat(holder: object, key: string): boolean {
  if (none) return false;
  const v = (holder as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isInteger(v) && marks.get(holder)?.has(key) === true;
}

/** Whether the holder has a marked key (extract's serializer looks at each object only when some value was ever marked). */
export function holdsWholeFloats(holder: object): boolean {
  return !none && marks.has(holder);
}

/** Whether any value was ever marked in this process. */
export function wholeFloatsSeen(): boolean {
  return !none;
}
