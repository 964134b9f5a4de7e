/** The parts of a database connection string (`driver://user:password@host:port/database?...`) that every driver shares. */
export interface ConnectionUrlParts {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  database?: string;
}

/** Host (an IPv6 address without its brackets), port, user, password and database of `url`, percent-decoded; absent parts are left out. */
export function connectionUrlParts(url: URL): ConnectionUrlParts {
  const out: ConnectionUrlParts = {};
  if (url.hostname) out.host = decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (url.port) out.port = Number(url.port);
  if (url.username) out.username = decodeURIComponent(url.username);
  if (url.password) out.password = decodeURIComponent(url.password);
  const db = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (db) out.database = db;
  return out;
}
