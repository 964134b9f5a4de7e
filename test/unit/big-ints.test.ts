/** JSON text with integers past 2^53: exact as bigint within int64, floats left to JSON.parse. */
import { describe, expect, it } from 'vitest';
import { mayHoldBigInts, parseWithBigInts } from '../../src/common/big-ints.js';

describe('parseWithBigInts', () => {
  it('keeps long integers exact and never takes a long fraction or exponent for one', () => {
    expect(parseWithBigInts('{"i64": 9007199254740993, "n": 1}')).toEqual({ i64: 9007199254740993n, n: 1 });
    expect(parseWithBigInts('[9223372036854775807, -9007199254740993, 1.5]')).toEqual([9223372036854775807n, -9007199254740993n, 1.5]);
    // a float with 16+ digits after the point (1/7) was cut at the point and made the line unreadable
    expect(parseWithBigInts('{"a": 0.14285714285714285, "b": 9007199254740993}')).toEqual({ a: 0.14285714285714285, b: 9007199254740993n });
    expect(parseWithBigInts('{"a": 1.12345678901234567e5, "b": 1e12345678901234}')).toEqual({ a: 112345.678901234567, b: Infinity });
    // digits in strings are text; past int64 the value is JSON.parse's
    expect(parseWithBigInts('{"s": "x\\"9007199254740993", "big": 123456789012345678901234}')).toEqual({ s: 'x"9007199254740993', big: 123456789012345678901234 });
    expect(mayHoldBigInts('{"a": 1}')).toBe(false);
  });
});
