// What a running own operation reports (ctx.progress, ctx.log), made visible to every process while it
// runs. The executor runs a batch inside one transaction (src/executor/batch.ts), so the entry's own row
// cannot carry the report until the batch commits. The executor's main thread therefore writes it, from
// the messages of its workers, outside that transaction:
// - PostgreSQL: into the entry's row (progress, progress_message, output), on the main thread's own
//   connections. The batch transaction touches the row only in its final statement, so these autocommit
//   updates neither wait for it nor make it wait (and a late one, fenced by lease and state, changes
//   nothing once the entry is finished).
// - SQLite: the batch holds the database's write lock (BEGIN IMMEDIATE) for as long as its operations run,
//   so no other connection can write to that file meanwhile. The report goes to a small side file beside
//   the database (`<database>-live`, its own lock), which getQueuedOperationStatus reads for running entries.
// Either way the final report is stored with the entry's result, in the transaction that finishes it.
import { createRequire } from 'node:module';
import type Sqlite from 'better-sqlite3';
import { storeLiveReport } from './sql/complete.js';
import type { Database } from '../db/client.js';
import { parseDatabaseUrl } from '../db/url.js';

export interface LiveReport {
  progress: number | null;
  message: string | null;
  output: string[];
}

export interface LiveWrite extends LiveReport {
  id: string;
  leaseToken: string;
}

export interface LiveStore {
  /** Writes the latest reports (best effort: a write that cannot be made now is left to the next one). */
  write(rows: LiveWrite[]): Promise<void>;
  /** The report of a running entry, where it is not in the entry's row (SQLite). */
  read(id: string): LiveReport | null;
  /** Drops the reports of finished entries (their final report is in their row). */
  forget(ids: string[]): void;
  close(): void;
}

const sideFiles = new Map<string, Sqlite.Database | null>();
// Required with the first side file: a process on PostgreSQL, and each of its worker threads, does not load
// better-sqlite3 (~2 MB a thread).
const requireCjs = createRequire(import.meta.url);

/** The SQLite side file, opened once per process; null while it does not exist and `create` is false. */
function sideFile(file: string, create: boolean): Sqlite.Database | null {
  const known = sideFiles.get(file);
  if (known) return known;
  let db: Sqlite.Database;
  try {
    const Sqlite = requireCjs('better-sqlite3') as typeof import('better-sqlite3');
    db = new Sqlite(`${file}-live`, { fileMustExist: !create });
  } catch {
    return null;
  }
  db.pragma('journal_mode = WAL');
  // A write waits briefly for another executor's write; beyond that it is skipped (the next one catches up).
  db.pragma('busy_timeout = 50');
  db.exec(`CREATE TABLE IF NOT EXISTS live (id TEXT PRIMARY KEY, progress REAL, message TEXT, output TEXT NOT NULL)`);
  sideFiles.set(file, db);
  return db;
}

function sqliteStore(file: string): LiveStore {
  return {
    async write(rows) {
      const db = sideFile(file, true);
      if (!db) return;
      const upsert = db.prepare(`INSERT INTO live (id, progress, message, output) VALUES (?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET progress = excluded.progress, message = excluded.message, output = excluded.output`);
      try {
        db.transaction(() => {
          for (const r of rows) upsert.run(r.id, r.progress, r.message, JSON.stringify(r.output));
        })();
      } catch {
        // Busy: the next write carries the latest report.
      }
    },
    read(id) {
      const db = sideFile(file, false);
      const row = db?.prepare('SELECT progress, message, output FROM live WHERE id = ?').get(id) as
        | { progress: number | null; message: string | null; output: string }
        | undefined;
      return row ? { progress: row.progress, message: row.message, output: JSON.parse(row.output) as string[] } : null;
    },
    forget(ids) {
      const db = sideFile(file, false);
      if (!db || ids.length === 0) return;
      try {
        db.prepare(`DELETE FROM live WHERE id IN (${ids.map(() => '?').join(', ')})`).run(...ids);
      } catch {
        // Busy: the row stays, harmless (read only for running entries).
      }
    },
    // The side file stays open for the process (its readers and writers share one handle).
    close() {},
  };
}

function postgresStore(db: Database): LiveStore {
  return {
    async write(rows) {
      for (const r of rows) {
        await db.raw.execute(storeLiveReport(r.id, r.leaseToken, r.progress, r.message, JSON.stringify(r.output)));
      }
    },
    read: () => null,
    forget() {},
    close() {},
  };
}

/** The store for this database: `db` writes PostgreSQL's reports (SQLite's go to the side file). */
export function liveStoreOf(databaseUrl: string, db?: Database): LiveStore | null {
  const location = parseDatabaseUrl(databaseUrl);
  if (location.provider === 'sqlite') return location.file === ':memory:' ? null : sqliteStore(location.file);
  return db ? postgresStore(db) : null;
}

/** The columns of an entry's final report, for the statement that finishes it. */
export const reportColumns = (r: LiveReport | undefined) => ({
  progress: r?.progress ?? null,
  message: r?.message ?? null,
  output: r && r.output.length > 0 ? JSON.stringify(r.output) : null,
});
