/**
 * Picks a paginator from the first answer when the config names none (as dlt does): a
 * `Link: <...>; rel="next"` header, a next-page URL in the body, a next cursor in the body,
 * else a single page.
 */
import { findValue } from '../jsonpath.js';
import type { PageResponse } from '../types.js';
import { BasePaginator, SinglePagePaginator } from './base.js';
import { JsonResponseCursorPaginator } from './cursor.js';
import { HeaderLinkPaginator, JsonLinkPaginator, parseLinkHeader } from './link.js';

const NEXT_URL_PATHS = ['next', 'next_url', 'nextUrl', 'next_page', 'nextPage', 'next_link', 'nextLink', 'links.next', 'links.next.href', '_links.next', '_links.next.href', 'pagination.next', 'paging.next', 'meta.next', 'page.next'];
const CURSOR_PATHS = ['cursors.next', 'next_cursor', 'nextCursor', 'cursor.next', 'pagination.next_cursor', 'pagination.nextCursor', 'meta.next_cursor', 'meta.nextCursor', 'response_metadata.next_cursor'];

function looksLikeUrl(v: unknown): v is string {
  return typeof v === 'string' && (/^https?:\/\//i.test(v) || v.startsWith('/') || v.startsWith('?'));
}

/** The paginator the first answer suggests, and why (for the log). */
export function detectPaginator(response: PageResponse): { paginator: BasePaginator; reason: string } {
  if (parseLinkHeader(response.headers.get('link'))['next']) return { paginator: new HeaderLinkPaginator(), reason: 'a Link header with rel="next"' };
  const body = response.body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    for (const path of NEXT_URL_PATHS) {
      if (looksLikeUrl(findValue(path, body))) return { paginator: new JsonLinkPaginator(path), reason: `a next-page URL at "${path}"` };
    }
    for (const path of CURSOR_PATHS) {
      const v = findValue(path, body);
      if (typeof v === 'string' || typeof v === 'number') return { paginator: new JsonResponseCursorPaginator({ cursorPath: path }), reason: `a cursor at "${path}"` };
    }
  }
  return { paginator: new SinglePagePaginator(), reason: 'no pagination found in the first answer' };
}
