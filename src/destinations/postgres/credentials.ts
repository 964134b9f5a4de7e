import { z } from 'zod';
import { ConfigValueMissingError, config, secrets } from '../../config/index.js';
import { registerSecret } from '../../config/redact.js';
import { connectionUrlParts } from '../../config/connection-url.js';
import { InvalidOptionsError } from '../../errors.js';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** dlt's PostgresCredentials: where and as whom to connect. */
export interface PostgresCredentials {
  host: string;
  /** Default 5432. */
  port: number;
  database: string;
  username: string;
  password?: string;
  /**
   * libpq's sslmode. `require` encrypts without checking the certificate; `verify-ca` and
   * `verify-full` check it. `disable`, `allow` and `prefer` connect without TLS (the
   * driver has no fallback between the two).
   */
  sslmode?: SslMode;
  /** Seconds to wait for a connection (dlt's `connect_timeout`, default 15). */
  connectTimeout: number;
}

/** What a user may pass in code: a connection string or some of the fields. */
export type PostgresCredentialsInput = string | Partial<PostgresCredentials>;

export const DEFAULT_PORT = 5432;
export const DEFAULT_CONNECT_TIMEOUT_S = 15;
const CONFIG_PATH = 'destination.postgres.credentials';

const intLike = z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]);
const sslmode = z.enum(SSL_MODES);

/** Non-secret fields, named as in dlt's config files (`connect_timeout`). */
const fieldsSchema = z
  .object({
    host: z.string().min(1),
    port: intLike,
    database: z.string().min(1),
    username: z.string().min(1),
    sslmode,
    connect_timeout: intLike,
  })
  .partial();
const passwordSchema = z.object({ password: z.string() }).partial();
/** The native form at the credentials path: a connection string (or JSON of the fields in env). */
const nativeSchema = z.union([z.string(), z.record(z.string(), z.unknown())]);

const codeSchema = z
  .object({
    host: z.string().min(1),
    port: intLike,
    database: z.string().min(1),
    username: z.string().min(1),
    password: z.string(),
    sslmode,
    connectTimeout: intLike,
  })
  .partial()
  .strict();

/**
 * Parses `postgresql://user:password@host:5432/database?sslmode=require&connect_timeout=10`.
 * Errors never repeat the string (it may hold the password).
 */
export function parseConnectionString(text: string): Partial<PostgresCredentials> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidOptionsError('postgres credentials', 'the connection string is not a URL; expected one such as postgresql://loader@db.example.com:5432/analytics (with the password after the user name and a colon)');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new InvalidOptionsError('postgres credentials', `the connection string must start with postgresql:// (got ${url.protocol}//)`);
  }
  const out: Partial<PostgresCredentials> = connectionUrlParts(url);
  const mode = url.searchParams.get('sslmode');
  if (mode !== null) {
    const parsed = sslmode.safeParse(mode);
    if (!parsed.success) throw new InvalidOptionsError('postgres credentials', `sslmode must be one of ${SSL_MODES.join(', ')}`);
    out.sslmode = parsed.data;
  }
  const timeout = url.searchParams.get('connect_timeout');
  if (timeout !== null) {
    if (!/^\d+$/.test(timeout)) throw new InvalidOptionsError('postgres credentials', 'connect_timeout must be a whole number of seconds');
    out.connectTimeout = Number(timeout);
  }
  return out;
}

function fromCode(input: PostgresCredentialsInput): Partial<PostgresCredentials> {
  if (typeof input === 'string') return parseConnectionString(input);
  const r = codeSchema.safeParse(input);
  if (!r.success) {
    // Field names only: the values may be secret.
    const what = r.error.issues.map((i) => `${i.path.join('.') || '(credentials)'}: ${i.message}`).join('; ');
    throw new InvalidOptionsError('postgres credentials', what);
  }
  return r.data;
}

function fromNative(value: unknown): Partial<PostgresCredentials> {
  if (typeof value === 'string') {
    const t = value.trim();
    // env text may hold the fields as JSON
    if (t.startsWith('{')) {
      try {
        return fromCode(JSON.parse(t) as PostgresCredentialsInput);
      } catch (e) {
        if (e instanceof InvalidOptionsError) throw e;
        throw new InvalidOptionsError('postgres credentials', `${CONFIG_PATH} is neither a connection string nor valid JSON`);
      }
    }
    return parseConnectionString(t);
  }
  return {}; // a TOML table: read field by field
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Resolves the credentials as dlt does: a value given in code wins; missing parts come from
 * the fields (`DESTINATION__POSTGRES__CREDENTIALS__PASSWORD`, `[destination.postgres.credentials]`
 * in .dlt/secrets.toml or config.toml; password never from config.toml), then from a
 * connection string at `destination.postgres.credentials` (env or a TOML key).
 * Pipeline-scoped sections come first. The password becomes a known secret (redacted from
 * every message, log and trace).
 */
export function resolvePostgresCredentials(opts: { pipelineName?: string; explicit?: PostgresCredentialsInput } = {}): PostgresCredentials {
  const { pipelineName } = opts;
  const code = opts.explicit === undefined ? {} : fromCode(opts.explicit);
  if (code.password) registerSecret(code.password);
  if (typeof opts.explicit === 'string') registerSecret(opts.explicit);

  const native = fromNative(secrets.getOptional(CONFIG_PATH, nativeSchema, { pipelineName }));
  const fields = config.getOptional(CONFIG_PATH, fieldsSchema, { pipelineName, fieldsOnly: true }) ?? {};
  const pw = secrets.getOptional(CONFIG_PATH, passwordSchema, { pipelineName, fieldsOnly: true }) ?? {};
  const fromConfig: Partial<PostgresCredentials> = defined({
    host: fields.host,
    port: fields.port,
    database: fields.database,
    username: fields.username,
    sslmode: fields.sslmode,
    connectTimeout: fields.connect_timeout,
    password: pw.password,
  });
  if (native.password) registerSecret(native.password);

  const merged = { ...defined(native), ...fromConfig, ...defined(code) };
  for (const key of ['host', 'database', 'username'] as const) {
    if (!merged[key]) {
      const env = `${CONFIG_PATH}.${key}`.split('.').join('__').toUpperCase();
      throw new ConfigValueMissingError(`${CONFIG_PATH}.${key}`, 'config', [
        'explicit argument: postgres({ credentials })',
        `environment: ${CONFIG_PATH.split('.').join('__').toUpperCase()} (a connection string such as postgresql://loader@db.example.com:5432/analytics), ${env}`,
        `.dlt/secrets.toml or .dlt/config.toml: [${CONFIG_PATH}] ${key}${pipelineName ? ` (also under [${pipelineName}.${CONFIG_PATH}])` : ''}`,
      ]);
    }
  }
  return {
    host: merged.host!,
    port: merged.port ?? DEFAULT_PORT,
    database: merged.database!,
    username: merged.username!,
    password: merged.password,
    sslmode: merged.sslmode,
    connectTimeout: merged.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S,
  };
}

/** `host:port/database`: how errors and LoadInfo name the place (never the password). */
export function credentialsLocation(c: Pick<PostgresCredentials, 'host' | 'port' | 'database'>): string {
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  return `${host}:${c.port}/${c.database}`;
}
