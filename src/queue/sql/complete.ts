// Completion: entries of one lease become 'done' with their envelopes, in one statement run inside the
// transaction that holds the operations' writes. Only the holder of the current lease finishes an entry, and
// never one whose cancel was asked for: the ids returned are those finished; one missing was taken over (its
// lease ran out) or is being cancelled (./cancel.ts). The parameters are dropped and the result stays
// readable until result_expires_at. What the run reported (ctx.progress, ctx.log) is stored first, under
// the same lease.
import * as SQL from '../../db/sql.js';
import type { Dialect } from '../../db/dialect.js';

export interface ReportColumns {
  progress: number | null;
  message: string | null;
  output: string | null;
}

export const storeReport = (id: string, leaseToken: string, c: ReportColumns) => SQL.sql`
    UPDATE ws_queued_operation SET progress = ${c.progress}, progress_message = ${c.message}, output = ${c.output}
    WHERE id = ${id} AND lease_token = ${leaseToken}`;

/**
 * `envelopes[i]` is the envelope of `ids[i]`. `state || ''` keeps SQLite from driving the update by the state
 * index (a scan of every running entry per row of the list) instead of by the primary key.
 */
export const completeEntries = (dialect: Dialect, leaseToken: string, ids: string[], envelopes: string[], now: Date, resultExpiresAt: Date) => {
  const results = dialect.keyedValues('ws_queued_operation.id', ids, envelopes);
  return SQL.sql`
    UPDATE ws_queued_operation
    SET state = 'done', result = ${results.value}, finished_at = ${now}, lease_token = NULL, params = '{}',
        result_expires_at = ${resultExpiresAt}
    ${results.from}
    WHERE ws_queued_operation.lease_token = ${leaseToken}
      AND (ws_queued_operation.state || '') = 'running' AND ws_queued_operation.cancel_requested_at IS NULL${results.where}
    RETURNING ws_queued_operation.id AS id`;
};

/** A running entry's report, written outside the batch's transaction while it runs (PostgreSQL, ../live.ts). */
export const storeLiveReport = (id: string, leaseToken: string, progress: number | null, message: string | null, output: string) => SQL.sql`
          UPDATE ws_queued_operation SET progress = ${progress}, progress_message = ${message}, output = ${output}
          WHERE id = ${id} AND lease_token = ${leaseToken} AND state = 'running'`;
