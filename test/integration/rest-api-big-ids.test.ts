/**
 * Answers holding 64-bit ids (past 2^53, where JSON.parse rounds): the rows keep them exact
 * and a child resource requests the exact URL, as dlt 1.31 does; a parent whose name holds
 * a space is still a parent; a parent field that is null in a child's path is a typed error.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restApiSource } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir();
const requests: string[] = [];
let server: Server;
let baseUrl = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const body =
      req.url === '/accounts' ? '[{"id": 1234567890123456789, "name": "a"}, {"id": 9007199254740993, "name": "b"}]'
      : req.url === '/holes' ? '[{"id": 1, "name": "a"}, {"id": null, "name": "b"}]'
      : req.url?.startsWith('/accounts/') ? `[{"post": "${req.url.split('/')[2]}"}]`
      : undefined;
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(body ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('rest_api with 64-bit ids', () => {
  it('loads them exactly and asks for the child URL with every digit, under a parent whose name has a space', async () => {
    const p = testPipeline(dir, 'big_ids');
    await p.run(
      restApiSource({
        client: { baseUrl },
        resources: [
          { name: 'My Accounts', endpoint: { path: 'accounts', paginator: 'single_page' } },
          { name: 'posts', endpoint: { path: 'accounts/{resources.My Accounts.id}/posts', paginator: 'single_page' }, includeFromParent: ['id'] },
        ],
      }),
    );
    expect(await query(p, 'SELECT id::VARCHAR AS id, name FROM my_accounts ORDER BY name')).toEqual([
      { id: '1234567890123456789', name: 'a' },
      { id: '9007199254740993', name: 'b' },
    ]);
    expect(requests).toEqual(expect.arrayContaining(['GET /accounts/1234567890123456789/posts', 'GET /accounts/9007199254740993/posts']));
    expect(await query(p, 'SELECT post, _my_accounts_id::VARCHAR AS parent FROM posts ORDER BY post')).toEqual([
      { post: '1234567890123456789', parent: '1234567890123456789' },
      { post: '9007199254740993', parent: '9007199254740993' },
    ]);
  });

  it('a parent field that is null in the child path is an error naming it, not a request for another URL', async () => {
    const p = testPipeline(dir, 'null_ids');
    const before = requests.length;
    const err = await p
      .run(restApiSource({ client: { baseUrl }, resources: [{ name: 'holes', endpoint: { path: 'holes', paginator: 'single_page' } }, { name: 'posts', endpoint: { path: 'accounts/{resources.holes.id}/posts', paginator: 'single_page' } }] }))
      .catch((e: unknown) => e);
    expect(String(err)).toContain('an item of its parent "holes" has null in field "id" (used by {resources.holes.id}), so no request can be made for it; drop such items with a filter');
    expect(requests.slice(before).filter((r) => r.includes('//'))).toEqual([]);
  });
});
