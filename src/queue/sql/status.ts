// Reading entries without changing them: one entry's status or state for the user who queued it (never
// another user's: the user is part of every condition), its details for the Queue Server's API, and the
// queue's counts by state for `wsgate status`. Nothing here consumes a result.
import * as SQL from '../../db/sql.js';
import { ENTRIES, fromEither } from './tables.js';

export const statusOf = (id: string, userId: number) =>
  fromEither(
    (table) => SQL.sql`
    SELECT id, operation, state, queue, priority, attempts, errors, submitted_at, due_at, available_at, started_at, finished_at, callback,
      progress, progress_message, output, cancel_requested_at
    FROM ${table} WHERE id = ${id} AND user_id = ${userId}`,
  );

/** The stored state alone: a primary-key read of each table (what a `Prefer: wait` polls, and a cancel reads first). */
export const stateOf = (id: string, userId: number) => fromEither((table) => SQL.sql`SELECT state FROM ${table} WHERE id = ${id} AND user_id = ${userId}`);

/** `userId` undefined reads anyone's (the CLI). */
export const jobDetails = (id: string, userId?: number) =>
  fromEither(
    (table) => SQL.sql`
    SELECT user_id, context, state, result FROM ${table}
    WHERE id = ${id} ${userId === undefined ? SQL.empty : SQL.sql`AND user_id = ${userId}`}`,
  );

/** Rows `(state, later, n)`: later is 1 for queued entries not due at `now`. `finished`: done results too. */
export const queueCounts = (now: Date, conditions: SQL.Sql[], finished: boolean) => {
  const select = (table: SQL.Sql) => SQL.sql`SELECT state, CASE WHEN state = 'queued' AND available_at > ${now} THEN 1 ELSE 0 END AS later
      FROM ${table}
      ${conditions.length ? SQL.sql`WHERE ${SQL.join(conditions, ' AND ')}` : SQL.empty}`;
  return SQL.sql`
    SELECT state, later, count(*) AS n FROM (${finished ? fromEither(select) : select(ENTRIES)}) AS entries
    GROUP BY state, later`;
};

export const countFilter = (queues: string[] | undefined, context: string | undefined, userId: number | undefined) =>
  [
    queues ? SQL.sql`queue IN (${SQL.join(queues)})` : null,
    context !== undefined ? SQL.sql`context = ${context}` : null,
    userId !== undefined ? SQL.sql`user_id = ${userId}` : null,
  ].filter((c): c is SQL.Sql => c !== null);

/**
 * Only queued and running entries are in the indexes by queue and by user (partial on PostgreSQL: migration
 * 20261207000000_partial_queue_indexes): a count by those (or of everything) names these states, or it reads
 * the whole table.
 */
export const live = () => SQL.sql`state IN ('queued', 'running')`;

/** Finished entries per state, from the counts the triggers keep (ws_queue_count), of these queues or all. */
export const finishedCounts = (queues: string[] | undefined) => SQL.sql`
    SELECT state, 0 AS later, sum(n) AS n FROM ws_queue_count
    WHERE state NOT IN ('queued', 'running') ${queues ? SQL.sql`AND queue IN (${SQL.join(queues)})` : SQL.empty}
    GROUP BY state`;

export const queuedByQueue = () => SQL.sql`
    SELECT queue, count(*) AS n FROM ws_queue_entry WHERE state = 'queued' GROUP BY queue`;
