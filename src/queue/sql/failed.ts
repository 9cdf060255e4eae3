// The failed store: entries whose attempts were used up (state 'failed'). They keep their parameters, so that
// a retry gives the same operationTrackingID a new run: queued again, due now, attempts counted afresh,
// earlier errors kept. Every statement touches failed entries only; deletes go in bounded batches.
import * as SQL from '../../db/sql.js';

export const listFailed = () => SQL.sql`
    SELECT q.id, q.operation, q.queue, q.user_id, u.user_name, q.params, q.attempts, q.finished_at, q.errors, q.result_taken_at, q.output
    FROM ws_queue_entry q LEFT JOIN ws_user u ON u.id = q.user_id
    WHERE q.state = 'failed' ORDER BY q.finished_at, q.id`;

/** `ids` null: every failed entry. Returns `id, queue` of those queued again. */
export const retryFailed = (ids: string[] | null, now: Date) => SQL.sql`
    UPDATE ws_queue_entry
    SET state = 'queued', available_at = ${now}, attempts = 0, failures = 0, result = NULL, finished_at = NULL,
        result_taken_at = NULL, lease_token = NULL
    WHERE state = 'failed' ${ids ? SQL.sql`AND id IN (${SQL.join(ids)})` : SQL.empty}
    RETURNING id, queue`;

export const forgetFailed = (ids: string[]) => SQL.sql`
    DELETE FROM ws_queue_entry WHERE state = 'failed' AND id IN (${SQL.join(ids)}) RETURNING id`;

export const flushFailed = (limit: number) =>
  SQL.sql`DELETE FROM ws_queue_entry WHERE id IN (SELECT id FROM ws_queue_entry WHERE state = 'failed' LIMIT ${limit})`;

export const pruneFailed = (before: Date, limit: number) => SQL.sql`DELETE FROM ws_queue_entry WHERE id IN (
      SELECT id FROM ws_queue_entry WHERE state = 'failed' AND finished_at < ${before} LIMIT ${limit})`;
