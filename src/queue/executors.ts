// The executors' own rows: each running executor refreshes its row with its heartbeat, so `wsgate status`
// can tell busy and free workers across processes and hosts. A row not refreshed for three heartbeats
// belongs to an executor that is gone.
import os from 'node:os';
import * as sql from './sql/executors.js';
import type { Database, DbTx } from '../db/client.js';
import { toDate } from '../db/values.js';

/** How often an executor renews its leases and reports in: three times per lease, at least every 10 s. */
export const heartbeatEveryMs = (leaseSeconds: number) => Math.max(200, Math.min(10_000, (leaseSeconds * 1000) / 3));

/** An executor is live while it was seen within its last three heartbeats (and a second to spare). */
export const liveSince = (now: Date, leaseSeconds: number) => new Date(now.getTime() - 3 * heartbeatEveryMs(leaseSeconds) - 1_000);

/** The window of liveSince for the longest heartbeat (10 s), when the lease setting is not at hand. */
export const LIVE_WINDOW_MAX_MS = 3 * 10_000 + 1_000;

export interface ExecutorRow {
  id: string;
  queues: string[];
  maxWorkers: number;
  busyWorkers: number;
  startedAt: Date;
}

export async function reportExecutor(db: Database, row: ExecutorRow, now: Date): Promise<void> {
  const columns = { ...row, host: os.hostname(), pid: process.pid, queues: row.queues.join(',') };
  const updated = await db.raw.execute(sql.refreshExecutor(columns, now));
  if (updated === 0) await db.raw.execute(sql.insertExecutor(columns, now));
}

export async function removeExecutor(db: Database, id: string): Promise<void> {
  await db.raw.execute(sql.removeExecutor(id));
}

export interface WorkerCounts {
  executors: number;
  maxWorkers: number;
  busyWorkers: number;
}

/** Workers of executors seen since `since`; older rows are deleted on the way. */
export async function workerCounts(db: Database, since: Date): Promise<WorkerCounts> {
  await db.raw.execute(sql.forgetExecutorsBefore(since));
  const rows = await db.raw.query<{ n: unknown; max: unknown; busy: unknown }>(sql.workerCounts());
  const r = rows[0];
  return { executors: Number(r?.n ?? 0), maxWorkers: Number(r?.max ?? 0), busyWorkers: Number(r?.busy ?? 0) };
}

export interface ExecutorSeen extends ExecutorRow {
  host: string;
  pid: number;
  seenAt: Date;
}

/** The executors seen since `since` (within their last heartbeats), oldest first. */
export async function listExecutors(db: Database, since: Date): Promise<ExecutorSeen[]> {
  const rows = await db.raw.query<{
    id: string;
    host: string;
    pid: unknown;
    queues: string;
    max_workers: unknown;
    busy_workers: unknown;
    started_at: unknown;
    seen_at: unknown;
  }>(sql.listExecutors(since));
  return rows.map((r) => ({
    id: r.id,
    host: r.host,
    pid: Number(r.pid),
    queues: r.queues.split(','),
    maxWorkers: Number(r.max_workers),
    busyWorkers: Number(r.busy_workers),
    startedAt: toDate(r.started_at),
    seenAt: toDate(r.seen_at),
  }));
}

/** The queues served by executors seen since `since`. */
export async function liveQueues(db: DbTx, since: Date): Promise<Set<string>> {
  // Compared here rather than in SQL: the table holds a row per executor, and its times are stored per provider.
  const rows = await db.query<{ queues: string; seen_at: unknown }>(sql.executorQueues());
  return new Set(rows.filter((r) => toDate(r.seen_at) >= since).flatMap((r) => r.queues.split(',')));
}
