// Completion: entries of one lease become 'done' with their envelopes, in one statement run inside the
// transaction that holds the operations' writes. Only the holder of the current lease finishes an entry, and
// never one whose cancel was asked for: the ids returned are those finished; one missing was taken over (its
// lease ran out) or is being cancelled (./cancel.ts). The parameters are dropped and the result stays
// readable until result_expires_at. Where the dialect keeps results apart (PostgreSQL), the statement moves
// each entry from ws_queue_entry into ws_queue_result (a DELETE and an insert-only table: no second version
// of the entry in the queue's indexes); elsewhere it updates the entry in place. What the run reported
// (ctx.progress, ctx.log) is stored first, under the same lease.
import * as SQL from '../../db/sql.js';
import type { Dialect } from '../../db/dialect.js';

export interface ReportColumns {
  progress: number | null;
  message: string | null;
  output: string | null;
}

export const storeReport = (id: string, leaseToken: string, c: ReportColumns) => SQL.sql`
    UPDATE ws_queue_entry SET progress = ${c.progress}, progress_message = ${c.message}, output = ${c.output}
    WHERE id = ${id} AND lease_token = ${leaseToken}`;

/** The columns of ws_queue_result, in the order both tables have them. */
const MOVED = SQL.raw(
  'id, operation, params, user_id, state, available_at, due_at, submitted_at, attempts, lease_token, started_at, finished_at, result, result_expires_at, queue, priority, failures, errors, result_taken_at, params_bytes, progress, progress_message, output, callback, context, trace_parent, cancel_requested_at',
);

/**
 * `envelopes[i]` is the envelope of `ids[i]`. In place: `state || ''` keeps SQLite from driving the update by
 * the state index (a scan of every running entry per row of the list) instead of by the primary key. Moved:
 * every column of the entry as the view ws_queued_operation shows it (the two tables have the same columns);
 * the dialects that move name their values without a FROM item (PostgreSQL's keyedValues).
 */
export const completeEntries = (dialect: Dialect, leaseToken: string, ids: string[], envelopes: string[], now: Date, resultExpiresAt: Date) => {
  const results = dialect.keyedValues('ws_queue_entry.id', ids, envelopes);
  const fence = SQL.sql`ws_queue_entry.lease_token = ${leaseToken}
      AND (ws_queue_entry.state || '') = 'running' AND ws_queue_entry.cancel_requested_at IS NULL${results.where}`;
  if (!dialect.resultsApart)
    return SQL.sql`
    UPDATE ws_queue_entry
    SET state = 'done', result = ${results.value}, finished_at = ${now}, lease_token = NULL, params = '{}',
        result_expires_at = ${resultExpiresAt}
    ${results.from}
    WHERE ${fence}
    RETURNING ws_queue_entry.id AS id`;
  return SQL.sql`
    WITH finished AS (
      DELETE FROM ws_queue_entry
      WHERE ${fence}
      RETURNING ws_queue_entry.*, ${results.value} AS envelope)
    INSERT INTO ws_queue_result (${MOVED})
    SELECT id, operation, '{}', user_id, 'done', available_at, due_at, submitted_at, attempts, NULL, started_at, ${now}, envelope,
      ${resultExpiresAt}, queue, priority, failures, errors, NULL, params_bytes, progress, progress_message, output, callback, context,
      trace_parent, NULL
    FROM finished
    RETURNING id`;
};

/** A running entry's report, written outside the batch's transaction while it runs (PostgreSQL, ../live.ts). */
export const storeLiveReport = (id: string, leaseToken: string, progress: number | null, message: string | null, output: string) => SQL.sql`
          UPDATE ws_queue_entry SET progress = ${progress}, progress_message = ${message}, output = ${output}
          WHERE id = ${id} AND lease_token = ${leaseToken} AND state = 'running'`;
