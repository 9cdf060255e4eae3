// Housekeeping beside the executor: unread results past their time, failed entries past their retention,
// dead sessions and tokens. Keeps the queue table from growing without bound under steady load.
import { purgeSessions, type SessionPolicy } from '../auth/login.js';
import type { Database } from '../db/client.js';
import { pruneFailed } from '../queue/failed.js';
import { purgeExpiredResults } from '../queue/store.js';

export interface Retention {
  sessionPolicy: SessionPolicy;
  failedRetentionHours: number;
}

export async function purgeExpired(db: Database, now: Date, retention: Retention) {
  const results = await purgeExpiredResults(db.prisma, now);
  const failed = await pruneFailed(db, new Date(now.getTime() - retention.failedRetentionHours * 3_600_000));
  const sessions = await purgeSessions(db.prisma, now, retention.sessionPolicy);
  return { results, failed, sessions };
}
