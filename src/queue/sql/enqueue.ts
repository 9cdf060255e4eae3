// Enqueue: one INSERT of one or many entries, queued and due at their due time (available_at = due_at), no
// attempt made yet. Every form returns `queue, due_at` per row, so that the dialect's notifyingInsert can
// wake idle listeners of other processes (PostgreSQL) in the same statement. The guarded form inserts
// nothing unless its condition (a quota, ../quota.ts) holds, read by the same statement that inserts.
import { Prisma } from '../../db/generated/sqlite/client.js';

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

const INSERT = Prisma.sql`
  INSERT INTO ws_queued_operation (id, operation, params, params_bytes, user_id, state, available_at, due_at, submitted_at, attempts, queue, priority, context, callback, trace_parent)`;

const valuesOf = (e: EntryValues) => Prisma.sql`${e.id}, ${e.operation}, ${e.params}, ${e.paramsBytes}, ${e.userId},
  'queued', ${e.dueAt}, ${e.dueAt}, ${e.submittedAt}, 0, ${e.queue}, ${e.priority}, ${e.context},
  ${e.callback}, ${e.traceParent}`;

/** Queues every row in one statement. */
export const insertEntries = (rows: EntryValues[]) => Prisma.sql`${INSERT}
  VALUES ${Prisma.join(rows.map((e) => Prisma.sql`(${valuesOf(e)})`))}
  RETURNING queue, due_at`;

/** Queues the row only when `guard` holds (no row returned otherwise). */
export const insertEntryWhere = (e: EntryValues, guard: Prisma.Sql) => Prisma.sql`${INSERT} SELECT ${valuesOf(e)} WHERE ${guard} RETURNING queue, due_at`;
