// Operations run and failed per queue and minute (ws_queue_minute): each executor adds what it counted
// since its last heartbeat, so `wsgate top` can show runs and failures per minute across processes.
import { Prisma } from '../db/generated/sqlite/client.js';
import type { Database } from '../db/client.js';
import { toDate } from '../db/values.js';

export interface MinuteCount {
  queue: string;
  /** The minute's start. */
  minute: Date;
  runs: number;
  failures: number;
}

export const minuteOf = (at: Date) => new Date(Math.floor(at.getTime() / 60_000) * 60_000);

/** Counts of one process, added up until they are written. */
export class MinuteCounter {
  private counts = new Map<string, MinuteCount>();

  add(queue: string, at: Date, runs: number, failures: number): void {
    const minute = minuteOf(at);
    const key = `${queue} ${minute.getTime()}`;
    const c = this.counts.get(key) ?? { queue, minute, runs: 0, failures: 0 };
    c.runs += runs;
    c.failures += failures;
    this.counts.set(key, c);
  }

  /** Adds the counts to the table (one statement); on failure they are kept for the next try. */
  async flush(db: Database): Promise<void> {
    if (this.counts.size === 0) return;
    const taken = [...this.counts.values()];
    this.counts = new Map();
    try {
      await db.raw.execute(Prisma.sql`
        INSERT INTO ws_queue_minute (queue, minute, runs, failures)
        VALUES ${Prisma.join(taken.map((c) => Prisma.sql`(${c.queue}, ${c.minute}, ${c.runs}, ${c.failures})`))}
        ON CONFLICT (queue, minute) DO UPDATE SET runs = ws_queue_minute.runs + excluded.runs, failures = ws_queue_minute.failures + excluded.failures`);
    } catch (error) {
      for (const c of taken) this.add(c.queue, c.minute, c.runs, c.failures);
      throw error;
    }
  }
}

/** The counts of the minutes since `since`, per queue and minute. */
export async function minuteCounts(db: Database, since: Date): Promise<MinuteCount[]> {
  const rows = await db.raw.query<{ queue: string; minute: unknown; runs: unknown; failures: unknown }>(Prisma.sql`
    SELECT queue, minute, runs, failures FROM ws_queue_minute WHERE minute >= ${minuteOf(since)} ORDER BY minute, queue`);
  return rows.map((r) => ({ queue: r.queue, minute: toDate(r.minute), runs: Number(r.runs), failures: Number(r.failures) }));
}

/** Deletes the counts of minutes before `before` (housekeeping). */
export async function purgeMinuteCounts(db: Database, before: Date): Promise<number> {
  return db.raw.execute(Prisma.sql`DELETE FROM ws_queue_minute WHERE minute < ${before}`);
}
