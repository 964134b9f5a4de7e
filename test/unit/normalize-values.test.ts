import { describe, expect, it } from 'vitest';
import { NO_FIT, coerceTo, inferType, isCanonicalTimestampAt, keepsAsIs, kindOf, parseTimestamp } from '../../src/normalize/values.js';
import type { DataType } from '../../src/schema/types.js';
import { RandomIdPool, childRowId, childRowIdInto, tableSeed } from '../../src/normalize/ids.js';

describe('parseTimestamp', () => {
  it('accepts full ISO-8601 date-times and returns canonical UTC', () => {
    const cases: Array<[string, string]> = [
      ['2024-01-02T03:04:05.123Z', '2024-01-02T03:04:05.123Z'],
      ['2024-01-02T03:04:05.123456Z', '2024-01-02T03:04:05.123456Z'],
      ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05.000Z'],
      ['2024-01-02T03:04:05', '2024-01-02T03:04:05.000Z'],
      ['2024-01-02 03:04:05', '2024-01-02T03:04:05.000Z'],
      ['2024-01-02T03:04', '2024-01-02T03:04:00.000Z'],
      ['2024-01-02T03:04:05.1Z', '2024-01-02T03:04:05.100Z'],
      ['2024-01-02T03:04:05.1234Z', '2024-01-02T03:04:05.123400Z'],
      ['2024-01-02T03:04:05.123456789Z', '2024-01-02T03:04:05.123456Z'],
      ['2024-01-02T03:04:05+02:00', '2024-01-02T01:04:05.000Z'],
      ['2024-01-02T03:04:05+0200', '2024-01-02T01:04:05.000Z'],
      ['2024-01-02T03:04:05-05', '2024-01-02T08:04:05.000Z'],
      ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00.000Z'],
      ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
      ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
    ];
    for (const [input, want] of cases) expect(parseTimestamp(input, true), input).toBe(want);
  });

  it('rejects anything else', () => {
    for (const s of [
      '2024-01-02', '2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-32T00:00:00Z', '2024-01-02T24:00:00Z',
      '2024-01-02T03:60:00Z', '2024-01-02T03:04:61Z', '2024-01-02T03:04:05+2', '2024-01-02T03:04:05Zx', '2024-01-02X03:04:05Z',
      '24-01-02T03:04:05Z', 'hello', '', '2024-01-02T03:04:05.Z', '2024-01-02T03:04:05 Z', '0000-01-01T00:30:00+01:00',
      // lower-case t or z: text to dlt 1.31 (pendulum refuses them), for detection and coercion
      '2024-05-06t07:08:09z', '2024-05-06T07:08:09z', '2024-05-06t07:08:09Z',
    ]) {
      expect(parseTimestamp(s, true), s).toBeUndefined();
    }
  });

  it('accepts a plain date when not strict (coercion into a timestamp column)', () => {
    expect(parseTimestamp('2024-01-02', false)).toBe('2024-01-02T00:00:00.000Z');
    expect(parseTimestamp('2024-02-30', false)).toBeUndefined();
  });

  it("reads ISO 8601's basic format as dlt 1.31 (pendulum) does: detected when it has a time, coerced also as a date", () => {
    const cases: Array<[string, string | undefined]> = [
      ['20240101T100000Z', '2024-01-01T10:00:00.000Z'],
      ['20240101T100000.5+0200', '2024-01-01T08:00:00.500Z'],
      ['20240101 1234', '2024-01-01T12:34:00.000Z'],
      ['20240101T12', '2024-01-01T12:00:00.000Z'],
      ['20241301T100000Z', undefined],
      ['20240105', undefined],
      ['12345678', undefined],
    ];
    for (const [s, want] of cases) expect(parseTimestamp(s, true), s).toBe(want);
    expect(parseTimestamp('20240105', false)).toBe('2024-01-05T00:00:00.000Z');
    expect(coerceTo('date', '20240105')).toBe('2024-01-05');
    // a time with a zone goes to UTC, as dlt's coercion into a time column
    expect(coerceTo('time', '10:00:00+02:00')).toBe('08:00:00');
    expect(coerceTo('time', '01:30:00.123+02')).toBe('23:30:00.123');
  });
});

describe('inferType', () => {
  it('maps JSON values to types', () => {
    expect(inferType(1, true)).toBe('bigint');
    expect(inferType(-(2 ** 62), true)).toBe('bigint');
    expect(inferType(2 ** 64, true)).toBe('double');
    expect(inferType(1.5, true)).toBe('double');
    expect(inferType(true, true)).toBe('bool');
    expect(inferType('x', true)).toBe('text');
    expect(inferType('2024-01-02T03:04:05Z', true)).toBe('timestamp');
    expect(inferType('2024-01-02T03:04:05Z', false)).toBe('text');
    expect(inferType({ $binary: 'AA==' }, true)).toBe('binary');
    expect(inferType({ a: 1 }, true)).toBe('json');
    expect(inferType([1], true)).toBe('json');
  });
});

describe('coerceTo', () => {
  it('converts losslessly and refuses the rest', () => {
    const ok: Array<[Parameters<typeof coerceTo>[0], unknown, unknown]> = [
      ['text', 5, '5'],
      ['text', 1.5, '1.5'],
      ['text', true, 'True'], // Python's str(True), as dlt writes it
      ['text', { a: 1 }, '{"a":1}'],
      ['text', { $binary: 'AQI=' }, 'AQI='],
      ['bigint', ' 42 ', 42],
      ['bigint', '0x1f', 31],
      ['bigint', '9007199254740993', '9007199254740993'],
      ['bigint', 2 ** 60, '1152921504606846976'],
      ['double', 3, 3],
      ['double', '2.5e3', 2500],
      ['bool', 'Yes', true],
      ['bool', 'off', false],
      ['bool', 0, false],
      ['timestamp', 86400, '1970-01-02T00:00:00.000Z'],
      ['timestamp', 1.5, '1970-01-01T00:00:01.500Z'],
      ['timestamp', '1700000000', '2023-11-14T22:13:20.000Z'],
      ['date', '2024-01-02T23:30:00-01:00', '2024-01-03'],
      ['date', 0, '1970-01-01'],
      ['time', '7:00', NO_FIT],
      ['time', '07:00', '07:00:00'],
      // a whole timestamp is not a time (dlt: a variant column)
      ['time', '2024-01-02T07:08:09.5Z', NO_FIT],
      ['decimal', 12, '12'],
      ['decimal', '+1.50', '1.50'],
      ['binary', '0xff00', '/wA='],
      ['binary', 'AQI=', 'AQI='],
      ['json', [1, 2], [1, 2]],
    ];
    for (const [type, v, want] of ok) expect(coerceTo(type, v), `${type} <- ${JSON.stringify(v)}`).toEqual(want);
    const bad: Array<[Parameters<typeof coerceTo>[0], unknown]> = [
      ['bigint', 1.5], ['bigint', 'abc'], ['bigint', true], ['bigint', '99999999999999999999'],
      ['double', 'abc'], ['double', false], ['bool', 2], ['bool', 'maybe'], ['timestamp', true], ['timestamp', 'soon'],
      ['date', 'nope'], ['decimal', 'x1'], ['binary', 'not base64!'], ['binary', '0xabc'], ['json', 'str'], ['json', 1],
      ['json', { $binary: 'AA==' }],
    ];
    for (const [type, v] of bad) expect(coerceTo(type, v), `${type} <- ${JSON.stringify(v)}`).toBe(NO_FIT);
  });
});

describe('keepsAsIs (the rule both normalize paths read)', () => {
  const TYPES: DataType[] = ['text', 'bigint', 'double', 'bool', 'timestamp', 'date', 'time', 'decimal', 'binary', 'json'];
  const VALUES: unknown[] = ['x', '', '42', ' 7 ', 'true', '2024-01-02T03:04:05.123Z', 0, 1, -5, 2 ** 53 - 1, 2 ** 53, 2 ** 60, 1.5, -0.25, 1e21, true, false, { a: 1 }, [1], { $binary: 'AAEC' }];

  it('keeps a value only where coerceTo would return it unchanged', () => {
    for (const t of TYPES) {
      for (const v of VALUES) {
        if (keepsAsIs(t, kindOf(v))) expect(coerceTo(t, v), `${t} ${JSON.stringify(v)}`).toBe(v);
      }
    }
    // and does keep the plain cases, or the byte path would never copy anything
    expect(keepsAsIs('text', kindOf('x'))).toBe(true);
    expect(keepsAsIs('bigint', kindOf(5))).toBe(true);
    expect(keepsAsIs('bigint', kindOf(2 ** 60))).toBe(false);
    expect(keepsAsIs('double', kindOf(5))).toBe(true);
    expect(keepsAsIs('double', kindOf(1.5))).toBe(true);
    expect(keepsAsIs('bool', kindOf(false))).toBe(true);
    expect(keepsAsIs('timestamp', kindOf('2024-01-02T03:04:05.123Z'))).toBe(false);
  });

  it('isCanonicalTimestampAt accepts exactly what parseTimestamp returns unchanged', () => {
    const cases = [
      '2024-01-02T03:04:05.123Z', '2024-01-02T03:04:05.123456Z', '2024-02-29T00:00:00.000Z', '2023-02-29T00:00:00.000Z',
      '2024-13-02T03:04:05.123Z', '2024-01-32T03:04:05.123Z', '2024-01-02T24:04:05.123Z', '2024-01-02T03:04:05Z',
      '2024-01-02 03:04:05.123Z', '2024-01-02T03:04:05.12aZ', '2024-04-31T03:04:05.123Z', '1900-02-29T00:00:00.000Z', '2000-02-29T00:00:00.000Z',
    ];
    for (const c of cases) {
      const b = Buffer.from(`"${c}"`);
      expect(isCanonicalTimestampAt(b, 1, b.length - 1), c).toBe(parseTimestamp(c, false) === c);
    }
  });
});

describe('row ids', () => {
  it('random root ids are 14 base64url characters and unique', () => {
    const pool = new RandomIdPool();
    const seen = new Set<string>();
    const bytes = Buffer.alloc(14);
    for (let i = 0; i < 20_000; i++) {
      const id = pool.next();
      expect(id).toMatch(/^[A-Za-z0-9_-]{14}$/);
      seen.add(id);
      pool.nextInto(bytes, 0);
      seen.add(bytes.toString('latin1'));
    }
    expect(seen.size).toBe(40_000);
  });

  it('child ids are deterministic, distinct, and the same from bytes and strings', () => {
    const parent = 'AbCdEfGhIjKlMn';
    expect(childRowId(parent, 't__items', 0)).toBe(childRowId(parent, 't__items', 0));
    expect(childRowId(parent, 't__items', 0)).toMatch(/^[A-Za-z0-9_-]{14}$/);
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) ids.add(childRowId(parent, 't__items', i));
    ids.add(childRowId(parent, 't__other', 0));
    ids.add(childRowId('AbCdEfGhIjKlMo', 't__items', 0));
    expect(ids.size).toBe(10_002);
    const out = Buffer.alloc(14);
    for (const idx of [0, 1, 9, 10, 12345, 2 ** 31 + 5]) {
      childRowIdInto(Buffer.from(parent, 'latin1'), tableSeed('t__items'), idx, out, 0);
      expect(out.toString('latin1')).toBe(childRowId(parent, 't__items', idx));
    }
  });
});
