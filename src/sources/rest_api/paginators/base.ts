/**
 * A paginator decides, from each answer, whether there is a next page and how to ask for
 * it (dlt's BasePaginator). One instance serves one endpoint call; haul makes a fresh one
 * per call from the config. `position()`/`resumeAt()` let a long extraction continue from
 * the next page instead of the first.
 */
import type { PageResponse, RequestSpec } from '../types.js';

export abstract class BasePaginator {
  /** Whether another page is to be fetched; set by `updateState`. */
  hasNextPage = true;

  /** Sets up the first request (e.g. `offset=0&limit=100`). */
  initRequest(_request: RequestSpec): void {}

  /** Reads the answer to the request just sent; `data` is the page's selected items. */
  abstract updateState(response: PageResponse, data: unknown[]): void;

  /** Changes the request for the next page. Called only when `hasNextPage` is true. */
  abstract updateRequest(request: RequestSpec): void;

  /** JSON that `resumeAt` accepts to ask for the next page again; undefined if not resumable. */
  position(): unknown {
    return undefined;
  }

  /** Continues from a `position()` value: the next request is the page after it. */
  resumeAt(_position: unknown, _request: RequestSpec): void {}

  /** A fresh copy with the same options and no progress (a configured instance may serve many calls). */
  fresh(): this {
    const copy = Object.assign(Object.create(Object.getPrototypeOf(this) as object) as this, this);
    copy.hasNextPage = true;
    copy.reset();
    return copy;
  }

  /** Forgets progress (called by `fresh`). */
  protected reset(): void {}
}

/** One request only (dlt's SinglePagePaginator). */
export class SinglePagePaginator extends BasePaginator {
  updateState(): void {
    this.hasNextPage = false;
  }
  updateRequest(): void {}
}
