/** serializeItem's type walk: plain objects take a short path; what it refuses and lets through stays the same. */
import { describe, expect, it } from 'vitest';
import { serializeItem } from '../../src/extract/serialize.js';
import { UnserializableValueError } from '../../src/errors.js';

describe('serializeItem', () => {
  it('writes plain, null-prototype and class objects, Dates and toJSON as JSON.stringify does', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: { c: [true, null] } });
    class Point {
      constructor(readonly x: number, readonly at: Date) {}
    }
    const item = { bare, point: new Point(2, new Date(0)), custom: { toJSON: () => 'custom', skipped: () => 1 }, big: 2n ** 60n };
    expect(serializeItem(item, 't')).toBe(
      '{"bare":{"a":1,"b":{"c":[true,null]}},"point":{"x":2,"at":"1970-01-01T00:00:00.000Z"},"custom":"custom","big":1152921504606846976}',
    );
  });

  it('refuses a thenable, a Map and a function inside plain objects, naming the field', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ v: { then: () => undefined } }, /v: a Promise/],
      [{ deep: { m: new Map() } }, /deep\.m: a Map/],
      [{ list: [{ f: () => 1 }] }, /list\[0\]\.f: a function/],
      [{ bare: Object.assign(Object.create(null) as object, { s: Symbol('s') }) }, /bare\.s: a symbol/],
    ];
    for (const [item, message] of cases) {
      let err: unknown;
      try {
        serializeItem(item, 't');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UnserializableValueError);
      expect((err as Error).message).toMatch(message);
    }
  });
});
