// Leases: a claimed entry is its executor's until available_at. The heartbeat extends the leases of every
// running entry held under its tokens, so that a run longer than the lease is never taken over while it goes
// on. A lease that ran out (its executor died or lost the database) puts the entry back in the queue at its
// original place (its due time); the next claim counts as a new attempt. An entry whose cancel was asked for
// is cancelled instead (./cancel.ts's unlessCancelled).
import * as SQL from '../../db/sql.js';
import { unlessCancelled } from './cancel.js';

export const renewLeases = (leaseTokens: string[], leaseUntil: Date) => SQL.sql`
    UPDATE ws_queued_operation SET available_at = ${leaseUntil}
    WHERE state = 'running' AND lease_token IN (${SQL.join(leaseTokens)})`;

export const rescueExpiredLeases = (now: Date, resultTtlSeconds: number) => SQL.sql`
    UPDATE ws_queued_operation SET ${unlessCancelled(now, resultTtlSeconds, { state: SQL.sql`'queued'` })}, lease_token = NULL, available_at = due_at
    WHERE state = 'running' AND available_at <= ${now}`;
