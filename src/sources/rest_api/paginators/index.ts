export { BasePaginator, SinglePagePaginator } from './base.js';
export { JsonLinkPaginator, HeaderLinkPaginator, parseLinkHeader } from './link.js';
export { HeaderCursorPaginator, JsonResponseCursorPaginator, type CursorPaginatorOptions } from './cursor.js';
export { OffsetPaginator, PageNumberPaginator, PaginatorTotalMissingError, type OffsetPaginatorOptions, type PageNumberPaginatorOptions } from './range.js';
export { detectPaginator } from './detect.js';
