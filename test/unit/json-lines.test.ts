/**
 * The raw path's parts on their own: the JSON validator agrees with JSON.parse, jsonLines()
 * tidies lines (blank lines, CRLF, last newline, invalid UTF-8) and names a bad line, the
 * reader's chunker cuts a byte stream at line ends whatever its buffers, and the job file
 * writer rotates raw chunks between lines.
 */
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isJsonObjectAt } from '../../src/common/json-validate.js';
import { InvalidOptionsError } from '../../src/errors.js';
import { JsonLines, jsonLines } from '../../src/extract/json-lines.js';
import { jsonLineChunks } from '../../src/sources/filesystem/jsonl-chunks.js';
import { RotatingJsonlWriter } from '../../src/storage/jsonl.js';

/** What the validator must say: JSON.parse accepts it and it is an object. */
function parsesToObject(line: string): boolean {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

const valid = (line: string) => {
  const b = Buffer.from(line);
  return isJsonObjectAt(b, 0, b.length);
};

describe('isJsonObjectAt', () => {
  it('accepts exactly what JSON.parse accepts as an object, on hand-picked lines', () => {
    const lines = [
      '{}', ' { } ', '{"a":1}', '{"a":-0.5e+10,"b":[1,2,{"c":null}],"d":true,"e":false}', '{"s":"\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t"}',
      '{"ü":"日本語 🎉"}', '{"a" : [ ] , "b" : { } }', '\t{"a":1}\r', '{"n":1E5,"m":0,"k":-0,"z":12345678901234567890}',
      // invalid
      '', ' ', '[]', '[{"a":1}]', '1', '"s"', 'null', '{', '}', '{"a"}', '{"a":}', '{"a":1,}', '{,"a":1}', '{"a":1}{"b":2}', '{"a":1} x',
      "{'a':1}", '{a:1}', '{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":+1}', '{"a":1e}', '{"a":-}', '{"a":tru}', '{"a":nul}', '{"a":NaN}',
      '{"a":"\\x"}', '{"a":"\\u12G4"}', '{"a":"\\u12"}', '{"a":"tab\there"}', '{"a":"unterminated}', '{"a":[1,2}', '{"a":{"b":1]}', '{"a":1 "b":2}',
    ];
    for (const line of lines) expect([line, valid(line)]).toEqual([line, parsesToObject(line)]);
  });

  it('agrees with JSON.parse on 20,000 random mutations of valid lines', () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const base = [
      JSON.stringify({ id: 1, name: 'a "quoted" \\ name', tags: ['x', 'y'], nested: { deep: [{ k: 1.5e-3 }, null, true] }, u: 'é€😀' }),
      JSON.stringify({ a: -12, b: 0.25, c: [], d: {}, e: '\n\t' }),
    ];
    const alphabet = '{}[]":,\\ 0123456789-+.eEtruefalsn\t\r/ux';
    let agreed = 0;
    for (let i = 0; i < 20_000; i++) {
      let s = base[rnd(base.length)]!;
      for (let m = 1 + rnd(3); m > 0; m--) {
        const at = rnd(s.length + 1);
        const op = rnd(3);
        const ch = alphabet[rnd(alphabet.length)]!;
        s = op === 0 ? s.slice(0, at) + ch + s.slice(at) : op === 1 ? s.slice(0, at) + s.slice(at + 1) : s.slice(0, at) + ch + s.slice(at + 1);
      }
      expect([s, valid(s)]).toEqual([s, parsesToObject(s)]);
      agreed++;
    }
    expect(agreed).toBe(20_000);
  });

  it('refuses nesting deeper than 256 levels (extract refuses such objects too)', () => {
    const nest = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    expect(valid(nest(256))).toBe(true);
    expect(valid(nest(257))).toBe(false);
  });
});

describe('jsonLines()', () => {
  it('drops blank lines, turns CRLF into LF, ends the last line, counts the items', () => {
    const c = jsonLines('{"a":1}\r\n\r\n  \n{"b":"x"}\r\n{"c":[1]}');
    expect(c).toBeInstanceOf(JsonLines);
    expect(c.bytes.toString()).toBe('{"a":1}\n{"b":"x"}\n{"c":[1]}\n');
    expect(c.lineCount).toBe(3);
    expect(jsonLines('\n\n').lineCount).toBe(0);
    // already tidy: the bytes are kept as they are
    expect(jsonLines('{"a":1}\n{"b":2}\n').bytes.toString()).toBe('{"a":1}\n{"b":2}\n');
  });

  it('copies bytes it is given (the caller may reuse them) and replaces invalid UTF-8 as decoding would', () => {
    const src = Buffer.from('{"a":"x"}\n');
    const c = jsonLines(src);
    src[6] = 0x79; // 'y'
    expect(c.items()).toEqual([{ a: 'x' }]);
    const bad = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
    expect(jsonLines(bad).items()).toEqual([{ a: '\ufffd\ufffd' }]);
  });

  it('items() parses every line, integers beyond 2^53 exact', () => {
    const c = jsonLines('{"big":9007199254740993,"s":"9007199254740993","n":{"l":[1,-9223372036854775808]}}\n{"f":1.5}\n');
    expect(c.items()).toEqual([{ big: 9007199254740993n, s: '9007199254740993', n: { l: [1, -9223372036854775808n] } }, { f: 1.5 }]);
  });

  it('names a line that is not a JSON object, counting blank lines', () => {
    const err = (text: string) => {
      try {
        jsonLines(text);
      } catch (e) {
        return e;
      }
      throw new Error('no error');
    };
    const broken = err('{"a":1}\n\n{"a":\n');
    expect(broken).toBeInstanceOf(InvalidOptionsError);
    expect((broken as Error).message).toMatch(/line 3 is not JSON \(/);
    expect((err('{"a":1}\n[1,2]\n') as Error).message).toMatch(/line 2 is not a JSON object \(it is an array\)/);
    expect((err('42\n') as Error).message).toMatch(/line 1 is not a JSON object \(it is 42\)/);
  });
});

/** A stream of the given buffers. */
async function* stream(parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield p;
}

async function chunksOf(parts: Buffer[], chunkSize: number): Promise<JsonLines[]> {
  const out: JsonLines[] = [];
  for await (const c of jsonLineChunks(stream(parts), chunkSize, (n, why) => new Error(`line ${n}: ${why}`))) out.push(c);
  return out;
}

/** Splits bytes into pieces of `size` (cutting lines and multi-byte characters anywhere). */
const pieces = (b: Buffer, size: number) => Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size));

describe('jsonLineChunks (readJsonl)', () => {
  const rows = Array.from({ length: 25 }, (_, i) => ({ i, s: `ü€😀 ${i}`, l: [i] }));
  const text = Buffer.from('\ufeff' + rows.map((r, i) => JSON.stringify(r) + (i % 7 === 0 ? '\r\n\n' : '\n')).join('') + '{"last":true}');

  it('cuts chunks of chunkSize lines at line ends whatever the stream buffers; BOM skipped; same items', async () => {
    for (const size of [1, 3, 7, 64, text.length]) {
      const chunks = await chunksOf(pieces(text, size), 10);
      expect(chunks.map((c) => c.items()).flat()).toEqual([...rows, { last: true }]);
      // 30 lines, 10 per chunk, blank ones included (2, 1, 1 of them); the last ends the file
      expect(chunks.map((c) => c.lineCount)).toEqual([8, 9, 9]);
      for (const c of chunks) expect(c.bytes.at(-1)).toBe(10);
    }
  });

  it('numbers a bad line from the start of the file across chunks', async () => {
    const bad = Buffer.from(Array.from({ length: 30 }, (_, i) => (i === 24 ? '{"oops":}' : `{"i":${i}}`)).join('\n') + '\n');
    await expect(chunksOf(pieces(bad, 5), 10)).rejects.toThrow(/^line 25: not JSON/);
  });
});

describe('RotatingJsonlWriter.writeLines', () => {
  it('rotates raw chunks between lines at maxFileBytes, mixed with single lines; every line once, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'haul-raw-rotate-'));
    const max = 300;
    let id = 0;
    const w = new RotatingJsonlWriter({ dir, table: 't', maxFileBytes: max, bufferBytes: 256, nextFileId: () => String(id++).padStart(4, '0') });
    const expected: string[] = [];
    let n = 0;
    const line = () => JSON.stringify({ n: n++, pad: 'x'.repeat(n % 40) });
    for (let round = 0; round < 30; round++) {
      // a small chunk, a big one (beyond the buffer), a single line, a line longer than a file
      const small = [line(), line()];
      const big = Array.from({ length: 12 }, line);
      w.writeLines(Buffer.from(small.join('\n') + '\n'), small.length);
      w.writeLines(Buffer.from(big.join('\n') + '\n'), big.length);
      const one = line();
      w.write(one);
      expected.push(...small, ...big, one);
      if (round === 10) {
        const huge = JSON.stringify({ huge: 'h'.repeat(400) });
        w.writeLines(Buffer.from(huge + '\n'), 1);
        expected.push(huge);
      }
    }
    const files = await w.close();
    expect(w.rows).toBe(expected.length);
    expect(files.length).toBeGreaterThan(10);
    expect(readdirSync(dir).sort()).toEqual([...files].sort());
    const got: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      const lines = text.slice(0, -1).split('\n');
      // a file is over the limit only when it is one line longer than the limit
      if (statSync(join(dir, f)).size > max) expect(lines).toHaveLength(1);
      for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
      got.push(...lines);
    }
    expect(got).toEqual(expected);
  });
});

describe('RotatingJsonlWriter buffers', () => {
  it('reuses a buffer once its write landed, and every line lands once, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'haul-reuse-'));
    let id = 0;
    const w = new RotatingJsonlWriter({ dir, table: 't', maxFileBytes: 2000, bufferBytes: 128, nextFileId: () => String(id++).padStart(4, '0') });
    const expected: string[] = [];
    for (let i = 0; i < 600; i++) {
      const line = JSON.stringify({ i, pad: 'y'.repeat(i % 50) });
      w.write(line);
      expected.push(line);
      // let the writes land now and then, so flushes take buffers back
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    const files = await w.close();
    const got = files.flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== ''));
    expect(got).toEqual(expected);
    expect(files.length).toBeGreaterThan(10);
  });
});
