// The executors registry (ws_executor): each executor refreshes its row with its heartbeat (an UPDATE, and
// an INSERT the first time), so that `wsgate status` can tell busy and free workers across processes and
// hosts. Rows not seen since a moment are those of executors that are gone: they are deleted when counted.
import * as SQL from '../../db/sql.js';
import type { ExecutorRow } from '../executors.js';

/** An executor's row as stored: where it runs, and its queues as one comma-separated text. */
export type ExecutorColumns = Omit<ExecutorRow, 'queues'> & { host: string; pid: number; queues: string };

export const refreshExecutor = (e: ExecutorColumns, now: Date) => SQL.sql`
    UPDATE ws_executor SET busy_workers = ${e.busyWorkers}, max_workers = ${e.maxWorkers}, queues = ${e.queues}, seen_at = ${now}
    WHERE id = ${e.id}`;

export const insertExecutor = (e: ExecutorColumns, now: Date) => SQL.sql`
      INSERT INTO ws_executor (id, host, pid, queues, max_workers, busy_workers, started_at, seen_at)
      VALUES (${e.id}, ${e.host}, ${e.pid}, ${e.queues}, ${e.maxWorkers}, ${e.busyWorkers}, ${e.startedAt}, ${now})`;

export const removeExecutor = (id: string) => SQL.sql`DELETE FROM ws_executor WHERE id = ${id}`;

export const forgetExecutorsBefore = (since: Date) => SQL.sql`DELETE FROM ws_executor WHERE seen_at < ${since}`;

export const workerCounts = () => SQL.sql`
    SELECT count(*) AS n, coalesce(sum(max_workers), 0) AS max, coalesce(sum(busy_workers), 0) AS busy FROM ws_executor`;

export const listExecutors = (since: Date) =>
  SQL.sql`SELECT id, host, pid, queues, max_workers, busy_workers, started_at, seen_at FROM ws_executor WHERE seen_at >= ${since} ORDER BY started_at, id`;

/** Every row's queues and last sighting (compared by the caller: the table holds a row per executor). */
export const executorQueues = () => SQL.sql`SELECT queues, seen_at FROM ws_executor`;

/** Every row as people browse them (at most 200: one per executor process), gone or not. */
export const executorsByHost = () =>
  SQL.sql`SELECT id, host, pid, queues, max_workers, busy_workers, started_at, seen_at FROM ws_executor ORDER BY host, pid, id LIMIT 200`;
