// What the dashboard reads: counts per queue, the chart's minutes, the executors, a page of the operations
// list and one entry, as the dashboard shows them. The statements are the queue's (src/queue/sql/browse.ts).
import type { Database } from '../db/client.js';
import { toDate } from '../db/values.js';
import type { AttemptError } from '../queue/store.js';
import { foldQueueCounts, queueDepth } from '../queue/depth.js';
import * as browse from '../queue/sql/browse.js';
import { executorsByHost } from '../queue/sql/executors.js';

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

export { minuteCounts, type MinuteCount } from '../queue/minutes.js';

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
  const rows = await db.raw.query<Record<string, unknown>>(executorsByHost());
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
  const rows = await db.raw.query<Record<string, unknown>>(browse.page(db.dialect, f, now, PAGE_SIZE + 1));
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
  const [r] = await db.raw.query<Record<string, unknown>>(browse.entryWithUser(id));
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
  const [r] = await db.raw.query<{ user_id: unknown }>(browse.ownerOf(id));
  return r ? Number(r.user_id) : null;
}

/** Entries in the failed store (the state index). */
export async function failedCount(db: Database): Promise<number> {
  const [r] = await db.raw.query<{ n: unknown }>(browse.failedCount());
  return Number(r?.n ?? 0);
}
