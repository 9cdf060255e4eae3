// PostgreSQL, when one machine is not enough: a pool of connections, LISTEN/NOTIFY between processes,
// migrated before anything else. Imported only for PostgreSQL (node-postgres costs ~3 MB a thread).
import type pg from 'pg';
import { nodePostgres } from './pg.js';
import type { Database, Db, OpenOptions, OpenTransaction, TransactionOptions } from './client.js';
import { prismaClients, withoutModels } from './models.js';
import { migratePostgresDatabase } from './migrate.js';
import { postgresql, QUEUE_CHANNEL } from './dialect.js';
import { tracedRaw, type Queryable } from './raw.js';
import { postgresRaw } from './postgres-raw.js';
import { DEFAULT_TRANSACTION_MS, transactionTimedOut } from './errors.js';
import { listenPostgres } from './listen.js';
import { sessionNotices } from './session-notices.js';
import { queueNotices } from './queue-notices.js';

export async function openPostgres(url: string, migrations: string, options: OpenOptions): Promise<Database> {
  if (options.migrate !== false) await migratePostgresDatabase(url, migrations);
  const poolOptions = {
    connectionString: url,
    allowExitOnIdle: true,
    // No JIT: PostgreSQL compiles a statement whose estimated cost passes jit_above_cost, which a large table
    // inflates, at every execution: 50-100 ms of compiling for the queue gauges' statement (README, Metrics
    // and health) that runs in a few ms at 1,000,000 entries. wsgate's statements are short. An `options` in
    // DATABASE_URL replaces this.
    options: '-c jit=off',
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  };
  const pool = new nodePostgres.Pool({ ...poolOptions, max: options.poolSize ?? 10 });
  // An idle client whose connection dies (the server stopped or restarted) is an 'error' event on the pool,
  // which would end the process unheard. The pool drops that client by itself; the next statement on a new
  // one finds out whether the database serves, and its caller answers or retries.
  pool.on('error', () => undefined);
  const routed = options.dedicated ? routeToTransaction(pool) : null;
  const prisma = options.models === false ? undefined : await modelsOn(pool, routed);
  const listen = (channel: string, onPayload: (payload: string) => void, onError: (error: Error) => void, onBack?: () => void, onListening?: () => void) =>
    listenPostgres(url, channel, onPayload, onError, onBack, onListening);
  const notices = sessionNotices(listen, (channel, payload) => pool.query('SELECT pg_notify($1, $2)', [channel, payload]));
  const wakes = queueNotices((queue, dueAtMs) => pool.query('SELECT pg_notify($1, $2)', [QUEUE_CHANNEL, `${queue} ${dueAtMs}`]));
  const raw = tracedRaw(postgresRaw(routed?.queryable ?? pool, notices.mark), 'postgresql');
  // One connection, opened at its first statement (only executors claim). The setting is made as it
  // connects (pg-pool's onConnect, awaited before its first statement), not in its startup options, which an
  // `options` in DATABASE_URL would replace.
  const unflushedPool = options.dedicated
    ? null
    : new nodePostgres.Pool({
        ...poolOptions,
        max: 1,
        onConnect: async (client: pg.ClientBase) => {
          await client.query('SET synchronous_commit = off');
        },
      });
  unflushedPool?.on('error', () => undefined);
  return {
    get prisma() {
      return prisma ?? withoutModels();
    },
    raw,
    unflushed: unflushedPool ? tracedRaw(postgresRaw(unflushedPool), 'postgresql') : raw,
    // A dedicated database has one sequential caller, whose own deadline (the executor's) ends it: no timeoutMs.
    atomic: routed ? (fn) => routed.transaction(() => fn(raw)) : (fn, atomicOptions) => pgAtomic(pool, fn, atomicOptions?.timeoutMs ?? DEFAULT_TRANSACTION_MS),
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
      await unflushedPool?.end().catch(() => undefined);
    },
  };
}

/** Prisma's client on the pool (its adapter and client imported only here). */
async function modelsOn(pool: pg.Pool, routed: ReturnType<typeof routeToTransaction> | null): Promise<Db> {
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const factory = new PrismaPg(pool);
  if (routed) {
    const connect = factory.connect.bind(factory);
    // Prisma's queries go to the open transaction's connection while one is open (see routeToTransaction).
    factory.connect = async () => Object.assign(await connect(), { client: routed.queryable });
  }
  return new (await prismaClients()).PostgresClient({ adapter: factory }) as unknown as Db;
}

/**
 * A pool stand-in for a dedicated database: `query` runs on the open transaction's connection while one is
 * open, on the pool otherwise. `transaction` opens one.
 */
function routeToTransaction(pool: pg.Pool) {
  let open: InOrder | null = null;
  const queryable = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'query') return (...args: unknown[]) => (open ? open.query(args) : target.query(...(args as Parameters<pg.Pool['query']>)));
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const transaction = async <T>(fn: (tx: OpenTransaction) => Promise<T>, options?: TransactionOptions): Promise<T> => {
    if (open) throw new Error('a transaction is open already on this dedicated database');
    const client = await pool.connect();
    let failed: Error | undefined;
    // The connection may die between statements (the server stopped): its 'error' event must be heard, or it
    // ends the thread; the next statement on it fails and the transaction ends as failed.
    const onLost = (error: Error) => (failed ??= error);
    client.on('error', onLost);
    const flushed = options?.flushFirst ? client.query(postgresql.flushLog!.text) : Promise.resolve();
    flushed.catch(() => undefined); // heard below; not a rejection nobody handles while fn runs
    // BEGIN goes with the first statement, not before fn: fn starts without waiting a round trip (an
    // executor's operation starts ~0.5 ms sooner), its statements follow BEGIN's answer and never run without
    // it, and a transaction in which fn made no statement costs neither BEGIN nor COMMIT.
    let ready: Promise<unknown> | null = null;
    const tx = (open = inOrder(client, () => (ready ??= flushed.then(() => client.query('BEGIN')))));
    try {
      const result = await fn({ begun: () => ready !== null });
      await tx.settled();
      await flushed;
      if (ready) {
        await ready;
        await client.query('COMMIT');
      }
      return result;
    } catch (error) {
      failed = error as Error;
      await tx.settled();
      if (ready) await client.query('ROLLBACK').catch(() => undefined);
      // Whatever fn made of its failed statements, a transaction that never began (or whose flush failed) failed as a whole.
      const notBegun = await Promise.all([flushed, ready]).then(
        () => null,
        (e: unknown) => e,
      );
      throw notBegun ?? error;
    } finally {
      open = null;
      client.off('error', onLost);
      client.release(failed && isConnectionLost(failed) ? failed : undefined);
    }
  };
  return { queryable, transaction };
}

interface InOrder {
  query(args: unknown[]): Promise<unknown>;
  /** Resolves once every statement sent so far has its answer (or failed). */
  settled(): Promise<void>;
}

/**
 * Statements on `client` one after another, each once `begin()` (called with the first) resolved and the
 * one before it answered: a connection runs one statement at a time, and node-postgres deprecates a query
 * made while another runs. Should `begin()` fail, none is sent.
 */
function inOrder(client: pg.PoolClient, begin: () => Promise<unknown>): InOrder {
  let last: Promise<unknown> = Promise.resolve();
  return {
    query(args) {
      const ready = begin();
      const run = Promise.all([ready, last]).then(() => (client.query as (...a: unknown[]) => Promise<unknown>)(...args));
      last = run.catch(() => undefined);
      return run;
    },
    settled: () => last.then(() => undefined),
  };
}

const isConnectionLost = (error: Error) => /Connection terminated|ECONNRESET|EPIPE|not queryable|terminating connection|shutting down/i.test(error.message);

/**
 * A transaction on a connection of its own, taken from the pool for it (waiting at most CONNECT_WAIT_MS):
 * `fn`'s statements go to it and nowhere else, and no other caller's statement runs in it. Past `timeoutMs`
 * it is closed at once (`fn`'s later statements fail, even those it makes while a ROLLBACK waits behind its
 * statement still running), rolled back, and the connection released.
 */
async function pgAtomic<T>(pool: pg.Pool, fn: (tx: Queryable) => Promise<T>, timeoutMs: number): Promise<T> {
  const client = await connectWithin(pool, CONNECT_WAIT_MS);
  let failed: Error | undefined;
  let open = true;
  let timer: NodeJS.Timeout | undefined;
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
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        open = false;
        reject(transactionTimedOut(timeoutMs));
      }, timeoutMs);
    });
    const result = await Promise.race([fn(tracedRaw(postgresRaw(guarded), 'postgresql')), expired]);
    if (!open) throw transactionTimedOut(timeoutMs);
    open = false;
    await client.query('COMMIT');
    return result;
  } catch (error) {
    open = false;
    failed ??= error as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
    client.off('error', onLost);
    client.release(failed && isConnectionLost(failed) ? failed : undefined);
  }
}

/** How long a transaction waits for a connection of the pool (as Prisma's maxWait did). */
const CONNECT_WAIT_MS = 15_000;

/** A pooled connection, or an error once `ms` have passed; one that comes later goes back to the pool. */
async function connectWithin(pool: pg.Pool, ms: number): Promise<pg.PoolClient> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const connecting = pool.connect();
  try {
    return await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          late = true;
          reject(new Error(`No database connection was free for a transaction within ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (late) connecting.then((client) => client.release()).catch(() => undefined);
  }
}
