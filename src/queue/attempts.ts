// What happens to a claimed entry that did not finish with a result: an attempt that failed for an
// infrastructure reason (retried later, or moved to the failed store), an entry handed back unrun (on
// shutdown, or when the worker running its batch died for another entry), and leases that ran out (their
// executor is gone). Each statement is fenced by the lease token or the lease's expiry, so an executor
// that lost its lease changes nothing.
import { Prisma } from '../db/generated/sqlite/client.js';
import type { Database } from '../db/client.js';
import { toDate } from '../db/values.js';
import type { AttemptError, ClaimedOperation } from './store.js';
import { reportColumns, type LiveReport } from './live.js';
import { unlessCancelled } from './cancel.js';

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
  const retry = f.retryAt !== null;
  const report = f.report
    ? (({ progress, message, output }) => Prisma.sql`progress = ${progress}, progress_message = ${message}, output = ${output},`)(reportColumns(f.report))
    : Prisma.empty;
  const n = await db.raw.execute(Prisma.sql`
    UPDATE ws_queued_operation
    SET ${report} lease_token = NULL, failures = failures + 1, errors = ${JSON.stringify(errors)},
        available_at = ${f.retryAt ?? f.now}, result_taken_at = NULL,
        ${unlessCancelled(f.now, f.resultTtlSeconds, {
          state: retry ? Prisma.sql`'queued'` : Prisma.sql`'failed'`,
          result: retry ? Prisma.sql`NULL` : Prisma.sql`${f.envelope}`,
          finishedAt: retry ? 'null' : 'now',
        })}
    WHERE id = ${f.entry.operationTrackingID} AND lease_token = ${f.entry.leaseToken} AND state = 'running'`);
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
    n += await db.raw.execute(Prisma.sql`
      UPDATE ws_queued_operation
      SET ${unlessCancelled(now, resultTtlSeconds, { state: Prisma.sql`'queued'` })},
        lease_token = NULL, available_at = ${now}, attempts = attempts - ${started ? 0 : 1}
      WHERE lease_token = ${leaseToken} AND state = 'running'
        AND id IN (${Prisma.join(group.map((e) => e.operationTrackingID))})`);
  }
  return n;
}

/**
 * Entries whose lease ran out (their executor died or lost the database) go back to the queue, in their
 * original place (due time); the claim after counts as a new attempt. Those whose cancel was asked for are
 * cancelled.
 */
export async function rescueExpiredLeases(db: Database, now: Date, resultTtlSeconds: number): Promise<number> {
  return db.raw.execute(Prisma.sql`
    UPDATE ws_queued_operation SET ${unlessCancelled(now, resultTtlSeconds, { state: Prisma.sql`'queued'` })}, lease_token = NULL, available_at = due_at
    WHERE state = 'running' AND available_at <= ${now}`);
}

/** When the next queued entry of these queues comes due (for an idle listener's timer), or null. */
export async function nextDue(db: Database, queues: string[]): Promise<Date | null> {
  const rows = await db.raw.query<{ at: unknown }>(Prisma.sql`
    SELECT min(available_at) AS at FROM ws_queued_operation WHERE state = 'queued' AND queue IN (${Prisma.join(queues)})`);
  const at = rows[0]?.at;
  return at === null || at === undefined ? null : toDate(at);
}
