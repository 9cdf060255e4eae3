// The better-sqlite3 adapter runs every query of a PrismaClient on one connection. Its own mutex orders
// transactions among themselves, but a query made outside a transaction while one is open (another HTTP
// request, say) would run inside it, and be rolled back with it. This wraps the adapter so that such a
// query waits until the open transaction has ended. It also tunes the connection for several processes
// sharing the file.
import type Database from 'better-sqlite3';
import type { SqlDriverAdapter, Transaction } from '@prisma/driver-adapter-utils';

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

export interface SqliteConnection {
  adapter: SqlDriverAdapter;
  client: Database.Database;
  /** Runs `fn` on the connection when no transaction is open on it (see above). */
  exclusive<T>(fn: () => T): Promise<T>;
}

export function prepareSqliteAdapter(adapter: SqlDriverAdapter): SqliteConnection {
  const client = (adapter as unknown as { client: Database.Database }).client;
  client.pragma('journal_mode = WAL');
  client.pragma('synchronous = NORMAL');
  client.pragma('busy_timeout = 10000');
  // A deferred BEGIN that reads first and writes later fails with SQLITE_BUSY, without waiting, when another
  // process committed in between; BEGIN IMMEDIATE takes the write lock up front and waits for it instead.
  const prepare = client.prepare.bind(client);
  client.prepare = ((sql: string) => prepare(sql === 'BEGIN' ? 'BEGIN IMMEDIATE' : sql)) as typeof client.prepare;

  const lock = new Lock();
  const serialized = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const release = await lock.acquire();
      try {
        return await fn(...args);
      } finally {
        release();
      }
    };
  adapter.queryRaw = serialized(adapter.queryRaw.bind(adapter));
  adapter.executeRaw = serialized(adapter.executeRaw.bind(adapter));
  adapter.executeScript = serialized(adapter.executeScript.bind(adapter));
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => {
    const release = await lock.acquire();
    let tx: Transaction;
    try {
      tx = await startTransaction(isolationLevel);
    } catch (e) {
      release();
      throw e;
    }
    const commit = tx.commit.bind(tx);
    const rollback = tx.rollback.bind(tx);
    tx.commit = () => commit().finally(release);
    tx.rollback = () => rollback().finally(release);
    return tx;
  };
  return {
    adapter,
    client,
    async exclusive(fn) {
      const release = await lock.acquire();
      try {
        return fn();
      } finally {
        release();
      }
    },
  };
}
