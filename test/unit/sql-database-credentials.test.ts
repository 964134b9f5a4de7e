/** sql_database credentials (dlt connection strings and config) and the type mapping. */
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigValueMissingError, InvalidOptionsError, redact } from '../../src/index.js';
import { credentialsLocation, parseSqlConnectionString, resolveSqlCredentials } from '../../src/sources/sql_database/credentials.js';
import { columnHint, duckdbKind, mysqlKind, postgresKind, sqliteKind } from '../../src/sources/sql_database/type-mapping.js';
import type { ReflectedColumn } from '../../src/sources/sql_database/engine.js';

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

describe('sql_database credentials', () => {
  it('parses dlt connection strings for every engine', () => {
    expect(parseSqlConnectionString('postgresql://loader:p%40ss@db.example.com:6543/shop?sslmode=require')).toEqual({
      dialect: 'postgres', drivername: 'postgresql', host: 'db.example.com', port: 6543, username: 'loader', password: 'p@ss', database: 'shop', query: { sslmode: 'require' },
    });
    expect(parseSqlConnectionString('postgresql+psycopg2://u@h/d').dialect).toBe('postgres');
    expect(parseSqlConnectionString('mariadb+pymysql://root@127.0.0.1:3306/test')).toMatchObject({ dialect: 'mysql', host: '127.0.0.1', port: 3306, database: 'test' });
    expect(parseSqlConnectionString('mysql://root@127.0.0.1/test').dialect).toBe('mysql');
    expect(parseSqlConnectionString('sqlite:///data/shop.db')).toMatchObject({ dialect: 'sqlite', database: 'data/shop.db' });
    expect(parseSqlConnectionString('sqlite:////abs/shop.db')).toMatchObject({ dialect: 'sqlite', database: '/abs/shop.db' });
    expect(parseSqlConnectionString('duckdb:///:memory:')).toMatchObject({ dialect: 'duckdb', database: ':memory:' });
    // Relative file paths resolve against the working directory, as SQLAlchemy opens them.
    expect(resolveSqlCredentials('duckdb:///shop.duckdb').database).toBe(resolve('shop.duckdb'));
  });

  it('refuses what it cannot read without repeating the string', () => {
    for (const bad of ['oracle://scott:tiger-pw-1@h/db', 'not a url tiger-pw-1', 'postgresql://scott:tiger-pw-1@h']) {
      const err = (() => {
        try {
          resolveSqlCredentials(bad);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err, bad).toBeInstanceOf(InvalidOptionsError);
      expect(err!.message).not.toContain('tiger-pw-1');
    }
  });

  it('reads sources.sql_database.credentials from env, as a string or field by field, and redacts the password', () => {
    process.env.SOURCES__SQL_DATABASE__CREDENTIALS = 'postgresql://loader:env-secret-1@envhost:5433/envdb';
    const c = resolveSqlCredentials();
    expect(c).toMatchObject({ dialect: 'postgres', host: 'envhost', port: 5433, database: 'envdb', username: 'loader' });
    expect(credentialsLocation(c)).toBe('postgres envhost:5433/envdb');
    expect(redact('driver said env-secret-1')).toBe('driver said ***');

    delete process.env.SOURCES__SQL_DATABASE__CREDENTIALS;
    Object.assign(process.env, {
      SOURCES__SQL_DATABASE__CREDENTIALS__DRIVERNAME: 'mysql',
      SOURCES__SQL_DATABASE__CREDENTIALS__HOST: 'maria',
      SOURCES__SQL_DATABASE__CREDENTIALS__DATABASE: 'shop',
      SOURCES__SQL_DATABASE__CREDENTIALS__USERNAME: 'root',
      SOURCES__SQL_DATABASE__CREDENTIALS__PASSWORD: 'field-secret-2',
    });
    expect(resolveSqlCredentials()).toMatchObject({ dialect: 'mysql', host: 'maria', port: 3306, database: 'shop', username: 'root', password: 'field-secret-2' });
    expect(redact('field-secret-2')).toBe('***');
  });

  it('says where it looked when no credentials are configured', () => {
    expect(() => resolveSqlCredentials(undefined, 'unit_sql')).toThrow(ConfigValueMissingError);
    expect(() => resolveSqlCredentials(undefined, 'unit_sql')).toThrow(/SOURCES__SQL_DATABASE__CREDENTIALS/);
  });
});

describe('sql_database type mapping (dlt, default backend)', () => {
  const col = (kind: Pick<ReflectedColumn, 'kind' | 'length' | 'precision' | 'scale' | 'timezone'>, nullable = true): ReflectedColumn => ({ name: 'c', nativeType: '', nullable, ...kind });

  it('maps each engine\'s type names to dlt data types', () => {
    const full = (k: ReturnType<typeof postgresKind>) => columnHint(col(k), 'full').dataType;
    expect(['smallint', 'integer', 'bigint', 'numeric(10,2)', 'real', 'double precision', 'character varying(20)', 'text', 'bytea', 'timestamp(3) without time zone', 'timestamp with time zone', 'date', 'time without time zone', 'jsonb', 'integer[]', 'boolean', 'uuid', 'interval'].map((t) => full(postgresKind(t))))
      .toEqual(['bigint', 'bigint', 'bigint', 'decimal', 'double', 'double', 'text', 'text', 'binary', 'timestamp', 'timestamp', 'date', 'time', 'json', 'json', 'bool', 'text', undefined]);
    expect(full(postgresKind('mood', true))).toBe('text');
    expect([['tinyint', 'tinyint(1)'], ['decimal', 'decimal(12,3)'], ['float', 'float'], ['double', 'double'], ['longtext', 'longtext'], ['varbinary', 'varbinary(8)'], ['datetime', 'datetime(6)'], ['json', 'json'], ['year', 'year(4)']].map(([d, c]) => full(mysqlKind(d!, c!))))
      .toEqual(['bigint', 'decimal', 'double', 'decimal', 'text', 'binary', 'timestamp', 'json', undefined]);
    expect(['INTEGER', 'VARCHAR(10)', 'DECIMAL(10,2)', 'DATETIME', 'BOOLEAN', 'BLOB', '', 'MEDIUMINT', 'NVARCHAR', 'FLOATING', 'MONEY'].map((t) => full(sqliteKind(t))))
      .toEqual(['bigint', 'text', 'decimal', 'timestamp', 'bool', 'binary', undefined, 'bigint', 'text', 'double', 'decimal']);
    expect(['HUGEINT', 'DECIMAL(18,3)', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP_NS', 'VARCHAR[]', 'STRUCT(a INTEGER)', 'JSON', 'UUID'].map((t) => full(duckdbKind(t))))
      .toEqual(['bigint', 'decimal', 'timestamp', 'timestamp', 'json', undefined, 'json', 'text']);
  });

  it('keeps decimal precision at full, lengths only at full_with_precision, names (and the types JS values lack) at minimal', () => {
    expect(columnHint(col(postgresKind('numeric(10,2)')), 'full')).toEqual({ nullable: true, dataType: 'decimal', precision: 10, scale: 2 });
    expect(columnHint(col(postgresKind('numeric')), 'full')).toEqual({ nullable: true, dataType: 'decimal' });
    expect(columnHint(col(postgresKind('varchar(20)')), 'full')).toEqual({ nullable: true, dataType: 'text' });
    expect(columnHint(col(postgresKind('varchar(20)')), 'full_with_precision')).toEqual({ nullable: true, dataType: 'text', precision: 20 });
    expect(columnHint(col(postgresKind('smallint')), 'full_with_precision')).toEqual({ nullable: true, dataType: 'bigint', precision: 32 });
    expect(columnHint(col(postgresKind('timestamptz'), false), 'full')).toEqual({ nullable: false, dataType: 'timestamp', timezone: true });
    expect(columnHint(col(postgresKind('jsonb'), false), 'minimal')).toEqual({ nullable: false });
    // numeric, date and time keep the type dlt infers from Python's values (JS gets strings)
    expect(columnHint(col(postgresKind('numeric(10,2)')), 'minimal')).toEqual({ nullable: true, dataType: 'decimal' });
    expect(columnHint(col(postgresKind('date')), 'minimal')).toEqual({ nullable: true, dataType: 'date' });
    expect(columnHint(col(postgresKind('time')), 'minimal')).toEqual({ nullable: true, dataType: 'time' });
    expect(columnHint(col(postgresKind('inet')), 'full')).toEqual({});
  });
});
