// The state of recurring operations: per schedule, the last tick queued and a version. A tick's entries
// are queued in the transaction whose conditional UPDATE moves the schedule past it: of several executors
// (threads, processes, hosts) that see the same tick due, exactly one UPDATE matches its version, and
// only that transaction queues the entries. One whose UPDATE matches nothing queues nothing (PostgreSQL
// re-reads the row after the other's commit; SQLite's write lock serializes the two).
import type { Database } from '../db/client.js';
import { toDate } from '../db/values.js';
import { enqueueIn, type NewQueuedOperation } from './store.js';
import * as sql from './sql/schedules.js';

export interface ScheduleState {
  lastTick: Date;
  version: number;
}

/** The schedule's state, or null the first time any executor sees it (then it starts at `now`). */
export async function scheduleState(db: Database, name: string, now: Date): Promise<ScheduleState | null> {
  const rows = await db.raw.query<{ last_tick: unknown; version: unknown }>(sql.scheduleState(name));
  if (rows[0]) return { lastTick: toDate(rows[0].last_tick), version: Number(rows[0].version) };
  await db.raw.execute(sql.startSchedule(name, now));
  return null;
}

/**
 * Moves the schedule from `seen` to `tick` and queues `entries`, in one transaction; false (nothing
 * queued) when another executor moved it first.
 */
export async function advanceSchedule(
  db: Database,
  name: string,
  seen: ScheduleState,
  tick: Date,
  entries: NewQueuedOperation[],
  now: Date,
): Promise<{ ids: string[]; announce: () => void } | null> {
  return db.atomic(async (tx) => {
    const moved = await tx.execute(sql.advanceSchedule(name, seen.version, tick, now));
    if (moved !== 1) return null;
    const queued: { operationTrackingID: string; announce: () => void }[] = [];
    for (const entry of entries) queued.push(await enqueueIn(tx, db.dialect, entry));
    return {
      ids: queued.map((q) => q.operationTrackingID),
      announce: () => {
        for (const q of queued) q.announce();
      },
    };
  });
}

/** Forgets a schedule's state (it was removed from the file): added again, it starts afresh. */
export async function forgetSchedule(db: Database, name: string): Promise<void> {
  await db.raw.execute(sql.forgetSchedule(name));
}

/** Every schedule's state, for `wsgate schedule list`. */
export async function scheduleStates(db: Database): Promise<Map<string, ScheduleState>> {
  const rows = await db.raw.query<{ name: string; last_tick: unknown; version: unknown }>(sql.scheduleStates());
  return new Map(rows.map((r) => [r.name, { lastTick: toDate(r.last_tick), version: Number(r.version) }]));
}
