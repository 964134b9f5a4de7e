/** A fresh paginator from its config; undefined means "detect from the first answer". */
import type { PaginatorConfig } from '../config.js';
import { BasePaginator, SinglePagePaginator } from './base.js';
import { HeaderCursorPaginator, JsonResponseCursorPaginator } from './cursor.js';
import { HeaderLinkPaginator, JsonLinkPaginator } from './link.js';
import { OffsetPaginator, PageNumberPaginator } from './range.js';

export function makePaginator(cfg: PaginatorConfig | undefined): BasePaginator | undefined {
  if (cfg === undefined) return undefined;
  if (cfg instanceof BasePaginator) return cfg.fresh();
  const c = typeof cfg === 'string' ? ({ type: cfg } as Exclude<PaginatorConfig, string | BasePaginator>) : cfg;
  switch (c.type) {
    case 'auto':
      return undefined;
    case 'single_page':
      return new SinglePagePaginator();
    case 'json_link':
      return new JsonLinkPaginator('nextUrlPath' in c ? c.nextUrlPath : undefined);
    case 'header_link':
      return new HeaderLinkPaginator('linksNextKey' in c ? c.linksNextKey : undefined);
    case 'header_cursor':
      return new HeaderCursorPaginator('cursorKey' in c ? c.cursorKey : undefined, 'cursorParam' in c ? c.cursorParam : undefined);
    case 'cursor':
      return new JsonResponseCursorPaginator(c as ConstructorParameters<typeof JsonResponseCursorPaginator>[0]);
    case 'offset':
      return new OffsetPaginator(c as ConstructorParameters<typeof OffsetPaginator>[0]);
    case 'page_number':
      return new PageNumberPaginator(c as ConstructorParameters<typeof PageNumberPaginator>[0]);
  }
}
