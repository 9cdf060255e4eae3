// The embedded default: one SQLite file, one connection per thread (shared by the driver's statements and,
// where it is loaded, Prisma's client), migrated before anything else. Imported only for SQLite.
import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import type { Database, OpenOptions } from './client.js';
import { prismaClients, withoutModels } from './models.js';
import { migrateSqliteFile } from './migrate.js';
import { sqlite } from './dialect.js';
import { prepareSqliteAdapter, type SqliteConnection } from './sqlite-connection.js';
import { DEFAULT_TRANSACTION_MS } from './errors.js';
import { sqliteRaw, tracedRaw } from './raw.js';

export async function openSqlite(file: string, migrations: string, options: OpenOptions): Promise<Database> {
  // Owner-only when wsgate creates the folder: the database holds sessions, results and (encrypted) keys.
  if (file !== ':memory:') {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    createOwnerOnly(file);
  }
  if (options.migrate !== false) migrateSqliteFile(file, migrations, options.sqliteBusyTimeoutMs);
  const factory = new PrismaBetterSQLite3({ url: `file:${file}` }, { timestampFormat: 'unixepoch-ms' });
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
  const traced = tracedRaw(raw, 'sqlite');
  return {
    get prisma() {
      return prisma ?? withoutModels();
    },
    raw: traced,
    unflushed: traced,
    // A dedicated database has one sequential caller, whose own deadline (the executor's) ends it.
    atomic: async (fn, atomicOptions) =>
      (await connected()).atomic(
        (inside) => fn(tracedRaw(raw.within(inside), 'sqlite')),
        atomicOptions?.timeoutMs ?? (options.dedicated ? undefined : DEFAULT_TRANSACTION_MS),
      ),
    dialect: sqlite,
    transaction: options.dedicated ? async (fn) => (await connected()).transaction(fn) : null,
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
