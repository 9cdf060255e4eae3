// What the tests that hold a statement to its index walk look at: SQLite's EXPLAIN QUERY PLAN and the bytes
// it reads (Linux's /proc), PostgreSQL's EXPLAIN ANALYZE.
import { readFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type * as SQL from '../src/db/sql.js';

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Rows Removed by Filter'?: number;
  'Parent Relationship'?: string;
  'Actual Loops'?: number;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}
/** SQLite's plan of `q` (EXPLAIN QUERY PLAN), a line per step. */
export function sqlitePlan(file: string, q: SQL.Sql): string[] {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return (db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.values.map((v) => (v instanceof Date ? v.getTime() : v))) as { detail: string }[]).map(
      (r) => r.detail,
    );
  } finally {
    db.close();
  }
}
/** Bytes this thread has read from files so far (/proc/thread-self/io's rchar: page-cache hits included). */
const bytesReadByThread = () => Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/thread-self/io', 'utf8'))![1]);

/**
 * How many bytes of the database SQLite read to run `q` on a connection of its own, opened for it (its page
 * cache empty, its pages read by pread, memory mapping off), in a transaction rolled back: a measure of
 * the pages a statement visits, which SQLite does not count itself. Its schema is read before.
 */
export function sqliteBytesRead(file: string, q: SQL.Sql): number {
  const db = new BetterSqlite3(file);
  try {
    db.pragma('mmap_size = 0');
    const statement = db.prepare(q.sql);
    const values = q.values.map((v) => (v instanceof Date ? v.getTime() : v));
    db.exec('BEGIN IMMEDIATE');
    const before = bytesReadByThread();
    statement.all(...values);
    const read = bytesReadByThread() - before;
    db.exec('ROLLBACK');
    return read;
  } finally {
    db.close();
  }
}
/**
 * The plan of `q` as PostgreSQL ran it (EXPLAIN ANALYZE), in a transaction rolled back: a claim changes
 * nothing. `prelude`'s statements run first in that transaction (SET LOCAL, a DROP INDEX undone with it).
 */
export async function analyzed(url: string, q: SQL.Sql, prelude: string[] = []): Promise<PlanNode> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    for (const statement of prelude) await client.query(statement);
    const explained = await client.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${q.text}`,
      q.values.map((v) => (v instanceof Date ? v.toISOString() : v)),
    );
    await client.query('ROLLBACK');
    return (explained.rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
  } finally {
    await client.end();
  }
}
/** Every node of the plan, InitPlans and SubPlans included. */
export const allNodesOf = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(allNodesOf)];
