/** Shapes shared by the REST client, its paginators and auth (no logic here). */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

/** One request about to be sent; paginators and auth change it in place. */
export interface RequestSpec {
  /** Absolute URL; query parameters go in `params`, not here (they are merged when sent). */
  url: string;
  method: HttpMethod;
  params: Record<string, string>;
  headers: Record<string, string>;
  json?: unknown;
  /** A raw body (e.g. a form) with its Content-Type in `headers`; used instead of `json`. */
  body?: string;
}

/** An answer with its body already read (JSON parsed when it is JSON, else the text). */
export interface PageResponse {
  status: number;
  statusText: string;
  /** The URL as requested (with query). Treat as secret-bearing: never put it in messages as is. */
  url: string;
  headers: Headers;
  body: unknown;
}
