// Enqueue: one INSERT of one or many entries, queued and due at their due time (available_at = due_at), no
// attempt made yet. Every form returns `queue, due_at` per row, so that notifyingInsert wakes idle listeners
// of other processes (where the dialect can notify: PostgreSQL) in the same statement, once per queue, at
// its earliest due time; the notification is sent when the statement's transaction commits. The guarded
// form inserts nothing unless its condition (a quota, ./quota.ts) holds, read by the statement that inserts.
import * as SQL from '../../db/sql.js';
import { QUEUE_CHANNEL, type Dialect } from '../../db/dialect.js';

/** An entry's columns as the INSERT takes them (`params` already JSON text). */
export interface EntryValues {
  id: string;
  operation: string;
  params: string;
  paramsBytes: number;
  userId: number;
  dueAt: Date;
  submittedAt: Date;
  queue: string;
  priority: number;
  context: string | null;
  /** JSON text of `{url, method}`, or null. */
  callback: string | null;
  traceParent: string | null;
}

const INSERT = SQL.sql`
  INSERT INTO ws_queued_operation (id, operation, params, params_bytes, user_id, state, available_at, due_at, submitted_at, attempts, queue, priority, context, callback, trace_parent)`;

const valuesOf = (e: EntryValues) => SQL.sql`${e.id}, ${e.operation}, ${e.params}, ${e.paramsBytes}, ${e.userId},
  'queued', ${e.dueAt}, ${e.dueAt}, ${e.submittedAt}, 0, ${e.queue}, ${e.priority}, ${e.context},
  ${e.callback}, ${e.traceParent}`;

/** Queues every row in one statement. */
export const insertEntries = (rows: EntryValues[]) => SQL.sql`${INSERT}
  VALUES ${SQL.join(rows.map((e) => SQL.sql`(${valuesOf(e)})`))}
  RETURNING queue, due_at`;

/** Queues the row only when `guard` holds (no row returned otherwise). */
export const insertEntryWhere = (e: EntryValues, guard: SQL.Sql) => SQL.sql`${INSERT} SELECT ${valuesOf(e)} WHERE ${guard} RETURNING queue, due_at`;

/**
 * `insert` (returning `queue, due_at`) and a notification per queue. Its rows are text (pg_notify's void is
 * not a value every client reads).
 */
export const notifyingInsert = (dialect: Dialect, insert: SQL.Sql) => {
  const notify = dialect.notify(QUEUE_CHANNEL, SQL.sql`queue || ' ' || ${dialect.epochMs(SQL.sql`min(due_at)`)}`);
  return notify
    ? SQL.sql`
      WITH inserted AS (${insert})
      SELECT CAST(${notify} AS text) AS notified
      FROM inserted GROUP BY queue`
    : insert;
};

/** Tells idle listeners that entries of `queue` are due at `dueAt` (a retry from the failed store), or null. */
export const wakeListeners = (dialect: Dialect, queue: string, dueAt: Date) => {
  const notify = dialect.notify(QUEUE_CHANNEL, SQL.sql`${`${queue} ${dueAt.getTime()}`}`);
  return notify ? SQL.sql`SELECT ${notify}` : null;
};
