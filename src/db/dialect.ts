// The statements whose SQL differs between SQLite and PostgreSQL. Everything else is written once
// (Prisma queries, or Prisma.sql templates that Prisma renders with each provider's placeholders).
import { Prisma } from './generated/sqlite/client.js';

/** The channel an enqueue notifies on PostgreSQL; the payload is `<queue> <due time in epoch ms>`. */
export const QUEUE_CHANNEL = 'wsgate_queue';

export interface Dialect {
  /**
   * Appended to a claim's sub-select (`... LIMIT n<skipLocked>`): PostgreSQL skips the rows another claim
   * has locked rather than waiting for them; SQLite's UPDATE holds the write lock before it reads, so nothing.
   */
  skipLocked: Prisma.Sql;
  /** Rows `(op_id, envelope)` from a JSON array of `{"op_id": ..., "envelope": ...}` objects, as a FROM item `v`. */
  jsonRows(json: string): Prisma.Sql;
  /**
   * Wraps an INSERT ... RETURNING queue, due_at so that idle listeners hear of it (PostgreSQL only). Its rows
   * are text (Prisma cannot read pg_notify's void), so it also runs inside a Prisma transaction.
   */
  notifyingInsert(insert: Prisma.Sql): Prisma.Sql;
  /** Tells idle listeners that entries of these queues are due (after a retry from the failed store). */
  notify(queue: string, dueAt: Date): Prisma.Sql | null;
  /** Rows `(ord, module, owner_id, data)` from a JSON array of `{"module", "owner_id", "data"}`, as a FROM item `v`. */
  recordRows(json: string): Prisma.Sql;
  /** The JSON text of column `data` with the keys of the JSON object `patch` set to its values. */
  mergeData(patch: string): Prisma.Sql;
  /**
   * A statement that makes transactions asking for the same key wait for each other until commit, or
   * null where a write transaction excludes all others anyway (SQLite's BEGIN IMMEDIATE).
   */
  lockKey(key: string): Prisma.Sql | null;
  /**
   * A FROM item `q (n, b)`: the user's queued and running entries and the bytes of their parameters, as
   * the quota check (src/queue/quota.ts) counts them inside the statement that queues. It must see every
   * entry committed before it: SQLite's INSERT holds the write lock before it reads; PostgreSQL's is a
   * function (migration 20261201000000_quotas) that takes a per-user advisory lock, held until the calling
   * transaction ends, and counts after it on a fresh snapshot.
   */
  queueUsage(userId: number): Prisma.Sql;
}

export const dialects: Record<'sqlite' | 'postgresql', Dialect> = {
  // SQLite: the UPDATE takes the database's write lock before it reads, so the sub-select cannot pick a
  // row another executor is claiming at the same moment. No other process can be told of an enqueue.
  sqlite: {
    skipLocked: Prisma.empty,
    jsonRows: (json) => Prisma.sql`(SELECT value ->> 'op_id' AS op_id, value ->> 'envelope' AS envelope FROM json_each(${json})) AS v`,
    notifyingInsert: (insert) => insert,
    notify: () => null,
    mergeData: (patch) => Prisma.sql`json_patch(data, ${patch})`,
    recordRows: (json) => Prisma.sql`(SELECT CAST(key AS INTEGER) AS ord, value ->> 'module' AS module, value ->> 'owner_id' AS owner_id,
      value ->> 'data' AS data FROM json_each(${json})) AS v`,
    lockKey: () => null,
    queueUsage: (userId) => Prisma.sql`(SELECT count(*) AS n, COALESCE(sum(params_bytes), 0) AS b FROM ws_queued_operation
      WHERE user_id = ${userId} AND state IN ('queued', 'running')) AS q`,
  },
  // PostgreSQL: rows another executor is claiming are skipped rather than waited for; an enqueue wakes
  // the listeners at once (graphile-worker does the same), polling being the fallback.
  postgresql: {
    skipLocked: Prisma.sql` FOR UPDATE SKIP LOCKED`,
    jsonRows: (json) => Prisma.sql`json_to_recordset(${json}::json) AS v(op_id text, envelope text)`,
    notifyingInsert: (insert) => Prisma.sql`
      WITH inserted AS (${insert})
      SELECT pg_notify(${QUEUE_CHANNEL}, queue || ' ' || (floor(extract(epoch FROM min(due_at)) * 1000))::bigint)::text AS notified
      FROM inserted GROUP BY queue`,
    notify: (queue, dueAt) => Prisma.sql`SELECT pg_notify(${QUEUE_CHANNEL}, ${`${queue} ${dueAt.getTime()}`})`,
    mergeData: (patch) => Prisma.sql`(data::jsonb || ${patch}::jsonb)::text`,
    recordRows: (json) =>
      Prisma.sql`ROWS FROM (json_to_recordset(${json}::json) AS (module text, owner_id integer, data text)) WITH ORDINALITY AS v(module, owner_id, data, ord)`,
    lockKey: (key) => Prisma.sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))::text AS locked`,
    queueUsage: (userId) => Prisma.sql`wsgate_queue_usage(${userId}::integer) AS q`,
  },
};
