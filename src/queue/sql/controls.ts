// Queue controls (ws_queue), shared by every executor: a paused queue is not claimed; max_running caps its
// running entries across executors; max_starts per per_seconds caps how many start in a fixed window. A
// limited queue is claimed in a transaction that first serializes the claims of that queue (PostgreSQL: the
// dialect's lockKey; SQLite: the write lock, taken by touchQueue, the transaction's first statement), so the
// running count and the window's starts that size the claim are those every other claim committed.
import * as SQL from '../../db/sql.js';

export const readControls = () => SQL.sql`SELECT name, paused_at, max_running, max_starts, per_seconds FROM ws_queue`;

export interface ControlColumns {
  pausedAt?: Date | null;
  maxRunning?: number | null;
  maxStarts?: number | null;
  perSeconds?: number | null;
}

const COLUMN: Record<keyof ControlColumns, string> = {
  pausedAt: 'paused_at',
  maxRunning: 'max_running',
  maxStarts: 'max_starts',
  perSeconds: 'per_seconds',
};

/** Creates the queue's row or sets the given controls (others keep their values). */
export const upsertControl = (name: string, data: ControlColumns, now: Date) => {
  const set = (Object.keys(data) as (keyof ControlColumns)[]).filter((k) => data[k] !== undefined);
  const columns = set.map((k) => SQL.raw(COLUMN[k]));
  const values = set.map((k) => SQL.sql`${data[k]}`);
  const updates = set.map((k) => SQL.raw(`${COLUMN[k]} = excluded.${COLUMN[k]}`));
  return SQL.sql`
    INSERT INTO ws_queue (name, ${columns.length ? SQL.sql`${SQL.join(columns)}, ` : SQL.empty}updated_at)
    VALUES (${name}, ${values.length ? SQL.sql`${SQL.join(values)}, ` : SQL.empty}${now})
    ON CONFLICT (name) DO UPDATE SET ${updates.length ? SQL.sql`${SQL.join(updates)}, ` : SQL.empty}updated_at = excluded.updated_at`;
};

/** SQLite: takes the write lock for the limited claim's transaction. */
export const touchQueue = (name: string) => SQL.sql`UPDATE ws_queue SET window_starts = window_starts WHERE name = ${name}`;

export const limitsOf = (name: string) => SQL.sql`
      SELECT paused_at, max_running, max_starts, per_seconds, window_start, window_starts FROM ws_queue WHERE name = ${name}`;

export const runningIn = (queue: string) => SQL.sql`
        SELECT count(*) AS n FROM ws_queue_entry WHERE state = 'running' AND queue = ${queue}`;

export const countStarts = (name: string, windowStart: Date | null, starts: number) =>
  SQL.sql`UPDATE ws_queue SET window_start = ${windowStart}, window_starts = ${starts} WHERE name = ${name}`;
