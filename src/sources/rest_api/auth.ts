/**
 * Authentication as dlt's rest_api knows it: bearer token, API key (header, query or
 * cookie), HTTP basic, OAuth2 client credentials (token fetched on first use and again
 * before it expires), or your own `AuthBase`. Every secret is registered for redaction the
 * moment it is known, so no error, log or trace can show it.
 */
import { registerSecret } from '../../config/index.js';
import type { RequestSpec } from './types.js';

/** Adds credentials to a request. Subclass it for an API with its own scheme. */
export abstract class AuthBase {
  abstract apply(request: RequestSpec, fetchToken: TokenFetcher): void | Promise<void>;
  /** Query parameter names this auth puts secrets in (stripped from URLs in errors). */
  secretParams(): string[] {
    return [];
  }
}

/** Sends a token request; given to auth so it shares the client's timeout and errors. */
export type TokenFetcher = (url: string, init: { headers: Record<string, string>; body: string }) => Promise<unknown>;

export class BearerTokenAuth extends AuthBase {
  constructor(private readonly token: string) {
    super();
    registerSecret(token);
  }
  apply(request: RequestSpec): void {
    request.headers['Authorization'] = `Bearer ${this.token}`;
  }
}

export type ApiKeyLocation = 'header' | 'query' | 'cookie';

export class ApiKeyAuth extends AuthBase {
  constructor(
    private readonly name: string,
    private readonly apiKey: string,
    private readonly location: ApiKeyLocation = 'header',
  ) {
    super();
    registerSecret(apiKey);
  }
  apply(request: RequestSpec): void {
    if (this.location === 'header') request.headers[this.name] = this.apiKey;
    else if (this.location === 'query') request.params[this.name] = this.apiKey;
    else {
      const cookie = `${this.name}=${encodeURIComponent(this.apiKey)}`;
      const prev = request.headers['Cookie'];
      request.headers['Cookie'] = prev ? `${prev}; ${cookie}` : cookie;
    }
  }
  override secretParams(): string[] {
    return this.location === 'query' ? [this.name] : [];
  }
}

export class HttpBasicAuth extends AuthBase {
  private readonly header: string;
  constructor(username: string, password: string) {
    super();
    registerSecret(password);
    this.header = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    registerSecret(this.header.slice('Basic '.length));
  }
  apply(request: RequestSpec): void {
    request.headers['Authorization'] = this.header;
  }
}

export interface OAuth2ClientCredentialsOptions {
  accessTokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Extra form fields of the token request (e.g. `scope`, `audience`). */
  accessTokenRequestData?: Record<string, string>;
  /** Seconds a token lives when the token answer has no `expires_in` (dlt: 3600). */
  defaultTokenExpiration?: number;
}

/**
 * OAuth2 client credentials: POSTs `grant_type=client_credentials` with the client id and
 * secret as HTTP basic auth, as dlt does, and caches the token until shortly before it
 * expires.
 */
export class OAuth2ClientCredentialsAuth extends AuthBase {
  private token?: string;
  private expiresAt = 0;
  constructor(private readonly opts: OAuth2ClientCredentialsOptions) {
    super();
    registerSecret(opts.clientSecret);
  }
  async apply(request: RequestSpec, fetchToken: TokenFetcher): Promise<void> {
    if (!this.token || Date.now() >= this.expiresAt) await this.obtain(fetchToken);
    request.headers['Authorization'] = `Bearer ${this.token}`;
  }
  /** Forgets the token so the next request gets a new one (after a 401). */
  invalidate(): void {
    this.token = undefined;
  }
  private async obtain(fetchToken: TokenFetcher): Promise<void> {
    const basic = Buffer.from(`${this.opts.clientId}:${this.opts.clientSecret}`).toString('base64');
    registerSecret(basic);
    const body = new URLSearchParams({ grant_type: 'client_credentials', ...this.opts.accessTokenRequestData }).toString();
    const answer = (await fetchToken(this.opts.accessTokenUrl, {
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    })) as { access_token?: unknown; expires_in?: unknown } | null;
    const token = answer?.access_token;
    if (typeof token !== 'string' || !token) throw new Error(`the token endpoint's answer has no access_token`);
    registerSecret(token);
    const life = Number(answer?.expires_in ?? this.opts.defaultTokenExpiration ?? 3600);
    this.token = token;
    // Refresh a little early so a token never expires in flight.
    this.expiresAt = Date.now() + Math.max(0, life - Math.min(60, life / 10)) * 1000;
  }
}
