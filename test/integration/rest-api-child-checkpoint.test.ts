/**
 * A REST child resource (`users/{resources.users.id}/posts`) checkpoints inside its parent:
 * an extract that failed on a child page is retried with the same load id and asks only for
 * the parent page it stopped in and the child pages after the last checkpoint. Real HTTP
 * server on 127.0.0.1; the rows that land in DuckDB are all there, once.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restApiSource } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';

const USER_PAGES = 3;
const USERS_PER_PAGE = 3;
const POST_PAGES = 2;
const POSTS_PER_PAGE = 2;

const server = {
  url: '',
  requests: [] as string[],
  /** Answer 500 to this request line while set. */
  failOn: undefined as string | undefined,
  close: async () => {},
};

beforeAll(async () => {
  const s = createServer((req, res) => {
    const u = new URL(req.url!, server.url);
    const line = `${u.pathname}${u.search}`;
    server.requests.push(line);
    const page = Number(u.searchParams.get('page') ?? '1');
    let body: unknown;
    const posts = /^\/users\/(\d+)\/posts$/.exec(u.pathname);
    if (line === server.failOn) {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end('{"error":"boom"}');
      return;
    }
    if (u.pathname === '/users') {
      body = { total_pages: USER_PAGES, items: Array.from({ length: USERS_PER_PAGE }, (_, i) => ({ id: (page - 1) * USERS_PER_PAGE + i + 1 })) };
    } else if (posts) {
      const user = Number(posts[1]);
      body = { total_pages: POST_PAGES, items: Array.from({ length: POSTS_PER_PAGE }, (_, i) => ({ id: user * 100 + (page - 1) * POSTS_PER_PAGE + i + 1, title: `post of ${user}` })) };
    } else {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  server.close = () => new Promise((resolve) => s.close(() => resolve()));
});
afterAll(() => server.close());

const dir = tempDir('haul-rest-child-cp-');

function api() {
  return restApiSource({
    name: 'child_cp',
    client: { baseUrl: server.url, requestMaxAttempts: 1, paginator: { type: 'page_number', basePage: 1, totalPath: 'total_pages' } },
    resourceDefaults: { primaryKey: 'id', endpoint: { dataSelector: 'items' } },
    resources: [
      { name: 'users', endpoint: { path: 'users' } },
      { name: 'posts', endpoint: { path: 'users/{resources.users.id}/posts' }, includeFromParent: ['id'] },
    ],
  });
}

describe('a REST child resource resumed from a checkpoint', () => {
  it('asks again only for the parent page it stopped in and the child pages after the checkpoint', async () => {
    const p = testPipeline(dir, 'rest_child_cp');
    const loadId = '1700000200.5';
    const policy = { everyItems: 1, everyMs: 3_600_000 };
    // User 5 is the second of the parent's page 2; its posts' page 2 fails.
    server.failOn = '/users/5/posts?page=2';
    server.requests = [];
    await expect(p.extract(api(), {}, { loadId, checkpoint: policy })).rejects.toThrow(/posts.*500/);
    expect(server.requests).toContain('/users/5/posts?page=1');

    server.failOn = undefined;
    server.requests = [];
    const info = await p.extract(api(), {}, { loadId, checkpoint: policy });
    expect(info.resumedFrom).toBeDefined();
    expect(info.itemCounts).toEqual({ users: 9, posts: 9 * POST_PAGES * POSTS_PER_PAGE });
    // users was done; posts continues at parent page 2 (requested again), user 5's page 2.
    const expected = ['/users?page=2', '/users?page=3', '/users/5/posts?page=2'];
    for (const u of [6, 7, 8, 9]) for (let pg = 1; pg <= POST_PAGES; pg++) expected.push(`/users/${u}/posts?page=${pg}`);
    expect([...server.requests].sort()).toEqual(expected.sort());

    await p.normalize();
    await p.load();
    expect(await query(p, 'SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS d FROM posts')).toEqual([{ n: 36, d: 36 }]);
    expect(await query(p, 'SELECT _users_id::INT AS u, count(*)::INT AS n FROM posts GROUP BY 1 ORDER BY 1')).toEqual(
      Array.from({ length: 9 }, (_, i) => ({ u: i + 1, n: POST_PAGES * POSTS_PER_PAGE })),
    );
    expect(await query(p, 'SELECT count(*)::INT AS n FROM users')).toEqual([{ n: 9 }]);
  });

  it('without a load id a failed child starts over, as before', async () => {
    const p = testPipeline(dir, 'rest_child_plain');
    server.failOn = '/users/5/posts?page=2';
    await expect(p.run(api())).rejects.toThrow(/500/);
    server.failOn = undefined;
    server.requests = [];
    await p.run(api());
    expect(server.requests).toContain('/users/1/posts?page=1');
    expect(await query(p, 'SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS d FROM posts')).toEqual([{ n: 36, d: 36 }]);
  });
});
