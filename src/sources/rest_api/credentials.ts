/**
 * Turns the auth config into an AuthBase. Secret fields left out of the config are read
 * like dlt reads a source's secrets: `sources.<source>.<field>` (env
 * `SOURCES__<SOURCE>__<FIELD>`, `.dlt/secrets.toml`), then `sources.rest_api.<field>`.
 * Field names are dlt's: token, api_key, username, password, client_id, client_secret.
 */
import { config, secrets, registerSecret } from '../../config/index.js';
import { ApiKeyAuth, AuthBase, BearerTokenAuth, HttpBasicAuth, OAuth2ClientCredentialsAuth } from './auth.js';
import type { AuthConfig } from './config.js';

function lookup(kind: 'config' | 'secret', sourceName: string, field: string, given: string | undefined): string {
  if (given !== undefined) {
    if (kind === 'secret') registerSecret(given);
    return given;
  }
  const get = kind === 'secret' ? secrets : config;
  const primary = `sources.${sourceName}.${field}`;
  const v = get.getOptional(primary) ?? (sourceName === 'rest_api' ? undefined : get.getOptional(`sources.rest_api.${field}`));
  return v ?? get.get(primary); // not found: throws ConfigValueMissingError listing where it looked
}

export function buildAuth(auth: AuthConfig | undefined, sourceName: string): AuthBase | undefined {
  if (auth === undefined || auth instanceof AuthBase) return auth;
  const secret = (field: string, given: string | undefined) => lookup('secret', sourceName, field, given);
  const plain = (field: string, given: string | undefined) => lookup('config', sourceName, field, given);
  switch (auth.type) {
    case 'bearer':
      return new BearerTokenAuth(secret('token', auth.token));
    case 'api_key':
      return new ApiKeyAuth(auth.name ?? 'Authorization', secret('api_key', auth.apiKey), auth.location ?? 'header');
    case 'http_basic':
      return new HttpBasicAuth(plain('username', auth.username), secret('password', auth.password));
    case 'oauth2_client_credentials':
      return new OAuth2ClientCredentialsAuth({
        accessTokenUrl: auth.accessTokenUrl,
        clientId: plain('client_id', auth.clientId),
        clientSecret: secret('client_secret', auth.clientSecret),
        accessTokenRequestData: auth.accessTokenRequestData,
        defaultTokenExpiration: auth.defaultTokenExpiration,
      });
  }
}
