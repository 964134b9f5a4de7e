/** restApiSource auth kinds, secrets from config, retries and typed HTTP errors, against a real local API. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redact, ConfigValueMissingError, PipelineStepFailed, RestApiError, restApiSource, type AuthConfig, type RestApiConfig } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';
import { API_KEY, BASIC, CLIENT, startApi, TOKEN, type TestApi } from './rest-api-server.js';

const dir = tempDir();
let api: TestApi;
beforeAll(async () => {
  api = await startApi(3);
});
afterAll(() => api.close());

/** Fast retries so the tests do not wait; the number of attempts stays dlt's default (5). */
const fast = { requestBackoffFactor: 0.01, requestMaxRetryDelay: 0.05 };

function oneResource(path: string, auth?: AuthConfig, extra: Partial<RestApiConfig> = {}): RestApiConfig {
  return { client: { baseUrl: api.url, ...(auth ? { auth } : {}), ...fast }, resources: [{ name: 'things', endpoint: { path } }], ...extra };
}

async function runOk(name: string, config: RestApiConfig): Promise<Record<string, unknown>[]> {
  const p = testPipeline(dir, name);
  await p.run(restApiSource(config));
  return query(p, 'SELECT id, kind FROM things ORDER BY id');
}

/** The RestApiError inside a failed run. */
async function runFails(name: string, config: RestApiConfig): Promise<{ outer: Error; inner: RestApiError }> {
  const p = testPipeline(dir, name);
  const outer = (await p.run(restApiSource(config)).catch((e: unknown) => e)) as Error;
  expect(outer).toBeInstanceOf(PipelineStepFailed);
  const inner = outer.cause as RestApiError;
  expect(inner).toBeInstanceOf(RestApiError);
  return { outer, inner };
}

describe('rest_api auth', () => {
  it('bearer, api_key in header/query/cookie and http_basic are checked by the server', async () => {
    expect(await runOk('bearer', oneResource('auth/bearer', { type: 'bearer', token: TOKEN }))).toEqual([{ id: 1, kind: 'bearer' }, { id: 2, kind: 'bearer' }]);
    expect(await runOk('key_header', oneResource('auth/header', { type: 'api_key', name: 'X-API-Key', apiKey: API_KEY }))).toHaveLength(2);
    expect(await runOk('key_query', oneResource('auth/query', { type: 'api_key', name: 'api_key', apiKey: API_KEY, location: 'query' }))).toHaveLength(2);
    expect(await runOk('key_cookie', oneResource('auth/cookie', { type: 'api_key', name: 'session', apiKey: API_KEY, location: 'cookie' }))).toHaveLength(2);
    expect(await runOk('basic', oneResource('auth/basic', { type: 'http_basic', ...BASIC }))).toHaveLength(2);
  });

  it('oauth2_client_credentials fetches a token once and uses it for every page', async () => {
    const before = api.tokensIssued;
    const config = oneResource('auth/oauth', {
      type: 'oauth2_client_credentials',
      accessTokenUrl: `${api.url}/oauth/token`,
      clientId: CLIENT.id,
      clientSecret: CLIENT.secret,
      accessTokenRequestData: { scope: 'read' },
    });
    config.resources.push({ name: 'more', endpoint: { path: 'auth/oauth' } });
    expect(await runOk('oauth', config)).toEqual([{ id: 1, kind: 'oauth' }, { id: 2, kind: 'oauth' }]);
    expect(api.tokensIssued - before).toBe(1);
  });

  it('an OAuth token the API stops accepting (401) is fetched again once, and the run goes on', async () => {
    const before = api.tokensIssued;
    const config = oneResource('auth/oauth', { type: 'oauth2_client_credentials', accessTokenUrl: `${api.url}/oauth/token`, clientId: CLIENT.id, clientSecret: CLIENT.secret });
    // The first resource's items revoke the token on the server; the second resource's request then gets a 401.
    config.resources = [
      { name: 'things', endpoint: 'auth/oauth', processingSteps: [{ map: (t) => (api.revokeTokens(), t) }] },
      { name: 'after_revoke', endpoint: 'auth/oauth' },
    ];
    const p = testPipeline(dir, 'oauth_refresh');
    await p.run(restApiSource(config));
    expect(api.tokensIssued - before).toBe(2);
    expect(await query(p, 'SELECT id FROM after_revoke ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('a wrong OAuth client secret is a typed error without the secret', async () => {
    const { outer, inner } = await runFails('oauth_bad', oneResource('auth/oauth', { type: 'oauth2_client_credentials', accessTokenUrl: `${api.url}/oauth/token`, clientId: CLIENT.id, clientSecret: 'wrong-client-secret' }));
    expect(inner.status).toBe(401);
    expect(outer.message).toContain('access token');
    expect(outer.message).not.toContain('wrong-client-secret');
  });

  it('secrets left out of the config come from sources.<source>.* like dlt', async () => {
    process.env['SOURCES__SECURE__TOKEN'] = TOKEN;
    process.env['SOURCES__REST_API__API_KEY'] = API_KEY;
    try {
      expect(await runOk('env_token', oneResource('auth/bearer', { type: 'bearer' }, { name: 'secure' }))).toHaveLength(2);
      // sources.rest_api.* is the fallback for a named source too.
      expect(await runOk('env_key', oneResource('auth/header', { type: 'api_key', name: 'X-API-Key' }, { name: 'other' }))).toHaveLength(2);
    } finally {
      delete process.env['SOURCES__SECURE__TOKEN'];
      delete process.env['SOURCES__REST_API__API_KEY'];
    }
    const missing = (() => {
      try {
        restApiSource(oneResource('auth/bearer', { type: 'bearer' }, { name: 'nosecret' }));
      } catch (e) {
        return e;
      }
    })();
    expect(missing).toBeInstanceOf(ConfigValueMissingError);
    expect(String(missing)).toContain('sources.nosecret.token');
  });

  it('a token put straight into client headers is a secret too', async () => {
    const wrong = 'tok-wrong-header-secret';
    const { outer } = await runFails('header_token', { ...oneResource('auth/bearer'), client: { baseUrl: api.url, headers: { Authorization: `Bearer ${wrong}` }, ...fast } });
    expect(outer.message).toContain('answered 401');
    // Anything quoting the header's value later (an API echoing it, a log line) is redacted.
    expect(redact(`echo: Bearer ${wrong}`)).toBe('echo: Bearer ***');
  });

  it('a 401 is a typed error naming resource, URL and status, never the token', async () => {
    const wrong = 'tok-wrong-but-secret-value';
    const { outer, inner } = await runFails('unauth', oneResource('auth/bearer', { type: 'bearer', token: wrong }));
    expect(inner.status).toBe(401);
    expect(inner.retryable).toBe(false);
    expect(inner.url).toBe(`${api.url}/auth/bearer`);
    expect(outer.message).toContain(`resource "things": GET ${api.url}/auth/bearer answered 401`);
    expect(outer.message).toContain('check the credentials');
    expect(outer.message).not.toContain(wrong);

    const q = await runFails('unauth_query', oneResource('auth/query', { type: 'api_key', name: 'api_key', apiKey: 'key-wrong-secret-value', location: 'query' }));
    expect(q.inner.url).toBe(`${api.url}/auth/query?api_key=***`);
    expect(q.outer.message).not.toContain('key-wrong-secret-value');
  });
});

describe('rest_api retries and response actions', () => {
  it('retries 503 and 429 (honouring Retry-After) and then loads', async () => {
    api.failures.flaky = 3;
    api.failures.limited = 2;
    const before = api.requests.length;
    const p = testPipeline(dir, 'flaky');
    await p.run(restApiSource({ client: { baseUrl: api.url, ...fast }, resources: ['flaky', 'limited'] }));
    expect(api.requests.slice(before)).toEqual(['GET /flaky', 'GET /flaky', 'GET /flaky', 'GET /flaky', 'GET /limited', 'GET /limited', 'GET /limited']);
    expect(await query(p, 'SELECT id FROM flaky ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await query(p, 'SELECT id FROM limited')).toEqual([{ id: 1 }]);
  });

  it('gives up after 5 attempts with a retryable typed error; pending nothing', async () => {
    const before = api.requests.length;
    const { outer, inner } = await runFails('broken', oneResource('broken'));
    expect(api.requests.slice(before)).toHaveLength(5);
    expect(inner.status).toBe(500);
    expect(inner.retryable).toBe(true);
    expect(outer.message).toMatch(/failed after 5 attempts \(last answer: 500 Internal Server Error\)/);
  });

  it('a 200 answer that is not JSON is a typed error naming the URL and the body (as dlt\'s response.json()); JSON sent as text/plain loads', async () => {
    const { outer, inner } = await runFails('html', oneResource('html'));
    expect(inner.status).toBe(200);
    expect(inner.retryable).toBe(false);
    expect(outer.message).toContain(`GET ${api.url}/html answered 200 with a body that is not JSON (content-type text/html: "<html><body>Please log in`);
    expect(outer.message).toContain('check the URL and the auth');
    expect(await runOk('plain_json', oneResource('plain_json'))).toEqual([{ id: 1, kind: 'plain' }]);
  });

  it("dlt's runtime.request_* settings apply when the client config leaves them out", async () => {
    process.env['RUNTIME__REQUEST_MAX_ATTEMPTS'] = '2';
    try {
      const before = api.requests.length;
      const { inner } = await runFails('runtime_attempts', oneResource('broken'));
      expect(api.requests.slice(before)).toHaveLength(2);
      expect(inner.message).toContain('failed after 2 attempts');
    } finally {
      delete process.env['RUNTIME__REQUEST_MAX_ATTEMPTS'];
    }
  });

  it('a request timeout and a refused connection are retried, then typed errors', async () => {
    const t = await runFails('slow', { ...oneResource('slow'), client: { baseUrl: api.url, requestTimeout: 0.2, requestMaxAttempts: 2, ...fast } });
    expect(t.inner.message).toContain('no answer within 0.2s');
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const before = api.requests.length;
    const closed = await runFails('refused', { ...oneResource('x'), client: { baseUrl: `http://127.0.0.1:${port}`, requestMaxAttempts: 2, ...fast } });
    expect(api.requests.length).toBe(before);
    expect(closed.inner.status).toBeUndefined();
    expect(closed.inner.message).toMatch(/failed after 2 attempts \(last: ECONNREFUSED\)/);
  });

  it('a 404 is a typed error unless responseActions ignore it', async () => {
    const e = await runFails('gone', oneResource('users/3/posts'));
    expect(e.inner.status).toBe(404);
    expect(e.outer.message).toContain("responseActions: [{ statusCode: 404, action: 'ignore' }]");
    const p = testPipeline(dir, 'ignored');
    await p.run(
      restApiSource({
        client: { baseUrl: api.url },
        resources: [
          { name: 'gone', endpoint: { path: 'users/3/posts', responseActions: [{ statusCode: 404, action: 'ignore' }] } },
          { name: 'kept', endpoint: { path: 'users/2/posts', dataSelector: 'posts' } },
        ],
      }),
    );
    expect(await query(p, 'SELECT id FROM kept ORDER BY id')).toEqual([{ id: 201 }, { id: 202 }]);
    expect(p.defaultSchema?.getTable('gone')?.columns['id']).toBeUndefined();
  });
});
