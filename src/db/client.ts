// Opens the database named by DATABASE_URL (sqlite-open.ts, postgres-open.ts), applies pending migrations,
// and hides the provider from every layer above: they get the driver (raw), transactions on it (atomic),
// Prisma's client where models are wanted (both providers' generated clients have identical models), and
// the Dialect, which holds every difference (its name too).
import path from 'node:path';
import type { PrismaClient as SqliteClient } from './generated/sqlite/client.js';
import { parseDatabaseUrl } from './url.js';
import type { Dialect } from './dialect.js';
import type { Queryable, RawSql } from './raw.js';
import type { Listening } from './listen.js';
import type { QueueNotices } from './queue-notices.js';

export type Db = SqliteClient;
/**
 * What operations and the queue's functions run their statements on: the driver, or the transaction they
 * run in (Database.atomic), which is all they get then.
 */
export type DbTx = Queryable;

export interface TransactionOptions {
  /**
   * At the transaction's start, the dialect's flushLog (where it has one), sent without waiting for it: fn
   * starts at once, and its statements reach the database only once every commit before them is on disk.
   */
  flushFirst?: boolean;
}

/** What `transaction`'s function is told of its transaction. */
export interface OpenTransaction {
  /**
   * True once a statement was made in it. Its first statement begins it (PostgreSQL's BEGIN, SQLite's BEGIN
   * IMMEDIATE and its write lock): one that made none has not begun, holds no lock and ends with neither
   * BEGIN nor COMMIT (its caller may then make its one write a statement of its own, which commits by itself).
   */
  begun(): boolean;
}

export interface Database {
  /**
   * Prisma's client, for the few statements written with its models (the CLI's user commands); loaded only
   * where the database was opened with `models` (not in worker threads nor in serve, work and execute,
   * which run raw statements only: its runtime and query compiler cost ~27 MB a thread).
   */
  prisma: Db;
  /** The driver itself; never from inside a transaction's callback, which gets its own Queryable. */
  raw: RawSql;
  /**
   * The driver on a connection whose commits do not wait for the write-ahead log to reach the disk
   * (PostgreSQL: `synchronous_commit = off`, ~0.6-0.9 ms less per statement on this VM's disk), for
   * statements that a crash of the server may undo harmlessly: the executor's claims (src/queue/store.ts
   * claim). SQLite: `raw` (its commits are not the executor's latency).
   */
  unflushed: RawSql;
  /**
   * Runs `fn` in one transaction on the driver; `fn` makes its statements on the Queryable it gets. Rolled
   * back when `fn` throws, or outlives `timeoutMs` (30 s when not given; its later statements then fail).
   * On a `dedicated` database no time limit applies: its one caller's own deadline ends it.
   */
  atomic<T>(fn: (tx: Queryable) => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
  dialect: Dialect;
  /**
   * Databases opened `dedicated` only (null otherwise): runs `fn` in a transaction on the one connection, so
   * that every statement made meanwhile through `raw` is part of it (an executor's batch: its claim
   * check, the operations and the completions in one transaction). Its first statement begins it.
   */
  transaction: (<T>(fn: (tx: OpenTransaction) => Promise<T>, options?: TransactionOptions) => Promise<T>) | null;
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

export async function openDatabase(url: string, options: OpenOptions): Promise<Database> {
  const location = parseDatabaseUrl(url);
  const migrations = path.join(options.migrationsDir, location.provider, 'migrations');
  // Each database's driver is imported only when it is the one in use.
  if (location.provider === 'sqlite') return (await import('./sqlite-open.js')).openSqlite(location.file, migrations, options);
  return (await import('./postgres-open.js')).openPostgres(location.url, migrations, options);
}
