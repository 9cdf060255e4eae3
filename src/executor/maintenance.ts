// Housekeeping that runs after executor passes: unread results past their time, dead sessions and tokens.
import { purgeSessions, type SessionPolicy } from '../auth/login.js';
import type { DbTx } from '../db/client.js';
import { purgeExpiredResults } from '../queue/store.js';

export async function purgeExpired(db: DbTx, now: Date, policy: SessionPolicy) {
  const results = await purgeExpiredResults(db, now);
  const sessions = await purgeSessions(db, now, policy);
  return { results, sessions };
}
