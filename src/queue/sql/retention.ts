// Retention: what housekeeping deletes, each DELETE taking at most `limit` rows (the caller repeats it
// until fewer go, ../store.ts's inBatches), so that a backlog of any size goes in statements that stay
// inside the statement time limit and hold their locks briefly. Only finished rows go: results not read in
// time (done or cancelled), records of results read, ended callback deliveries, expired idempotency keys,
// old per-minute counts; and, asked for by an administrator, a user's queued entries (never running ones).
import * as SQL from '../../db/sql.js';

/** Cancelled entries, and done ones where results stay in the entries' table (SQLite). */
export const purgeExpiredResults = (now: Date, limit: number) => SQL.sql`DELETE FROM ws_queue_entry WHERE id IN (
    SELECT id FROM ws_queue_entry WHERE state IN ('done', 'cancelled') AND result_expires_at <= ${now} LIMIT ${limit})`;

/** Done entries of the results' table (PostgreSQL's). */
export const purgeExpiredDone = (now: Date, limit: number) => SQL.sql`DELETE FROM ws_queue_result WHERE id IN (
    SELECT id FROM ws_queue_result WHERE result_expires_at <= ${now} LIMIT ${limit})`;

export const purgeTakenResults = (now: Date, limit: number) => SQL.sql`DELETE FROM ws_result_taken WHERE id IN (
    SELECT id FROM ws_result_taken WHERE expires_at <= ${now} LIMIT ${limit})`;

export const purgeDeliveries = (before: Date, limit: number) => SQL.sql`DELETE FROM ws_callback_delivery WHERE id IN (
    SELECT id FROM ws_callback_delivery WHERE state IN ('delivered', 'failed') AND finished_at < ${before} LIMIT ${limit})`;

export const purgeExpiredRequests = (now: Date, limit: number) => SQL.sql`DELETE FROM ws_idempotent_request WHERE (user_id, request_id) IN (
    SELECT user_id, request_id FROM ws_idempotent_request WHERE expires_at <= ${now} LIMIT ${limit})`;

export const purgeMinuteCounts = (before: Date) => SQL.sql`DELETE FROM ws_queue_minute WHERE minute < ${before}`;

export const purgeQueued = (userId: number, queue: string | undefined, limit: number) => SQL.sql`
      DELETE FROM ws_queue_entry WHERE id IN (SELECT id FROM ws_queue_entry
        WHERE user_id = ${userId} AND state = 'queued' ${queue === undefined ? SQL.empty : SQL.sql`AND queue = ${queue}`} LIMIT ${limit})`;
