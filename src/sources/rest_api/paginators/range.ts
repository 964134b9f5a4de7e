/**
 * Paginators that count: `offset` (offset/limit) and `page_number`. Like dlt's
 * RangePaginator, they stop at an empty page (`stopAfterEmptyPage`, default on), when the
 * total at `totalPath` (default `total`) is reached, at `maximumOffset`/`maximumPage`, or
 * when `hasMorePath` says false.
 */
import { InvalidOptionsError } from '../../../errors.js';
import { readHasMore, readTotal } from './answer-values.js';
import type { PageResponse, RequestSpec } from '../types.js';
import { BasePaginator } from './base.js';

interface RangeOptions {
  kind: 'offset' | 'page_number';
  param: string;
  initial: number;
  step: number;
  baseIndex: number;
  maximum?: number;
  totalPath: string | null;
  stopAfterEmptyPage: boolean;
  hasMorePath?: string;
}

abstract class RangePaginator extends BasePaginator {
  protected current: number;
  constructor(protected readonly range: RangeOptions) {
    super();
    if (range.totalPath === null && range.maximum === undefined && !range.stopAfterEmptyPage && !range.hasMorePath) {
      throw new InvalidOptionsError(`${range.kind} paginator`, 'it could never stop: give totalPath, a maximum, hasMorePath or stopAfterEmptyPage: true');
    }
    this.current = range.initial;
  }
  override initRequest(request: RequestSpec): void {
    this.current = this.range.initial;
    request.params[this.range.param] = String(this.current);
  }
  updateState(response: PageResponse, data: unknown[]): void {
    if (this.range.stopAfterEmptyPage && data.length === 0) {
      this.hasNextPage = false;
      return;
    }
    // As in dlt: a total or flag the paginator was told to read must be there and readable.
    const total = this.range.totalPath ? readTotal(this.range.kind, this.range.totalPath, response) : undefined;
    this.current += this.range.step;
    if ((total !== undefined && this.current >= total + this.range.baseIndex) || (this.range.maximum !== undefined && this.current >= this.range.maximum)) {
      this.hasNextPage = false;
    }
    if (this.range.hasMorePath !== undefined && !readHasMore(this.range.kind, this.range.hasMorePath, response)) this.hasNextPage = false;
  }
  updateRequest(request: RequestSpec): void {
    request.params[this.range.param] = String(this.current);
  }
  override position(): unknown {
    return { value: this.current };
  }
  override resumeAt(position: unknown, request: RequestSpec): void {
    const v = (position as { value?: unknown } | undefined)?.value;
    if (typeof v === 'number') {
      this.current = v;
      this.updateRequest(request);
    }
  }
  protected override reset(): void {
    this.current = this.range.initial;
  }
}

export interface OffsetPaginatorOptions {
  limit: number;
  offset?: number;
  offsetParam?: string;
  limitParam?: string;
  totalPath?: string | null;
  maximumOffset?: number;
  stopAfterEmptyPage?: boolean;
  hasMorePath?: string;
}

/** `offset`: sends `offset` and `limit` (names configurable), adds `limit` per page. */
export class OffsetPaginator extends RangePaginator {
  readonly limit: number;
  readonly limitParam: string;
  constructor(opts: OffsetPaginatorOptions) {
    super({
      kind: 'offset',
      param: opts.offsetParam ?? 'offset',
      initial: opts.offset ?? 0,
      step: opts.limit,
      baseIndex: 0,
      maximum: opts.maximumOffset,
      totalPath: opts.totalPath === undefined ? 'total' : opts.totalPath,
      stopAfterEmptyPage: opts.stopAfterEmptyPage ?? true,
      hasMorePath: opts.hasMorePath,
    });
    this.limit = opts.limit;
    this.limitParam = opts.limitParam ?? 'limit';
  }
  override initRequest(request: RequestSpec): void {
    super.initRequest(request);
    request.params[this.limitParam] = String(this.limit);
  }
}

export interface PageNumberPaginatorOptions {
  /** The first page's number (default 0). */
  basePage?: number;
  /** Start at this page instead of basePage. */
  page?: number;
  pageParam?: string;
  /** Where the number of pages is (default `total`). */
  totalPath?: string | null;
  maximumPage?: number;
  stopAfterEmptyPage?: boolean;
  hasMorePath?: string;
}

/** `page_number`: sends `page` (default from 0), one more per page. */
export class PageNumberPaginator extends RangePaginator {
  constructor(opts: PageNumberPaginatorOptions = {}) {
    const basePage = opts.basePage ?? 0;
    super({
      kind: 'page_number',
      param: opts.pageParam ?? 'page',
      initial: opts.page ?? basePage,
      step: 1,
      baseIndex: basePage,
      maximum: opts.maximumPage,
      totalPath: opts.totalPath === undefined ? 'total' : opts.totalPath,
      stopAfterEmptyPage: opts.stopAfterEmptyPage ?? true,
      hasMorePath: opts.hasMorePath,
    });
  }
}
