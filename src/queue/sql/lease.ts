// Leases: a claimed entry is its executor's until available_at. The heartbeat extends the leases of every
// running entry held under its tokens, so that a run longer than the lease is never taken over while it goes
// on. A lease that ran out (its executor died or lost the database) puts the entry back in the queue at its
// original place (its due time); the next claim counts as a new attempt. An entry whose cancel was asked for
// is cancelled instead (./cancel.ts's unlessCancelled).
import * as SQL from '../../db/sql.js';
import type { Dialect } from '../../db/dialect.js';
import { unlessCancelled } from './cancel.js';

// Both pass over the entries another transaction holds (dialect.claimedIds: PostgreSQL's SKIP LOCKED): a
// worker's transaction that stores its batch's completions locks their entries one by one; a heartbeat that
// waited for one of them while holding another the worker needs next deadlocked with it (seen under load: the
// worker's commit stalled a second, until PostgreSQL's deadlock check failed the heartbeat). An entry passed
// over is held by another transaction (mostly its completion, also a cancel or a live report, all short): it
// is finished meanwhile, or renewed or rescued at the next heartbeat, a third of its lease later.

export const renewLeases = (dialect: Dialect, leaseTokens: string[], leaseUntil: Date) => SQL.sql`
    UPDATE ws_queue_entry SET available_at = ${leaseUntil}
    WHERE ${dialect.claimedIds(SQL.sql`SELECT id FROM ws_queue_entry WHERE state = 'running' AND lease_token IN (${SQL.join(leaseTokens)})`)}`;

export const rescueExpiredLeases = (dialect: Dialect, now: Date, resultTtlSeconds: number) => SQL.sql`
    UPDATE ws_queue_entry SET ${unlessCancelled(now, resultTtlSeconds, { state: SQL.sql`'queued'` })}, lease_token = NULL, available_at = due_at
    WHERE ${dialect.claimedIds(SQL.sql`SELECT id FROM ws_queue_entry WHERE state = 'running' AND available_at <= ${now}`)}`;
