// What the Queue Server's API and `wsgate run` need beyond the protocol's operations: an entry's context
// label and stored output (without consuming the result), whether a result was already read, and the claim
// of one named entry for a foreground run.
import { nanoid } from 'nanoid';
import * as statusSql from './sql/status.js';
import * as resultSql from './sql/result.js';
import * as claimSql from './sql/claim.js';
import type { Database } from '../db/client.js';
import { claimedOf, type ClaimedOperation, type ClaimRow } from './store.js';

export interface JobDetails {
  userId: number;
  context: string | null;
  state: string;
  /** The stored envelope (JSON text) once the entry is finished; null before. */
  result: string | null;
}

/** The entry's owner, context, state and stored envelope; `userId` undefined reads anyone's (the CLI). */
export async function jobDetails(db: Database, operationTrackingID: string, userId?: number): Promise<JobDetails | null> {
  const [r] = await db.raw.query<{ user_id: unknown; context: string | null; state: string; result: string | null }>(
    statusSql.jobDetails(operationTrackingID, userId),
  );
  return r ? { userId: Number(r.user_id), context: r.context ?? null, state: r.state, result: r.result ?? null } : null;
}

/** Whether this user's finished entry was read already (and deleted): a later read answers 410 Gone. */
export async function resultWasTaken(db: Database, operationTrackingID: string, userId: number, now: Date): Promise<boolean> {
  const rows = await db.raw.query(resultSql.resultWasTaken(operationTrackingID, userId, now));
  return rows.length > 0;
}

/**
 * Claims one queued entry by its id, due or not, with a lease, as an executor's claim does (`wsgate run`):
 * of this and any executor's claim exactly one wins (SQLite's write lock; on PostgreSQL the UPDATE waits for
 * a concurrent claim's row lock and then finds the entry no longer queued). Null when it is not queued.
 */
export async function claimById(db: Database, operationTrackingID: string, now: Date, leaseSeconds: number): Promise<ClaimedOperation | null> {
  const leaseToken = nanoid();
  const leaseUntil = new Date(now.getTime() + leaseSeconds * 1000);
  const [r] = await db.raw.query<ClaimRow>(claimSql.claimById(operationTrackingID, leaseToken, leaseUntil, now));
  return r ? claimedOf(r, leaseToken) : null;
}

/** The entry's stored state alone (one primary-key read: what a `Prefer: wait` polls); null when there is none. */
export async function stateOf(db: Database, operationTrackingID: string, userId: number): Promise<string | null> {
  const [r] = await db.raw.query<{ state: string }>(statusSql.stateOf(operationTrackingID, userId));
  return r?.state ?? null;
}
