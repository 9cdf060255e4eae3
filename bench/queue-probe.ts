// Reads a running gateway's queue table from outside (its own connection on the driver): entries per state,
// entries finished in a time window, the table's size and, on PostgreSQL, its dead tuples.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import pg from 'pg';
import { sqliteFile, type System } from './databases.js';

export interface QueueSize {
  rows: number;
  /** Table and its indexes, in MB (SQLite: their pages, from dbstat). */
  tableMb: number;
  /** PostgreSQL: pg_stat_user_tables.n_dead_tup; SQLite: pages on the freelist (reused, never returned). */
  deadTuples: number | null;
  freePages: number | null;
  /** SQLite: the database file and its WAL, in MB. */
  fileMb: number | null;
  autovacuums: number | null;
}

export interface Entry {
  id: string;
  state: string;
  /** The stored result starts with a success envelope. */
  succeeded: boolean;
  hasResult: boolean;
}

export interface QueueProbe {
  byState(): Promise<Record<string, number>>;
  /** Entries done with finished_at in [from, to). */
  finishedBetween(from: Date, to: Date): Promise<number>;
  size(): Promise<QueueSize>;
  entries(): Promise<Entry[]>;
  records(): Promise<number>;
  close(): Promise<void>;
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const ENTRIES = `SELECT id, state, result IS NOT NULL AS has_result, result LIKE '{"success":true%' AS succeeded FROM ws_queued_operation`;
const pgTimestamp = (d: Date) => d.toISOString().replace('Z', '');

export async function openQueueProbe(system: System, url: string): Promise<QueueProbe> {
  if (system === 'sqlite') {
    const file = sqliteFile(url);
    const db = new Database(file, { readonly: true, timeout: 10_000 });
    const fileSize = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
    return {
      byState: async () =>
        Object.fromEntries(
          (db.prepare('SELECT state, count(*) AS n FROM ws_queued_operation GROUP BY state').all() as { state: string; n: number }[]).map((r) => [
            r.state,
            r.n,
          ]),
        ),
      finishedBetween: async (from, to) =>
        (
          db
            .prepare(`SELECT count(*) AS n FROM ws_queued_operation WHERE state = 'done' AND finished_at >= ? AND finished_at < ?`)
            .get(from.getTime(), to.getTime()) as { n: number }
        ).n,
      size: async () => {
        const pages = db
          .prepare(
            `SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name IN ('ws_queue_entry', 'ws_queue_result'))`,
          )
          .get() as { bytes: number };
        const rows = (db.prepare('SELECT count(*) AS n FROM ws_queued_operation').get() as { n: number }).n;
        const free = db.pragma('freelist_count', { simple: true }) as number;
        return {
          rows,
          tableMb: mb(pages.bytes ?? 0),
          deadTuples: null,
          freePages: free,
          fileMb: mb(fileSize(file) + fileSize(`${file}-wal`)),
          autovacuums: null,
        };
      },
      entries: async () =>
        (db.prepare(ENTRIES).all() as { id: string; state: string; has_result: number; succeeded: number | null }[]).map((r) => ({
          id: r.id,
          state: r.state,
          hasResult: r.has_result === 1,
          succeeded: r.succeeded === 1,
        })),
      records: async () => (db.prepare('SELECT count(*) AS n FROM ws_record').get() as { n: number }).n,
      close: async () => void db.close(),
    };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    byState: async () =>
      Object.fromEntries((await client.query('SELECT state, count(*)::int AS n FROM ws_queued_operation GROUP BY state')).rows.map((r) => [r.state, r.n])),
    finishedBetween: async (from, to) =>
      (
        await client.query(
          `SELECT count(*)::int AS n FROM ws_queued_operation WHERE state = 'done' AND finished_at >= $1::timestamp AND finished_at < $2::timestamp`,
          [pgTimestamp(from), pgTimestamp(to)],
        )
      ).rows[0].n,
    size: async () => {
      const r = (
        await client.query(`SELECT (SELECT count(*)::int FROM ws_queued_operation) AS rows,
            (pg_total_relation_size('ws_queue_entry') + pg_total_relation_size('ws_queue_result'))::bigint AS bytes,
            sum(n_dead_tup)::bigint AS dead, sum(autovacuum_count + vacuum_count)::int AS vacuums
          FROM pg_stat_user_tables WHERE relname IN ('ws_queue_entry', 'ws_queue_result')`)
      ).rows[0];
      return { rows: r.rows, tableMb: mb(Number(r.bytes)), deadTuples: Number(r.dead), freePages: null, fileMb: null, autovacuums: r.vacuums };
    },
    entries: async () =>
      (await client.query(ENTRIES)).rows.map((r) => ({ id: r.id, state: r.state, hasResult: r.has_result, succeeded: r.succeeded === true })),
    records: async () => (await client.query('SELECT count(*)::int AS n FROM ws_record')).rows[0].n,
    close: () => client.end(),
  };
}
