// Callback deliveries (ws_callback_delivery; the trigger of migration 20261202000400_callbacks makes one when
// an operation's outcome becomes final). Executors claim due deliveries with a lease as they claim entries
// (the dialect's claimedIds on PostgreSQL, the write lock on SQLite), so that two executors never send the
// same try; a try is recorded only under the lease it was sent with. A delivery whose executor died is
// claimed again once its lease ran out.
import * as SQL from '../../db/sql.js';
import type { Dialect } from '../../db/dialect.js';

export const claimDeliveries = (dialect: Dialect, leaseToken: string, leaseUntil: Date, now: Date, limit: number) => SQL.sql`
    UPDATE ws_callback_delivery
    SET state = 'sending', lease_token = ${leaseToken}, available_at = ${leaseUntil}, attempts = attempts + 1
    WHERE ${dialect.claimedIds(SQL.sql`
      SELECT id FROM ws_callback_delivery
      WHERE state IN ('pending', 'sending') AND available_at <= ${now}
      ORDER BY available_at LIMIT ${limit}`)}
    RETURNING id, operation_id, url, method, outcome, payload, attempts, log`;

/** Over (delivered or failed): the copy of the envelope is dropped. */
export const recordTry = (id: string, leaseToken: string, state: string, log: string, availableAt: Date, finishedAt: Date | null, over: boolean) => SQL.sql`
    UPDATE ws_callback_delivery
    SET state = ${state}, lease_token = NULL, log = ${log}, available_at = ${availableAt},
        finished_at = ${finishedAt} ${over ? SQL.sql`, payload = NULL` : SQL.empty}
    WHERE id = ${id} AND lease_token = ${leaseToken} AND state = 'sending'`;

export const deliveriesOf = (operationId: string) => SQL.sql`
    SELECT id, url, method, outcome, state, attempts, log, created_at, available_at, finished_at
    FROM ws_callback_delivery WHERE operation_id = ${operationId} ORDER BY created_at, id`;

export const nextDelivery = () => SQL.sql`
    SELECT min(available_at) AS at FROM ws_callback_delivery WHERE state IN ('pending', 'sending')`;
