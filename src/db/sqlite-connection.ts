// Wraps the better-sqlite3 adapter's one connection so that it behaves under load and beside other processes.
//
// 1. A query made outside a transaction while one is open (another HTTP request, say) would run inside it
//    and be rolled back with it: every statement waits for the connection's open transaction to end.
// 2. better-sqlite3 waits for another connection's write lock synchronously, freezing the event loop for as
//    long as SQLite's busy_timeout. A shared connection (the gateway's) does not wait there at all, a
//    dedicated one (a worker thread's) a few milliseconds; longer waits are retried asynchronously, with
//    backoff, up to `busyTimeoutMs`, and then fail with SQLITE_BUSY. (The gateway's event loop slept ~60% of
//    the time in that wait under the sustained bench while its executor's workers committed.)
// 3. Transactions start with BEGIN IMMEDIATE (a deferred BEGIN that reads first and writes later fails
//    without waiting when another process committed in between), and whatever fails on the way in or out
//    (BEGIN, COMMIT, ROLLBACK) leaves the connection out of the transaction and free for the next caller.
//    The adapter's own startTransaction holds a private mutex that a failed BEGIN or COMMIT never releases.
import { AsyncLocalStorage } from 'node:async_hooks';
import type Database from 'better-sqlite3';
import type { SqlDriverAdapter, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';
import type { OpenTransaction } from './client.js';
import { isBusy, SQLITE_STATEMENT_TIMEOUT, transactionTimedOut } from './errors.js';

class Lock {
  private tail: Promise<void> = Promise.resolve();
  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return ready;
  }
}

/** SQLite's own, synchronous wait for a lock (ms) on a dedicated connection (a worker thread's own loop). */
const SYNC_BUSY_WAIT_MS = 5;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `fn` while the database is locked by another connection; only for statements that fail whole. */
async function whenUnlocked<T>(fn: () => T | Promise<T>, busyTimeoutMs: number): Promise<T> {
  // The wait is counted from the first refusal, not from the call: time spent queued behind this process's
  // own open transaction is not another process's lock.
  let giveUpAt: number | undefined;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      return await fn();
    } catch (error) {
      if (!isBusy(error)) throw error;
      giveUpAt ??= Date.now() + busyTimeoutMs;
      if (Date.now() >= giveUpAt) throw error;
    }
    await pause(wait);
  }
}

export interface SqliteConnection {
  adapter: SqlDriverAdapter;
  client: Database.Database;
  /** Runs one statement on the connection when no transaction is open on it, retrying while it is locked. */
  exclusive<T>(fn: () => T): Promise<T>;
  /**
   * Runs `fn` inside BEGIN IMMEDIATE ... COMMIT, the connection taken for it: `fn` runs its statements with
   * `inside` (on a shared connection every other statement waits meanwhile; on a dedicated one, statements
   * made through Prisma or the driver are part of it too). Rolled back when `fn` throws or outlives
   * `timeoutMs`; its statements after that fail.
   */
  atomic<T>(fn: (inside: InTransaction) => Promise<T>, timeoutMs?: number): Promise<T>;
  /**
   * Runs one writing statement as exclusive() does, its effect the same as its own autocommit: it commits,
   * or fails and changes nothing. On a shared connection the writes made in one turn of the event loop
   * share one transaction (group commit): each in a savepoint of its own, so that a failing one is undone
   * alone, then one COMMIT for them all. A commit writes every page it changed to the WAL; ten submits
   * that each change the queue's table and its indexes write most of those pages once instead of ten times.
   */
  grouped<T>(fn: () => T): Promise<T>;
  /**
   * Dedicated connections only: runs `fn` in a transaction that its first statement begins (BEGIN
   * IMMEDIATE), made through the driver or Prisma; one in which `fn` made none takes no lock and ends with
   * neither BEGIN nor COMMIT. Rolled back when `fn` throws.
   */
  transaction<T>(fn: (tx: OpenTransaction) => Promise<T>): Promise<T>;
}

/** Runs one statement of an open transaction (synchronously, when its turn comes). */
export type InTransaction = <R>(statement: () => R) => Promise<R>;

export interface SqliteConnectionOptions {
  /** How long a statement or BEGIN waits for another process's write lock before failing (ms). */
  busyTimeoutMs: number;
  /**
   * A connection used by one sequential caller (an executor's worker thread): no statement waits for
   * another's transaction, and `transaction()` may be used. Shared connections (the gateway) keep statements
   * out of each other's transactions.
   */
  dedicated?: boolean;
  /** How long one statement may run (ms); unlimited when absent. */
  statementTimeoutMs?: number;
}

const noLock = { acquire: async () => () => undefined };

const statementBudget = new AsyncLocalStorage<number>();

/**
 * Runs `fn` with a time limit of `ms` for each statement it makes (instead of the connection's): the gateway
 * runs a quick query on its event loop this way, and in a call worker if the budget runs out.
 */
export const withStatementBudget = <T>(ms: number, fn: () => Promise<T>): Promise<T> => statementBudget.run(ms, fn);

/** Whether the caller runs under withStatementBudget (on the gateway's event loop). */
export const underStatementBudget = (): boolean => statementBudget.getStore() !== undefined;

/** What to throw when work under a budget turns out larger than it may be there: it is run again in a call worker. */
export const budgetExceeded = (): Error => new Error(SQLITE_STATEMENT_TIMEOUT);

/**
 * Registers `wsgate_live()` on a connection: 1 until `deadline()` (epoch ms) has passed, then it raises and
 * SQLite stops the statement that asked. Any connection that runs VTQL's statements needs it.
 */
export function addLiveCheck(client: Database.Database, deadline: () => number): void {
  client.function('wsgate_live', { deterministic: false }, () => {
    if (Date.now() > deadline()) throw new Error(SQLITE_STATEMENT_TIMEOUT);
    return 1;
  });
}

export function prepareSqliteAdapter(adapter: SqlDriverAdapter, options: SqliteConnectionOptions): SqliteConnection {
  const client = (adapter as unknown as { client: Database.Database }).client;
  client.pragma('journal_mode = WAL');
  client.pragma('synchronous = NORMAL');
  client.pragma(`busy_timeout = ${options.dedicated ? SYNC_BUSY_WAIT_MS : 0}`);
  const { busyTimeoutMs } = options;
  // SQLite has no statement timeout, and better-sqlite3 exposes neither its progress handler nor
  // sqlite3_interrupt. Statements that may scan many rows (VTQL's, src/vtql/translate.ts) call wsgate_live()
  // for each row they look at: past the statement's deadline it raises, and SQLite stops the statement.
  let deadline = Number.POSITIVE_INFINITY;
  const timeoutMs = options.statementTimeoutMs;
  addLiveCheck(client, () => deadline);
  // Each statement runs synchronously when its turn comes: its deadline is set just before.
  const timed = <R>(fn: () => R): R => {
    const ms = statementBudget.getStore() ?? timeoutMs;
    deadline = ms ? Date.now() + ms : Number.POSITIVE_INFINITY;
    return fn();
  };

  const lock = options.dedicated ? noLock : new Lock();
  // Each attempt takes the connection; between attempts it is free for others (reads go through meanwhile).
  const attempt = async <R>(fn: () => R | Promise<R>): Promise<R> => {
    const release = await lock.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  };
  /** A dedicated connection's open transaction (transaction()): its first statement begins it. */
  let lazy: { beginning: Promise<void> | null } | null = null;
  const beginOf = (tx: { beginning: Promise<void> | null }) =>
    (tx.beginning ??= whenUnlocked(() => void client.prepare('BEGIN IMMEDIATE').run(), busyTimeoutMs));
  const exclusive = <R>(fn: () => R | Promise<R>): Promise<R> => {
    const tx = lazy;
    if (!tx) return whenUnlocked(() => attempt(() => timed(fn)), busyTimeoutMs);
    return beginOf(tx).then(() => {
      // SQLite rolls a transaction back by itself on some errors (disk full, I/O): what follows must not
      // run statement by statement outside it.
      if (!client.inTransaction) throw new Error('SQLite rolled the transaction back after an earlier error');
      return whenUnlocked(() => timed(fn), busyTimeoutMs);
    });
  };
  const queryRaw = adapter.queryRaw.bind(adapter);
  const executeRaw = adapter.executeRaw.bind(adapter);
  const executeScript = adapter.executeScript.bind(adapter);
  adapter.queryRaw = (q) => exclusive(() => queryRaw(q));
  adapter.executeRaw = (q) => exclusive(() => executeRaw(q));
  adapter.executeScript = (script) => attempt(() => executeScript(script));

  const rollBackIfOpen = () => {
    if (!client.inTransaction) return;
    try {
      client.prepare('ROLLBACK').run();
    } catch {
      // Nothing more can be done on this connection's side; SQLite rolls back on its own when it can.
    }
  };
  /** Takes the connection and opens a write transaction on it; the function that gives the connection back. */
  const begin = () =>
    whenUnlocked(async () => {
      const release = await lock.acquire();
      try {
        client.prepare('BEGIN IMMEDIATE').run();
        return release;
      } catch (error) {
        release();
        throw error;
      }
    }, busyTimeoutMs);

  adapter.startTransaction = async (isolationLevel) => {
    if (isolationLevel && isolationLevel !== 'SERIALIZABLE') {
      throw new Error(`SQLite transactions are serializable; isolation level ${isolationLevel} is not available`);
    }
    // On success the connection stays taken until the transaction ends.
    const release = await begin();
    let open = true;
    const end = () => {
      if (!open) return;
      open = false;
      rollBackIfOpen();
      release();
    };
    // Prisma sends COMMIT and ROLLBACK as statements on the transaction, then calls commit() or rollback().
    const run = async <R>(q: SqlQuery, fn: (q: SqlQuery) => Promise<R>): Promise<R> => {
      if (!open) throw new Error('The transaction has already ended');
      const ending = /^\s*(COMMIT|ROLLBACK)\b/i.test(q.sql);
      // SQLite rolls a transaction back by itself on some errors (disk full, I/O): what follows must not
      // run statement by statement outside it.
      if (!ending && !client.inTransaction) throw new Error('SQLite rolled the transaction back after an earlier error');
      try {
        // COMMIT can meet a reader's lock in a checkpoint; it fails whole, so it can be retried (the
        // connection stays taken: the transaction is still open).
        return ending ? await whenUnlocked(() => fn(q), busyTimeoutMs) : await fn(q);
      } catch (error) {
        if (ending) end();
        throw error;
      }
    };
    const tx: Transaction = {
      provider: adapter.provider,
      adapterName: adapter.adapterName,
      options: { usePhantomQuery: false },
      queryRaw: (q) => run(q, (x) => timed(() => queryRaw(x))),
      executeRaw: (q) => run(q, (x) => timed(() => executeRaw(x))),
      commit: async () => end(),
      rollback: async () => end(),
    };
    return tx;
  };
  const atomic = async <T>(fn: (inside: InTransaction) => Promise<T>, timeoutMs?: number): Promise<T> => {
    const release = await begin();
    let open = true;
    const endsAt = timeoutMs ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
    const inside: InTransaction = async (statement) => {
      if (!open) throw new Error('The transaction has already ended');
      // Statements run synchronously: a callback that makes one after another never lets the timer below
      // fire, so each statement checks the time too.
      if (Date.now() > endsAt) {
        open = false;
        throw transactionTimedOut(timeoutMs!);
      }
      // SQLite rolls a transaction back by itself on some errors (disk full, I/O): what follows must not
      // run statement by statement outside it.
      if (!client.inTransaction) throw new Error('SQLite rolled the transaction back after an earlier error');
      return timed(statement);
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = fn(inside);
      const result = timeoutMs
        ? await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(transactionTimedOut(timeoutMs)), timeoutMs)))])
        : await work;
      if (!client.inTransaction) throw new Error('SQLite rolled the transaction back after an earlier error');
      // COMMIT can meet a reader's lock in a checkpoint; it fails whole, so it can be retried.
      await whenUnlocked(() => client.prepare('COMMIT').run(), busyTimeoutMs);
      return result;
    } finally {
      clearTimeout(timer);
      open = false;
      rollBackIfOpen();
      release();
    }
  };
  const transaction = async <T>(fn: (tx: OpenTransaction) => Promise<T>): Promise<T> => {
    if (!options.dedicated) throw new Error('transaction() is for a dedicated connection');
    if (lazy) throw new Error('a transaction is open already on this dedicated connection');
    const tx: { beginning: Promise<void> | null } = { beginning: null };
    lazy = tx;
    try {
      const result = await fn({ begun: () => tx.beginning !== null });
      if (tx.beginning) {
        await tx.beginning;
        if (!client.inTransaction) throw new Error('SQLite rolled the transaction back after an earlier error');
        // COMMIT can meet a reader's lock in a checkpoint; it fails whole, so it can be retried.
        await whenUnlocked(() => client.prepare('COMMIT').run(), busyTimeoutMs);
      }
      return result;
    } finally {
      lazy = null;
      await tx.beginning?.catch(() => undefined);
      rollBackIfOpen();
    }
  };
  const grouped = options.dedicated
    ? exclusive
    : groupCommit(client, {
        attempt,
        setDeadline: (budget) => {
          const ms = budget ?? timeoutMs;
          deadline = ms ? Date.now() + ms : Number.POSITIVE_INFINITY;
        },
        exclusive,
        rollBackIfOpen,
        busyTimeoutMs,
      });
  return { adapter, client, exclusive, atomic, transaction, grouped };
}

interface GroupParts {
  /** Runs `fn` with the connection taken (no transaction open on it). */
  attempt<R>(fn: () => R): Promise<R>;
  /** Sets the deadline of the statement about to run from its caller's budget (withStatementBudget), if any. */
  setDeadline(budget: number | undefined): void;
  exclusive<R>(fn: () => R): Promise<R>;
  rollBackIfOpen(): void;
  busyTimeoutMs: number;
}

interface GroupedWrite {
  fn: () => unknown;
  /** The caller's withStatementBudget, taken when the statement is made: the group runs later, elsewhere. */
  budget: number | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** SQLite rolled the group's transaction back by itself (disk full, I/O) after `cause`: nothing of it committed. */
class GroupUndone extends Error {
  constructor(cause: unknown) {
    super('SQLite rolled the transaction back', { cause });
  }
}

function groupCommit(client: Database.Database, parts: GroupParts): <R>(fn: () => R) => Promise<R> {
  let waiting: GroupedWrite[] | null = null;
  const statement = (() => {
    const cache = new Map<string, Database.Statement>();
    return (sql: string) => {
      let s = cache.get(sql);
      if (!s) cache.set(sql, (s = client.prepare(sql)));
      return s;
    };
  })();
  const alone = (w: GroupedWrite) => {
    const run = () => parts.exclusive(w.fn);
    return (w.budget === undefined ? statementBudget.exit(run) : statementBudget.run(w.budget, run)).then(w.resolve, w.reject);
  };
  // Runs inside the connection's turn, synchronously: BEGIN IMMEDIATE, each write in its savepoint, COMMIT.
  // Whatever fails on the way in or out rolls everything back and is thrown: nothing of the group committed.
  const runAll = (writes: GroupedWrite[]): Outcome[] => {
    statement('BEGIN IMMEDIATE').run();
    try {
      const outcomes = writes.map((w): Outcome => {
        statement('SAVEPOINT wsgate_write').run();
        try {
          parts.setDeadline(w.budget);
          const value = w.fn();
          statement('RELEASE wsgate_write').run();
          return { ok: true, value };
        } catch (error) {
          // SQLite rolls the whole transaction back by itself on some errors (disk full, I/O).
          if (!client.inTransaction) throw new GroupUndone(error);
          statement('ROLLBACK TO wsgate_write').run();
          statement('RELEASE wsgate_write').run();
          return { ok: false, error };
        }
      });
      statement('COMMIT').run();
      return outcomes;
    } catch (error) {
      parts.rollBackIfOpen();
      throw error;
    }
  };
  const flush = () => {
    const writes = waiting!;
    waiting = null;
    if (writes.length === 1) {
      void alone(writes[0]);
      return;
    }
    // A group rolled back by SQLite itself after one write's error committed nothing: each write is made
    // again on its own (the one that failed fails alone). Kept from the lock past busyTimeoutMs (BEGIN or
    // COMMIT refused as busy: nothing committed), each write fails as it would alone. Any other failure (of
    // COMMIT, say, after an I/O error) leaves it unknown whether the group committed: each write fails
    // with it, none is made a second time.
    whenUnlocked(() => parts.attempt(() => runAll(writes)), parts.busyTimeoutMs).then(
      (outcomes) => {
        for (const [i, o] of outcomes.entries()) {
          if (o.ok) writes[i].resolve(o.value);
          else writes[i].reject(o.error);
        }
      },
      (error) => {
        for (const w of writes) {
          if (error instanceof GroupUndone) void alone(w);
          else w.reject(error);
        }
      },
    );
  };
  return <R>(fn: () => R) =>
    new Promise<R>((resolve, reject) => {
      if (!waiting) {
        waiting = [];
        setImmediate(flush);
      }
      waiting.push({ fn, budget: statementBudget.getStore(), resolve: resolve as (value: unknown) => void, reject });
    });
}
