/** Paginators that follow a URL given by the API: in the body, or in the `Link` header. */
import { findValue } from '../jsonpath.js';
import type { PageResponse, RequestSpec } from '../types.js';
import { BasePaginator } from './base.js';

/** Shared by both: the next URL replaces the request's URL and its query (the link has it). */
abstract class NextUrlPaginator extends BasePaginator {
  protected nextUrl?: string;
  protected abstract findNext(response: PageResponse): string | undefined;

  updateState(response: PageResponse): void {
    const next = this.findNext(response);
    this.nextUrl = next ? new URL(next, response.url).toString() : undefined;
    this.hasNextPage = this.nextUrl !== undefined;
  }
  updateRequest(request: RequestSpec): void {
    if (!this.nextUrl) return;
    request.url = this.nextUrl;
    // The link carries its own query; auth parameters are added again when sent.
    request.params = {};
  }
  override position(): unknown {
    return this.nextUrl === undefined ? undefined : { nextUrl: this.nextUrl };
  }
  override resumeAt(position: unknown, request: RequestSpec): void {
    const url = (position as { nextUrl?: unknown } | undefined)?.nextUrl;
    if (typeof url === 'string') {
      this.nextUrl = url;
      this.updateRequest(request);
    }
  }
  protected override reset(): void {
    this.nextUrl = undefined;
  }
}

/** `json_link`: the next page's URL is in the body at `nextUrlPath` (default `next`). */
export class JsonLinkPaginator extends NextUrlPaginator {
  constructor(readonly nextUrlPath = 'next') {
    super();
  }
  protected findNext(response: PageResponse): string | undefined {
    const v = findValue(this.nextUrlPath, response.body);
    return typeof v === 'string' && v ? v : undefined;
  }
}

/** `header_link`: the next page's URL is the `Link` header's `rel="next"` (or `linksNextKey`). */
export class HeaderLinkPaginator extends NextUrlPaginator {
  constructor(readonly linksNextKey = 'next') {
    super();
  }
  protected findNext(response: PageResponse): string | undefined {
    return parseLinkHeader(response.headers.get('link'))[this.linksNextKey];
  }
}

/** `<url>; rel="next", <url2>; rel="last"` -> { next: url, last: url2 }. */
export function parseLinkHeader(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>(.*)/.exec(part.trim());
    if (!m) continue;
    const rel = /rel\s*=\s*"?([^";]+)"?/i.exec(m[2]!);
    if (rel) for (const r of rel[1]!.trim().split(/\s+/)) out[r] = m[1]!;
  }
  return out;
}
