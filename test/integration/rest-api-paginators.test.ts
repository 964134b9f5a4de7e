/** restApiSource against a real local HTTP API: every paginator kind lands the same users in DuckDB. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BasePaginator, OffsetPaginator, resource, RestClient, restApiSource, type PageResponse, type PaginatorConfig, type RequestSpec } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';
import { startApi, type TestApi } from './rest-api-server.js';

const dir = tempDir();
let api: TestApi;
beforeAll(async () => {
  api = await startApi(12);
});
afterAll(() => api.close());

/** Runs one resource `users` from `path` with `paginator` and returns the requests it made. */
async function loadUsers(name: string, path: string, paginator: PaginatorConfig | undefined, extra: Record<string, unknown> = {}) {
  const p = testPipeline(dir, name);
  const before = api.requests.length;
  const info = await p.run(
    restApiSource({
      client: { baseUrl: api.url },
      resources: [{ name: 'users', primaryKey: 'id', endpoint: { path, ...(paginator ? { paginator } : {}), ...extra } }],
    }),
  );
  expect(info.hasFailedJobs).toBe(false);
  return { p, requests: api.requests.slice(before) };
}

async function expectAllUsers(name: string, path: string, paginator: PaginatorConfig | undefined, extra: Record<string, unknown> = {}) {
  const { p, requests } = await loadUsers(name, path, paginator, extra);
  const rows = await query<{ id: bigint; name: string; address__city: string }>(p, 'SELECT id, name, address__city FROM users ORDER BY id');
  expect(rows.map((r) => Number(r.id))).toEqual(api.users.map((u) => u.id));
  expect(rows[1]).toMatchObject({ name: 'user 2', address__city: 'Oslo' });
  // Nested lists become a child table, as dlt makes them.
  const tags = await query<{ n: bigint }>(p, 'SELECT count(*) AS n FROM users__tags');
  expect(Number(tags[0]!.n)).toBe(api.users.reduce((s, u) => s + u.tags.length, 0));
  return requests;
}

describe('rest_api paginators', () => {
  it('json_link follows the next URL in the body', async () => {
    const reqs = await expectAllUsers('json_link', 'json_link/users', { type: 'json_link', nextUrlPath: 'pagination.next' });
    expect(reqs).toEqual(['GET /json_link/users', 'GET /json_link/users?page=1', 'GET /json_link/users?page=2']);
  });

  it('header_link follows Link: rel="next"', async () => {
    const reqs = await expectAllUsers('header_link', 'header_link/users', 'header_link');
    expect(reqs).toHaveLength(3);
  });

  it('header_cursor sends the cursor header back as a parameter', async () => {
    const reqs = await expectAllUsers('header_cursor', 'header_cursor/users', { type: 'header_cursor', cursorKey: 'X-Next', cursorParam: 'cursor' });
    expect(reqs).toEqual(['GET /header_cursor/users', 'GET /header_cursor/users?cursor=5', 'GET /header_cursor/users?cursor=10']);
  });

  it('offset with its own parameter names stops at the total', async () => {
    const reqs = await expectAllUsers('offset', 'offset/users', { type: 'offset', limit: 5, offsetParam: 'skip', limitParam: 'take', totalPath: 'total' });
    expect(reqs).toEqual(['GET /offset/users?skip=0&take=5', 'GET /offset/users?skip=5&take=5', 'GET /offset/users?skip=10&take=5']);
  });

  it('offset without a total stops at the first empty page (totalPath: null)', async () => {
    const reqs = await expectAllUsers('offset_empty', 'offset_no_total/users', { type: 'offset', limit: 5, totalPath: null });
    expect(reqs.at(-1)).toBe('GET /offset_no_total/users?offset=15&limit=5');
    expect(reqs).toHaveLength(4);
  });

  it('offset whose totalPath is not in the answer is a typed error that says what to set', async () => {
    const err = await loadUsers('offset_missing', 'offset_no_total/users', { type: 'offset', limit: 5 }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/no total at "total".*totalPath: null/);
  });

  it('offset with maximumOffset stops early', async () => {
    const { p, requests } = await loadUsers('offset_max', 'offset/users', { type: 'offset', limit: 5, offsetParam: 'skip', limitParam: 'take', maximumOffset: 10 });
    expect(requests).toHaveLength(2);
    expect(await query(p, 'SELECT id FROM users')).toHaveLength(10);
  });

  it('page_number counts pages from basePage up to the total at totalPath', async () => {
    const reqs = await expectAllUsers('page_number', 'page_number/users', { type: 'page_number', basePage: 1, totalPath: 'total_pages' });
    expect(reqs).toEqual(['GET /page_number/users?page=1', 'GET /page_number/users?page=2', 'GET /page_number/users?page=3']);
  });

  it('page_number with maximumPage stops there', async () => {
    const { requests } = await loadUsers('page_max', 'page_number/users', { type: 'page_number', basePage: 1, totalPath: 'total_pages', maximumPage: 2 });
    expect(requests).toEqual(['GET /page_number/users?page=1']);
  });

  it('cursor reads the cursor from the body and sends it as cursorParam', async () => {
    const reqs = await expectAllUsers('cursor', 'cursor/users', { type: 'cursor', cursorPath: 'meta.next_cursor', cursorParam: 'after' });
    expect(reqs).toEqual(['GET /cursor/users', 'GET /cursor/users?after=c5', 'GET /cursor/users?after=c10']);
  });

  it('cursor in a POST body (cursorBodyPath) keeps the rest of the JSON body', async () => {
    const reqs = await expectAllUsers('cursor_body', 'cursor_body/users', { type: 'cursor', cursorPath: 'cursors.next', cursorBodyPath: 'page.after' }, { method: 'POST', json: { filter: 'all' } });
    expect(reqs).toEqual([
      'POST /cursor_body/users {"filter":"all"}',
      'POST /cursor_body/users {"filter":"all","page":{"after":"c5"}}',
      'POST /cursor_body/users {"filter":"all","page":{"after":"c10"}}',
    ]);
  });

  it('single_page makes one request', async () => {
    const reqs = await expectAllUsers('single', 'single/users', 'single_page');
    expect(reqs).toEqual(['GET /single/users']);
  });

  it('with no paginator the kind and the data are detected from the first answer', async () => {
    const reqs = await expectAllUsers('auto', 'auto/users', undefined);
    expect(reqs).toEqual(['GET /auto/users', 'GET /auto/users?page=1', 'GET /auto/users?page=2']);
    const reqs2 = await expectAllUsers('auto_link', 'header_link/users', undefined);
    expect(reqs2).toHaveLength(3);
  });

  it('without a paginator or data selector, detects a page count, a next token and a single entity as dlt 1.31 does', async () => {
    const p = testPipeline(dir, 'detect_dlt');
    const before = api.requests.length;
    await p.run(
      restApiSource({
        client: { baseUrl: api.url },
        resources: [
          { name: 'paged', endpoint: 'detect/paged' },
          { name: 'token', endpoint: 'detect/token' },
          { name: 'users', endpoint: 'single/users' },
          // a path ending in a placeholder answers one object: one row, its lists a child table
          { name: 'user_details', endpoint: 'detect/users/{resources.users.id}' },
        ],
      }),
    );
    const reqs = api.requests.slice(before);
    // the requests and tables dlt 1.31 made from the same config and server
    expect(reqs.filter((r) => r.startsWith('GET /detect/paged'))).toEqual(['GET /detect/paged', 'GET /detect/paged?page=1', 'GET /detect/paged?page=2']);
    expect(reqs.filter((r) => r.startsWith('GET /detect/token'))).toEqual(['GET /detect/token', 'GET /detect/token?cursor=t5', 'GET /detect/token?cursor=t10']);
    expect(reqs.filter((r) => r.startsWith('GET /detect/users/'))).toHaveLength(12);
    for (const t of ['paged', 'token']) {
      const rows = await query<{ id: bigint; address__city: string }>(p, `SELECT id, address__city FROM ${t} ORDER BY id`);
      expect(rows.map((r) => Number(r.id))).toEqual(api.users.map((u) => u.id));
    }
    const details = await query<{ id: bigint; plan: string; next_invoice: string }>(p, 'SELECT id, plan, next_invoice FROM user_details ORDER BY id LIMIT 2');
    expect(details.map((r) => [Number(r.id), r.plan, r.next_invoice])).toEqual([[1, 'pro', '2027-02-01'], [2, 'free', '2027-03-01']]);
    const items = await query<{ n: bigint }>(p, 'SELECT count(*) AS n FROM user_details__items');
    expect(Number(items[0]!.n)).toBe(24);
  });

  it('a detected paginator that asks for the same page again is a typed error, not an endless loop', async () => {
    const p = testPipeline(dir, 'detect_loop');
    const before = api.requests.length;
    const run = p.run(restApiSource({ client: { baseUrl: api.url }, resources: [{ name: 'ignored', endpoint: 'detect/page_ignored' }] }));
    await expect(run).rejects.toThrow(/resource "ignored": GET .*detect\/page_ignored would be asked again for the same page: the paginator detected from a next cursor at "next_page" does not move on; set endpoint.paginator/);
    // dlt 1.31 sends ?cursor=2 again and again; haul stops at the first repeat
    expect(api.requests.slice(before)).toEqual(['GET /detect/page_ignored', 'GET /detect/page_ignored?cursor=2']);
    // the advice works: with the API's own paginator the resource loads
    const fixed = await p.run(restApiSource({ client: { baseUrl: api.url }, resources: [{ name: 'ignored', endpoint: { path: 'detect/page_ignored', paginator: 'single_page' } }] }));
    expect(fixed.hasFailedJobs).toBe(false);
    expect((await query<{ n: bigint }>(p, 'SELECT count(*) AS n FROM ignored')).map((r) => Number(r.n))).toEqual([5]);
  });

  it('a "has more" flag sent as the string "false" ends the pages, for page_number and cursor, as dlt 1.31 reads it', async () => {
    const pages = await expectAllUsers('has_more_pages', 'has_more/users', { type: 'page_number', basePage: 1, totalPath: null, maximumPage: 10, hasMorePath: 'has_more' });
    expect(pages).toEqual(['GET /has_more/users?page=1', 'GET /has_more/users?page=2', 'GET /has_more/users?page=3']);
    const cursor = await expectAllUsers('has_more_cursor', 'has_more/users', { type: 'cursor', cursorPath: 'next', hasMorePath: 'has_more' });
    expect(cursor).toEqual(['GET /has_more/users', 'GET /has_more/users?cursor=p2', 'GET /has_more/users?cursor=p3']);
  });

  it('a "has more" flag or total that is missing or unreadable is a typed error, as dlt fails there, not a guess', async () => {
    const missing = await loadUsers('has_more_missing', 'has_more_missing/users', { type: 'cursor', cursorPath: 'next', hasMorePath: 'has_more' }).catch((e: unknown) => e);
    expect(String(missing)).toMatch(/cursor paginator.*has_more_missing\/users has no "has more" value at "has_more"; set hasMorePath/);
    const badTotal = await loadUsers('total_text', 'has_more/users', { type: 'page_number', basePage: 1, totalPath: 'next' }).catch((e: unknown) => e);
    expect(String(badTotal)).toMatch(/page_number paginator.*holds "p2", not a whole number, at "next"; point totalPath/);
    // the cursor paginator stops at an empty page when told to (dlt's stop_after_empty_page)
    const empty = await expectAllUsers('cursor_empty', 'has_more/users', { type: 'cursor', cursorPath: 'next', stopAfterEmptyPage: true });
    expect(empty).toEqual(['GET /has_more/users', 'GET /has_more/users?cursor=p2', 'GET /has_more/users?cursor=p3', 'GET /has_more/users?cursor=p4']);
  });

  it('RestClient.pages() serves hand-written resources, as dlt\'s RESTClient.paginate does', async () => {
    const client = new RestClient({ baseUrl: api.url, headers: { 'X-Trace': 'yes' } });
    const users = resource(
      async function* users() {
        for await (const page of client.pages('offset/users', { params: { skip: '0' }, paginator: new OffsetPaginator({ limit: 6, offsetParam: 'skip', limitParam: 'take' }), dataSelector: 'items' })) yield page;
      },
      { primaryKey: 'id' },
    );
    const p = testPipeline(dir, 'client_pages');
    const before = api.requests.length;
    await p.run(users);
    expect(api.requests.slice(before)).toEqual(['GET /offset/users?skip=0&take=6', 'GET /offset/users?skip=6&take=6']);
    expect((await query(p, 'SELECT id FROM users ORDER BY id')).map((r) => r['id'])).toEqual(api.users.map((u) => u.id));
  });

  it('a custom paginator class', async () => {
    class SkipPaginator extends BasePaginator {
      private at = 0;
      override initRequest(r: RequestSpec) {
        r.params['skip'] = '0';
        r.params['take'] = '4';
      }
      updateState(res: PageResponse) {
        this.at += 4;
        this.hasNextPage = this.at < (res.body as { total: number }).total;
      }
      updateRequest(r: RequestSpec) {
        r.params['skip'] = String(this.at);
      }
    }
    const reqs = await expectAllUsers('custom', 'offset/users', new SkipPaginator(), { dataSelector: '$.items' });
    expect(reqs).toEqual(['GET /offset/users?skip=0&take=4', 'GET /offset/users?skip=4&take=4', 'GET /offset/users?skip=8&take=4']);
  });
});
