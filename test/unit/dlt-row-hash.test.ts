/**
 * scd2 versions and the nested rows under them carry dlt's own ids (`get_row_hash`,
 * `get_nested_row_hash`), so a dataset moves between dlt and haul without re-versioning.
 * Every expected id below is what dlt 1.31 computed or loaded for the same data.
 */
import { describe, expect, it } from 'vitest';
import { contentRowIdOfLine, nestedContentRowId } from '../../src/normalize/content-id.js';

describe("dlt's row hashes", () => {
  it('an item hashes as dlt hashes it: sorted keys, _dlt keys left out, floats as Python writes them', () => {
    const cases: Array<[string, string]> = [
      ['{"id":1,"v":"a"}', 'lknCZL/MuP9QCg'],
      ['{"b":1,"a":"x","_dlt_load_id":"zzz","nested":{"z":[1,2,{"y":null,"x":true}],"a":false}}', 'DF8Wx2pm37PBJg'],
      [
        '{"u":"é 日本 😀","q":"say \\"hi\\"\\\\ \\n\\t\\u0001 </script>","f":1.5,"g":0.1,"h":1e-7,"i":123456789.123,"w":1.0,"neg":-0.0,"big":1152921504606846976,"e":1e21,"s":1e16}',
        'GH51zkwgig/lcw',
      ],
      ['{"list":[[1,2],[3]],"empty":{},"el":[],"k":"v"}', 'lYczXdRi7Dj89Q'],
      ['{"ü":1,"z":2,"A":3,"_":4,"a b":5}', 'jqrc9oJWKXPUkw'],
    ];
    for (const [line, id] of cases) expect(contentRowIdOfLine(line), line).toBe(id);
    expect(nestedContentRowId('lknCZL/MuP9QCg', 'items__tags', 0)).toBe('blEtAEueiEhAdg');
    expect(nestedContentRowId('lknCZL/MuP9QCg', 'items__tags', 1)).toBe('DtYimZJol4VeKw');
  });
});
