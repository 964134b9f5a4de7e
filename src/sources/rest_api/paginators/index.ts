export { BasePaginator, SinglePagePaginator } from './base.js';
export { JsonLinkPaginator, HeaderLinkPaginator, parseLinkHeader } from './link.js';
export { HeaderCursorPaginator, JsonResponseCursorPaginator, type CursorPaginatorOptions } from './cursor.js';
export { OffsetPaginator, PageNumberPaginator, type OffsetPaginatorOptions, type PageNumberPaginatorOptions } from './range.js';
export { PaginatorAnswerError, PaginatorTotalMissingError } from './answer-values.js';
export { detectPaginator } from './detect.js';
