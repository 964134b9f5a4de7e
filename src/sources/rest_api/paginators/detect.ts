/**
 * Picks a paginator from the first answer when the config names none, in dlt 1.31's order:
 * a `Link: <...>; rel="next"` header; a next-page URL in the body; a total page count in the
 * body; a next cursor in the body; else a single page. Everything but the header is found by
 * key name, depth first in the answer's key order, as dlt's detector does.
 */
import { pathOf } from '../jsonpath.js';
import { isObject } from '../select.js';
import type { PageResponse } from '../types.js';
import { BasePaginator, SinglePagePaginator } from './base.js';
import { JsonResponseCursorPaginator } from './cursor.js';
import { HeaderLinkPaginator, JsonLinkPaginator, parseLinkHeader } from './link.js';
import { PageNumberPaginator } from './range.js';

type Json = Record<string, unknown>;
type Found = { path: string; value: unknown } | undefined;

/** A find, unless a key on its path cannot be written as a path (then the search goes on). */
function found(keys: string[], value: unknown): Found {
  const path = pathOf(keys);
  return path === undefined ? undefined : { path, value };
}

/** A value dlt takes for a next reference or a page count (Python's str, int, float; bool is an int there). */
function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** The first find `match` makes, key by key, depth first in the answer's key order (dlt's walk). */
function firstKey(obj: Json, match: (key: string, value: unknown, path: string[]) => Found, path: string[] = []): Found {
  for (const [k, v] of Object.entries(obj)) {
    const f = match(k, v, path);
    if (f) return f;
    if (isObject(v)) {
      const inner = firstKey(v, match, [...path, k]);
      if (inner) return inner;
    }
  }
  return undefined;
}

/**
 * The first key whose name starts with `next` (any case) and holds a scalar, or an object
 * with an `href…`/`url…` scalar: `next`, `next_page_token`, `links.next.href`, ...
 */
function findNext(body: Json): Found {
  return firstKey(body, (k, v, path) => {
    if (!k.toLowerCase().startsWith('next')) return undefined;
    if (isScalar(v)) return found([...path, k], v);
    if (!isObject(v)) return undefined;
    for (const [k2, v2] of Object.entries(v)) {
      const name = k2.toLowerCase();
      if ((name.startsWith('href') || name.startsWith('url')) && isScalar(v2)) {
        const f = found([...path, k, k2], v2);
        if (f) return f;
      }
    }
    return undefined;
  });
}

const TOTAL_PAGES_KEYS = new Set(['total_pages', 'pages', 'totalpages']);

/** The first `total_pages` / `pages` / `totalPages` key (any case) holding a scalar. */
function findTotalPages(body: Json): Found {
  return firstKey(body, (k, v, path) => (TOTAL_PAGES_KEYS.has(k.toLowerCase()) && isScalar(v) ? found([...path, k], v) : undefined));
}

function isWholeNumber(v: unknown): boolean {
  if (typeof v === 'number' || typeof v === 'boolean') return Number.isFinite(Number(v));
  return typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v);
}

/**
 * A next-page URL: absolute or from the host's root, as dlt takes it; also a query of its own
 * (`?page=2`), which dlt would send back as a cursor.
 */
function isUrl(v: unknown): v is string {
  return typeof v === 'string' && (v.startsWith('http') || v.startsWith('/') || v.startsWith('?'));
}

/** The paginator the first answer suggests, and why (for the log). */
export function detectPaginator(response: PageResponse): { paginator: BasePaginator; reason: string } {
  if (parseLinkHeader(response.headers.get('link'))['next']) return { paginator: new HeaderLinkPaginator(), reason: 'a Link header with rel="next"' };
  const body = response.body;
  if (isObject(body)) {
    const next = findNext(body);
    if (next && isUrl(next.value)) return { paginator: new JsonLinkPaginator(next.path), reason: `a next-page URL at "${next.path}"` };
    const total = findTotalPages(body);
    if (total && isWholeNumber(total.value)) return { paginator: new PageNumberPaginator({ totalPath: total.path }), reason: `a page count at "${total.path}"` };
    if (next) return { paginator: new JsonResponseCursorPaginator({ cursorPath: next.path }), reason: `a next cursor at "${next.path}"` };
  }
  return { paginator: new SinglePagePaginator(), reason: 'no pagination found in the first answer' };
}
