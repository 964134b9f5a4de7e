import { describe, expect, it } from 'vitest';
import { incremental, pipeline, resource, restApiSource } from '../../src/index.js';
import { tempDir } from '../helpers.js';

/*
 * Option errors say what is accepted: a union names its values (or, when the value matched
 * one of its shapes, what is wrong inside it) and dlt's snake_case keys get the camelCase
 * name. A dlt user's first typos, as a newcomer probe made them.
 */

const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('option errors', () => {
  it("name dlt's snake_case keys in camelCase", () => {
    expect(messageOf(() => pipeline({ pipeline_name: 'x', dataset_name: 'y' } as never))).toContain(
      "haul takes dlt's names in camelCase: pipeline_name -> pipelineName, dataset_name -> datasetName",
    );
    expect(messageOf(() => restApiSource({ client: { baseUrl: 'http://x' }, resources: [{ name: 'a', endpoint: { path: 'a', data_selector: '$' } as never }] }))).toContain(
      'resources.0.endpoint: Unrecognized key: "data_selector" (haul takes dlt\'s names in camelCase: data_selector -> dataSelector)',
    );
  });

  it('list what a union takes, or what is wrong inside the shape the value has', () => {
    expect(messageOf(() => restApiSource({ client: { baseUrl: 'http://x', paginator: 'jsonlink' as never }, resources: ['a'] }))).toMatch(
      /client\.paginator: Invalid input: expected one of "json_link", "header_link", .*"auto", an object/,
    );
    expect(messageOf(() => restApiSource({ client: { baseUrl: 'http://x', auth: { type: 'bearer_token', token: 't' } as never }, resources: ['a'] }))).toContain(
      'client.auth.type: Invalid option: expected one of "bearer", "api_key", "http_basic", "oauth2_client_credentials"',
    );
    expect(messageOf(() => incremental('id', { lastValueFunc: 'maximum' as never }))).toContain('lastValueFunc: Invalid input: expected one of "max", "min"');
    // dlt's keyword form written as one object (the cursor path is the first argument)
    expect(messageOf(() => incremental({ cursorPath: 'id', initialValue: 0 } as never))).toContain("the first argument is the cursor path, a string; got object: use incremental('updated_at'");
    // columns is a union of unions (a record, a list of column schemas, a model): the shape given says what is wrong
    expect(messageOf(() => resource([], { name: 't', columns: { w: { dataType: 'number' } } as never }))).toContain('columns.w.dataType: Invalid option: expected one of "text"|"bigint"');
    expect(messageOf(() => resource([], { name: 't', columns: [{ name: 'w', dataType: 'number' }] as never }))).toContain('columns.0.dataType: Invalid option: expected one of');
    expect(messageOf(() => resource([], { name: 't', columns: { w: { dataType: 'wei' } } as never }))).toContain(`columns.w.dataType: "wei" is not a type haul has: use dataType 'decimal'`);
  });

  it('a run option names the accepted dispositions and strategies', async () => {
    const p = pipeline({ pipelineName: 'option_errors', pipelinesDir: tempDir() });
    const err = (await p.run([{ a: 1 }], { tableName: 't', writeDisposition: 'upsert' as never }).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('writeDisposition: Invalid input: expected one of "append", "replace", "merge", "skip", an object');
    const strategy = (await p.run([{ a: 1 }], { tableName: 't', writeDisposition: { disposition: 'merge', strategy: 'scd-2' as never } }).catch((e: unknown) => e)) as Error;
    expect(strategy.message).toMatch(/writeDisposition\.strategy: Invalid option: expected one of "delete-insert"\|"upsert"\|"scd2"\|"insert-only"/);
  });
});
