// The queue's hot paths: enqueue, claim with a lease, renew leases (heartbeat), complete a batch (fenced by
// the lease token), read a result once, purge. Their statements, and what each guarantees, are in ./sql/;
// enqueue, claim and heartbeat go straight to the driver (src/db/raw.ts); completion runs on the driver
// inside a dedicated database's transaction that holds the operations' writes.
import { claimLimited, isLimited, type QueueControl } from './controls.js';
import { nanoid } from 'nanoid';
import { trackingId } from './tracking-id.js';
import type { Database, DbTx } from '../db/client.js';
import type { QueueNotices } from '../db/queue-notices.js';
import { toDate } from '../db/values.js';
import type * as SQL from '../db/sql.js';
import * as enqueueSql from './sql/enqueue.js';
import type { EntryValues } from './sql/enqueue.js';
import * as claimSql from './sql/claim.js';
import { planClass } from './plan-class.js';
import * as leaseSql from './sql/lease.js';
import * as completeSql from './sql/complete.js';
import * as resultSql from './sql/result.js';
import * as retention from './sql/retention.js';
import { queueEvents } from './events.js';
import type { Dialect } from '../db/dialect.js';
import { reportColumns, type LiveReport } from './live.js';

export const DEFAULT_QUEUE = 'default';
export const DEFAULT_PRIORITY = 500;

export interface NewQueuedOperation {
  operation: string;
  /** The operation's sanitized parameters, as the executor will pass them to it. */
  params: Record<string, unknown>;
  userId: number;
  submittedAt: Date;
  dueAt: Date;
  queue?: string;
  priority?: number;
  /** A free label kept with the entry (the Queue Server's `context`), for filtering. */
  context?: string;
  /** Where the final outcome is reported (cbwsOptions.callback); a delivery is made when it is final. */
  callback?: { url: string; method: string };
  /** The W3C traceparent of the call that queued it (its run continues that trace). */
  traceParent?: string;
}

export interface AttemptError {
  attempt: number;
  at: string;
  code: string;
  message: string;
}

export interface ClaimedOperation {
  operationTrackingID: string;
  operation: string;
  /**
   * Its parameters as stored (JSON text): the worker that runs it parses them as the run starts, so the
   * executor's main thread neither parses nor copies them as objects, and a batch's parsed parameters live
   * only as long as their run.
   */
  paramsJson: string;
  userId: number;
  /** Claims so far, this one included. */
  attempts: number;
  /** Attempts that ended in an infrastructure failure before this one. */
  failures: number;
  errors: AttemptError[];
  queue: string;
  priority: number;
  dueAt: Date;
  submittedAt: Date;
  leaseToken: string;
  /** The traceparent kept from the call that queued it, if any. */
  traceParent: string | null;
}

export const NOT_QUEUED_OR_NOT_FINISHED = 'Operation not queued or not finished yet';

/** The entry's columns as the INSERT takes them. */
export const valuesOf = (id: string, e: NewQueuedOperation, params = JSON.stringify(e.params)): EntryValues => ({
  id,
  operation: e.operation,
  params,
  paramsBytes: Buffer.byteLength(params),
  userId: e.userId,
  dueAt: e.dueAt,
  submittedAt: e.submittedAt,
  queue: e.queue ?? DEFAULT_QUEUE,
  priority: e.priority ?? DEFAULT_PRIORITY,
  context: e.context ?? null,
  callback: e.callback ? JSON.stringify({ url: e.callback.url, method: e.callback.method }) : null,
  traceParent: e.traceParent ?? null,
});

/** Wakes this process's executor for the entries' queues: one wake-up per queue, at its earliest due time. */
function announce(entries: NewQueuedOperation[]): void {
  const earliest = new Map<string, Date>();
  for (const e of entries) {
    const queue = e.queue ?? DEFAULT_QUEUE;
    const known = earliest.get(queue);
    if (!known || e.dueAt < known) earliest.set(queue, e.dueAt);
  }
  for (const [queue, dueAt] of earliest) queueEvents.emit('enqueued', { queue, dueAt });
}

/** Queues operations in one statement and returns their operationTrackingIDs, in order. */
export async function enqueueMany(db: Database, entries: NewQueuedOperation[]): Promise<string[]> {
  if (entries.length === 0) return [];
  const rows = entries.map((entry) => ({ id: trackingId(), entry }));
  await db.raw.query(enqueueSql.notifyingInsert(db.dialect, enqueueSql.insertEntries(rows.map((r) => valuesOf(r.id, r.entry)))));
  announce(entries);
  return rows.map((r) => r.id);
}

/**
 * Queues an operation inside the caller's transaction (an idempotent call: the entry and the answer that
 * names it commit together). `announce` wakes this process's executor, once the transaction committed.
 */
export async function enqueueIn(tx: DbTx, dialect: Dialect, entry: NewQueuedOperation): Promise<{ operationTrackingID: string; announce: () => void }> {
  const id = trackingId();
  await tx.query(enqueueSql.notifyingInsert(dialect, enqueueSql.insertEntries([valuesOf(id, entry)])));
  return { operationTrackingID: id, announce: () => announce([entry]) };
}

/** What a guarded enqueue did: queued the entry, or not, because its guard did not hold. */
export type GuardedEnqueue = { queued: true; operationTrackingID: string; paramsBytes: number; announce: () => void } | { queued: false; paramsBytes: number };

/**
 * Queues one entry in one statement, `INSERT ... SELECT ... WHERE guard`, only when `guard` (a condition
 * built for the entry's parameter bytes: a quota, src/queue/quota.ts) holds. `run` runs the statement
 * (on the driver, or inside the caller's transaction); `announce` wakes this process's executor, once the
 * statement committed.
 */
export async function enqueueGuarded(
  run: (sql: SQL.Sql) => Promise<unknown[]>,
  dialect: Dialect,
  entry: NewQueuedOperation,
  guard: (paramsBytes: number) => SQL.Sql,
  notices?: QueueNotices,
  id = trackingId(),
): Promise<GuardedEnqueue> {
  const values = valuesOf(id, entry);
  const paramsBytes = values.paramsBytes;
  const insert = enqueueSql.insertEntryWhere(values, guard(paramsBytes));
  // With `notices` (an autocommit statement on PostgreSQL) the listeners are told after the commit, coalesced.
  const rows = await run(notices ? insert : enqueueSql.notifyingInsert(dialect, insert));
  if (rows.length === 0) return { queued: false, paramsBytes };
  return { queued: true, operationTrackingID: id, paramsBytes, announce: () => wake(entry, notices) };
}

/** Wakes this process's executor, and tells other processes' listeners (coalesced) when `notices` is given. */
export function wake(entry: NewQueuedOperation, notices?: QueueNotices): void {
  announce([entry]);
  notices?.notice(entry.queue ?? DEFAULT_QUEUE, entry.dueAt);
}

export async function enqueue(db: Database, entry: NewQueuedOperation): Promise<string> {
  return (await enqueueMany(db, [entry]))[0]!;
}

export interface ClaimOptions {
  /** Named queues in priority order: a later queue is claimed from only when the earlier ones have too few. */
  queues: string[];
  now: Date;
  leaseSeconds: number;
  limit: number;
  /** The queues' controls (controls.ts): paused ones are skipped, limited ones claimed within their caps. */
  controls?: ReadonlyMap<string, QueueControl>;
  /** Filled with the queues not claimed from because they are paused or at a cap. */
  held?: Set<string>;
}

export type ClaimRow = {
  id: string;
  operation: string;
  params: string;
  user_id: unknown;
  attempts: unknown;
  failures: unknown;
  errors: string | null;
  queue: string;
  priority: unknown;
  due_at: unknown;
  submitted_at: unknown;
  trace_parent: string | null;
};

/** A claimed row as the executor takes it (the claim and `wsgate run`'s claimById return the same columns). */
export const claimedOf = (r: ClaimRow, leaseToken: string): ClaimedOperation => ({
  operationTrackingID: r.id,
  operation: r.operation,
  paramsJson: r.params,
  userId: Number(r.user_id),
  attempts: Number(r.attempts),
  failures: Number(r.failures),
  errors: r.errors ? (JSON.parse(r.errors) as AttemptError[]) : [],
  queue: r.queue,
  priority: Number(r.priority),
  dueAt: toDate(r.due_at),
  submittedAt: toDate(r.submitted_at),
  leaseToken,
  traceParent: r.trace_parent ?? null,
});

/** Reserves up to `limit` due entries for one lease token (one statement per queue consulted). */
export async function claim(db: Database, options: ClaimOptions): Promise<ClaimedOperation[]> {
  const leaseToken = nanoid();
  const leaseUntil = new Date(options.now.getTime() + options.leaseSeconds * 1000);
  const claimed: ClaimedOperation[] = [];
  for (const queue of options.queues) {
    const limit = options.limit - claimed.length;
    if (limit <= 0) break;
    const control = options.controls?.get(queue);
    if (control?.pausedAt) {
      options.held?.add(queue);
      continue;
    }
    const params = { queue, now: options.now, leaseUntil, leaseToken, limit };
    const rows =
      control && isLimited(control)
        ? await claimLimited<ClaimRow>(db, params)
        : await db.unflushed.query<ClaimRow>(claimSql.claimDue(db.dialect, params), { prepared: await planClass(db.dialect, db.unflushed) });
    if (control && isLimited(control) && rows.length < limit) options.held?.add(queue);
    const batch = rows.map((r) => claimedOf(r, leaseToken));
    // RETURNING does not promise the sub-select's order; this is the claim's order.
    batch.sort((a, b) => b.priority - a.priority || a.dueAt.getTime() - b.dueAt.getTime() || a.submittedAt.getTime() - b.submittedAt.getTime());
    claimed.push(...batch);
  }
  return claimed;
}

/**
 * Extends the leases of every running entry held under these tokens, from now: the heartbeat of an
 * executor, so that an operation longer than the lease is never taken by another one while it runs.
 */
export async function renewLeases(db: Database, leaseTokens: string[], now: Date, leaseSeconds: number): Promise<number> {
  if (leaseTokens.length === 0) return 0;
  return db.raw.execute(leaseSql.renewLeases(db.dialect, leaseTokens, new Date(now.getTime() + leaseSeconds * 1000)));
}

export interface Completion {
  operationTrackingID: string;
  /** The operation's envelope as JSON text. */
  envelope: string;
}

/**
 * Stores what an own operation's run reported (ctx.progress, ctx.log) in its entry, inside the transaction
 * that finishes it (before completeMany, while the lease still fences it).
 */
export async function storeReport(db: Pick<Database, 'raw'>, operationTrackingID: string, leaseToken: string, report: LiveReport): Promise<void> {
  await db.raw.execute(completeSql.storeReport(operationTrackingID, leaseToken, reportColumns(report)));
}

/**
 * Finishes entries of one lease and stores their envelopes in one statement. Run on the driver inside the
 * transaction that holds the operations' writes (a dedicated database's `transaction`). Only the holder of
 * the current lease can: the ids returned are the entries finished; one missing was taken over (its lease
 * ran out) and must not be finished by this executor, or its cancel was asked for (cancel.ts).
 */
export async function completeMany(
  db: Pick<Database, 'raw' | 'dialect'>,
  leaseToken: string,
  completions: Completion[],
  now: Date,
  resultTtlSeconds: number,
): Promise<Set<string>> {
  if (completions.length === 0) return new Set();
  const expiresAt = new Date(now.getTime() + resultTtlSeconds * 1000);
  const ids = completions.map((c) => c.operationTrackingID);
  const envelopes = completions.map((c) => c.envelope);
  const rows = await db.raw.query<{ id: string }>(completeSql.completeEntries(db.dialect, leaseToken, ids, envelopes, now, expiresAt), {
    prepared: await planClass(db.dialect, db.raw),
  });
  return new Set(rows.map((r) => r.id));
}

/**
 * The finished operation's envelope, once, and only to the user who queued it (anyone else gets null, as
 * for an unknown id). A done or cancelled entry is deleted in the same statement, so that of several
 * concurrent readers exactly one gets it; a failed one stays in the failed store, marked as read.
 */
export async function takeResult(db: DbTx, operationTrackingID: string, userId: number, now: Date): Promise<string | null> {
  let deleted = await db.query<{ result: string; result_expires_at: unknown }>(resultSql.takeDone(operationTrackingID, userId, now));
  if (!deleted[0]) deleted = await db.query<{ result: string; result_expires_at: unknown }>(resultSql.takeFinished(operationTrackingID, userId, now));
  if (deleted[0]) {
    // Remembered until the result would have expired: a second read over HTTP answers 410 Gone, not 404.
    await db.execute(resultSql.rememberTaken(operationTrackingID, userId, now, toDate(deleted[0].result_expires_at)));
    return deleted[0].result;
  }
  const failed = await db.query<{ result: string }>(resultSql.takeFailed(operationTrackingID, userId, now));
  return failed[0]?.result ?? null;
}

/** Deletes done and cancelled entries whose result was not read in time, and old records of results read. */
export async function purgeExpiredResults(db: DbTx, now: Date): Promise<number> {
  await inBatches((limit) => db.execute(retention.purgeTakenResults(now, limit)));
  const done = await inBatches((limit) => db.execute(retention.purgeExpiredDone(now, limit)));
  return done + (await inBatches((limit) => db.execute(retention.purgeExpiredResults(now, limit))));
}

/**
 * Rows a housekeeping DELETE takes in one statement: a backlog of any size is purged in statements that each
 * stay well inside the statement time limit (WSGATE_STATEMENT_TIMEOUT_MS) and hold their locks briefly.
 */
export const PURGE_BATCH = 5_000;

/** Runs `deleteSome(PURGE_BATCH)` until it deletes fewer; returns how many it deleted in all. */
export async function inBatches(deleteSome: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await deleteSome(PURGE_BATCH);
    total += n;
    if (n < PURGE_BATCH) return total;
  }
}
