// A worker rehearses its batch's statements before it reports ready. The first use of each part cost its
// first batch 6-8 ms of the thread's CPU and 110-250 ms of wall time while other workers started: on
// PostgreSQL its connection's server process reads the queue table's catalogs and compiles the table's
// triggers (~25 ms of the server's CPU), the completion is prepared, node-postgres builds its result
// parsers, Node loads perf_hooks. A listener's workers start before work comes: its first operations should
// not wait for that. The rehearsal stores the completion of no entry (no lease token is REHEARSAL_LEASE) in a
// transaction that is rolled back: nothing is written.
import type { Database } from '../db/client.js';
import { completeMany } from '../queue/store.js';

const REHEARSAL_LEASE = 'rehearsal';

class Rehearsed extends Error {}

export async function rehearse(db: Database, now: Date): Promise<void> {
  performance.now(); // loads perf_hooks in this thread (a worker's global `performance` is loaded at its first use)
  if (!db.transaction) return;
  try {
    await db.transaction(async () => {
      const finished = await completeMany(db, REHEARSAL_LEASE, [{ operationTrackingID: REHEARSAL_LEASE, envelope: '{}' }], now, 1);
      if (finished.size > 0) throw new Error('a rehearsal completed an entry');
      throw new Rehearsed();
    });
  } catch (error) {
    if (!(error instanceof Rehearsed)) throw error;
  }
}
