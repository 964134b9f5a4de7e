/**
 * dlt's `backend` option of sql_database (only `sqlalchemy` exists in haul) and the decoder of
 * PostgreSQL's COPY text format the PostgreSQL engine reads full tables with.
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, sqlDatabase, sqlTable } from '../../src/index.js';
import { CopyTextDecoder, unescapeCopyText } from '../../src/sources/sql_database/engines/copy-text.js';

// Nothing listens here: a refused backend must fail before any connection is tried.
const nowhere = 'postgresql://postgres@127.0.0.1:1/none';

describe('sql_database backend', () => {
  it.each(['pyarrow', 'pandas', 'connectorx'])('refuses dlt\'s Python-only backend %s, saying what haul does instead', async (backend) => {
    for (const make of [() => sqlDatabase({ credentials: nowhere, backend: backend as 'sqlalchemy' }), () => sqlTable({ credentials: nowhere, table: 't', backend: backend as 'sqlalchemy' })]) {
      const err = await make().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidOptionsError);
      const msg = (err as Error).message;
      expect(msg).toContain(`backend "${backend}"`);
      expect(msg).toContain('Python library');
      expect(msg).toContain('"sqlalchemy" (the default)');
      expect(msg).toContain('Leave backend out');
    }
  });

  it('refuses a backend dlt does not have, and backendKwargs', async () => {
    const err = await sqlTable({ credentials: nowhere, table: 't', backend: 'arrow' as 'sqlalchemy' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as Error).message).toContain('not one of dlt\'s backends');
    const kw = await sqlDatabase({ credentials: nowhere, backendKwargs: { tz: 'UTC' } } as Parameters<typeof sqlDatabase>[0]).catch((e: unknown) => e);
    expect(kw).toBeInstanceOf(InvalidOptionsError);
    expect((kw as Error).message).toContain('backendKwargs');
  });
});

describe('COPY text decoder', () => {
  const id = (s: string) => s;

  it('undoes the escapes COPY writes', () => {
    expect(unescapeCopyText('a\\tb\\nc\\\\d\\re\\bf\\fg\\vh')).toBe('a\tb\nc\\d\re\bf\fg\vh');
    expect(unescapeCopyText('\\101\\x41\\x4g\\q')).toBe('AA\x04gq');
    expect(unescapeCopyText('no escapes')).toBe('no escapes');
  });

  it('joins rows and characters split across chunks, and reads \\N as NULL', () => {
    const text = Buffer.from('1\tжЖ\\tx\t\\N\n2\t\t\\\\N\n');
    const d = new CopyTextDecoder(['a', 'b', 'c'], [Number, id, id]);
    const rows: Record<string, unknown>[] = [];
    // every split point, including inside the two-byte ж
    for (let cut = 0; cut <= text.length; cut++) {
      rows.length = 0;
      const dd = new CopyTextDecoder(['a', 'b', 'c'], [Number, id, id]);
      dd.push(text.subarray(0, cut), rows);
      dd.push(text.subarray(cut), rows);
      dd.end();
      expect(rows, `cut at ${cut}`).toEqual([{ a: 1, b: 'жЖ\tx', c: null }, { a: 2, b: '', c: '\\N' }]);
    }
    d.push(Buffer.from('3\tx'), rows);
    expect(() => d.end()).toThrow(/middle of a row/);
  });

  it('keeps a column named __proto__ as a column', () => {
    const rows: Record<string, unknown>[] = [];
    new CopyTextDecoder(['__proto__', 'x'], [id, id]).push(Buffer.from('p\tq\n'), rows);
    expect(Object.keys(rows[0]!)).toEqual(['__proto__', 'x']);
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
    expect(JSON.stringify(rows[0])).toBe('{"__proto__":"p","x":"q"}');
  });
});
