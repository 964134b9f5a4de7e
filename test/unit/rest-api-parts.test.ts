/** The REST source's pure parts: JSONPath, item selection, Link headers, Retry-After, config checks. */
import { describe, expect, it } from 'vitest';
import { findValues } from '../../src/sources/rest_api/jsonpath.js';
import { detectDataPath, selectItems } from '../../src/sources/rest_api/select.js';
import { parseLinkHeader } from '../../src/sources/rest_api/paginators/link.js';
import { detectPaginator } from '../../src/sources/rest_api/paginators/detect.js';
import { retryAfterMs } from '../../src/sources/rest_api/client.js';
import { fillDeep } from '../../src/sources/rest_api/resolve.js';
import { InvalidOptionsError, restApiSource } from '../../src/index.js';

describe('rest_api parts', () => {
  const doc = { data: { items: [{ id: 1, u: { n: 'a' } }, { id: 2, u: { n: 'b' } }] }, meta: { next: null } };

  it('JSONPath: names, brackets, wildcards, indexes and deep search', () => {
    expect(findValues('data.items', doc)).toEqual([doc.data.items]);
    expect(findValues('$.data.items[*].id', doc)).toEqual([1, 2]);
    expect(findValues("$['data']['items'][-1].u.n", doc)).toEqual(['b']);
    expect(findValues('$..n', doc)).toEqual(['a', 'b']);
    expect(findValues('$.meta.next', doc)).toEqual([null]);
    expect(findValues('$.nope.deeper', doc)).toEqual([]);
    expect(() => findValues('$.data[?(@.id)]', doc)).toThrow(InvalidOptionsError);
  });

  it('detects the paginator from the first answer in dlt 1.31\'s order', () => {
    const kind = (body: unknown, link?: string) => {
      const { paginator, reason } = detectPaginator({ status: 200, headers: new Headers(link ? { link } : {}), body, url: 'http://x/a' } as never);
      return `${paginator.constructor.name}: ${reason}`;
    };
    expect(kind([], '<http://x/a?p=2>; rel="next"')).toMatch(/^HeaderLinkPaginator/);
    expect(kind({ data: [], links: { next: { href: '/a?p=2' } } })).toBe('JsonLinkPaginator: a next-page URL at "links.next.href"');
    expect(kind({ data: [], meta: { totalPages: 4 }, next_cursor: 'c2' })).toBe('PageNumberPaginator: a page count at "meta.totalPages"');
    expect(kind({ items: [], nextPageToken: 'abc' })).toBe('JsonResponseCursorPaginator: a next cursor at "nextPageToken"');
    expect(kind({ items: [], paging: { NextCursor: 7 } })).toBe('JsonResponseCursorPaginator: a next cursor at "paging.NextCursor"');
    expect(kind({ items: [], next: null, total: 3 })).toBe('SinglePagePaginator: no pagination found in the first answer');
  });

  it('finds the item list in usual places, or takes the answer as one item', () => {
    expect(detectDataPath([{ a: 1 }])).toBe('$');
    expect(detectDataPath({ results: [], count: 0 })).toBe('results');
    expect(detectDataPath({ data: { items: [1] } })).toBe('data.items');
    expect(detectDataPath({ users: [{ id: 1 }], next: 'x' })).toBe('users');
    expect(detectDataPath({ id: 1, name: 'x' })).toBeUndefined();
    // the paths dlt 1.31's find_response_page_data gave for the same answers
    expect(detectDataPath({ users: [{ id: 1 }], groups: [{ id: 2 }] })).toBe('users');
    expect(detectDataPath({ response: { users: [{ id: 1 }] } })).toBe('response.users');
    expect(detectDataPath({ results: [{ a: 1 }], data: [{ b: 1 }] })).toBe('results');
    expect(detectDataPath({ meta: { tags: ['x'] }, payload: { entries: [{ a: 1 }] } })).toBe('payload.entries');
    expect(detectDataPath({ a: { b: { c: [1] } } })).toBe('a.b.c');
    expect(detectDataPath({ a: { b: { c: { d: [1] } } } })).toBeUndefined();
    // a key that is not a plain name is written so that our JSONPath reads it back
    expect(selectItems({ 'a.b': [{ x: 1 }] }, detectDataPath({ 'a.b': [{ x: 1 }] }))).toEqual([{ x: 1 }]);
    expect(selectItems({ id: 1 }, undefined)).toEqual([{ id: 1 }]);
    expect(selectItems(doc, '$.data.items[*].id')).toEqual([1, 2]);
    expect(selectItems('', undefined)).toEqual([]);
  });

  it('Link headers and Retry-After', () => {
    expect(parseLinkHeader('<https://a/x?page=2>; rel="next", <https://a/x?page=9>; rel="last"')).toEqual({ next: 'https://a/x?page=2', last: 'https://a/x?page=9' });
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(50_000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('a JSON body placeholder alone keeps its type', () => {
    const v = { resource: 'c', parent: { name: 'p', item: { id: 7, tags: ['x'] } } };
    expect(fillDeep({ id: '{resources.p.id}', q: 'id={resources.p.id}', t: '{resources.p.tags}' }, v)).toEqual({ id: 7, q: 'id=7', t: ['x'] });
  });

  it('a bad config names the path of the mistake', () => {
    expect(() => restApiSource({ client: { baseUrl: 'http://x' }, resources: [{ name: 'a', endpoint: { path: 'a', paginator: { type: 'offset' } as never } }] })).toThrow(InvalidOptionsError);
    expect(() => restApiSource({ client: { baseUrl: 'http://x' }, resources: [{ name: 'a', primaryKy: 'id' } as never] })).toThrow(/primaryKy/);
  });
});
