import { describe, expect, it } from 'vitest';
import { DEFAULT_LAYOUT, Layout } from '../../src/destinations/filesystem/layout.js';
import { loadIdOfLoadFile, parseStateFileName, pathSafeHash } from '../../src/destinations/filesystem/system-files.js';
import { filesystem } from '../../src/destinations/filesystem/index.js';
import { InvalidOptionsError } from '../../src/errors.js';

const values = {
  schemaName: 'shop',
  tableName: 'orders',
  loadId: '1717171717.123456',
  fileId: 'abc123def0',
  ext: 'jsonl',
  // a Sunday afternoon in UTC
  now: new Date('2024-03-03T14:05:09.250Z'),
};

describe('filesystem layout', () => {
  it("renders dlt's default layout", () => {
    expect(new Layout(DEFAULT_LAYOUT).render(values)).toBe('orders/1717171717.123456.abc123def0.jsonl');
  });

  it("renders dlt's date, time and timestamp placeholders in UTC", () => {
    const l = new Layout('{table_name}/{YYYY}/{YY}/{Q}/{MM}/{M}/{DD}/{D}/{HH}{H}/{hh}{h}{A}{a}/{mm}{m}{ss}{s}/{dddd}-{ddd}-{dd}-{d}/{curr_date}/{file_id}');
    expect(l.render(values)).toBe('orders/2024/24/1/03/3/03/3/1414/022PMpm/05509 9/Sunday-Sun-Su-0/2024-03-03/abc123def0'.replace(' ', ''));
    const t = new Layout('{table_name}/{timestamp}.{timestamp_ms}.{load_package_timestamp}.{load_package_timestamp_ms}.{schema_name}.{file_id}.{ext}');
    expect(t.render(values)).toBe('orders/1709474709.1709474709250.1717171717.1717171717123.shop.abc123def0.jsonl');
  });

  it('renders extra placeholders and refuses bad layouts with the reason', () => {
    expect(new Layout('{table_name}/{env}/{file_id}.{ext}', { env: 'prod' }).render(values)).toBe('orders/prod/abc123def0.jsonl');
    const bad = (layout: string, extra?: Record<string, string>) => () => new Layout(layout, extra);
    expect(bad('{table_name}/{nope}/{file_id}')).toThrow(InvalidOptionsError);
    expect(bad('{table_name}/{nope}/{file_id}')).toThrow(/unknown placeholder \{nope\}.*\{load_id\}/);
    expect(bad('{table_name}/{file_id')).toThrow(/unbalanced/);
    expect(bad('{table_name}/../{file_id}')).toThrow(/"\.\."/);
    expect(bad('x/{table_name}/{file_id}')).toThrow(/must start with \{table_name\}\//);
    expect(bad('{table_name}/{load_id}')).toThrow(/must contain \{file_id\}/);
    expect(bad('{table_name}/{env}/{file_id}', { env: 'a/b' })).toThrow(/without path separators/);
  });
});

describe('filesystem system file names', () => {
  it("parses dlt's _dlt_loads and _dlt_pipeline_state names, pipeline and schema names with __ included", () => {
    expect(loadIdOfLoadFile('my__schema__1717171717.123456.jsonl')).toBe('1717171717.123456');
    expect(parseStateFileName(`my__pipe__1717171717.123456__${pathSafeHash('qLmT3Q-x_w')}.jsonl`)).toEqual({ pipelineName: 'my__pipe', loadId: '1717171717.123456' });
    expect(pathSafeHash('qLmT3Q-x_w')).toMatch(/^[0-9a-f]+$/);
    expect(pathSafeHash('')).toBe('none');
  });

  it('refuses a dataset name that is not one folder, and stores only JSON options', () => {
    const f = filesystem({ bucketUrl: '/tmp/haul-bucket', layout: '{table_name}/{load_id}.{file_id}.{ext}' });
    expect(f.options).toEqual({ bucketUrl: '/tmp/haul-bucket', layout: '{table_name}/{load_id}.{file_id}.{ext}' });
    expect(() => f.createClient({ pipelineName: 'p', datasetName: '../escape' })).toThrow(InvalidOptionsError);
    expect(() => filesystem({ bucketUrl: '/tmp/x', nope: 1 } as never)).toThrow(/nope/);
  });
});
