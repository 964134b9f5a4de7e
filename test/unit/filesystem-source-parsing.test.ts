/**
 * The filesystem source's pure parts: the streaming CSV parser gives the same records however
 * the text is split into chunks, pandas-like typing per chunk, fsspec-like globs and dlt's
 * mime type guess.
 */
import { describe, expect, it } from 'vitest';
import { CsvRecordParser, PANDAS_NA_VALUES, typeChunk } from '../../src/sources/filesystem/csv.js';
import { guessMimeType } from '../../src/sources/filesystem/file-item.js';
import { globToRegExp } from '../../src/sources/filesystem/glob.js';

const TEXT = 'a,b,c\r\n1,"x, ""quoted""",\r\n2,"multi\nline",z\n\n3,plain,"" \n4,"",last';
const EXPECTED = [
  ['a', 'b', 'c'],
  ['1', 'x, "quoted"', ''],
  ['2', 'multi\nline', 'z'],
  ['3', 'plain', ' '],
  ['4', '', 'last'],
];

function parseIn(chunks: string[], options = {}): string[][] {
  const p = new CsvRecordParser(options);
  return [...chunks.flatMap((c) => p.push(c)), ...p.end()];
}

describe('CsvRecordParser', () => {
  it('parses quotes, escaped quotes, delimiters and newlines inside quotes, CRLF and blank lines', () => {
    expect(parseIn([TEXT])).toEqual(EXPECTED);
  });

  it('gives the same records for every split of the text into two chunks, and char by char', () => {
    for (let i = 0; i <= TEXT.length; i++) expect(parseIn([TEXT.slice(0, i), TEXT.slice(i)]), `split at ${i}`).toEqual(EXPECTED);
    expect(parseIn([...TEXT])).toEqual(EXPECTED);
  });

  it('takes another delimiter and quote char; an unclosed quote is an error', () => {
    expect(parseIn(["a;'b;c'\n"], { delimiter: ';', quoteChar: "'" })).toEqual([['a', 'b;c']]);
    expect(() => parseIn(['a,"open\n'])).toThrow(/quote is not closed/);
  });
});

describe('typeChunk', () => {
  it('types columns as pandas does per chunk: integers, floats, booleans, NA strings as null, else text', () => {
    const na = new Set(PANDAS_NA_VALUES);
    const rows = typeChunk(
      ['i', 'f', 'b', 's', 'mixed'],
      [
        ['1', '1.5', 'True', 'x', '1'],
        ['NULL', '2', 'false', 'NA', 'y'],
        ['-3', '1e3', '', '', '2.5'],
      ],
      na,
      true,
    );
    expect(rows).toEqual([
      { i: 1, f: 1.5, b: true, s: 'x', mixed: '1' },
      { i: null, f: 2, b: false, s: null, mixed: 'y' },
      { i: -3, f: 1000, b: null, s: null, mixed: '2.5' },
    ]);
    // int64 as pandas reads it: exact past 2^53; past int64 the column stays text (dlt 1.31 fails there)
    expect(typeChunk(['i'], [['1'], ['9007199254740993'], ['-9223372036854775808']], na, true)).toEqual([{ i: 1 }, { i: 9007199254740993n }, { i: -9223372036854775808n }]);
    expect(typeChunk(['i'], [['1'], ['99999999999999999999']], na, true)).toEqual([{ i: '1' }, { i: '99999999999999999999' }]);
    expect(typeChunk(['i'], [['1'], ['9223372036854775808']], na, true)).toEqual([{ i: '1' }, { i: '9223372036854775808' }]);
    expect(typeChunk(['i'], [['1']], na, false)).toEqual([{ i: '1' }]);
  });
});

describe('globs and mime types', () => {
  it('* stays in one folder, ** crosses folders (and matches the top level before /)', () => {
    const m = (g: string) => ['a.csv', 'b.json', 'x/c.csv', 'x/y/d.csv'].filter((p) => globToRegExp(g).test(p));
    expect(m('*')).toEqual(['a.csv', 'b.json']);
    expect(m('*.csv')).toEqual(['a.csv']);
    expect(m('**')).toEqual(['a.csv', 'b.json', 'x/c.csv', 'x/y/d.csv']);
    expect(m('**/*.csv')).toEqual(['a.csv', 'x/c.csv', 'x/y/d.csv']);
    expect(m('x/*.csv')).toEqual(['x/c.csv']);
    expect(m('[ab].*')).toEqual(['a.csv', 'b.json']);
    expect(m('?.csv')).toEqual(['a.csv']);
  });

  it('guesses mime types as dlt does (Python mimetypes, else application/<ext>)', () => {
    expect(guessMimeType('a.csv')).toEqual(['text/csv', undefined]);
    expect(guessMimeType('a.csv.gz')).toEqual(['text/csv', 'gzip']);
    expect(guessMimeType('a.jsonl')).toEqual(['application/jsonl', undefined]);
    expect(guessMimeType('a.jsonl.gz')).toEqual(['application/gz', 'gzip']);
    expect(guessMimeType('a.parquet')).toEqual(['application/parquet', undefined]);
    expect(guessMimeType('README')).toEqual(['application/octet-stream', undefined]);
  });
});
