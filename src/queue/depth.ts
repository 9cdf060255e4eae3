// Every queue's entries by state and its oldest waiting entry, in one statement that never counts the
// entries table (the metrics, `wsgate top`, the dashboard): the counts per queue and state come from
// ws_queue_count, which triggers keep as entries are queued, change state and are deleted (migration
// 20261202000700_dashboard); per queue with queued entries, the delayed ones (due after now) are counted on
// the (state, queue, available_at) index, a range holding those entries alone, and its first queued
// entry is one seek of the same index. Waiting is queued minus delayed: no trigger can split the two,
// since an entry moves from delayed to waiting by the clock alone.
import * as sql from './sql/depth.js';
import type { Database } from '../db/client.js';
import { toDate } from '../db/values.js';
import type { QueueDepth } from '../observe/metrics.js';

export type { QueueDepth };

/** The statement (./sql/depth.ts; README, Metrics and health). */
export const depthSql = sql.depth;

const empty = (queue: string): QueueDepth => ({ queue, waiting: 0, delayed: 0, running: 0, failed: 0, done: 0, oldestWaitingDueAt: null });

/** `known`: queues listed even without entries (the configured ones), with zeros; others only with entries. */
export async function queueDepth(db: Database, now: Date, known: string[] = []): Promise<QueueDepth[]> {
  // Not prepared: read at each scrape (seconds apart), its counts read ranges of a table that grows, and a
  // prepared plan is kept however it grows (./plan-class.ts).
  const rows = await db.raw.query<{ queue: string; state: string; n: unknown; later: unknown; first: unknown }>(depthSql(now));
  const byQueue = new Map<string, QueueDepth>();
  for (const queue of known) byQueue.set(queue, empty(queue));
  for (const r of rows) {
    const n = Number(r.n);
    let q = byQueue.get(r.queue);
    if (!q && n === 0) continue; // a queue that had entries once and has none now
    if (!q) {
      q = empty(r.queue);
      byQueue.set(r.queue, q);
    }
    if (r.state === 'queued') {
      const later = Math.min(n, Number(r.later ?? 0));
      q.delayed += later;
      q.waiting += n - later;
      // The earliest queued entry is the oldest waiting one when it is due (else every queued one is delayed).
      const first = r.first === null || r.first === undefined ? null : toDate(r.first);
      if (n > later && first && first <= now) q.oldestWaitingDueAt = first;
    } else if (r.state === 'running') q.running += n;
    else if (r.state === 'failed') q.failed += n;
    else q.done += n; // done or cancelled: the result not read yet
  }
  return [...byQueue.values()].sort((a, b) => a.queue.localeCompare(b.queue));
}

/**
 * PostgreSQL: moves the counts of connections that are gone into slot 0, so that ws_queue_count stays a row
 * per queue and state and live connection (housekeeping, the dashboard). Returns the rows folded.
 */
export async function foldQueueCounts(db: Database): Promise<number> {
  // One writer at a time keeps a single row per queue and state: nothing to fold.
  if (db.dialect.serializesWrites) return 0;
  const [r] = await db.raw.query<{ n: unknown }>(sql.foldQueueCounts());
  return Number(r?.n ?? 0);
}

/** The queues that hold entries, by name. */
export async function queueNames(db: Database): Promise<string[]> {
  return (await db.raw.query<{ queue: string }>(sql.queueNames())).map((r) => r.queue);
}
