// What the dashboard reads: counts per queue, the chart's minutes, the executors, a page of the operations
// list (keyset pagination on (submitted_at, id), newest first, one index per filter), and one entry.
// Every statement reads a bounded number of rows or one index; none loads the table.
import { Prisma } from '../db/generated/sqlite/client.js';
import type { Database } from '../db/client.js';
import { toDate } from '../db/values.js';
import type { AttemptError } from '../queue/store.js';
import { foldQueueCounts, queueDepth } from '../queue/depth.js';

export interface QueueOverview {
  queue: string;
  waiting: number;
  delayed: number;
  running: number;
  failed: number;
  /** Done or cancelled, result not read yet. */
  done: number;
  /** When the longest-waiting due entry came due; null when nothing waits. */
  oldestWaitingSince: Date | null;
}

const optionalDate = (v: unknown) => (v === null || v === undefined ? null : toDate(v));

/**
 * The counts of src/queue/depth.ts (ws_queue_count, kept by triggers, and an index read per queue: never a
 * count of the entries), after folding on PostgreSQL the rows of connections that are gone.
 */
export async function queueOverview(db: Database, now: Date): Promise<QueueOverview[]> {
  await foldQueueCounts(db);
  return (await queueDepth(db, now)).map(({ oldestWaitingDueAt, ...q }) => ({ ...q, oldestWaitingSince: oldestWaitingDueAt }));
}

export interface MinuteCount {
  queue: string;
  minute: Date;
  runs: number;
  failures: number;
}

/** Runs and failures per queue and minute since `since` (ws_queue_minute, kept by triggers). */
export async function minuteCounts(db: Database, since: Date): Promise<MinuteCount[]> {
  const rows = await db.raw.query<{ queue: string; minute: unknown; runs: unknown; failures: unknown }>(Prisma.sql`
    SELECT queue, minute, sum(runs) AS runs, sum(failures) AS failures FROM ws_queue_minute
    WHERE minute >= ${since} GROUP BY queue, minute ORDER BY minute`);
  return rows.map((r) => ({ queue: r.queue, minute: toDate(r.minute), runs: Number(r.runs), failures: Number(r.failures) }));
}

export interface ExecutorView {
  id: string;
  host: string;
  pid: number;
  queues: string;
  maxWorkers: number;
  busyWorkers: number;
  startedAt: Date;
  seenAt: Date;
}

export async function executors(db: Database): Promise<ExecutorView[]> {
  const rows = await db.raw.query<Record<string, unknown>>(Prisma.sql`
    SELECT id, host, pid, queues, max_workers, busy_workers, started_at, seen_at FROM ws_executor ORDER BY host, pid, id LIMIT 200`);
  return rows.map((r) => ({
    id: String(r.id),
    host: String(r.host),
    pid: Number(r.pid),
    queues: String(r.queues),
    maxWorkers: Number(r.max_workers),
    busyWorkers: Number(r.busy_workers),
    startedAt: toDate(r.started_at),
    seenAt: toDate(r.seen_at),
  }));
}

/** The states the list filters by: the stored ones, with queued split into waiting (due) and delayed. */
export const LIST_STATES = ['waiting', 'delayed', 'queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type ListState = (typeof LIST_STATES)[number];

export interface ListFilter {
  state?: ListState;
  queue?: string;
  operation?: string;
  userName?: string;
  id?: string;
  /** The page after this (submitted_at, id) key. */
  before?: { at: Date; id: string };
}

export interface ListRow {
  id: string;
  operation: string;
  state: string;
  queue: string;
  priority: number;
  userName: string | null;
  attempts: number;
  submittedAt: Date;
  dueAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** The last failed attempt's error, if any. */
  lastError: AttemptError | null;
}

export const PAGE_SIZE = 50;

/** A page of entries, newest first; `next` is the key of the page after it, when there is one. */
export async function listOperations(db: Database, f: ListFilter, now: Date): Promise<{ rows: ListRow[]; next: { at: Date; id: string } | null }> {
  const where: Prisma.Sql[] = [];
  if (f.id) where.push(Prisma.sql`o.id = ${f.id}`);
  // coalesce() over a column that is never null keeps SQLite from driving the page by an available_at range
  // (and sorting every match) instead of by the (state, submitted_at, id) index in the page's order.
  if (f.state === 'waiting') where.push(Prisma.sql`o.state = 'queued' AND coalesce(o.available_at, o.due_at) <= ${now}`);
  else if (f.state === 'delayed') where.push(Prisma.sql`o.state = 'queued' AND coalesce(o.available_at, o.due_at) > ${now}`);
  else if (f.state) where.push(Prisma.sql`o.state = ${f.state}`);
  if (f.queue) where.push(Prisma.sql`o.queue = ${f.queue}`);
  if (f.operation) where.push(Prisma.sql`o.operation = ${f.operation}`);
  if (f.userName) where.push(Prisma.sql`o.user_id = (SELECT id FROM ws_user WHERE user_name = ${f.userName})`);
  if (f.before) where.push(Prisma.sql`(o.submitted_at, o.id) < (${f.before.at}, ${f.before.id})`);
  const rows = await db.raw.query<Record<string, unknown>>(Prisma.sql`
    SELECT o.id, o.operation, o.state, o.queue, o.priority, o.attempts, o.submitted_at, o.due_at, o.available_at, o.started_at,
           o.finished_at, o.errors, u.user_name
    FROM ws_queued_operation o LEFT JOIN ws_user u ON u.id = o.user_id
    ${where.length ? Prisma.sql`WHERE ${Prisma.join(where, ' AND ')}` : Prisma.empty}
    ORDER BY o.submitted_at DESC, o.id DESC
    LIMIT ${PAGE_SIZE + 1}`);
  const page = rows.slice(0, PAGE_SIZE).map((r) => ({
    id: String(r.id),
    operation: String(r.operation),
    state: r.state === 'queued' ? (toDate(r.available_at) > now ? 'delayed' : 'waiting') : String(r.state),
    queue: String(r.queue),
    priority: Number(r.priority),
    userName: r.user_name === null || r.user_name === undefined ? null : String(r.user_name),
    attempts: Number(r.attempts),
    submittedAt: toDate(r.submitted_at),
    dueAt: toDate(r.due_at),
    startedAt: optionalDate(r.started_at),
    finishedAt: optionalDate(r.finished_at),
    lastError: r.errors ? ((JSON.parse(String(r.errors)) as AttemptError[]).at(-1) ?? null) : null,
  }));
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > PAGE_SIZE && last ? { at: last.submittedAt, id: last.id } : null };
}

export interface EntryDetail extends Omit<ListRow, 'lastError'> {
  userId: number;
  params: unknown;
  errors: AttemptError[];
  failures: number;
  resultRead: boolean;
  /** Columns this view does not know (an operation's progress or log lines, when the table has them). */
  extra: Record<string, unknown>;
}

const KNOWN = new Set([
  'id',
  'operation',
  'params',
  'params_bytes',
  'user_id',
  'state',
  'available_at',
  'due_at',
  'submitted_at',
  'queue',
  'priority',
  'attempts',
  'failures',
  'errors',
  'lease_token',
  'started_at',
  'finished_at',
  'result',
  'result_expires_at',
  'result_taken_at',
  'user_name',
]);

const parseJson = (text: unknown): unknown => {
  if (typeof text !== 'string') return text ?? null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** One entry with every column of its row (the result itself excepted: it belongs to the user who queued it). */
export async function entryDetail(db: Database, id: string, now: Date): Promise<EntryDetail | null> {
  const [r] = await db.raw.query<Record<string, unknown>>(Prisma.sql`
    SELECT o.*, u.user_name FROM ws_queued_operation o LEFT JOIN ws_user u ON u.id = o.user_id WHERE o.id = ${id}`);
  if (!r) return null;
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!KNOWN.has(k) && v !== null && v !== undefined) extra[k] = parseJson(v);
  return {
    id: String(r.id),
    operation: String(r.operation),
    state: r.state === 'queued' ? (toDate(r.available_at) > now ? 'delayed' : 'waiting') : String(r.state),
    queue: String(r.queue),
    priority: Number(r.priority),
    userName: r.user_name === null || r.user_name === undefined ? null : String(r.user_name),
    userId: Number(r.user_id),
    attempts: Number(r.attempts),
    failures: Number(r.failures),
    submittedAt: toDate(r.submitted_at),
    dueAt: toDate(r.due_at),
    startedAt: optionalDate(r.started_at),
    finishedAt: optionalDate(r.finished_at),
    params: parseJson(r.params),
    errors: r.errors ? (JSON.parse(String(r.errors)) as AttemptError[]) : [],
    resultRead: r.result_taken_at !== null && r.result_taken_at !== undefined,
    extra,
  };
}

/** The user who queued an entry, for cancelling it as that user would. */
export async function ownerOf(db: Database, id: string): Promise<number | null> {
  const [r] = await db.raw.query<{ user_id: unknown }>(Prisma.sql`SELECT user_id FROM ws_queued_operation WHERE id = ${id}`);
  return r ? Number(r.user_id) : null;
}

/** Entries in the failed store (the state index). */
export async function failedCount(db: Database): Promise<number> {
  const [r] = await db.raw.query<{ n: unknown }>(Prisma.sql`SELECT count(*) AS n FROM ws_queued_operation WHERE state = 'failed'`);
  return Number(r?.n ?? 0);
}
