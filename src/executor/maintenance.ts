// Housekeeping beside the executor: unread results past their time, failed entries past their retention,
// dead sessions and tokens, expired ClientRequestIdentifiers. Keeps the queue table from growing without bound under steady load.
import { purgeSessions, type SessionPolicy } from '../auth/login.js';
import type { Database } from '../db/client.js';
import { pruneFailed } from '../queue/failed.js';
import { purgeExpiredResults } from '../queue/store.js';
import { purgeExpiredRequests } from '../queue/idempotency.js';
import { purgeDeliveries } from '../queue/callbacks.js';
import { foldQueueCounts } from '../queue/depth.js';

export interface Retention {
  sessionPolicy: SessionPolicy;
  failedRetentionHours: number;
}

export async function purgeExpired(db: Database, now: Date, retention: Retention) {
  const results = await purgeExpiredResults(db.raw, now);
  const failed = await pruneFailed(db, new Date(now.getTime() - retention.failedRetentionHours * 3_600_000));
  const sessions = await purgeSessions(db.raw, now, retention.sessionPolicy);
  const requestIds = await purgeExpiredRequests(db.raw, now);
  // Callback deliveries that ended are kept as long as failed entries, for getQueuedOperationStatus.
  const callbacks = await purgeDeliveries(db.raw, new Date(now.getTime() - retention.failedRetentionHours * 3_600_000));
  // PostgreSQL's ws_queue_count gains rows with every new connection that writes: folded, the scrape's read stays small.
  const queueCounts = await foldQueueCounts(db);
  return { results, failed, sessions, requestIds, callbacks, queueCounts };
}
