// Read-once results: a finished entry's envelope goes once, and only to the user who queued it. A done or
// cancelled entry is deleted by the statement that reads it, so that of several concurrent readers exactly
// one gets it; the read is remembered (ws_result_taken) until the result would have expired, so a second
// read can be told apart from an unknown id. A failed entry stays in the failed store, marked as read.
import * as SQL from '../../db/sql.js';

/** A done entry of the results' table (PostgreSQL's, ../../db/dialect.ts resultsApart). */
export const takeDone = (id: string, userId: number, now: Date) => SQL.sql`
    DELETE FROM ws_queue_result
    WHERE id = ${id} AND user_id = ${userId} AND result_expires_at > ${now}
    RETURNING result, result_expires_at`;

/** A cancelled entry, or a done one where results stay in the entries' table (SQLite). */
export const takeFinished = (id: string, userId: number, now: Date) => SQL.sql`
    DELETE FROM ws_queue_entry
    WHERE id = ${id} AND user_id = ${userId} AND state IN ('done', 'cancelled') AND result_expires_at > ${now}
    RETURNING result, result_expires_at`;

export const rememberTaken = (id: string, userId: number, now: Date, expiresAt: Date) => SQL.sql`INSERT INTO ws_result_taken (id, user_id, taken_at, expires_at)
      VALUES (${id}, ${userId}, ${now}, ${expiresAt})
      ON CONFLICT (id) DO NOTHING`;

export const takeFailed = (id: string, userId: number, now: Date) => SQL.sql`
    UPDATE ws_queue_entry SET result_taken_at = ${now}
    WHERE id = ${id} AND user_id = ${userId} AND state = 'failed' AND result_taken_at IS NULL
    RETURNING result`;

/** A row when this user's result was read already. */
export const resultWasTaken = (id: string, userId: number, now: Date) => SQL.sql`
    SELECT 1 AS taken FROM ws_result_taken WHERE id = ${id} AND user_id = ${userId} AND expires_at > ${now}
    UNION ALL
    SELECT 1 AS taken FROM ws_queue_entry WHERE id = ${id} AND user_id = ${userId} AND state = 'failed' AND result_taken_at IS NOT NULL`;
