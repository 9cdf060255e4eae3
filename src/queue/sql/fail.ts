// An attempt that ended without a result: a failed attempt (queued again at retryAt, or moved to the
// failed store when its attempts are used up, its envelope stored as the result), or entries handed back
// unrun (shutdown, or the worker running their batch died): claimable again at once. Each statement is
// fenced by the lease token and state 'running', so an executor that lost its lease changes nothing; an
// entry whose cancel was asked for is cancelled instead (./cancel.ts's unlessCancelled).
import * as SQL from '../../db/sql.js';
import { unlessCancelled } from './cancel.js';
import type { ReportColumns } from './complete.js';

export interface FailedAttemptColumns {
  id: string;
  leaseToken: string;
  /** JSON text of every attempt's error, this one included. */
  errors: string;
  now: Date;
  /** null: the attempts are used up. */
  retryAt: Date | null;
  envelope: string;
  report: ReportColumns | null;
  resultTtlSeconds: number;
}

export const recordFailedAttempt = (f: FailedAttemptColumns) => {
  const retry = f.retryAt !== null;
  const report = f.report ? SQL.sql`progress = ${f.report.progress}, progress_message = ${f.report.message}, output = ${f.report.output},` : SQL.empty;
  return SQL.sql`
    UPDATE ws_queue_entry
    SET ${report} lease_token = NULL, failures = failures + 1, errors = ${f.errors},
        available_at = ${f.retryAt ?? f.now}, result_taken_at = NULL,
        ${unlessCancelled(f.now, f.resultTtlSeconds, {
          state: retry ? SQL.sql`'queued'` : SQL.sql`'failed'`,
          result: retry ? SQL.sql`NULL` : SQL.sql`${f.envelope}`,
          finishedAt: retry ? 'null' : 'now',
        })}
    WHERE id = ${f.id} AND lease_token = ${f.leaseToken} AND state = 'running'`;
};

/** `started`: the entries were interrupted mid-run (their claim stays counted); else the claim is taken back. */
export const handBack = (leaseToken: string, ids: string[], started: boolean, now: Date, resultTtlSeconds: number) => SQL.sql`
      UPDATE ws_queue_entry
      SET ${unlessCancelled(now, resultTtlSeconds, { state: SQL.sql`'queued'` })},
        lease_token = NULL, available_at = ${now}, attempts = attempts - ${started ? 0 : 1}
      WHERE lease_token = ${leaseToken} AND state = 'running'
        AND id IN (${SQL.join(ids)})`;
