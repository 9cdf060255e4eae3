// Operations run and failed per queue and minute (ws_queue_minute), as triggers count them when an entry's
// run ends (migration 20261202000700_dashboard; PostgreSQL's in several slots, summed here), for `wsgate top`.
import * as sql from './sql/depth.js';
import * as retention from './sql/retention.js';
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

/** The counts of the minutes since `since`, per queue and minute. */
export async function minuteCounts(db: Database, since: Date): Promise<MinuteCount[]> {
  const rows = await db.raw.query<{ queue: string; minute: unknown; runs: unknown; failures: unknown }>(sql.minuteCounts(minuteOf(since)));
  return rows.map((r) => ({ queue: r.queue, minute: toDate(r.minute), runs: Number(r.runs), failures: Number(r.failures) }));
}

/** Deletes the counts of minutes before `before` (housekeeping). */
export async function purgeMinuteCounts(db: Database, before: Date): Promise<number> {
  return db.raw.execute(retention.purgeMinuteCounts(before));
}
