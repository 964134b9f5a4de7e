/**
 * restApiSource resources: parent/child endpoints with includeFromParent, incremental
 * params across two runs (also for a child of an incremental parent), processing steps
 * and resourceDefaults, against a real local API into DuckDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionsError, restApiSource, type RestApiConfig } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';
import { startApi, type TestApi } from './rest-api-server.js';

const dir = tempDir();
let api: TestApi;
beforeAll(async () => {
  api = await startApi(4);
});
afterAll(() => api.close());

async function columns(p: ReturnType<typeof testPipeline>, table: string): Promise<string[]> {
  const rows = await query<{ column_name: string }>(p, `SELECT column_name FROM information_schema.columns WHERE table_name = '${table}' AND table_schema = '${p.datasetName}' ORDER BY ordinal_position`);
  return rows.map((r) => r.column_name);
}

describe('rest_api parent and child resources', () => {
  it('a child endpoint is called per parent item and copies includeFromParent fields as _<parent>_<field>', async () => {
    const p = testPipeline(dir, 'children');
    const before = api.requests.length;
    await p.run(
      restApiSource({
        client: { baseUrl: api.url },
        resourceDefaults: { primaryKey: 'id', endpoint: { params: { per_page: 5 } } },
        resources: [
          { name: 'users', endpoint: { path: 'json_link/users', paginator: { type: 'json_link', nextUrlPath: 'pagination.next' } } },
          {
            name: 'posts',
            endpoint: {
              path: 'users/{resources.users.id}/posts',
              dataSelector: 'posts',
              paginator: { type: 'page_number', basePage: 1, totalPath: 'total' },
              responseActions: [{ statusCode: 404, action: 'ignore' }],
            },
            includeFromParent: ['id', 'name'],
          },
        ],
      }),
    );
    expect(await query(p, 'SELECT id FROM users ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]);
    const posts = await query<{ id: number; title: string; _users_id: number; _users_name: string }>(p, 'SELECT id, title, _users_id, _users_name FROM posts ORDER BY id');
    // User 3 answers 404, which responseActions ignore; each other user has 3 posts over 2 pages.
    expect(posts.map((r) => r.id)).toEqual([101, 102, 103, 201, 202, 203, 401, 402, 403]);
    expect(posts[3]).toEqual({ id: 201, title: 'post 1 of 2', _users_id: 2, _users_name: 'user 2' });
    expect(await columns(p, 'posts')).toEqual(['id', 'title', '_users_id', '_users_name', '_dlt_load_id', '_dlt_id']);
    const reqs = api.requests.slice(before);
    expect(reqs).toContain('GET /users/1/posts?per_page=5&page=2');
    expect(reqs.filter((r) => r.startsWith('GET /users/'))).toHaveLength(7);
    expect(p.defaultSchema?.getTable('posts')?.columns['id']?.primaryKey).toBe(true);
  });

  it('a parent that is not selected is still read for its children; a parent value goes in the query as {resources...}', async () => {
    const p = testPipeline(dir, 'unselected');
    await p.run(
      restApiSource({
        client: { baseUrl: api.url },
        resources: [
          { name: 'users', endpoint: 'single/users', selected: false },
          { name: 'posts', endpoint: { path: 'posts', params: { user: '{resources.users.id}' } }, includeFromParent: ['id'] },
        ],
      }),
    );
    expect(p.defaultSchema?.getTable('users')).toBeUndefined();
    expect(await query(p, 'SELECT id, _users_id FROM posts ORDER BY id')).toEqual([1, 2, 3, 4].map((u) => ({ id: u * 100 + 1, _users_id: u })));
  });

  it('path params bind as dlt binds them: a resolve param and a plain param go into the path, not the query', async () => {
    const p = testPipeline(dir, 'path_params');
    const before = api.requests.length;
    await p.run(
      restApiSource({
        client: { baseUrl: api.url },
        resources: [
          { name: 'users', endpoint: 'single/users', selected: false },
          { name: 'posts', endpoint: { path: 'users/{uid}/posts', params: { uid: { type: 'resolve', resource: 'users', field: 'id' }, page: 1 }, responseActions: [{ statusCode: 404, action: 'ignore' }] } },
          { name: 'first_posts', endpoint: { path: '{what}/1/posts', params: { what: 'users', page: 1 } } },
        ],
      }),
    );
    const reqs = api.requests.slice(before);
    // dlt 1.31 requests /users/1/posts?page=1 (not /users/%7Buid%7D/posts?uid=1)
    expect(reqs).toContain('GET /users/1/posts?page=1');
    expect(reqs).toContain('GET /users/2/posts?page=1');
    expect(reqs.filter((r) => r.includes('uid') || r.includes('what') || r.includes('%7B'))).toEqual([]);
    // two posts on page 1 for each user but user 3, whose posts answer 404 (ignored)
    expect(await query(p, 'SELECT count(*)::INT AS n FROM posts')).toEqual([{ n: 2 * (api.users.length - 1) }]);
    expect(await query(p, 'SELECT count(*)::INT AS n FROM first_posts')).toEqual([{ n: 2 }]);
    // a resolve param the path does not bind is refused, as dlt refuses it
    expect(() =>
      restApiSource({ client: { baseUrl: api.url }, resources: ['users', { name: 'posts', endpoint: { path: 'posts', params: { user: { type: 'resolve', resource: 'users', field: 'id' } } } }] }),
    ).toThrow(/resolve param "user" is not in the path "posts"; put \{user\} in the path, or send the parent's value in the query as "\{resources.users.id\}"/);
    expect(() => restApiSource({ client: { baseUrl: api.url }, resources: [{ name: 'posts', endpoint: 'users/{uid}/posts' }] })).toThrow(/needs a param "uid"/);
  });

  it('a placeholder naming a missing field is a typed error that names it', async () => {
    const p = testPipeline(dir, 'badfield');
    const err = await p
      .run(restApiSource({ client: { baseUrl: api.url }, resources: [{ name: 'users', endpoint: 'single/users' }, { name: 'posts', endpoint: 'users/{resources.users.uid}/posts' }] }))
      .catch((e: unknown) => e);
    expect(String(err)).toContain('an item of its parent "users" has no field "uid"');
    expect(() => restApiSource({ client: { baseUrl: api.url }, resources: [{ name: 'posts', endpoint: 'users/{resources.people.id}/posts' }] })).toThrow(/refers to resource "people", which is not in the config/);
  });
});

describe('rest_api column hints', () => {
  it('columns take dlt\'s list of column schemas in a resource and a record in resourceDefaults', async () => {
    const p = testPipeline(dir, 'rest_columns');
    await p.run(
      restApiSource({
        client: { baseUrl: api.url },
        resourceDefaults: { columns: { name: { dataType: 'text', nullable: false } } },
        resources: [
          { name: 'users', endpoint: 'single/users', columns: [{ name: 'id', dataType: 'text', nullable: false, primaryKey: true }, { name: 'name', dataType: 'text' }] },
          { name: 'people', endpoint: 'single/users' },
        ],
      }),
    );
    const types = async (table: string) =>
      Object.fromEntries(
        (await query<{ column_name: string; data_type: string; is_nullable: string }>(p, `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = '${table}' AND table_schema = '${p.datasetName}'`)).map((r) => [r.column_name, `${r.data_type} ${r.is_nullable}`]),
      );
    // the resource's own list replaces the defaults' record; a resource without columns takes the defaults
    expect(await types('users')).toMatchObject({ id: 'VARCHAR NO', name: 'VARCHAR YES' });
    expect(await types('people')).toMatchObject({ id: 'BIGINT YES', name: 'VARCHAR NO' });
    expect(p.defaultSchema?.getTable('users')?.columns['id']?.primaryKey).toBe(true);
    expect(await query(p, 'SELECT id FROM users ORDER BY id')).toEqual(['1', '2', '3', '4'].map((id) => ({ id })));
  });

  it('a list naming a column twice or with an unknown hint is refused with its path', () => {
    const config = (columns: unknown): RestApiConfig => ({ client: { baseUrl: api.url }, resources: [{ name: 'users', endpoint: 'single/users', columns: columns as never }] });
    expect(() => restApiSource(config([{ name: 'id' }, { name: 'id', dataType: 'text' }]))).toThrow(/resources\.0\.columns.*"id" is listed twice/);
    expect(() => restApiSource(config([{ name: 'id', datatype: 'text' }]))).toThrow(InvalidOptionsError);
  });
});

describe('rest_api incremental and processing steps', () => {
  const day = (d: number) => `2024-01-${String(d).padStart(2, '0')}T00:00:00Z`;
  const setEvents = (n: number) => {
    api.events = Array.from({ length: n }, (_, i) => ({ id: i + 1, updated_at: day(i + 1) }));
  };

  it('an incremental param sends the last value; a second run loads only new rows', async () => {
    const config = (): RestApiConfig => ({
      client: { baseUrl: api.url },
      resources: [
        {
          name: 'events',
          primaryKey: 'id',
          endpoint: { path: 'events', params: { since: { type: 'incremental', cursorPath: 'updated_at', initialValue: day(1) } } },
        },
      ],
    });
    const p = testPipeline(dir, 'inc');
    setEvents(5);
    const before = api.requests.length;
    await p.run(restApiSource(config()));
    setEvents(8);
    await p.run(restApiSource(config()));
    expect(api.requests.slice(before)).toEqual([`GET /events?since=${encodeURIComponent(day(1))}`, `GET /events?since=${encodeURIComponent(day(5))}`]);
    const rows = await query<{ id: number; n: number }>(p, 'SELECT id, count(*)::INT AS n FROM events GROUP BY id ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rows.every((r) => r.n === 1)).toBe(true); // the boundary row 5 came twice, landed once
    expect(p.state.sources['rest_api']!.resources!['events']!.incremental!['updated_at']!.last_value).toBe(day(8));
  });

  it('{incremental.start_value} placeholders with endpoint.incremental and convert; a child of an incremental parent sees only new parents', async () => {
    const config = (): RestApiConfig => ({
      name: 'feed',
      client: { baseUrl: api.url },
      resources: [
        {
          name: 'events',
          primaryKey: 'id',
          endpoint: {
            path: 'events',
            params: { since: '{incremental.start_value}' },
            incremental: { cursorPath: 'updated_at', initialValue: day(1), convert: (v) => String(v).slice(0, 10) + 'T00:00:00Z' },
          },
        },
        { name: 'event_details', endpoint: 'events/{resources.events.id}/details', includeFromParent: ['updated_at'] },
      ],
    });
    const p = testPipeline(dir, 'inc_child');
    setEvents(3);
    await p.run(restApiSource(config()));
    setEvents(6);
    const before = api.requests.length;
    await p.run(restApiSource(config()));
    const reqs = api.requests.slice(before);
    expect(reqs.filter((r) => r.includes('/details'))).toEqual(['GET /events/4/details', 'GET /events/5/details', 'GET /events/6/details']);
    expect(reqs.filter((r) => r.startsWith('GET /events?'))).toEqual([`GET /events?since=${encodeURIComponent(day(3))}`, `GET /events?since=${encodeURIComponent(day(3))}`]);
    const details = await query(p, 'SELECT event_id, detail FROM event_details ORDER BY event_id');
    expect(details.map((d) => d['event_id'])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await columns(p, 'event_details')).toContain('_events_updated_at');
  });

  it('startParam/endParam send a range (backfill) and leave the cursor state alone', async () => {
    setEvents(8);
    const p = testPipeline(dir, 'backfill');
    const before = api.requests.length;
    await p.run(
      restApiSource({
        client: { baseUrl: api.url },
        resources: [
          {
            name: 'events',
            endpoint: { path: 'events', incremental: { startParam: 'since', endParam: 'until', cursorPath: 'updated_at', initialValue: day(2), endValue: day(5) } },
          },
        ],
      }),
    );
    expect(api.requests.slice(before)).toEqual([`GET /events?since=${encodeURIComponent(day(2))}&until=${encodeURIComponent(day(5))}`]);
    expect((await query(p, 'SELECT id FROM events ORDER BY id')).map((r) => r['id'])).toEqual([2, 3, 4]);
    // a range runs on a throwaway state, as dlt's: no cursor is stored
    expect(p.state.sources['rest_api']?.resources?.['events']?.incremental?.['updated_at']).toBeUndefined();
  });

  it('processingSteps filter, map and yieldMap run in order', async () => {
    const p = testPipeline(dir, 'steps');
    await p.run(
      restApiSource({
        client: { baseUrl: api.url },
        resources: [
          {
            name: 'users',
            endpoint: 'single/users',
            processingSteps: [
              { filter: (u) => (u['id'] as number) % 2 === 0 },
              { map: (u) => ({ ...u, name: String(u['name']).toUpperCase() }) },
              { yieldMap: (u) => [u, { ...u, id: (u['id'] as number) * 10 }] },
            ],
          },
        ],
      }),
    );
    expect(await query(p, 'SELECT id, name FROM users ORDER BY id')).toEqual([
      { id: 2, name: 'USER 2' },
      { id: 4, name: 'USER 4' },
      { id: 20, name: 'USER 2' },
      { id: 40, name: 'USER 4' },
    ]);
  });
});
