// Housekeeping beside the executor: unread results past their time, failed entries past their retention,
// dead sessions and tokens, expired ClientRequestIdentifiers. Keeps the queue table from growing without bound under steady load.
import { purgeSessions, type SessionPolicy } from '../auth/login.js';
import type { Database } from '../db/client.js';
import { pruneFailed } from '../queue/failed.js';
import { purgeExpiredResults } from '../queue/store.js';
import { purgeExpiredRequests } from '../ws/idempotency.js';
import { purgeMinuteCounts } from '../queue/minutes.js';

/** Runs and failures per minute are kept this long (`wsgate top`). */
const MINUTE_COUNTS_KEPT_MS = 24 * 3_600_000;

export interface Retention {
  sessionPolicy: SessionPolicy;
  failedRetentionHours: number;
}

export async function purgeExpired(db: Database, now: Date, retention: Retention) {
  const results = await purgeExpiredResults(db.prisma, now);
  const failed = await pruneFailed(db, new Date(now.getTime() - retention.failedRetentionHours * 3_600_000));
  const sessions = await purgeSessions(db.prisma, now, retention.sessionPolicy);
  const requestIds = await purgeExpiredRequests(db.prisma, now);
  const minuteCounts = await purgeMinuteCounts(db, new Date(now.getTime() - MINUTE_COUNTS_KEPT_MS));
  return { results, failed, sessions, requestIds, minuteCounts };
}
