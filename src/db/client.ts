// Opens the database named by DATABASE_URL through a Prisma driver adapter, applies pending migrations,
// and hides the provider from every layer above: they get a Db (the Prisma client; both providers'
// generated clients have identical models) and the Dialect for the few statements that differ.
import path from 'node:path';
import pg from 'pg';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as SqliteClient } from './generated/sqlite/client.js';
import { PrismaClient as PostgresClient } from './generated/postgresql/client.js';
import { migratePostgresDatabase, migrateSqliteFile } from './migrate.js';
import { parseDatabaseUrl, type Provider } from './url.js';
import { dialects, type Dialect } from './dialect.js';
import { prepareSqliteAdapter, type SqliteConnection } from './sqlite-connection.js';
import { postgresRaw, sqliteRaw, type RawSql } from './raw.js';
import fs from 'node:fs';

export type Db = SqliteClient;
/** The client a transaction callback receives; operations take this so they run inside one. */
export type DbTx = Parameters<Parameters<Db['$transaction']>[0]>[0] | Db;

export interface Database {
  prisma: Db;
  /** The driver itself, for the hot paths' statements; never inside a Prisma transaction. */
  raw: RawSql;
  dialect: Dialect;
  provider: Provider;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** The folder holding `sqlite/migrations` and `postgresql/migrations`, applied before anything else. */
  migrationsDir: string;
  /** SQLite: how long a statement waits for another process's write lock (ms). */
  sqliteBusyTimeoutMs: number;
}

export async function openDatabase(url: string, options: OpenOptions): Promise<Database> {
  const location = parseDatabaseUrl(url);
  const migrationsDir = (provider: Provider) => path.join(options.migrationsDir, provider, 'migrations');
  if (location.provider === 'sqlite') {
    // Owner-only when wsgate creates the folder: the database holds sessions, results and (encrypted) keys.
    if (location.file !== ':memory:') fs.mkdirSync(path.dirname(location.file), { recursive: true, mode: 0o700 });
    migrateSqliteFile(location.file, migrationsDir('sqlite'), options.sqliteBusyTimeoutMs);
    const factory = new PrismaBetterSQLite3({ url: `file:${location.file}` }, { timestampFormat: 'unixepoch-ms' });
    const connect = factory.connect.bind(factory);
    let connection: SqliteConnection | undefined;
    factory.connect = async () => {
      connection = prepareSqliteAdapter(await connect(), { busyTimeoutMs: options.sqliteBusyTimeoutMs });
      return connection.adapter;
    };
    const prisma = new SqliteClient({ adapter: factory });
    const connected = async () => {
      if (!connection) await prisma.$connect();
      return connection!;
    };
    return { prisma, raw: sqliteRaw(connected), dialect: dialects.sqlite, provider: 'sqlite', close: () => prisma.$disconnect() };
  }
  await migratePostgresDatabase(location.url, migrationsDir('postgresql'));
  const pool = new pg.Pool({ connectionString: location.url, max: 10, allowExitOnIdle: true });
  const prisma = new PostgresClient({ adapter: new PrismaPg(pool) }) as unknown as Db;
  return {
    prisma,
    raw: postgresRaw(pool),
    dialect: dialects.postgresql,
    provider: 'postgresql',
    close: async () => {
      await prisma.$disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}
