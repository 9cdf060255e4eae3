// Cancelling a deferred entry. One that has not started is cancelled at once. One that runs is marked
// (cancel_requested_at): its executor hears of it (an event in this process, a poll of the marks elsewhere), stops the
// run (ctx.signal, the command's process group, at worst the worker thread) and stores it as cancelled.
// From the mark on, no statement finishes, retries or hands back the entry as anything else: completion
// is fenced on the mark, and a hand-back, a failed attempt or an expired lease of a marked entry cancels
// it. So once a cancel is answered, the entry's result is OPERATION_CANCELLED and its database writes are
// rolled back (calls out that it made, an HTTP request or a command, are not undone).
import { EventEmitter } from 'node:events';
import { Prisma } from '../db/generated/sqlite/client.js';
import type { Database, DbTx } from '../db/client.js';
import { failure } from '../envelope.js';
import { WsError } from '../errors.js';

export const CANCELLED_BEFORE_RUN = 'The operation was cancelled before it ran';
export const CANCELLED_WHILE_RUNNING = 'The operation was cancelled while it ran; nothing it wrote to the database was kept';

export const cancelledEnvelope = (message: string) => JSON.stringify(failure(new WsError('OPERATION_CANCELLED', message)));

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
  message = CANCELLED_BEFORE_RUN,
): Promise<CancelOutcome> {
  // Read first: on SQLite a write waits for the executor's batch, which holds the write lock while it runs.
  // An entry may move between the read and the write (claimed, handed back, finished): then it is read again.
  for (let tries = 0; tries < 3; tries++) {
    const state = await stateOf(db, operationTrackingID, userId);
    if (state === 'queued') {
      const cancelled = await db.$executeRaw`
        UPDATE ws_queued_operation
        SET state = 'cancelled', params = '{}', result = ${cancelledEnvelope(message)}, finished_at = ${now},
            result_expires_at = ${new Date(now.getTime() + resultTtlSeconds * 1000)}
        WHERE id = ${operationTrackingID} AND user_id = ${userId} AND state = 'queued'`;
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
  const marked = await db.$executeRaw`
    UPDATE ws_queued_operation SET cancel_requested_at = COALESCE(cancel_requested_at, ${now})
    WHERE id = ${operationTrackingID} AND user_id = ${userId} AND state = 'running'`;
  return marked === 1 ? 'cancelling' : null;
}

const stateOf = async (db: DbTx, operationTrackingID: string, userId: number) =>
  (await db.$queryRaw<{ state: string }[]>`SELECT state FROM ws_queued_operation WHERE id = ${operationTrackingID} AND user_id = ${userId}`)[0]?.state;

/**
 * Writes the mark of entries whose cancel an executor of this process took without one (cancelEntry on
 * SQLite), before they leave their run by another way (a hand-back, a failed attempt): those then end
 * cancelled too.
 */
export async function markCancelRequested(db: Database, leaseToken: string, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.raw.execute(Prisma.sql`
    UPDATE ws_queued_operation SET cancel_requested_at = COALESCE(cancel_requested_at, ${now})
    WHERE lease_token = ${leaseToken} AND state = 'running' AND id IN (${Prisma.join(ids)})`);
}

/** Of the running entries held under these lease tokens, the ones whose cancel was asked for. */
export async function cancelsRequested(db: Database, leaseTokens: string[]): Promise<string[]> {
  if (leaseTokens.length === 0) return [];
  const rows = await db.raw.query<{ id: string }>(Prisma.sql`
    SELECT id FROM ws_queued_operation
    WHERE state = 'running' AND cancel_requested_at IS NOT NULL AND lease_token IN (${Prisma.join(leaseTokens)})`);
  return rows.map((r) => r.id);
}

/**
 * Stores entries of one lease whose cancel was asked for as cancelled (fenced by the lease; the mark is set
 * if the cancel's own statement has not yet); returns the ids it stored. Inside the worker's transaction,
 * or on the driver after the worker running it was stopped.
 */
export async function finishCancelled(db: Pick<Database, 'raw'>, leaseToken: string, ids: string[], now: Date, resultTtlSeconds: number): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.raw.query<{ id: string }>(Prisma.sql`
    UPDATE ws_queued_operation
    SET ${cancelledColumns(now, resultTtlSeconds)}, lease_token = NULL, cancel_requested_at = COALESCE(cancel_requested_at, ${now})
    WHERE lease_token = ${leaseToken} AND state = 'running' AND id IN (${Prisma.join(ids)})
    RETURNING id`);
  return new Set(rows.map((r) => r.id));
}

/** The columns of an entry cancelled while it ran. */
const cancelledColumns = (now: Date, resultTtlSeconds: number) => Prisma.sql`state = 'cancelled', params = '{}',
  result = ${cancelledEnvelope(CANCELLED_WHILE_RUNNING)}, finished_at = ${now},
  result_expires_at = ${new Date(now.getTime() + resultTtlSeconds * 1000)}`;

/**
 * SET items for a statement that takes a running entry out of its run (a hand-back, a failed attempt, an
 * expired lease): `otherwise` for an unmarked entry, the cancelled columns for a marked one. `otherwise`
 * must set `state`, and may set `params`, `result`, `finished_at` and `result_expires_at` (its values are
 * taken when the entry is not marked); the other columns it sets apply to both.
 */
export function unlessCancelled(
  now: Date,
  resultTtlSeconds: number,
  otherwise: { state: Prisma.Sql; result?: Prisma.Sql; finishedAt?: 'now' | 'null' },
): Prisma.Sql {
  const pick = (mine: Prisma.Sql, theirs: Prisma.Sql) => Prisma.sql`CASE WHEN cancel_requested_at IS NULL THEN ${mine} ELSE ${theirs} END`;
  // PostgreSQL types a parameter in a CASE from the other branch: a column, or NULLIF's NULL of the column's
  // type (two parameters, or a parameter beside a bare NULL, would be text).
  const finishedAt =
    otherwise.finishedAt === 'now'
      ? Prisma.sql`${now}`
      : pick(otherwise.finishedAt === 'null' ? Prisma.sql`NULLIF(finished_at, finished_at)` : Prisma.sql`finished_at`, Prisma.sql`${now}`);
  return Prisma.sql`state = ${pick(otherwise.state, Prisma.sql`'cancelled'`)},
    params = ${pick(Prisma.sql`params`, Prisma.sql`'{}'`)},
    result = ${pick(otherwise.result ?? Prisma.sql`result`, Prisma.sql`${cancelledEnvelope(CANCELLED_WHILE_RUNNING)}`)},
    finished_at = ${finishedAt},
    result_expires_at = ${pick(Prisma.sql`result_expires_at`, Prisma.sql`${new Date(now.getTime() + resultTtlSeconds * 1000)}`)}`;
}
