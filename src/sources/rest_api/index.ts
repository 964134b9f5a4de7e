/** dlt's declarative REST API source, and the client, paginators and auth it is built from. */
export { restApiSource } from './source.js';
export { RestClient, type RestClientOptions, type RetryOptions, type PaginateOptions, type Page } from './client.js';
export * from './paginators/index.js';
export { AuthBase, BearerTokenAuth, ApiKeyAuth, HttpBasicAuth, OAuth2ClientCredentialsAuth, type ApiKeyLocation, type OAuth2ClientCredentialsOptions, type TokenFetcher } from './auth.js';
export type { RestApiConfig, ClientConfig, RestResourceConfig, EndpointConfig, EndpointIncremental, PaginatorConfig, AuthConfig, ResponseAction, ResponseHook, ProcessingStep } from './config.js';
export type { RequestSpec, PageResponse, HttpMethod } from './types.js';
