// What happens to a claimed entry that did not finish with a result: an attempt that failed for an
// infrastructure reason (retried later, or moved to the failed store), an entry handed back unrun (on
// shutdown, or when the worker running its batch died for another entry), and leases that ran out (their
// executor is gone). Their statements are in ./sql/fail.ts and ./sql/lease.ts.
import type { Database } from '../db/client.js';
import { toDate } from '../db/values.js';
import type { AttemptError, ClaimedOperation } from './store.js';
import { reportColumns, type LiveReport } from './live.js';
import * as sql from './sql/fail.js';
import * as leaseSql from './sql/lease.js';
import * as claimSql from './sql/claim.js';

export interface FailedAttempt {
  entry: ClaimedOperation;
  error: { code: string; message: string };
  now: Date;
  /** When to try again; null when the attempts are used up (the entry goes to the failed store). */
  retryAt: Date | null;
  /** The envelope stored as the result when the entry goes to the failed store. */
  envelope: string;
  /** What the attempt reported (an own operation's ctx.progress and ctx.log), kept with the entry. */
  report?: LiveReport;
  /** How long a result stays readable: an entry whose cancel was asked for is stored as cancelled instead. */
  resultTtlSeconds: number;
}

/**
 * Records one failed attempt (an entry whose cancel was asked for is cancelled instead). False when the
 * lease was lost meanwhile (nothing was written).
 */
export async function recordFailedAttempt(db: Database, f: FailedAttempt): Promise<boolean> {
  const errors: AttemptError[] = [...f.entry.errors, { attempt: f.entry.attempts, at: f.now.toISOString(), code: f.error.code, message: f.error.message }];
  const n = await db.raw.execute(
    sql.recordFailedAttempt({
      id: f.entry.operationTrackingID,
      leaseToken: f.entry.leaseToken,
      errors: JSON.stringify(errors),
      now: f.now,
      retryAt: f.retryAt,
      envelope: f.envelope,
      report: f.report ? reportColumns(f.report) : null,
      resultTtlSeconds: f.resultTtlSeconds,
    }),
  );
  return n === 1;
}

/**
 * Makes entries claimable again at once. `started` ones were interrupted mid-run (their claim stays
 * counted); the others never started, so their claim is taken back. Entries whose cancel was asked for
 * are cancelled instead.
 */
export async function handBack(db: Database, entries: ClaimedOperation[], started: boolean, now: Date, resultTtlSeconds: number): Promise<number> {
  let n = 0;
  const byToken = new Map<string, ClaimedOperation[]>();
  for (const e of entries) byToken.set(e.leaseToken, [...(byToken.get(e.leaseToken) ?? []), e]);
  for (const [leaseToken, group] of byToken) {
    n += await db.raw.execute(
      sql.handBack(
        leaseToken,
        group.map((e) => e.operationTrackingID),
        started,
        now,
        resultTtlSeconds,
      ),
    );
  }
  return n;
}

/**
 * Entries whose lease ran out (their executor died or lost the database) go back to the queue, in their
 * original place (due time); the claim after counts as a new attempt. Those whose cancel was asked for are
 * cancelled.
 */
export async function rescueExpiredLeases(db: Database, now: Date, resultTtlSeconds: number): Promise<number> {
  return db.raw.execute(leaseSql.rescueExpiredLeases(db.dialect, now, resultTtlSeconds));
}

/** When the next queued entry of these queues comes due (for an idle listener's timer), or null. */
export async function nextDue(db: Database, queues: string[]): Promise<Date | null> {
  const rows = await db.raw.query<{ at: unknown }>(claimSql.nextDue(db.dialect, queues));
  const at = rows[0]?.at;
  return at === null || at === undefined ? null : toDate(at);
}
