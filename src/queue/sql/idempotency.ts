// Idempotency keys (ws_idempotent_request): the first call with a user's ClientRequestIdentifier inserts its
// row (an expired one is taken afresh), in the transaction that then runs or queues the operation and stores
// its answer. A concurrent repeat's INSERT waits on that row (PostgreSQL: its key; SQLite: the write lock)
// until the first transaction ends, then finds the answer (after a commit) or takes the row (after a
// rollback). So two calls never both run.
import * as SQL from '../../db/sql.js';

export interface RequestColumns {
  userId: number;
  requestId: string;
  operation: string;
  requestHash: string;
}

/** A row when the identifier was taken for this call. */
export const takeRequestId = (key: RequestColumns, now: Date, expiresAt: Date) => SQL.sql`
    INSERT INTO ws_idempotent_request (user_id, request_id, operation, request_hash, answer, created_at, expires_at)
    VALUES (${key.userId}, ${key.requestId}, ${key.operation}, ${key.requestHash}, '', ${now}, ${expiresAt})
    ON CONFLICT (user_id, request_id) DO UPDATE SET operation = excluded.operation, request_hash = excluded.request_hash,
      answer = '', created_at = excluded.created_at, expires_at = excluded.expires_at
    WHERE ws_idempotent_request.expires_at <= ${now}
    RETURNING user_id`;

export const knownRequest = (key: RequestColumns) => SQL.sql`
    SELECT operation, request_hash, answer FROM ws_idempotent_request WHERE user_id = ${key.userId} AND request_id = ${key.requestId}`;

export const storeAnswer = (key: RequestColumns, answer: string) =>
  SQL.sql`UPDATE ws_idempotent_request SET answer = ${answer} WHERE user_id = ${key.userId} AND request_id = ${key.requestId}`;
