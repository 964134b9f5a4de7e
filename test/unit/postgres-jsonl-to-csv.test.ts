/**
 * The JSONL -> COPY csv converter of the postgres destination, byte for byte. (That the
 * values land right in a real PostgreSQL is the conformance suite's job; this pins the
 * encoding rules and the streaming edge cases.)
 */
import { describe, expect, it } from 'vitest';
import { JsonlToCsv } from '../../src/destinations/postgres/jsonl-to-csv.js';
import type { ColumnSchema } from '../../src/schema/types.js';

type Col = Pick<ColumnSchema, 'name' | 'dataType'>;

async function convert(columns: Col[], input: string | Buffer, chunk = 1 << 20): Promise<string> {
  const t = new JsonlToCsv(columns, 16);
  const out: Buffer[] = [];
  t.on('data', (b: Buffer) => out.push(b));
  const done = new Promise<void>((resolve, reject) => {
    t.on('end', resolve);
    t.on('error', reject);
  });
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input);
  for (let i = 0; i < bytes.length; i += chunk) t.write(bytes.subarray(i, i + chunk));
  t.end();
  await done;
  return Buffer.concat(out).toString('utf8');
}

const text = (name: string): Col => ({ name, dataType: 'text' });

describe('JSONL to COPY csv', () => {
  it('writes the columns in order: missing keys and null are NULL, unknown keys are ignored', async () => {
    const cols = [text('a'), { name: 'n', dataType: 'bigint' } as Col, text('b')];
    const csv = await convert(cols, '{"b":"B","zzz":[1,{"x":"}"}],"a":"A"}\n{"n":5,"a":null}\n{}\n{"a":""}\n');
    expect(csv).toBe('"A",,"B"\n,5,\n,,\n"",,\n');
  });

  it('re-quotes strings with escapes and copies others as they are', async () => {
    const csv = await convert([text('s')], '{"s":"say \\"hi\\"\\nthen, go \\u00e9 \\ud83d\\ude00"}\n{"s":"héllo, wörld"}\n');
    expect(csv).toBe('"say ""hi""\nthen, go é 😀"\n"héllo, wörld"\n');
  });

  it('bigint spellings: 3.0 and 1e3 become integers, big values stay exact', async () => {
    const csv = await convert([{ name: 'n', dataType: 'bigint' }], '{"n":3.0}\n{"n":1e3}\n{"n":-42}\n{"n":"9223372036854775807"}\n{"n":2.5}\n');
    expect(csv).toBe('3\n1000\n-42\n"9223372036854775807"\n2.5\n');
  });

  it('binary becomes hex, json its JSON text', async () => {
    const b64 = Buffer.from([0, 1, 250, 255]).toString('base64');
    const csv = await convert(
      [{ name: 'b', dataType: 'binary' }, { name: 'j', dataType: 'json' }],
      `{"b":"${b64}","j":{"k":"v \\"q\\"","l":[1,null,true]}}\n{"j":"just a string"}\n{"j":42}\n{"b":"${b64.replace('/', '\\/')}"}\n`,
    );
    expect(csv).toBe('\\x0001faff,"{""k"":""v \\""q\\"""",""l"":[1,null,true]}"\n,"""just a string"""\n,"42"\n\\x0001faff,\n');
  });

  it('an object where the schema says text stays one quoted field', async () => {
    expect(await convert([text('t')], '{"t":{"a":"b, c"}}\n')).toBe('"{""a"":""b, c""}"\n');
  });

  it('other types pass their canonical text (timestamps, dates, decimals, booleans, doubles)', async () => {
    const cols: Col[] = [
      { name: 't', dataType: 'timestamp' },
      { name: 'd', dataType: 'date' },
      { name: 'c', dataType: 'decimal' },
      { name: 'x', dataType: 'bool' },
      { name: 'f', dataType: 'double' },
    ];
    const csv = await convert(cols, '{"t":"2024-01-02T03:04:05.123456Z","d":"2024-02-29","c":"-1e-7","x":false,"f":1.5e300}\n');
    expect(csv).toBe('"2024-01-02T03:04:05.123456Z","2024-02-29","-1e-7",false,1.5e300\n');
  });

  it('gives the same rows whatever the chunk boundaries, and takes blank lines, CRLF and a last line without newline', async () => {
    const cols = [text('a'), text('b')];
    const input = '{"a":"x","b":"y"}\r\n\n  \n{ "b" : "ü\\"" , "a" : "1" }\n{"a":"last"}';
    const whole = await convert(cols, input);
    expect(whole).toBe('"x","y"\n"1","ü"""\n"last",\n');
    for (const chunk of [1, 2, 3, 7]) expect(await convert(cols, input, chunk), `chunk ${chunk}`).toBe(whole);
  });

  it('names the line of broken JSON', async () => {
    const cols = [text('a')];
    await expect(convert(cols, '{"a":"ok"}\n{"a": \n')).rejects.toThrow(/line 2/);
    await expect(convert(cols, '{"a":"ok"}\n{"a":"x", broken\n')).rejects.toThrow(/line 2: expected a key/);
    await expect(convert(cols, 'not json\n')).rejects.toThrow(/line 1: expected a JSON object/);
    await expect(convert(cols, '{"a":"unterminated}\n')).rejects.toThrow(/line 1: unterminated string/);
    await expect(convert(cols, '{"a":"x"} trailing\n')).rejects.toThrow(/line 1: unexpected text/);
  });

  it('counts rows and keeps order over many rows and long values', async () => {
    const long = 'z'.repeat(100_000);
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ i, s: i === 2500 ? long : `v${i}` }));
    const t = new JsonlToCsv([{ name: 'i', dataType: 'bigint' }, text('s')]);
    const out: Buffer[] = [];
    t.on('data', (b: Buffer) => out.push(b));
    const done = new Promise((r) => t.on('end', r));
    t.end(lines.join('\n') + '\n');
    await done;
    const rows = Buffer.concat(out).toString('utf8').split('\n').slice(0, -1);
    expect(t.rows).toBe(5000);
    expect(rows[0]).toBe('0,"v0"');
    expect(rows[2500]).toBe(`2500,"${long}"`);
    expect(rows[4999]).toBe('4999,"v4999"');
  });
});
