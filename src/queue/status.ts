// A deferred operation's status for the user who queued it (without consuming its result), cancelling one
// that has not started, and the queue's counts for `wsgate status`.
import { Prisma } from '../db/generated/sqlite/client.js';
import type { Database, DbTx } from '../db/client.js';
import { toDate } from '../db/values.js';
import type { AttemptError } from './store.js';

export type QueuedOperationState = 'queued' | 'delayed' | 'running' | 'done' | 'failed' | 'cancelled';

export interface QueuedOperationStatus {
  operationTrackingID: string;
  operation: string;
  state: QueuedOperationState;
  queue: string;
  priority: number;
  attempts: number;
  errors: AttemptError[];
  submittedAt: Date;
  dueAt: Date;
  /** When an executor may take it next (a retry's backoff, or its due time); null unless queued. */
  nextAttemptAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const optionalDate = (v: unknown) => (v === null || v === undefined ? null : toDate(v));

export async function statusOf(db: DbTx, operationTrackingID: string, userId: number, now: Date): Promise<QueuedOperationStatus | null> {
  const rows = await db.$queryRaw<Record<string, unknown>[]>`
    SELECT id, operation, state, queue, priority, attempts, errors, submitted_at, due_at, available_at, started_at, finished_at
    FROM ws_queued_operation WHERE id = ${operationTrackingID} AND user_id = ${userId}`;
  const r = rows[0];
  if (!r) return null;
  const stored = String(r.state) as Exclude<QueuedOperationState, 'delayed'>;
  const state = stored === 'queued' && toDate(r.available_at) > now ? 'delayed' : stored;
  return {
    operationTrackingID: String(r.id),
    operation: String(r.operation),
    state,
    queue: String(r.queue),
    priority: Number(r.priority),
    attempts: Number(r.attempts),
    errors: r.errors ? (JSON.parse(String(r.errors)) as AttemptError[]) : [],
    submittedAt: toDate(r.submitted_at),
    dueAt: toDate(r.due_at),
    nextAttemptAt: stored === 'queued' ? toDate(r.available_at) : null,
    startedAt: optionalDate(r.started_at),
    finishedAt: optionalDate(r.finished_at),
  };
}

/**
 * Cancels a queued entry of this user that has not started; its result becomes `envelope`, read once like
 * any other. False when there is no such entry in the queued state.
 */
export async function cancelQueued(db: DbTx, operationTrackingID: string, userId: number, envelope: string, now: Date, resultTtlSeconds: number): Promise<boolean> {
  const n = await db.$executeRaw`
    UPDATE ws_queued_operation
    SET state = 'cancelled', params = '{}', result = ${envelope}, finished_at = ${now},
        result_expires_at = ${new Date(now.getTime() + resultTtlSeconds * 1000)}
    WHERE id = ${operationTrackingID} AND user_id = ${userId} AND state = 'queued'`;
  return n === 1;
}

export interface QueueCounts {
  /** Queued and due. */
  waiting: number;
  /** Queued with a due time (or a retry's backoff) still ahead. */
  delayed: number;
  running: number;
  failed: number;
  /** Finished (done or cancelled), result not read yet. */
  done: number;
}

export async function queueCounts(db: Database, now: Date, queues?: string[]): Promise<QueueCounts> {
  const rows = await db.raw.query<{ state: string; later: unknown; n: unknown }>(Prisma.sql`
    SELECT state, later, count(*) AS n FROM (
      SELECT state, CASE WHEN state = 'queued' AND available_at > ${now} THEN 1 ELSE 0 END AS later
      FROM ws_queued_operation
      ${queues ? Prisma.sql`WHERE queue IN (${Prisma.join(queues)})` : Prisma.empty}
    ) AS entries
    GROUP BY state, later`);
  const counts: QueueCounts = { waiting: 0, delayed: 0, running: 0, failed: 0, done: 0 };
  for (const r of rows) {
    const n = Number(r.n);
    if (r.state === 'queued') counts[Number(r.later) ? 'delayed' : 'waiting'] += n;
    else if (r.state === 'running') counts.running += n;
    else if (r.state === 'failed') counts.failed += n;
    else counts.done += n;
  }
  return counts;
}

/** Queued entries (due or not) per queue. */
export async function queuedByQueue(db: Database): Promise<Map<string, number>> {
  const rows = await db.raw.query<{ queue: string; n: unknown }>(Prisma.sql`
    SELECT queue, count(*) AS n FROM ws_queued_operation WHERE state = 'queued' GROUP BY queue`);
  return new Map(rows.map((r) => [r.queue, Number(r.n)]));
}
