// Cancel: a queued entry is cancelled at once (only while it is still queued: a claim that won the race
// leaves it untouched). A running one is marked (cancel_requested_at, kept if set already); from the mark on,
// no statement finishes, retries or hands back the entry as anything else: completion is fenced on the mark
// (./complete.ts), and every statement that takes a running entry out of its run writes the cancelled
// columns for a marked entry (unlessCancelled). Storing a marked entry as cancelled is fenced by its lease.
import * as SQL from '../../db/sql.js';
import { failure } from '../../envelope.js';
import { WsError } from '../../errors.js';

export const CANCELLED_BEFORE_RUN = 'The operation was cancelled before it ran';
export const CANCELLED_WHILE_RUNNING = 'The operation was cancelled while it ran; nothing it wrote to the database was kept';

const cancelledEnvelope = (message: string) => JSON.stringify(failure(new WsError('OPERATION_CANCELLED', message)));

const expiresAt = (now: Date, resultTtlSeconds: number) => new Date(now.getTime() + resultTtlSeconds * 1000);

export const cancelQueued = (id: string, userId: number, message: string, now: Date, resultTtlSeconds: number) => SQL.sql`
        UPDATE ws_queue_entry
        SET state = 'cancelled', params = '{}', result = ${cancelledEnvelope(message)}, finished_at = ${now},
            result_expires_at = ${expiresAt(now, resultTtlSeconds)}
        WHERE id = ${id} AND user_id = ${userId} AND state = 'queued'`;

/** The owner's mark on a running entry. */
export const markRunning = (id: string, userId: number, now: Date) => SQL.sql`
    UPDATE ws_queue_entry SET cancel_requested_at = COALESCE(cancel_requested_at, ${now})
    WHERE id = ${id} AND user_id = ${userId} AND state = 'running'`;

/** The executor's mark on entries of its lease whose cancel it took without one. */
export const markHeld = (leaseToken: string, ids: string[], now: Date) => SQL.sql`
    UPDATE ws_queue_entry SET cancel_requested_at = COALESCE(cancel_requested_at, ${now})
    WHERE lease_token = ${leaseToken} AND state = 'running' AND id IN (${SQL.join(ids)})`;

/** Of the running entries held under these lease tokens, the marked ones. */
export const cancelsRequested = (leaseTokens: string[]) => SQL.sql`
    SELECT id FROM ws_queue_entry
    WHERE state = 'running' AND cancel_requested_at IS NOT NULL AND lease_token IN (${SQL.join(leaseTokens)})`;

/** Stores entries of one lease as cancelled while running, setting the mark if it is not yet. */
export const finishCancelled = (leaseToken: string, ids: string[], now: Date, resultTtlSeconds: number) => SQL.sql`
    UPDATE ws_queue_entry
    SET ${cancelledColumns(now, resultTtlSeconds)}, lease_token = NULL, cancel_requested_at = COALESCE(cancel_requested_at, ${now})
    WHERE lease_token = ${leaseToken} AND state = 'running' AND id IN (${SQL.join(ids)})
    RETURNING id`;

/** The columns of an entry cancelled while it ran. */
const cancelledColumns = (now: Date, resultTtlSeconds: number) => SQL.sql`state = 'cancelled', params = '{}',
  result = ${cancelledEnvelope(CANCELLED_WHILE_RUNNING)}, finished_at = ${now},
  result_expires_at = ${expiresAt(now, resultTtlSeconds)}`;

/**
 * SET items for a statement that takes a running entry out of its run (a hand-back, a failed attempt, an
 * expired lease): `otherwise` for an unmarked entry, the cancelled columns for a marked one. `otherwise`
 * must set `state`, and may set `params`, `result`, `finished_at` and `result_expires_at` (its values are
 * taken when the entry is not marked); the other columns it sets apply to both.
 */
export function unlessCancelled(now: Date, resultTtlSeconds: number, otherwise: { state: SQL.Sql; result?: SQL.Sql; finishedAt?: 'now' | 'null' }): SQL.Sql {
  const pick = (mine: SQL.Sql, theirs: SQL.Sql) => SQL.sql`CASE WHEN cancel_requested_at IS NULL THEN ${mine} ELSE ${theirs} END`;
  // PostgreSQL types a parameter in a CASE from the other branch: a column, or NULLIF's NULL of the column's
  // type (two parameters, or a parameter beside a bare NULL, would be text).
  const finishedAt =
    otherwise.finishedAt === 'now'
      ? SQL.sql`${now}`
      : pick(otherwise.finishedAt === 'null' ? SQL.sql`NULLIF(finished_at, finished_at)` : SQL.sql`finished_at`, SQL.sql`${now}`);
  return SQL.sql`state = ${pick(otherwise.state, SQL.sql`'cancelled'`)},
    params = ${pick(SQL.sql`params`, SQL.sql`'{}'`)},
    result = ${pick(otherwise.result ?? SQL.sql`result`, SQL.sql`${cancelledEnvelope(CANCELLED_WHILE_RUNNING)}`)},
    finished_at = ${finishedAt},
    result_expires_at = ${pick(SQL.sql`result_expires_at`, SQL.sql`${expiresAt(now, resultTtlSeconds)}`)}`;
}
