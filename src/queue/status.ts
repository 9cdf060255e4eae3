// A deferred operation's status for the user who queued it (without consuming its result), and the queue's
// counts for `wsgate status`.
import * as sql from './sql/status.js';
import type { Database, DbTx } from '../db/client.js';
import { toDate } from '../db/values.js';
import type { AttemptError } from './store.js';
import type { LiveReport } from './live.js';

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
  /** cbwsOptions.callback, when the call named one. */
  callback: { url: string; method: string } | null;
  /** An own operation's ctx.progress and ctx.log (of its last attempt, or of the run going on). */
  report: LiveReport;
  /** When its owner asked to cancel it while it ran (its executor is stopping it), or null. */
  cancelRequestedAt: Date | null;
}

const optionalDate = (v: unknown) => (v === null || v === undefined ? null : toDate(v));

/** `live`: where a running entry's report is read when its row does not hold it yet (SQLite). */
export async function statusOf(
  db: DbTx,
  operationTrackingID: string,
  userId: number,
  now: Date,
  live?: { read(id: string): LiveReport | null } | null,
): Promise<QueuedOperationStatus | null> {
  const rows = await db.query<Record<string, unknown>>(sql.statusOf(operationTrackingID, userId));
  const r = rows[0];
  if (!r) return null;
  const stored = String(r.state) as Exclude<QueuedOperationState, 'delayed'>;
  const state = stored === 'queued' && toDate(r.available_at) > now ? 'delayed' : stored;
  const report = (state === 'running' && live?.read(String(r.id))) || {
    progress: r.progress === null || r.progress === undefined ? null : Number(r.progress),
    message: r.progress_message === null || r.progress_message === undefined ? null : String(r.progress_message),
    output: r.output ? (JSON.parse(String(r.output)) as string[]) : [],
  };
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
    callback: r.callback ? (JSON.parse(String(r.callback)) as { url: string; method: string }) : null,
    report,
    cancelRequestedAt: optionalDate(r.cancel_requested_at),
  };
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

/** Which entries to count besides the queues: those of one `context` label, of one user. */
export interface CountFilter {
  context?: string;
  userId?: number;
}

/** The entries by state, of these queues (all when undefined) and filter; `live`: waiting, delayed and running only (the others 0). */
export async function queueCounts(db: Database, now: Date, queues?: string[], filter: CountFilter = {}, states: 'all' | 'live' = 'all'): Promise<QueueCounts> {
  const conditions = sql.countFilter(queues, filter.context, filter.userId);
  type Row = { state: string; later: unknown; n: unknown };
  // A context's index holds entries of every state; the others only queued and running ones (sql.live):
  // finished ones are counted from ws_queue_count, which has no user (a count of a user's finished entries
  // reads them all; no caller asks for it).
  const byLive = filter.context === undefined && (states === 'live' || filter.userId === undefined);
  const rows = await db.raw.query<Row>(sql.queueCounts(now, byLive ? [...conditions, sql.live()] : conditions, !byLive));
  if (byLive && states === 'all') rows.push(...(await db.raw.query<Row>(sql.finishedCounts(queues))));
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
  const rows = await db.raw.query<{ queue: string; n: unknown }>(sql.queuedByQueue());
  return new Map(rows.map((r) => [r.queue, Number(r.n)]));
}
