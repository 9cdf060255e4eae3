// Cancelling a deferred entry. One that has not started is cancelled at once. One that runs is marked
// (cancel_requested_at): its executor hears of it (an event in this process, a poll of the marks elsewhere), stops the
// run (ctx.signal, the command's process group, at worst the worker thread) and stores it as cancelled.
// From the mark on, no statement finishes, retries or hands back the entry as anything else: completion
// is fenced on the mark, and a hand-back, a failed attempt or an expired lease of a marked entry cancels
// it. So once a cancel is answered, the entry's result is OPERATION_CANCELLED and its database writes are
// rolled back (calls out that it made, an HTTP request or a command, are not undone).
import { EventEmitter } from 'node:events';
import * as sql from './sql/cancel.js';
import * as statusSql from './sql/status.js';
import type { Database, DbTx } from '../db/client.js';

export { CANCELLED_BEFORE_RUN, CANCELLED_WHILE_RUNNING } from './sql/cancel.js';

/** A cancel asked for in this process; an executor of this process that holds the entry answers whether it took it. */
export interface CancelRequest {
  operationTrackingID: string;
  answers: Promise<boolean>[];
}

/** Cancels asked for in this process: an executor of this process stops the entry at once. */
export const cancelEvents = new EventEmitter<{ requested: [CancelRequest] }>();

export type CancelOutcome = 'cancelled' | 'cancelling' | null;

/**
 * Cancels this user's entry: 'cancelled' when it had not started (its result is now OPERATION_CANCELLED),
 * 'cancelling' when it runs (its executor stops it), null when it is neither (finished, or not this user's).
 * `message` is the queued entry's cancellation message.
 */
export async function cancelEntry(
  db: DbTx,
  operationTrackingID: string,
  userId: number,
  now: Date,
  resultTtlSeconds: number,
  message = sql.CANCELLED_BEFORE_RUN,
): Promise<CancelOutcome> {
  // Read first: on SQLite a write waits for the executor's batch, which holds the write lock while it runs.
  // An entry may move between the read and the write (claimed, handed back, finished): then it is read again.
  for (let tries = 0; tries < 3; tries++) {
    const state = await stateOf(db, operationTrackingID, userId);
    if (state === 'queued') {
      const cancelled = await db.execute(sql.cancelQueued(operationTrackingID, userId, message, now, resultTtlSeconds));
      if (cancelled === 1) return 'cancelled';
    } else if (state === 'running') {
      const outcome = await cancelRunning(db, operationTrackingID, userId, now);
      if (outcome) return outcome;
    } else return null;
  }
  return null;
}

async function cancelRunning(db: DbTx, operationTrackingID: string, userId: number, now: Date): Promise<CancelOutcome> {
  // An executor of this process stops it now and stores it as cancelled, mark included: no mark is written
  // here, which on SQLite would wait for the write lock that a batch holds while it runs. An executor of
  // another process hears of the mark.
  const request: CancelRequest = { operationTrackingID, answers: [] };
  cancelEvents.emit('requested', request);
  if ((await Promise.all(request.answers)).includes(true)) return 'cancelling';
  const marked = await db.execute(sql.markRunning(operationTrackingID, userId, now));
  return marked === 1 ? 'cancelling' : null;
}

const stateOf = async (db: DbTx, operationTrackingID: string, userId: number) =>
  (await db.query<{ state: string }>(statusSql.stateOf(operationTrackingID, userId)))[0]?.state;

/**
 * Writes the mark of entries whose cancel an executor of this process took without one (cancelEntry on
 * SQLite), before they leave their run by another way (a hand-back, a failed attempt): those then end
 * cancelled too.
 */
export async function markCancelRequested(db: Database, leaseToken: string, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.raw.execute(sql.markHeld(leaseToken, ids, now));
}

/** Of the running entries held under these lease tokens, the ones whose cancel was asked for. */
export async function cancelsRequested(db: Database, leaseTokens: string[]): Promise<string[]> {
  if (leaseTokens.length === 0) return [];
  const rows = await db.raw.query<{ id: string }>(sql.cancelsRequested(leaseTokens));
  return rows.map((r) => r.id);
}

/**
 * Stores entries of one lease whose cancel was asked for as cancelled (fenced by the lease; the mark is set
 * if the cancel's own statement has not yet); returns the ids it stored. Inside the worker's transaction,
 * or on the driver after the worker running it was stopped.
 */
export async function finishCancelled(db: Pick<Database, 'raw'>, leaseToken: string, ids: string[], now: Date, resultTtlSeconds: number): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.raw.query<{ id: string }>(sql.finishCancelled(leaseToken, ids, now, resultTtlSeconds));
  return new Set(rows.map((r) => r.id));
}
