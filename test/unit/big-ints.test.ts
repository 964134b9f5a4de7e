/** JSON text with integers past 2^53: exact as bigint within int64, floats left to JSON.parse, whole floats marked. */
import { describe, expect, it } from 'vitest';
import { needsExactParse, parseExact, parseJsonText, stringifyExact } from '../../src/common/big-ints.js';
import { isWholeFloat } from '../../src/common/whole-floats.js';
import { serializeItem } from '../../src/extract/serialize.js';

describe('parseExact', () => {
  it('keeps long integers exact and never takes a long fraction or exponent for one', () => {
    expect(parseExact('{"i64": 9007199254740993, "n": 1}')).toEqual({ i64: 9007199254740993n, n: 1 });
    expect(parseExact('[9223372036854775807, -9007199254740993, 1.5]')).toEqual([9223372036854775807n, -9007199254740993n, 1.5]);
    // a float with 16+ digits after the point (1/7) was cut at the point and made the line unreadable
    expect(parseExact('{"a": 0.14285714285714285, "b": 9007199254740993}')).toEqual({ a: 0.14285714285714285, b: 9007199254740993n });
    expect(parseExact('{"a": 1.12345678901234567e5, "b": 1e12345678901234}')).toEqual({ a: 112345.678901234567, b: Infinity });
    // digits in strings are text; past int64 the digits stay exact as text (JSON.parse rounded them to a double)
    expect(parseExact('{"s": "x\\"9007199254740993", "big": 123456789012345678901234}')).toEqual({ s: 'x"9007199254740993', big: '123456789012345678901234' });
    expect(parseExact('{"u64": 18446744073709551615}')).toEqual({ u64: '18446744073709551615' });
    expect(needsExactParse('{"a": 1}')).toBe(false);
  });

  it('marks whole floats (10.0, 1e3, 1.5e2), not integers, fractions or text, and extract writes them back as floats', () => {
    const text = '{"a": 10.0, "b": [1.0, 2.5, 3], "c": "x: 1.0", "d": 1e3, "e": 1.5e2, "f": 1.25e1, "g": -0.0, "n": 7, "o": {"p": 4.00}}';
    expect(needsExactParse(text)).toBe(true);
    expect(needsExactParse('{"a": 10.5, "b": "v1.0", "c": 100}')).toBe(false);
    const v = parseExact(text) as Record<string, unknown> & { b: unknown[]; o: Record<string, unknown> };
    expect(v).toEqual({ a: 10, b: [1, 2.5, 3], c: 'x: 1.0', d: 1000, e: 150, f: 12.5, g: -0, n: 7, o: { p: 4 } });
    const marked = (h: object, keys: string[]) => keys.filter((k) => isWholeFloat(h, k));
    expect(marked(v, ['a', 'c', 'd', 'e', 'f', 'g', 'n'])).toEqual(['a', 'd', 'e', 'g']);
    expect(marked(v.b, ['0', '1', '2'])).toEqual(['0']);
    expect(marked(v.o, ['p'])).toEqual(['p']);
    expect(serializeItem(v, 't')).toBe('{"a":10.0,"b":[1.0,2.5,3],"c":"x: 1.0","d":1000.0,"e":150.0,"f":12.5,"g":0.0,"n":7,"o":{"p":4.0}}');
    const rest = parseJsonText('{"id": 9007199254740993, "price": 10.0}') as Record<string, unknown>;
    expect(rest).toEqual({ id: 9007199254740993n, price: 10 });
    expect(isWholeFloat(rest, 'price')).toBe(true);
  });
});

describe('stringifyExact', () => {
  it('writes bigints as exact JSON integers, and everything else as JSON.stringify does', () => {
    expect(stringifyExact({ id: 9007199254740993n, ids: [-9223372036854775808n, 1], s: 'a "9" b', n: null })).toBe('{"id":9007199254740993,"ids":[-9223372036854775808,1],"s":"a \\"9\\" b","n":null}');
    expect(stringifyExact({ a: 1 })).toBe(JSON.stringify({ a: 1 }));
    expect(stringifyExact(undefined)).toBe('');
    expect(parseJsonText(stringifyExact({ id: 9007199254740993n }))).toEqual({ id: 9007199254740993n });
  });
});
