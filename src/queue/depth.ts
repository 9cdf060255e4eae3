// Every queue's entries by state and its oldest waiting entry, in one statement: a GROUP BY over the index
// (queue, state, available_at) that reads the index alone, not the entries (the metrics, `wsgate top`).
import { Prisma } from '../db/generated/sqlite/client.js';
import type { Database } from '../db/client.js';
import { toDate } from '../db/values.js';
import type { QueueDepth } from '../observe/metrics.js';

export type { QueueDepth };

/** `known`: queues listed even without entries (the configured ones), with zeros. */
export async function queueDepth(db: Database, now: Date, known: string[] = []): Promise<QueueDepth[]> {
  // Queued entries due later than now are delayed; the earliest available_at of a queue's queued entries is
  // its oldest waiting one's due time when that lies in the past (else none waits).
  const rows = await db.raw.query<{ queue: string; state: string; n: unknown; later: unknown; first: unknown }>(
    Prisma.sql`
      SELECT queue, state, count(*) AS n, sum(CASE WHEN available_at > ${now} THEN 1 ELSE 0 END) AS later, min(available_at) AS first
      FROM ws_queued_operation GROUP BY queue, state`,
    { prepared: true },
  );
  const byQueue = new Map<string, QueueDepth>();
  for (const queue of known) byQueue.set(queue, { queue, waiting: 0, delayed: 0, running: 0, failed: 0, done: 0, oldestWaitingDueAt: null });
  for (const r of rows) {
    let q = byQueue.get(r.queue);
    if (!q) byQueue.set(r.queue, (q = { queue: r.queue, waiting: 0, delayed: 0, running: 0, failed: 0, done: 0, oldestWaitingDueAt: null }));
    const n = Number(r.n);
    if (r.state === 'queued') {
      const later = Number(r.later ?? 0);
      q.delayed += later;
      q.waiting += n - later;
      const first = r.first === null || r.first === undefined ? null : toDate(r.first);
      if (n > later && first && first <= now) q.oldestWaitingDueAt = first;
    } else if (r.state === 'running') q.running += n;
    else if (r.state === 'failed') q.failed += n;
    else q.done += n;
  }
  return [...byQueue.values()].sort((a, b) => a.queue.localeCompare(b.queue));
}
