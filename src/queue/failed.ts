// The failed store: entries whose attempts were used up by infrastructure failures. They keep their
// parameters, so that `wsgate retry` can give the same operationTrackingID a new run.
import * as sql from './sql/failed.js';
import { wakeListeners } from './sql/enqueue.js';
import type { Database } from '../db/client.js';
import { toDate } from '../db/values.js';
import { inBatches, type AttemptError } from './store.js';

export interface FailedEntry {
  operationTrackingID: string;
  operation: string;
  queue: string;
  userId: number;
  /** The user's name (null if the user was deleted since). */
  userName: string | null;
  /** The parameters it was queued with, secrets masked (maskSecrets). */
  params: Record<string, unknown>;
  attempts: number;
  failedAt: Date;
  errors: AttemptError[];
  resultRead: boolean;
  /** What the last attempt logged (an own operation's ctx.log lines). */
  output: string[];
}

export async function listFailed(db: Database): Promise<FailedEntry[]> {
  const rows = await db.raw.query<{
    id: string;
    operation: string;
    queue: string;
    user_id: unknown;
    user_name: string | null;
    params: string;
    attempts: unknown;
    finished_at: unknown;
    errors: string | null;
    result_taken_at: unknown;
    output: string | null;
  }>(sql.listFailed());
  return rows.map((r) => ({
    operationTrackingID: r.id,
    operation: r.operation,
    queue: r.queue,
    userId: Number(r.user_id),
    userName: r.user_name ?? null,
    params: maskSecrets(JSON.parse(r.params) as Record<string, unknown>) as Record<string, unknown>,
    attempts: Number(r.attempts),
    failedAt: toDate(r.finished_at),
    errors: r.errors ? (JSON.parse(r.errors) as AttemptError[]) : [],
    resultRead: r.result_taken_at !== null && r.result_taken_at !== undefined,
    output: r.output ? (JSON.parse(r.output) as string[]) : [],
  }));
}

/** Parameter names that hold credentials: their values are shown as "***". */
const SECRET_NAME = /pass|secret|token|key|auth|credential|session/i;

/** A copy of `value` with the values of secret-looking keys, at any depth, replaced by "***". */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (typeof value === 'string' && value.startsWith('{')) {
    // coreBOS sends elements as JSON text: look inside.
    try {
      return JSON.stringify(maskSecrets(JSON.parse(value)));
    } catch {
      return value;
    }
  }
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_NAME.test(k) ? '***' : maskSecrets(v)]));
}

/**
 * Queues failed entries again, due now, with their attempts counted afresh (earlier attempts' errors are
 * kept). `ids` null means every failed entry. Returns the ids queued again.
 */
export async function retryFailed(db: Database, ids: string[] | null, now: Date): Promise<string[]> {
  const rows = await db.raw.query<{ id: string; queue: string }>(sql.retryFailed(ids, now));
  for (const queue of new Set(rows.map((r) => r.queue))) {
    const notify = wakeListeners(db.dialect, queue, now);
    if (notify) await db.raw.query(notify);
  }
  return rows.map((r) => r.id);
}

/** Deletes the given failed entries. Returns the ids deleted (an id not in the failed store is not). */
export async function forgetFailed(db: Database, ids: string[]): Promise<string[]> {
  const rows = await db.raw.query<{ id: string }>(sql.forgetFailed(ids));
  return rows.map((r) => r.id);
}

/** Deletes every failed entry; returns how many. */
export async function flushFailed(db: Database): Promise<number> {
  return inBatches((limit) => db.raw.execute(sql.flushFailed(limit)));
}

/** Deletes failed entries that failed before `before`. */
export async function pruneFailed(db: Database, before: Date): Promise<number> {
  return inBatches((limit) => db.raw.execute(sql.pruneFailed(before, limit)));
}
