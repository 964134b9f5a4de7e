/** Paginators that pass back a cursor the API gave: from a header or from the body. */
import { findValue } from '../jsonpath.js';
import type { PageResponse, RequestSpec } from '../types.js';
import { readHasMore } from './answer-values.js';
import { BasePaginator } from './base.js';

abstract class CursorPaginatorBase extends BasePaginator {
  protected cursor?: string;
  protected abstract findCursor(response: PageResponse): unknown;
  protected abstract place(request: RequestSpec, cursor: string): void;

  updateState(response: PageResponse): void {
    const c = this.findCursor(response);
    // dlt ends on any falsy reference (null, '', 0, false)
    this.cursor = c === undefined || c === null || c === '' || c === 0 || c === false ? undefined : String(c);
    this.hasNextPage = this.cursor !== undefined;
  }
  updateRequest(request: RequestSpec): void {
    if (this.cursor !== undefined) this.place(request, this.cursor);
  }
  override position(): unknown {
    return this.cursor === undefined ? undefined : { cursor: this.cursor };
  }
  override resumeAt(position: unknown, request: RequestSpec): void {
    const c = (position as { cursor?: unknown } | undefined)?.cursor;
    if (typeof c === 'string') {
      this.cursor = c;
      this.updateRequest(request);
    }
  }
  protected override reset(): void {
    this.cursor = undefined;
  }
}

/** `header_cursor`: the cursor is in header `cursorKey` (default `next`), sent as `cursorParam` (default `cursor`). */
export class HeaderCursorPaginator extends CursorPaginatorBase {
  constructor(readonly cursorKey = 'next', readonly cursorParam = 'cursor') {
    super();
  }
  protected findCursor(response: PageResponse): unknown {
    return response.headers.get(this.cursorKey) ?? undefined;
  }
  protected place(request: RequestSpec, cursor: string): void {
    request.params[this.cursorParam] = cursor;
  }
}

export interface CursorPaginatorOptions {
  /** Where the next cursor is in the body (default `cursors.next`). */
  cursorPath?: string;
  /** Query parameter the cursor is sent in (default `cursor`). */
  cursorParam?: string;
  /** Send the cursor in the JSON body at this dotted path instead (for POST search APIs). */
  cursorBodyPath?: string;
  /** Stop at a page with no items, whatever the cursor (default false, as dlt). */
  stopAfterEmptyPage?: boolean;
  /** Where the answer says whether more pages follow (a boolean, or `"true"`/`"false"`...). */
  hasMorePath?: string;
}

/** `cursor`: dlt's JSONResponseCursorPaginator. */
export class JsonResponseCursorPaginator extends CursorPaginatorBase {
  readonly cursorPath: string;
  readonly cursorParam?: string;
  readonly cursorBodyPath?: string;
  readonly stopAfterEmptyPage: boolean;
  readonly hasMorePath?: string;
  constructor(opts: CursorPaginatorOptions = {}) {
    super();
    this.cursorPath = opts.cursorPath ?? 'cursors.next';
    this.cursorBodyPath = opts.cursorBodyPath;
    this.cursorParam = opts.cursorBodyPath ? opts.cursorParam : (opts.cursorParam ?? 'cursor');
    this.stopAfterEmptyPage = opts.stopAfterEmptyPage ?? false;
    this.hasMorePath = opts.hasMorePath;
  }
  override updateState(response: PageResponse, data?: unknown[]): void {
    super.updateState(response);
    // as dlt: an empty page ends it before the flag is read; a flag that says no more ends it too
    if (this.stopAfterEmptyPage && (data === undefined || data.length === 0)) this.hasNextPage = false;
    else if (this.hasMorePath !== undefined && !readHasMore('cursor', this.hasMorePath, response)) this.hasNextPage = false;
  }
  protected findCursor(response: PageResponse): unknown {
    return findValue(this.cursorPath, response.body);
  }
  protected place(request: RequestSpec, cursor: string): void {
    if (this.cursorParam) request.params[this.cursorParam] = cursor;
    if (this.cursorBodyPath) request.json = setPath(request.json, this.cursorBodyPath.split('.'), cursor);
  }
}

/** A copy of `doc` with `value` at the dotted path (objects created on the way). */
export function setPath(doc: unknown, path: string[], value: unknown): Record<string, unknown> {
  const root: Record<string, unknown> = doc && typeof doc === 'object' && !Array.isArray(doc) ? { ...(doc as Record<string, unknown>) } : {};
  let cur = root;
  path.forEach((k, i) => {
    if (i === path.length - 1) cur[k] = value;
    else {
      const next = cur[k];
      cur[k] = next && typeof next === 'object' && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
      cur = cur[k] as Record<string, unknown>;
    }
  });
  return root;
}
