/**
 * A real HTTP API on 127.0.0.1 (random port) for the REST source tests: users served with
 * every pagination style, posts per user (a child endpoint), events for incremental loads,
 * endpoints behind each auth kind, and endpoints that fail on purpose. Every request is
 * logged (method, path and query, and the body of POSTs) so tests can count them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface User {
  id: number;
  name: string;
  address: { city: string };
  tags: string[];
}

export interface Event {
  id: number;
  updated_at: string;
}

export const TOKEN = 'tok-s3cret-bearer-value';
export const API_KEY = 'key-s3cret-api-value';
export const BASIC = { username: 'ann', password: 'pw-s3cret-basic' };
export const CLIENT = { id: 'client-1', secret: 'client-s3cret-value' };

export interface TestApi {
  url: string;
  requests: string[];
  /** The same lines by the value of the request's `x-test-worker` header (crash tests tell worker processes apart). */
  requestsBy: Record<string, string[]>;
  users: User[];
  events: Event[];
  /** How many more times /flaky answers 503 before it works. */
  failures: { flaky: number; limited: number };
  /** OAuth tokens issued so far. */
  tokensIssued: number;
  /** Makes every OAuth token issued so far invalid (the API answers 401 to them). */
  revokeTokens(): void;
  close(): Promise<void>;
}

export const PAGE = 5;

export function makeUsers(n: number): User[] {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `user ${i + 1}`, address: { city: i % 2 ? 'Oslo' : 'Rome' }, tags: i % 3 ? ['a'] : ['a', 'b'] }));
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const chunk of req) s += chunk;
  return s;
}

export async function startApi(userCount = 12): Promise<TestApi> {
  const api: TestApi = {
    url: '',
    requests: [],
    requestsBy: {},
    users: makeUsers(userCount),
    events: [],
    failures: { flaky: 0, limited: 0 },
    tokensIssued: 0,
    revokeTokens: () => issued.clear(),
    close: async () => {},
  };
  const issued = new Set<string>();
  const server = createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url!, api.url);
      const body = req.method === 'POST' ? await readBody(req) : '';
      const line = `${req.method} ${u.pathname}${u.search}${body ? ` ${body}` : ''}`;
      api.requests.push(line);
      const worker = req.headers['x-test-worker'];
      if (typeof worker === 'string') (api.requestsBy[worker] ??= []).push(line);
      const q = (k: string) => u.searchParams.get(k);
      const users = api.users;
      const slice = (from: number) => users.slice(from, from + PAGE);
      const p = u.pathname;
      if (p === '/json_link/users') {
        const page = Number(q('page') ?? 0);
        const next = (page + 1) * PAGE < users.length ? `${api.url}/json_link/users?page=${page + 1}` : null;
        return send(res, 200, { data: slice(page * PAGE), pagination: { next } });
      }
      if (p === '/header_link/users') {
        const page = Number(q('page') ?? 0);
        const link = (page + 1) * PAGE < users.length ? { Link: `<${api.url}/header_link/users?page=${page + 1}>; rel="next", <${api.url}/header_link/users?page=0>; rel="first"` } : undefined;
        return send(res, 200, slice(page * PAGE), link);
      }
      if (p === '/header_cursor/users') {
        const at = Number(q('cursor') ?? 0);
        return send(res, 200, slice(at), at + PAGE < users.length ? { 'X-Next': String(at + PAGE) } : {});
      }
      if (p === '/offset/users') {
        const offset = Number(q('skip') ?? 'x');
        const limit = Number(q('take') ?? 'x');
        if (!Number.isInteger(offset) || !Number.isInteger(limit)) return send(res, 400, { error: 'skip and take are required' });
        return send(res, 200, { items: users.slice(offset, offset + limit), total: users.length });
      }
      if (p === '/offset_no_total/users') {
        const offset = Number(q('offset'));
        return send(res, 200, { items: users.slice(offset, offset + Number(q('limit'))) });
      }
      if (p === '/page_number/users') {
        const page = Number(q('page'));
        return send(res, 200, { results: slice((page - 1) * PAGE), total_pages: Math.ceil(users.length / PAGE) });
      }
      if (p === '/cursor/users') {
        const at = Number((q('after') ?? 'c0').slice(1));
        return send(res, 200, { data: slice(at), meta: { next_cursor: at + PAGE < users.length ? `c${at + PAGE}` : null } });
      }
      if (p === '/cursor_body/users' && req.method === 'POST') {
        const b = JSON.parse(body || '{}') as { page?: { after?: string }; filter?: unknown };
        const at = Number((b.page?.after ?? 'c0').slice(1));
        return send(res, 200, { data: slice(at), cursors: { next: at + PAGE < users.length ? `c${at + PAGE}` : null } });
      }
      if (p === '/single/users') return send(res, 200, users);
      if (p === '/auto/users') {
        const page = Number(q('page') ?? 0);
        return send(res, 200, { results: slice(page * PAGE), next: (page + 1) * PAGE < users.length ? `/auto/users?page=${page + 1}` : null });
      }
      // "has more" as a string, as some APIs send it (page number or cursor); and missing
      if (p === '/has_more/users') {
        const page = Number(q('page') ?? q('cursor')?.slice(1) ?? 1);
        return send(res, 200, { items: slice((page - 1) * PAGE), has_more: String(page * PAGE < users.length), next: `p${page + 1}` });
      }
      if (p === '/has_more_missing/users') return send(res, 200, { items: slice(0) });
      // Shapes dlt 1.31's detector reads without a configured paginator or data selector
      if (p === '/detect/paged') {
        const page = Number(q('page') ?? 0);
        return send(res, 200, { status: 'ok', response: { users: slice(page * PAGE) }, meta: { total_pages: Math.ceil(users.length / PAGE) } });
      }
      if (p === '/detect/token') {
        const at = Number((q('cursor') ?? 't0').slice(1));
        return send(res, 200, { items: slice(at), nextPageToken: at + PAGE < users.length ? `t${at + PAGE}` : '' });
      }
      if (p === '/detect/page_ignored') return send(res, 200, { data: slice(0), next_page: 2 });
      const entity = /^\/detect\/users\/(\d+)$/.exec(p);
      if (entity) {
        const id = Number(entity[1]);
        return send(res, 200, { id, plan: id % 2 ? 'pro' : 'free', next_invoice: `2027-0${id % 9 + 1}-01`, items: [{ sku: `a${id}` }, { sku: `b${id}` }] });
      }
      const posts = /^\/users\/(\d+)\/posts$/.exec(p);
      if (posts) {
        const id = Number(posts[1]);
        if (id === 3) return send(res, 404, { error: 'user 3 has gone' });
        const all = [1, 2, 3].map((k) => ({ id: id * 100 + k, title: `post ${k} of ${id}` }));
        const page = Number(q('page') ?? 1);
        return send(res, 200, { posts: all.slice((page - 1) * 2, page * 2), total: 2 });
      }
      if (p === '/posts') {
        const id = Number(q('user'));
        return send(res, 200, [{ id: id * 100 + 1, title: `only post of ${id}` }]);
      }
      const details = /^\/events\/(\d+)\/details$/.exec(p);
      if (details) return send(res, 200, { event_id: Number(details[1]), detail: `about ${details[1]}` });
      if (p === '/events') {
        const since = q('since');
        const until = q('until');
        const rows = api.events.filter((e) => (!since || e.updated_at >= since) && (!until || e.updated_at < until));
        return send(res, 200, { data: rows });
      }
      if (p === '/flaky') {
        if (api.failures.flaky > 0) {
          api.failures.flaky--;
          return send(res, 503, { error: 'try later' }, { 'Retry-After': '0' });
        }
        return send(res, 200, [{ id: 1 }, { id: 2 }]);
      }
      if (p === '/limited') {
        if (api.failures.limited > 0) {
          api.failures.limited--;
          return send(res, 429, { error: 'slow down' }, { 'Retry-After': '0' });
        }
        return send(res, 200, [{ id: 1 }]);
      }
      if (p === '/slow') {
        await new Promise((r) => setTimeout(r, 1500));
        return send(res, 200, [{ id: 1 }]);
      }
      if (p === '/broken') return send(res, 500, { error: 'always broken' });
      // a login or proxy page answering 200, and JSON labelled as plain text
      if (p === '/html') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        return res.end('<html><body>Please log in</body></html>');
      }
      if (p === '/plain_json') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return res.end(JSON.stringify([{ id: 1, kind: 'plain' }]));
      }
      if (p === '/oauth/token' && req.method === 'POST') {
        const form = new URLSearchParams(body);
        const expect = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
        if (req.headers.authorization !== expect || form.get('grant_type') !== 'client_credentials') return send(res, 401, { error: 'invalid_client' });
        const token = `issued-token-${++api.tokensIssued}-${form.get('scope') ?? ''}`;
        issued.add(token);
        return send(res, 200, { access_token: token, token_type: 'bearer', expires_in: 3600 });
      }
      if (p.startsWith('/auth/')) {
        const kind = p.slice('/auth/'.length);
        const h = req.headers;
        const ok =
          (kind === 'bearer' && h.authorization === `Bearer ${TOKEN}`) ||
          (kind === 'header' && h['x-api-key'] === API_KEY) ||
          (kind === 'query' && q('api_key') === API_KEY) ||
          (kind === 'cookie' && (h.cookie ?? '').split('; ').includes(`session=${API_KEY}`)) ||
          (kind === 'basic' && h.authorization === `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString('base64')}`) ||
          (kind === 'oauth' && issued.has((h.authorization ?? '').replace(/^Bearer /, '')));
        if (!ok) return send(res, 401, { error: 'unauthorized' });
        return send(res, 200, { data: [{ id: 1, kind }, { id: 2, kind }] });
      }
      return send(res, 404, { error: `no route ${p}` });
    })().catch((e: unknown) => send(res, 500, { error: String(e) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () => new Promise((r) => server.close(() => r()));
  return api;
}
