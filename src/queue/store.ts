// The queue's contract: enqueue, claim with a lease, renew the lease, complete (both fenced by the lease
// token), read a result once, purge. These are the hot paths, so each is one raw SQL statement rather than
// an ORM call. Enqueue and claim go straight to the driver (src/db/raw.ts); the others go through Prisma,
// because they run inside an operation's transaction or may.
import { nanoid } from 'nanoid';
import type { Database, DbTx } from '../db/client.js';
import { toDate } from '../db/values.js';
import type { RawSql } from '../db/raw.js';
import { Prisma } from '../db/generated/sqlite/client.js';

export interface NewQueuedOperation {
  operation: string;
  /** The operation's sanitized parameters, as the executor will pass them to it. */
  params: Record<string, unknown>;
  userId: number;
  submittedAt: Date;
  dueAt: Date;
}

export interface ClaimedOperation {
  operationTrackingID: string;
  operation: string;
  params: Record<string, unknown>;
  userId: number;
  attempts: number;
  dueAt: Date;
  submittedAt: Date;
  leaseToken: string;
}

export const NOT_QUEUED_OR_NOT_FINISHED = 'Operation not queued or not finished yet';

export async function enqueue(raw: RawSql, entry: NewQueuedOperation): Promise<string> {
  const id = nanoid();
  await raw.execute(Prisma.sql`
    INSERT INTO ws_queued_operation (id, operation, params, user_id, state, available_at, due_at, submitted_at, attempts)
    VALUES (${id}, ${entry.operation}, ${JSON.stringify(entry.params)}, ${entry.userId}, 'queued', ${entry.dueAt},
            ${entry.dueAt}, ${entry.submittedAt}, 0)`);
  return id;
}

export interface ClaimOptions {
  now: Date;
  leaseSeconds: number;
  limit: number;
}

export async function claim(db: Database, options: ClaimOptions): Promise<ClaimedOperation[]> {
  const leaseToken = nanoid();
  const rows = await db.raw.query<
    { id: string; operation: string; params: string; user_id: unknown; attempts: unknown; due_at: unknown; submitted_at: unknown }
  >(
    db.dialect.claimDue({
      now: options.now,
      leaseUntil: new Date(options.now.getTime() + options.leaseSeconds * 1000),
      leaseToken,
      limit: options.limit,
    }),
  );
  return rows
    .map((r) => ({
      operationTrackingID: r.id,
      operation: r.operation,
      params: JSON.parse(r.params) as Record<string, unknown>,
      userId: Number(r.user_id),
      attempts: Number(r.attempts),
      dueAt: toDate(r.due_at),
      submittedAt: toDate(r.submitted_at),
      leaseToken,
    }))
    // RETURNING does not promise the sub-select's order; this is the claim's order (oldest due first).
    .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.submittedAt.getTime() - b.submittedAt.getTime());
}

export interface LeaseRenewal {
  operationTrackingID: string;
  leaseToken: string;
  now: Date;
  leaseSeconds: number;
}

/**
 * Extends the lease of an entry this executor holds, from now. Run as the first statement of the transaction
 * an operation runs in: on PostgreSQL that also locks the row until the transaction ends, so a claim by another
 * executor skips it even if the lease runs out meanwhile; on SQLite the transaction holds the write lock.
 * False means the lease was lost (it expired and another executor claimed the entry): do not run it.
 */
export async function renewLease(db: DbTx, r: LeaseRenewal): Promise<boolean> {
  const n = await db.$executeRaw`
    UPDATE ws_queued_operation SET available_at = ${new Date(r.now.getTime() + r.leaseSeconds * 1000)}
    WHERE id = ${r.operationTrackingID} AND lease_token = ${r.leaseToken} AND state = 'running'`;
  return n === 1;
}

export interface Completion {
  operationTrackingID: string;
  leaseToken: string;
  /** The operation's envelope as JSON text. */
  envelope: string;
  now: Date;
  resultTtlSeconds: number;
}

/**
 * Finishes an entry and stores its envelope in one statement. Only the holder of the current lease can:
 * false means the lease was lost (expired and taken by another executor) and nothing was written.
 */
export async function complete(db: DbTx, c: Completion): Promise<boolean> {
  const n = await db.$executeRaw`
    UPDATE ws_queued_operation
    SET state = 'done', result = ${c.envelope}, finished_at = ${c.now}, lease_token = NULL, params = '{}',
        result_expires_at = ${new Date(c.now.getTime() + c.resultTtlSeconds * 1000)}
    WHERE id = ${c.operationTrackingID} AND lease_token = ${c.leaseToken} AND state = 'running'`;
  return n === 1;
}

/**
 * The finished operation's envelope, deleted in the same statement, so that of several concurrent readers
 * exactly one gets it. Only the user who queued it can take it; anyone else gets null, as for an unknown id.
 */
export async function takeResult(db: DbTx, operationTrackingID: string, userId: number, now: Date): Promise<string | null> {
  const rows = await db.$queryRaw<{ result: string }[]>`
    DELETE FROM ws_queued_operation
    WHERE id = ${operationTrackingID} AND user_id = ${userId} AND state = 'done' AND result_expires_at > ${now}
    RETURNING result`;
  return rows[0]?.result ?? null;
}

/** Deletes finished entries whose result was not read in time. */
export async function purgeExpiredResults(db: DbTx, now: Date): Promise<number> {
  return db.$executeRaw`DELETE FROM ws_queued_operation WHERE state = 'done' AND result_expires_at <= ${now}`;
}

