/**
 * A small REST client on Node's fetch: joins URLs, adds auth, retries 429/5xx, timeouts
 * and connection errors with exponential backoff (honouring Retry-After), and pages
 * through an endpoint with a paginator. Failures are RestApiErrors that name the resource,
 * method, URL (credentials and secret query values removed) and status.
 */
import { parseJsonText, stringifyExact } from '../../common/big-ints.js';
import { RestApiError } from '../../errors.js';
import { redact, REDACTED } from '../../config/index.js';
import { SECRET_KEY_RE } from '../../config/redact.js';
import { AuthBase, OAuth2ClientCredentialsAuth } from './auth.js';
import type { ResponseAction } from './config.js';
import { BasePaginator } from './paginators/base.js';
import { detectPaginator } from './paginators/detect.js';
import { detectDataPath, selectItems } from './select.js';
import type { PageResponse, RequestSpec } from './types.js';

export interface RetryOptions {
  /** Seconds (default 60). */
  requestTimeout?: number;
  /** Attempts including the first (default 5). */
  requestMaxAttempts?: number;
  /** Seconds; the n-th retry waits factor * 2^(n-1) (default 1). */
  requestBackoffFactor?: number;
  /** Seconds (default 300). */
  requestMaxRetryDelay?: number;
}

export interface RestClientOptions extends RetryOptions {
  baseUrl: string;
  headers?: Record<string, string>;
  auth?: AuthBase;
}

export interface PaginateOptions {
  /** A fresh paginator for this call; undefined = detect from the first answer. */
  paginator?: BasePaginator;
  dataSelector?: string;
  responseActions?: ResponseAction[];
  /** A `position()` from an earlier call: start at the page after it. */
  resumeFrom?: unknown;
}

export interface Page {
  items: unknown[];
  /** Where the next page is (paginator position), or null after the last page or when the paginator cannot tell. */
  next: unknown;
}

/** Waits, or stops early (resolving) when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((r) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      r();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class RestClient {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly auth?: AuthBase;
  private readonly retry: Required<RetryOptions>;

  constructor(opts: RestClientOptions) {
    this.baseUrl = opts.baseUrl;
    this.headers = opts.headers ?? {};
    this.auth = opts.auth;
    this.retry = {
      requestTimeout: opts.requestTimeout ?? 60,
      requestMaxAttempts: opts.requestMaxAttempts ?? 5,
      requestBackoffFactor: opts.requestBackoffFactor ?? 1,
      requestMaxRetryDelay: opts.requestMaxRetryDelay ?? 300,
    };
  }

  /** `path` joined to the base URL (an absolute URL is kept as is). */
  url(path: string): string {
    if (/^https?:\/\//i.test(path)) return path;
    if (!path) return this.baseUrl;
    return `${this.baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  }

  /** A request to `path` with the client's headers. */
  request(path: string, init: Partial<Omit<RequestSpec, 'url'>> = {}): RequestSpec {
    return { url: this.url(path), method: init.method ?? 'GET', params: { ...init.params }, headers: { ...this.headers, ...init.headers }, json: init.json };
  }

  /** The URL for messages: no user:password, secret query values replaced. */
  safeUrl(url: string): string {
    try {
      const u = new URL(url);
      u.username = '';
      u.password = '';
      const secret = new Set(this.auth?.secretParams() ?? []);
      for (const k of [...u.searchParams.keys()]) if (secret.has(k) || SECRET_KEY_RE.test(k)) u.searchParams.set(k, REDACTED);
      return redact(decodeURI(u.toString()));
    } catch {
      return redact(url.split('?')[0]!);
    }
  }

  /**
   * Sends one request with retries. Answers other than 429/5xx come back whatever their
   * status (the caller decides); retries that run out throw. `signal` abandons the request
   * and its retries (the look-ahead page of a caller that stopped reading).
   */
  async send(resource: string, spec: RequestSpec, signal?: AbortSignal): Promise<PageResponse> {
    const { requestMaxAttempts: attempts } = this.retry;
    let oauthRetried = false;
    let last = '';
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      const req: RequestSpec = { ...spec, params: { ...spec.params }, headers: { ...spec.headers } };
      try {
        await this.auth?.apply(req, (url, init) => this.fetchToken(resource, url, init));
      } catch (e) {
        if (e instanceof RestApiError) throw e;
        throw new RestApiError(resource, 'POST', 'the token endpoint', undefined, `could not get an access token: ${redact(e instanceof Error ? e.message : String(e))}`, 'check the auth config (accessTokenUrl, clientId, clientSecret)', { cause: e });
      }
      const url = new URL(req.url);
      for (const [k, v] of Object.entries(req.params)) url.searchParams.set(k, v);
      const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
      let body: string | undefined;
      if (req.body !== undefined) body = req.body;
      else if (req.json !== undefined && req.method !== 'GET' && req.method !== 'HEAD') {
        body = stringifyExact(req.json);
        headers['Content-Type'] ??= 'application/json';
      }
      let waitMs: number | undefined;
      try {
        const timeout = AbortSignal.timeout(this.retry.requestTimeout * 1000);
        const res = await fetch(url, { method: req.method, headers, body, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
        if (res.status === 401 && this.auth instanceof OAuth2ClientCredentialsAuth && !oauthRetried) {
          // An expired or revoked token: get a new one once.
          await res.body?.cancel();
          this.auth.invalidate();
          oauthRetried = true;
          attempt--;
          continue;
        }
        if (res.status !== 429 && res.status < 500) return await readResponse(res, url.toString());
        last = `${res.status} ${res.statusText}`;
        waitMs = retryAfterMs(res.headers.get('retry-after'));
        await res.body?.cancel();
        if (attempt >= attempts) {
          throw new RestApiError(resource, req.method, this.safeUrl(url.toString()), res.status, `failed after ${attempts} attempts (last answer: ${last})`,
            res.status === 429 ? 'the API is limiting requests: run again later, or raise client.requestMaxAttempts / requestBackoffFactor' : 'the API is failing: run again later, or raise client.requestMaxAttempts', { retryable: true });
        }
      } catch (e) {
        if (e instanceof RestApiError || signal?.aborted) throw e;
        const why = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError') ? `no answer within ${this.retry.requestTimeout}s` : connectionError(e);
        last = why;
        if (attempt >= attempts) {
          throw new RestApiError(resource, req.method, this.safeUrl(url.toString()), undefined, `failed after ${attempts} attempts (last: ${why})`, 'check that the API is reachable from here, or raise client.requestTimeout / requestMaxAttempts', { cause: e, retryable: true });
        }
      }
      const backoff = this.retry.requestBackoffFactor * 1000 * 2 ** (attempt - 1);
      await sleep(Math.min(waitMs ?? backoff, this.retry.requestMaxRetryDelay * 1000), signal);
    }
  }

  /** POSTs a form to a token endpoint (OAuth2) with the same retries; a refusal is a typed error. */
  private async fetchToken(resource: string, url: string, init: { headers: Record<string, string>; body: string }): Promise<unknown> {
    // The token request carries no auth of its own: a plain client with the same retry settings.
    const plain = new RestClient({ baseUrl: this.baseUrl, ...this.retry });
    const res = await plain.send(resource, { url, method: 'POST', params: {}, headers: init.headers, body: init.body });
    if (res.status >= 400) {
      throw new RestApiError(resource, 'POST', this.safeUrl(url), res.status, `refused the access token request (${res.status} ${res.statusText})`, 'check clientId and clientSecret (sources.<source>.client_id / client_secret) and accessTokenUrl');
    }
    return res.body;
  }

  /**
   * dlt's `RESTClient.paginate` for your own resources: the items of each page of `path`.
   * A paginator instance is copied fresh; without one it is detected from the first answer.
   */
  async *pages(
    path: string,
    opts: Partial<Omit<RequestSpec, 'url'>> & { paginator?: BasePaginator; dataSelector?: string; responseActions?: ResponseAction[]; resource?: string } = {},
  ): AsyncGenerator<unknown[]> {
    const { paginator, dataSelector, responseActions, resource, ...init } = opts;
    for await (const page of this.paginate(resource ?? path, this.request(path, init), { paginator: paginator?.fresh(), dataSelector, responseActions })) yield page.items;
  }

  /**
   * Pages through an endpoint: yields each page's items and where the next page is.
   * Stops after the last page, or at an answer a response action ignores.
   */
  async *paginate(resource: string, spec: RequestSpec, opts: PaginateOptions = {}): AsyncGenerator<Page> {
    const req: RequestSpec = { ...spec, params: { ...spec.params }, headers: { ...spec.headers } };
    let paginator = opts.paginator;
    /** The paginator guessed from the first answer, if none was given, and the last request it made. */
    let detected: { paginator: BasePaginator; reason: string } | undefined;
    let sameAsLast: string | undefined;
    let dataPath = opts.dataSelector;
    paginator?.initRequest(req);
    if (opts.resumeFrom !== undefined && paginator) paginator.resumeAt(opts.resumeFrom, req);
    // One page of look-ahead: the next request is in flight while the caller writes this page.
    const stop = new AbortController();
    let inFlight = this.send(resource, req, stop.signal);
    try {
      for (;;) {
        let res = await inFlight;
        let ignored = false;
        for (const a of opts.responseActions ?? []) {
          if (typeof a === 'function') {
            res = (await a(res)) ?? res;
            continue;
          }
          if (a.statusCode !== undefined && a.statusCode !== res.status) continue;
          if (a.content !== undefined && !bodyText(res.body).includes(a.content)) continue;
          if (a.action === 'ignore') {
            ignored = true;
            break;
          }
          for (const hook of Array.isArray(a.action) ? a.action : [a.action]) res = (await hook(res)) ?? res;
        }
        if (ignored) return;
        if (res.status >= 400) throw this.statusError(resource, req.method, res);
        if (notJson.has(res) && typeof res.body === 'string') throw this.notJsonError(resource, req.method, res);
        if (dataPath === undefined) dataPath = detectDataPath(res.body);
        const items = selectItems(res.body, dataPath);
        if (!paginator) {
          detected = detectPaginator(res);
          paginator = detected.paginator;
        }
        paginator.updateState(res, items);
        const more = paginator.hasNextPage;
        const next = more ? (paginator.position() ?? null) : null;
        if (more) {
          paginator.updateRequest(req);
          if (detected) sameAsLast = this.refuseRepeat(resource, req, detected.reason, sameAsLast);
          inFlight = this.send(resource, { ...req, params: { ...req.params }, headers: { ...req.headers } }, stop.signal);
          // Consumed on the next turn; if the caller stops early, its failure must not go unhandled.
          inFlight.catch(() => {});
        }
        yield { items, next };
        if (!more) return;
      }
    } finally {
      // A caller that stopped early does not wait for, or retry, a page it will not read.
      inFlight.catch(() => {});
      stop.abort();
    }
  }

  /**
   * A guessed paginator that asks for the same request twice would page forever (an API that
   * ignores the parameter it guessed, e.g. `next_page: 2` taken for a cursor): a typed error
   * instead. Returns the request's key for the next turn.
   */
  private refuseRepeat(resource: string, req: RequestSpec, reason: string, last: string | undefined): string {
    const key = stringifyExact([req.method, req.url, req.params, req.json ?? null, req.body ?? null]);
    if (key === last) {
      throw new RestApiError(resource, req.method, this.safeUrl(req.url), undefined, `would be asked again for the same page: the paginator detected from ${reason} does not move on`, "set endpoint.paginator for this API (e.g. { type: 'page_number', ... } or { type: 'cursor', cursorPath, cursorParam })");
    }
    return key;
  }

  /** dlt's response.json() raises here: a login or proxy page, or a cut-off body, is not data. */
  private notJsonError(resource: string, method: string, res: PageResponse): RestApiError {
    const excerpt = redact(bodyText(res.body).slice(0, 120));
    return new RestApiError(
      resource,
      method,
      this.safeUrl(res.url),
      res.status,
      `answered ${res.status} with a body that is not JSON (content-type ${res.headers.get('content-type') ?? 'none'}: ${JSON.stringify(excerpt)})`,
      'check the URL and the auth (an HTML page is often a login or proxy page); an API that answers in another format needs a responseActions hook that turns the body into JSON',
    );
  }

  private statusError(resource: string, method: string, res: PageResponse): RestApiError {
    const url = this.safeUrl(res.url);
    const what = `answered ${res.status} ${res.statusText}`;
    const excerpt = redact(bodyText(res.body).slice(0, 200));
    const detail = excerpt ? ` (${excerpt})` : '';
    if (res.status === 401 || res.status === 403) {
      return new RestApiError(resource, method, url, res.status, what + detail, 'check the credentials: client.auth in the config or the sources.<source>.* secrets (env or .dlt/secrets.toml)');
    }
    if (res.status === 404) {
      return new RestApiError(resource, method, url, res.status, what, "check the endpoint's path, or skip such answers with responseActions: [{ statusCode: 404, action: 'ignore' }]");
    }
    return new RestApiError(resource, method, url, res.status, what + detail, "the API rejected the request: check the endpoint's params, json and headers");
  }
}

/** Answers whose body is text that JSON.parse refused (kept as text for responseActions and error excerpts). */
const notJson = new WeakSet<PageResponse>();

/** The answer with its body parsed as JSON whatever the content-type says, as dlt's response.json(). */
async function readResponse(res: Response, url: string): Promise<PageResponse> {
  const text = await res.text();
  const page: PageResponse = { status: res.status, statusText: res.statusText, url, headers: res.headers, body: text };
  if (text.trim().length > 0) {
    try {
      // integers past 2^53 exact (64-bit ids, and the child URLs made from them), whole
      // floats (`10.0`) marked so they type double, as Python's json gives them to dlt
      page.body = parseJsonText(text);
    } catch {
      notJson.add(page);
    }
  }
  return page;
}

function bodyText(body: unknown): string {
  return typeof body === 'string' ? body : stringifyExact(body);
}

/** Retry-After in seconds or as an HTTP date, in milliseconds. */
export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const s = Number(header);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function connectionError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}
