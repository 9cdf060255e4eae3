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
  INSERT INTO ws_queue_entry (id, operation, params, params_bytes, user_id, state, available_at, due_at, submitted_at, attempts, queue, priority, context, callback, trace_parent)`;

const valuesOf = (e: EntryValues) => SQL.sql`${e.id}, ${e.operation}, ${e.params}, ${e.paramsBytes}, ${e.userId},
  'queued', ${e.dueAt}, ${e.dueAt}, ${e.submittedAt}, 0, ${e.queue}, ${e.priority}, ${e.context},
  ${e.callback}, ${e.traceParent}`;

/** Queues every row in one statement. */
export const insertEntries = (rows: EntryValues[]) => SQL.sql`${INSERT}
  VALUES ${SQL.join(rows.map((e) => SQL.sql`(${valuesOf(e)})`))}
  RETURNING queue, due_at`;

/** Queues the row only when `guard` holds (no row returned otherwise). */
export const insertEntryWhere = (e: EntryValues, guard: SQL.Sql) => SQL.sql`${INSERT} SELECT ${valuesOf(e)} WHERE ${guard} RETURNING queue, due_at`;

/** A gathered row (insertGatheredWhere): its columns and its delay. */
export interface GatheredValues extends EntryValues {
  delaySeconds: number;
}

/** The columns of insertGatheredWhere's rows that its guard may use. */
export const gathered = {
  userId: SQL.raw('v.user_id'),
  delaySeconds: SQL.raw('v.delay'),
  paramsBytes: SQL.raw('v.params_bytes'),
};

const text = (n: number) => String(n);

/**
 * PostgreSQL only: the entries of several submits in one statement (one plan, one run of the table's
 * statement triggers, one commit), each queued only when `guard` (on the `gathered` columns) holds for it;
 * returns the ids it queued. The rows travel as one array per column, so the statement's text is the same
 * whatever their number and is prepared once. The guard's count of a user's entries is a VOLATILE function
 * (./quota.ts), called for each row: it sees the rows this statement inserted before that row (PostgreSQL
 * shows a volatile function the changes of the command that calls it, and the INSERT takes the rows one at
 * a time), so the rows of one user are held to the limit together, as one by one.
 */
export const insertGatheredWhere = (rows: GatheredValues[], guard: SQL.Sql) => SQL.sql`${INSERT}
  SELECT v.id, v.operation, v.params, v.params_bytes, v.user_id, 'queued', v.due_at, v.due_at, v.submitted_at, 0,
    v.queue, v.priority, v.context, v.callback, v.trace_parent
  FROM unnest(${rows.map((e) => e.id)}::text[], ${rows.map((e) => e.operation)}::text[], ${rows.map((e) => e.params)}::text[],
    ${rows.map((e) => text(e.paramsBytes))}::integer[], ${rows.map((e) => text(e.userId))}::integer[],
    ${rows.map((e) => e.dueAt.toISOString())}::timestamp(3)[], ${rows.map((e) => e.submittedAt.toISOString())}::timestamp(3)[],
    ${rows.map((e) => e.queue)}::text[], ${rows.map((e) => text(e.priority))}::integer[], ${rows.map((e) => e.context)}::text[],
    ${rows.map((e) => e.callback)}::text[], ${rows.map((e) => e.traceParent)}::text[],
    ${rows.map((e) => text(e.delaySeconds))}::bigint[])
    AS v(id, operation, params, params_bytes, user_id, due_at, submitted_at, queue, priority, context, callback, trace_parent, delay)
  WHERE ${guard}
  RETURNING id`;

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
