// Claim: reserve queued, due entries for one lease token (state 'running', available_at = the lease's end,
// one more attempt), highest priority first, then oldest. Of several executors claiming at once, each entry
// goes to exactly one: SQLite's UPDATE takes the database's write lock before its sub-select reads;
// PostgreSQL's sub-select skips the rows another claim has locked rather than waiting for them (the
// dialect's claimedIds). A claim by id (`wsgate run`) races an executor's claim the same way: the loser
// finds the entry no longer queued. Every claim returns CLAIMED's columns.
// An executor's claim does not wait for the disk at its commit (store.ts runs it on `db.unflushed`): the
// operation starts a flush sooner. Its worker flushes the log before any statement of the batch reaches the
// database and before an operation calls out (src/executor/batch.ts, Dialect.flushLog): a crash of the
// server before that undoes only the claim, and nothing of the batch has happened yet.
import * as SQL from '../../db/sql.js';
import type { Dialect } from '../../db/dialect.js';

export interface ClaimParams {
  queue: string;
  now: Date;
  leaseUntil: Date;
  leaseToken: string;
  limit: number;
}

/** What a claim returns of each entry (src/queue/store.ts's ClaimRow). */
const CLAIMED = SQL.raw('id, operation, params, user_id, attempts, failures, errors, queue, priority, due_at, submitted_at, trace_parent');

const claimUpdate = (leaseToken: string, leaseUntil: Date, now: Date, which: SQL.Sql) => SQL.sql`
  UPDATE ws_queue_entry
  SET state = 'running', lease_token = ${leaseToken}, available_at = ${leaseUntil},
      started_at = ${now}, attempts = attempts + 1
  WHERE ${which}
  RETURNING ${CLAIMED}`;

/**
 * Up to `limit` due entries of one queue. The claim index is ordered by priority first, so `available_at <=
 * now` bounds nothing of its walk: with nothing due, the walk would read every entry of the queue not due
 * yet (137 ms at 500,000 on PostgreSQL, ~1 s cold; 35 ms on SQLite). So it asks first whether the queue's
 * earliest queued entry is due: the first entry of the (state, queue, available_at) index, one index descent
 * (the ORDER BY makes PostgreSQL's planner take that index; SQLite's is told, dialect.byDueIndex), evaluated
 * once before the walk (dialect.limitIf), so a claim that finds nothing reads a few index pages whatever the
 * backlog. (An EXISTS with `available_at <= now` was planned as a sequential scan, and min() on SQLite as a
 * scan of the claim index: the statistics cannot tell that the queue's entries are the ones not due.) The
 * walk itself is of the claim index, in the claim's order, and stops at the limit (dialect.byClaimIndex).
 */
export const claimDue = (dialect: Dialect, p: ClaimParams) => {
  const due = dialect.limitIf(
    SQL.sql`(SELECT available_at FROM ws_queue_entry${dialect.byDueIndex} WHERE queue = ${p.queue} AND state = 'queued' ORDER BY available_at LIMIT 1) <= ${p.now}`,
    p.limit,
  );
  return claimUpdate(
    p.leaseToken,
    p.leaseUntil,
    p.now,
    dialect.claimedIds(SQL.sql`
  SELECT id FROM ws_queue_entry${dialect.byClaimIndex}
  WHERE state = 'queued' AND queue = ${p.queue} AND available_at <= ${p.now}${due.where}
  ORDER BY priority DESC, available_at, submitted_at
  LIMIT ${due.limit}`),
  );
};

/** One named entry, due or not, if it is queued. */
export const claimById = (id: string, leaseToken: string, leaseUntil: Date, now: Date) =>
  claimUpdate(leaseToken, leaseUntil, now, SQL.sql`id = ${id} AND state = 'queued'`);

/**
 * When the next queued entry of these queues comes due (an idle engine's timer): each queue's earliest
 * entry read as the claim's check reads it, one descent of the (state, queue, available_at) index per queue
 * (a min() over `queue IN (...)` would read every queued entry of those queues: the index is in due order
 * within one queue only).
 */
export const nextDue = (dialect: Dialect, queues: string[]) => SQL.sql`
  SELECT min(at) AS at FROM (${SQL.join(
    queues.map(
      (queue) =>
        SQL.sql`SELECT (SELECT available_at FROM ws_queue_entry${dialect.byDueIndex} WHERE state = 'queued' AND queue = ${queue} ORDER BY available_at LIMIT 1) AS at`,
    ),
    ' UNION ALL ',
  )}) AS earliest`;
