/** The SQL source's json reader: integers past 2^53 stay exact, as Python's json module (dlt's reader) keeps them. */
import { describe, expect, it } from 'vitest';
import { parseJsonExact } from '../../src/sources/sql_database/engines/json-exact.js';

describe('parseJsonExact', () => {
  it('keeps long integers exact and leaves floats, strings and short numbers to JSON.parse', () => {
    expect(parseJsonExact('{"i64": 9007199254740993, "n": 1}')).toEqual({ i64: 9007199254740993n, n: 1 });
    expect(parseJsonExact('[9223372036854775807, -12345678901234567890, 1.5, 1e20, 12345678901234567.5]')).toEqual([
      9223372036854775807n,
      -12345678901234567890n,
      1.5,
      1e20,
      12345678901234567.5,
    ]);
    // digits inside strings, escaped quotes included, are text
    expect(parseJsonExact('{"s": "12345678901234567890", "t": "x\\"9007199254740993", "u": 9007199254740993}')).toEqual({
      s: '12345678901234567890',
      t: 'x"9007199254740993',
      u: 9007199254740993n,
    });
    expect(parseJsonExact('{"a": [{"b": 123456789012345678901234}]}')).toEqual({ a: [{ b: 123456789012345678901234n }] });
    expect(() => parseJsonExact('{"a": 12345678901234567890')).toThrow(SyntaxError);
  });
});
