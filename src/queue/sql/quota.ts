// Quotas: what one user may have queued or running (entries, bytes of parameters), checked by the statement
// that queues (./enqueue.ts's insertEntryWhere with withinQuota as its guard), so concurrent submits cannot
// overshoot together, on one gateway or several. The count must see every entry committed before it: on
// SQLite the INSERT holds the write lock before it reads; on PostgreSQL queueUsage is a function (migration
// 20261201000000_quotas) that takes a per-user advisory lock, held until the calling transaction ends, and
// counts after it on a fresh snapshot. A user whose limits are both unlimited is not counted at all (CASE
// evaluates its branches lazily): no count, no lock.
import * as SQL from '../../db/sql.js';
import type { Dialect } from '../../db/dialect.js';

/**
 * A FROM item `q (n, b)`: the user's queued and running entries and the bytes of their parameters, counted
 * from the index (user_id, state, params_bytes). Where writes are not serialized, the function of
 * migration 20261201000000_quotas counts them after a per-user advisory lock, on a fresh snapshot.
 */
const queueUsage = (dialect: Dialect, userId: number | SQL.Sql) =>
  dialect.serializesWrites
    ? SQL.sql`(SELECT count(*) AS n, COALESCE(sum(params_bytes), 0) AS b FROM ws_queue_entry
      WHERE user_id = ${userId} AND state IN ('queued', 'running')) AS q`
    : SQL.sql`wsgate_queue_usage(${userId}::integer) AS q`;

export interface QuotaLimits {
  queued: number;
  queuedBytes: number;
  maxDelaySeconds: number;
}

/**
 * True when an entry of `paramsBytes` bytes, `delaySeconds` ahead, fits the user's limits. Each value may be
 * a column of the statement's rows (the gathered insert, ./enqueue.ts).
 */
export const withinQuota = (
  dialect: Dialect,
  userId: number | SQL.Sql,
  delaySeconds: number | SQL.Sql,
  paramsBytes: number | SQL.Sql,
  quota: QuotaLimits,
  unlimited: number,
) =>
  SQL.sql`EXISTS (
  SELECT 1 FROM ws_user u
  WHERE u.id = ${userId}
    AND ${delaySeconds} <= COALESCE(u.quota_max_delay_seconds, ${quota.maxDelaySeconds})
    AND CASE WHEN COALESCE(u.quota_queued, ${quota.queued}) >= ${unlimited} AND COALESCE(u.quota_queued_bytes, ${quota.queuedBytes}) >= ${unlimited}
      THEN 1 = 1
      ELSE EXISTS (SELECT 1 FROM ${queueUsage(dialect, userId)}
        WHERE q.n < COALESCE(u.quota_queued, ${quota.queued}) AND q.b + ${paramsBytes} <= COALESCE(u.quota_queued_bytes, ${quota.queuedBytes}))
    END)`;

/** The user's own limits and usage, as the guard counts it. */
export const usageOf = (dialect: Dialect, userId: number) => SQL.sql`
    SELECT u.quota_queued, u.quota_queued_bytes, u.quota_max_delay_seconds, q.n, q.b
    FROM ws_user u, ${queueUsage(dialect, userId)}
    WHERE u.id = ${userId}`;
