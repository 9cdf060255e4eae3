// Idempotent requests (coreBOS "wsidempotent"): the first call with a user's ClientRequestIdentifier runs,
// and its answer is kept with the identifier; a repeat gets that answer without running anything.
//
// The identifier's row is inserted first, in the transaction that then runs (or queues) the operation and
// stores its answer. A concurrent repeat's INSERT waits on that row (PostgreSQL: on its key; SQLite: on the
// write lock) until the first transaction ends: after a commit it finds the answer; after a rollback (the
// operation failed, or its process died) it runs the operation itself. So two calls never both run, on
// one gateway or several, and a crash leaves nothing half-done. Failed calls are not remembered: a retry
// with the same identifier runs again.
import { createHash } from 'node:crypto';
import type { DbTx } from '../db/client.js';
import { WsError } from '../errors.js';
import { inBatches } from './store.js';
import * as sql from './sql/idempotency.js';
import * as retention from './sql/retention.js';

export interface RequestKey {
  userId: number;
  requestId: string;
  operation: string;
  /** sha256 of what was asked: operation, parameters and deferral. */
  requestHash: string;
}

export const requestHashOf = (request: unknown) => createHash('sha256').update(JSON.stringify(request)).digest('hex');

/**
 * Takes the identifier for this call (true), or answers the stored answer of the call that took it. An
 * expired identifier is taken afresh. INVALID_PARAMETER when the identifier was used for another request.
 */
export async function takeRequestId(tx: DbTx, key: RequestKey, now: Date, expiresAt: Date): Promise<true | string> {
  const taken = await tx.query<{ user_id: unknown }>(sql.takeRequestId(key, now, expiresAt));
  if (taken.length > 0) return true;
  const [known] = await tx.query<{ operation: string; request_hash: string; answer: string }>(sql.knownRequest(key));
  if (!known) throw new Error('an idempotent request row vanished while it was being read');
  if (known.request_hash !== key.requestHash) {
    throw new WsError(
      'INVALID_PARAMETER',
      `ClientRequestIdentifier ${key.requestId} was used for another request (${known.operation} with other parameters or deferral): use a new identifier for a new request`,
    );
  }
  return known.answer;
}

export async function storeAnswer(tx: DbTx, key: RequestKey, answer: string): Promise<void> {
  await tx.execute(sql.storeAnswer(key, answer));
}

export async function purgeExpiredRequests(db: DbTx, now: Date): Promise<number> {
  return inBatches((limit) => db.execute(retention.purgeExpiredRequests(now, limit)));
}
