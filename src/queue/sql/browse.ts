// What people browsing the queue read (the dashboard's list of entries, one entry, the failed count). Each reads a
// bounded number of rows through one index; none counts or loads the entries table.
import * as SQL from '../../db/sql.js';
import type { Dialect } from '../../db/dialect.js';
import { ENTRIES, RESULTS, fromEither } from './tables.js';

const STORED_STATES: Record<string, string> = { queued: 'queued', running: 'running', done: 'done', failed: 'failed', cancelled: 'cancelled' };
const unknownState = (state: string): never => {
  throw new Error(`no entry is ever in state ${JSON.stringify(state)}`);
};

/** What a page of the list filters by; `state` waiting and delayed split queued entries at `now`. */
export interface PageFilter {
  state?: string;
  queue?: string;
  operation?: string;
  userName?: string;
  id?: string;
  /** The page after this (submitted_at, id) key. */
  before?: { at: Date; id: string };
}

/**
 * A page of `limit` entries with their user's name, newest first: keyset pagination on (submitted_at, id),
 * led by the index of the filter given (state, queue, operation or user, each with submitted_at and id).
 * Where the dialect keeps the list's keys apart (entryKeys), a page filtered by anything but state alone
 * walks the keys' index of its filter (queue, operation, user) and looks each entry up by id; with a state
 * too, the planner may instead read the entries of that state and sort them, when it reckons them fewer.
 * Otherwise a page of done entries, or of every state, is the newer of a page of each table
 * (./tables.ts), each read in its index's order.
 */
export const page = (dialect: Dialect, f: PageFilter, now: Date, limit: number) => {
  const keys = f.state && !f.queue && !f.operation && !f.userName ? null : dialect.entryKeys;
  const k = keys ? 'k' : 'o';
  const col = (c: string) => SQL.raw(`${k}.${c}`);
  const where: SQL.Sql[] = [];
  if (f.id) where.push(SQL.sql`${col('id')} = ${f.id}`);
  // coalesce() over a column that is never null keeps SQLite from driving the page by an available_at range
  // (and sorting every match) instead of by the (state, submitted_at, id) index in the page's order.
  if (f.state === 'waiting') where.push(SQL.sql`o.state = 'queued' AND coalesce(o.available_at, o.due_at) <= ${now}`);
  else if (f.state === 'delayed') where.push(SQL.sql`o.state = 'queued' AND coalesce(o.available_at, o.due_at) > ${now}`);
  // A literal, not a parameter: each state's index is partial (PostgreSQL: no running entries in (state,
  // submitted_at, id)), which a plan made for any value (a generic plan) could not use.
  else if (f.state) where.push(SQL.sql`o.state = ${SQL.raw(`'${STORED_STATES[f.state] ?? unknownState(f.state)}'`)}`);
  if (f.queue) where.push(SQL.sql`${col('queue')} = ${f.queue}`);
  if (f.operation) where.push(SQL.sql`${col('operation')} = ${f.operation}`);
  if (f.userName) where.push(SQL.sql`${col('user_id')} = (SELECT id FROM ws_user WHERE user_name = ${f.userName})`);
  if (f.before) where.push(SQL.sql`(${col('submitted_at')}, ${col('id')}) < (${f.before.at}, ${f.before.id})`);
  const columns = SQL.sql`SELECT o.id, o.operation, o.state, o.queue, o.priority, o.attempts, o.submitted_at, o.due_at, o.available_at, o.started_at,
           o.finished_at, o.errors, u.user_name`;
  const filtered = SQL.sql`LEFT JOIN ws_user u ON u.id = o.user_id
    ${where.length ? SQL.sql`WHERE ${SQL.join(where, ' AND ')}` : SQL.empty}
    ORDER BY ${col('submitted_at')} DESC, ${col('id')} DESC
    LIMIT ${limit}`;
  // The keys are those of both tables: joined to the view, whose two tables PostgreSQL reads by their primary keys.
  if (keys) return SQL.sql`${columns} FROM ${keys} k JOIN ws_queued_operation o ON o.id = k.id ${filtered}`;
  const from = (table: SQL.Sql) => SQL.sql`${columns} FROM ${table} o ${filtered}`;
  // Only done entries may be in the results' table; each table gives its page, the newer of the two win.
  if (f.state !== undefined && f.state !== 'done') return from(ENTRIES);
  return SQL.sql`
    SELECT * FROM (${from(ENTRIES)}) AS e UNION ALL SELECT * FROM (${from(RESULTS)}) AS r
    ORDER BY submitted_at DESC, id DESC
    LIMIT ${limit}`;
};

/** One entry, every column of its row, with its user's name (the primary key). */
export const entryWithUser = (id: string) =>
  fromEither((table) => SQL.sql`SELECT o.*, u.user_name FROM ${table} o LEFT JOIN ws_user u ON u.id = o.user_id WHERE o.id = ${id}`);

/** The user who queued an entry (the primary key). */
export const ownerOf = (id: string) => fromEither((table) => SQL.sql`SELECT user_id FROM ${table} WHERE id = ${id}`);

/** Entries in the failed store (a range of the state index). */
export const failedCount = () => SQL.sql`SELECT count(*) AS n FROM ws_queue_entry WHERE state = 'failed'`;
