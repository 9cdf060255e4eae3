// Opens the database named by DATABASE_URL through a Prisma driver adapter, applies pending migrations,
// and hides the provider from every layer above: they get a Db (the Prisma client; both providers'
// generated clients have identical models) and the Dialect, which holds every difference (its name too).
import path from 'node:path';
import pg from 'pg';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { PrismaClient as SqliteClient } from './generated/sqlite/client.js';
import { migratePostgresDatabase, migrateSqliteFile } from './migrate.js';
import { parseDatabaseUrl, type Provider } from './url.js';
import { postgresql, sqlite, type Dialect } from './dialect.js';
import { prepareSqliteAdapter, type SqliteConnection } from './sqlite-connection.js';
import { postgresRaw, sqliteRaw, tracedRaw, type Queryable, type RawSql } from './raw.js';
import { transactionTimedOut } from './sqlite-connection.js';
import fs from 'node:fs';
import { listenPostgres, type Listening } from './listen.js';
import { sessionNotices } from './session-notices.js';
import { queueNotices, type QueueNotices } from './queue-notices.js';
import { QUEUE_CHANNEL } from './dialect.js';

export type Db = SqliteClient;
/**
 * What operations and the queue's functions run their statements on: the driver, or the transaction they
 * run in (Database.atomic), which is all they get then.
 */
export type DbTx = Queryable;

export interface Database {
  /**
   * Prisma's client, for the few statements written with its models (users, tokens, the CLI); loaded only
   * where the database was opened with `models` (not in worker threads, which run raw statements only:
   * its runtime and query compiler cost ~27 MB a thread).
   */
  prisma: Db;
  /** The driver itself; never from inside a transaction's callback, which gets its own Queryable. */
  raw: RawSql;
  /**
   * Runs `fn` in one transaction on the driver; `fn` makes its statements on the Queryable it gets. Rolled
   * back when `fn` throws, or outlives `timeoutMs` (its later statements then fail).
   */
  atomic<T>(fn: (tx: Queryable) => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
  dialect: Dialect;
  /**
   * Databases opened `dedicated` only (null otherwise): runs `fn` in a transaction on the one connection, so
   * that every statement made meanwhile through `prisma` or `raw` is part of it. Cheaper than Prisma's
   * interactive transactions, and it lets the queue's own statements run on the driver inside it.
   */
  transaction: (<T>(fn: () => Promise<T>) => Promise<T>) | null;
  /**
   * PostgreSQL: calls onPayload for each notification on the channel, onError once per lost connection and
   * onBack when it is listening again (see listen.ts). SQLite: null (no other process can notify).
   */
  listen(
    channel: string,
    onPayload: (payload: string) => void,
    onError: (error: Error) => void,
    onBack?: () => void,
    onListening?: () => void,
  ): Listening | null;
  /** Connections open and in use, and statements waiting for one (the metrics). SQLite: its one connection. */
  poolUse(): { total: number; busy: number; waiting: number };
  /**
   * PostgreSQL: wakes listening executors after a commit, coalesced (queue-notices.ts); undefined on SQLite,
   * where no other process listens.
   */
  queueNotices?: QueueNotices;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** The folder holding `sqlite/migrations` and `postgresql/migrations`, applied before anything else. */
  migrationsDir: string;
  /** SQLite: how long a statement waits for another process's write lock (ms). */
  sqliteBusyTimeoutMs: number;
  /** How long one statement may run (ms): PostgreSQL's statement_timeout; SQLite's `wsgate_live()` deadline. */
  statementTimeoutMs?: number;
  /** False in the executor's worker threads: the main thread has migrated already. */
  migrate?: boolean;
  /** PostgreSQL connections at most (10). */
  poolSize?: number;
  /**
   * For one sequential caller (an executor's worker thread): statements are not kept out of each other's
   * transactions, and `transaction` is available.
   */
  dedicated?: boolean;
  /** False: `prisma` is not loaded (worker threads); reading it throws. */
  models?: boolean;
}

const withoutModels = (): never => {
  throw new Error("Prisma's client is not loaded here (a database opened without models): use raw statements");
};

/** Prisma's generated clients, imported only where models are wanted (their runtime is ~10 MB a thread). */
async function prismaClients() {
  const [sqliteClient, postgresClient] = await Promise.all([import('./generated/sqlite/client.js'), import('./generated/postgresql/client.js')]);
  return { SqliteClient: sqliteClient.PrismaClient, PostgresClient: postgresClient.PrismaClient };
}

export async function openDatabase(url: string, options: OpenOptions): Promise<Database> {
  const location = parseDatabaseUrl(url);
  const migrationsDir = (provider: Provider) => path.join(options.migrationsDir, provider, 'migrations');
  if (location.provider === 'sqlite') {
    // Owner-only when wsgate creates the folder: the database holds sessions, results and (encrypted) keys.
    if (location.file !== ':memory:') {
      fs.mkdirSync(path.dirname(location.file), { recursive: true, mode: 0o700 });
      createOwnerOnly(location.file);
    }
    if (options.migrate !== false) migrateSqliteFile(location.file, migrationsDir('sqlite'), options.sqliteBusyTimeoutMs);
    const factory = new PrismaBetterSQLite3({ url: `file:${location.file}` }, { timestampFormat: 'unixepoch-ms' });
    const connect = factory.connect.bind(factory);
    let connection: SqliteConnection | undefined;
    let connecting: Promise<SqliteConnection> | undefined;
    // The driver's statements open the one connection without Prisma, whose query compiler (a Wasm module,
    // ~15 MB a thread) is then loaded only by a first Prisma call, which gets the same connection.
    const connected = () =>
      (connecting ??= connect()
        .then(
          (adapter) =>
            (connection = prepareSqliteAdapter(adapter, {
              busyTimeoutMs: options.sqliteBusyTimeoutMs,
              dedicated: options.dedicated,
              statementTimeoutMs: options.statementTimeoutMs,
            })),
        )
        .catch((error: unknown) => {
          connecting = undefined;
          throw error;
        }));
    factory.connect = async () => (await connected()).adapter;
    const prisma = options.models === false ? undefined : new (await prismaClients()).SqliteClient({ adapter: factory });
    const raw = sqliteRaw(connected);
    return {
      get prisma() {
        return prisma ?? withoutModels();
      },
      raw: tracedRaw(raw, 'sqlite'),
      atomic: async (fn, atomicOptions) => (await connected()).atomic((inside) => fn(tracedRaw(raw.within(inside), 'sqlite')), atomicOptions?.timeoutMs),
      dialect: sqlite,
      transaction: options.dedicated ? async (fn) => (await connected()).atomic(() => fn()) : null,
      listen: () => null,
      poolUse: () => ({ total: connection ? 1 : 0, busy: connection?.client.inTransaction ? 1 : 0, waiting: 0 }),
      close: async () => {
        await prisma?.$disconnect();
        // An open still under way ends first, or its connection would outlive the close.
        await connecting?.catch(() => undefined);
        // Prisma closes the connection it used; one only the driver used is closed here.
        if (connection?.client.open) await connection.adapter.dispose();
      },
    };
  }
  if (options.migrate !== false) await migratePostgresDatabase(location.url, migrationsDir('postgresql'));
  const pool = new pg.Pool({
    connectionString: location.url,
    max: options.poolSize ?? 10,
    allowExitOnIdle: true,
    // No JIT: PostgreSQL compiles a statement whose estimated cost passes jit_above_cost, which a large table
    // inflates, at every execution: 50-100 ms of compiling for the queue gauges' statement (README, Metrics
    // and health) that runs in a few ms at 1,000,000 entries. wsgate's statements are short. An `options` in
    // DATABASE_URL replaces this.
    options: '-c jit=off',
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // An idle client whose connection dies (the server stopped or restarted) is an 'error' event on the pool,
  // which would end the process unheard. The pool drops that client by itself; the next statement on a new
  // one finds out whether the database serves, and its caller answers or retries.
  pool.on('error', () => undefined);
  const routed = options.dedicated ? routeToTransaction(pool) : null;
  const factory = new PrismaPg(pool);
  if (routed) {
    const connect = factory.connect.bind(factory);
    // Prisma's queries go to the open transaction's connection while one is open (see routeToTransaction).
    factory.connect = async () => Object.assign(await connect(), { client: routed.queryable });
  }
  const prisma = options.models === false ? undefined : (new (await prismaClients()).PostgresClient({ adapter: factory }) as unknown as Db);
  const listen = (channel: string, onPayload: (payload: string) => void, onError: (error: Error) => void, onBack?: () => void, onListening?: () => void) =>
    listenPostgres(location.url, channel, onPayload, onError, onBack, onListening);
  const notices = sessionNotices(listen, (channel, payload) => pool.query('SELECT pg_notify($1, $2)', [channel, payload]));
  const wakes = queueNotices((queue, dueAtMs) => pool.query('SELECT pg_notify($1, $2)', [QUEUE_CHANNEL, `${queue} ${dueAtMs}`]));
  const raw = tracedRaw(postgresRaw(routed?.queryable ?? pool, notices.mark), 'postgresql');
  return {
    get prisma() {
      return prisma ?? withoutModels();
    },
    raw,
    atomic: routed
      ? (fn, atomicOptions) =>
          timed(
            routed.transaction(() => fn(raw)),
            atomicOptions?.timeoutMs,
          )
      : (fn, atomicOptions) => pgAtomic(pool, fn, atomicOptions?.timeoutMs),
    dialect: postgresql,
    transaction: routed?.transaction ?? null,
    listen,
    poolUse: () => ({ total: pool.totalCount, busy: pool.totalCount - pool.idleCount, waiting: pool.waitingCount }),
    queueNotices: wakes,
    close: async () => {
      await wakes.flush();
      await notices.stop();
      await prisma?.$disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}

/**
 * Creates the SQLite file owner-only (0600) before SQLite opens it, whatever the process's umask: SQLite
 * gives the -wal and -shm files it makes beside it the database file's mode. An existing file keeps the
 * mode its owner gave it.
 */
function createOwnerOnly(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // An existing file (from an older version, which left it 0644) is made owner-only too, with its WAL files.
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      try {
        if (fs.statSync(f).mode & 0o077) fs.chmodSync(f, 0o600);
      } catch {
        // Absent, or not ours to change: SQLite opens it as it is.
      }
    }
    return;
  }
  try {
    fs.fchmodSync(fd, 0o600);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A pool stand-in for a dedicated database: `query` runs on the open transaction's connection while one is
 * open, on the pool otherwise. `transaction` opens one.
 */
function routeToTransaction(pool: pg.Pool) {
  let open: pg.PoolClient | null = null;
  const queryable = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'query') return (...args: unknown[]) => (open ?? target).query(...(args as Parameters<pg.Pool['query']>));
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const transaction = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (open) throw new Error('a transaction is open already on this dedicated database');
    const client = await pool.connect();
    let failed: Error | undefined;
    // The connection may die between statements (the server stopped): its 'error' event must be heard, or it
    // ends the thread; the next statement on it fails and the transaction ends as failed.
    const onLost = (error: Error) => (failed ??= error);
    client.on('error', onLost);
    try {
      await client.query('BEGIN');
      open = client;
      const result = await fn();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      failed = error as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      open = null;
      client.off('error', onLost);
      client.release(failed && isConnectionLost(failed) ? failed : undefined);
    }
  };
  return { queryable, transaction };
}

const isConnectionLost = (error: Error) => /Connection terminated|ECONNRESET|EPIPE|not queryable|terminating connection|shutting down/i.test(error.message);

/** `work`, or a rejection once it has run `timeoutMs` (it goes on; a dedicated transaction ends with it). */
function timed<T>(work: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (!timeoutMs) return work;
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(transactionTimedOut(timeoutMs)), timeoutMs)))]).finally(() =>
    clearTimeout(timer),
  );
}

/**
 * A transaction on a connection of its own, taken from the pool for it: `fn`'s statements go to it and
 * nowhere else, and no other caller's statement runs in it. Past `timeoutMs` it is rolled back and the
 * connection released; `fn`'s later statements fail.
 */
async function pgAtomic<T>(pool: pg.Pool, fn: (tx: Queryable) => Promise<T>, timeoutMs: number | undefined): Promise<T> {
  const client = await pool.connect();
  let failed: Error | undefined;
  let open = true;
  const onLost = (error: Error) => (failed ??= error);
  client.on('error', onLost);
  const guarded: Pick<pg.Pool, 'query'> = {
    query: ((...args: Parameters<pg.PoolClient['query']>) => {
      if (!open) return Promise.reject(new Error('The transaction has already ended'));
      return (client.query as (...a: unknown[]) => unknown)(...args);
    }) as pg.Pool['query'],
  };
  try {
    await client.query('BEGIN');
    const result = await timed(fn(tracedRaw(postgresRaw(guarded), 'postgresql')), timeoutMs);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failed ??= error as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    open = false;
    client.off('error', onLost);
    client.release(failed && isConnectionLost(failed) ? failed : undefined);
  }
}
