// The queue's gauges without counting the entries table. ws_queue_count is kept by triggers as entries are
// queued, change state and are deleted (migration 20261202000700_dashboard); on PostgreSQL it holds a row per
// connection that wrote (summed here; foldQueueCounts folds the rows of connections that are gone).
// ws_queue_minute holds runs and failures per queue and minute, written by triggers when a run ends.
import * as SQL from '../../db/sql.js';

/**
 * Every queue's entries by state and, per queue with queued entries, those due after now (a range of the
 * (state, queue, available_at) index) and its first queued entry (one seek). One statement sees one
 * snapshot, so its counts and its index reads agree (README, Metrics and health).
 */
export const depth = (now: Date) => SQL.sql`
  SELECT c.queue, c.state, c.n,
    CASE WHEN c.state = 'queued' AND c.n > 0 THEN
      (SELECT count(*) FROM ws_queue_entry o WHERE o.state = 'queued' AND o.queue = c.queue AND o.available_at > ${now})
    END AS later,
    CASE WHEN c.state = 'queued' AND c.n > 0 THEN
      (SELECT min(o.available_at) FROM ws_queue_entry o WHERE o.state = 'queued' AND o.queue = c.queue)
    END AS first
  FROM (SELECT queue, state, sum(n) AS n FROM ws_queue_count GROUP BY queue, state) c`;

/** PostgreSQL: the rows of connections that are gone, moved into slot 0; returns how many. */
export const foldQueueCounts = () => SQL.sql`
    WITH gone AS (
      DELETE FROM ws_queue_count WHERE slot <> 0 AND slot NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)
      RETURNING queue, state, n),
    folded AS (
      INSERT INTO ws_queue_count (queue, state, slot, n) SELECT queue, state, 0, sum(n) FROM gone GROUP BY queue, state
      ON CONFLICT (queue, state, slot) DO UPDATE SET n = ws_queue_count.n + excluded.n)
    SELECT count(*) AS n FROM gone`;

export const minuteCounts = (since: Date) => SQL.sql`
    SELECT queue, minute, sum(runs) AS runs, sum(failures) AS failures FROM ws_queue_minute WHERE minute >= ${since}
    GROUP BY queue, minute ORDER BY minute, queue`;

/** The queues that hold entries (from ws_queue_count: the entries are not read). */
export const queueNames = () => SQL.sql`SELECT queue FROM ws_queue_count GROUP BY queue HAVING sum(n) > 0 ORDER BY queue`;
