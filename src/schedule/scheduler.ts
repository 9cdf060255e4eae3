// Queues the recurring operations of the schedule file as their ticks come due. Every executor runs one
// (`wsgate execute` at the start of its pass, `work` and `serve` every second): each keeps the time of each
// schedule's next tick in memory and touches the database only once it has come, where the schedule's
// row decides which executor queues it (src/queue/schedules.ts). Each tick becomes an ordinary queue entry
// (status, retries, the failed store), due at the tick's time.
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import type { Clock } from '../clock.js';
import type { OperationDefinition, Params } from '../operations/types.js';
import type { OperationLookup } from '../operations/registry.js';
import { advanceSchedule, scheduleState } from '../queue/schedules.js';
import { readSchedules, type ScheduleEntry } from './file.js';
import { userByName } from '../auth/users.js';
import { tickerOf, type Ticker } from './ticks.js';

export interface SchedulerDeps {
  db: Database;
  registry: OperationLookup;
  clock: Clock;
  log: Logger;
  file: string;
  /** The parameters as a caller's would reach the operation (declared ones only, JSON decoded and checked). */
  prepare(op: OperationDefinition, params: Record<string, unknown>): Params;
}

interface Tracked {
  entry: ScheduleEntry;
  ticker: Ticker;
  /** Before this time (ms) nothing of it is due; 0: ask the database. */
  nextDue: number;
}

const DAY_MS = 24 * 3600 * 1000;

export class Scheduler {
  private readonly tracked: Tracked[];
  private firing: Promise<number> | null = null;

  /** Reads the schedule file; a broken one throws ScheduleFileError naming the schedule and the field. */
  constructor(private readonly deps: SchedulerDeps) {
    this.tracked = readSchedules(deps.file).map((entry) => ({ entry, ticker: tickerOf(entry.cron, entry.timezone), nextDue: 0 }));
  }

  get size(): number {
    return this.tracked.length;
  }

  /** Queues what has come due; answers how many entries it queued. Calls made while one runs share it. */
  fire(): Promise<number> {
    if (this.tracked.length === 0) return Promise.resolve(0);
    this.firing ??= this.fireDue().finally(() => (this.firing = null));
    return this.firing;
  }

  private async fireDue(): Promise<number> {
    let queued = 0;
    for (const t of this.tracked) {
      const now = this.deps.clock.now();
      if (now.getTime() < t.nextDue) continue;
      queued += await this.fireOne(t.entry, t.ticker, now);
      t.nextDue = t.ticker.next(now)?.getTime() ?? now.getTime() + DAY_MS;
    }
    return queued;
  }

  private async fireOne(s: ScheduleEntry, ticker: Ticker, now: Date): Promise<number> {
    const { db, log } = this.deps;
    const state = await scheduleState(db, s.name, now);
    if (!state) {
      log.info({ schedule: s.name, cron: s.cron, timezone: s.timezone }, 'schedule seen for the first time: its ticks from now on are queued');
      return 0;
    }
    const ticks = ticker.between(state.lastTick, now, s.missed === 'catch-up' ? s.catchUpLimit : 1);
    if (ticks.length === 0) return 0;
    const onTime = s.missed === 'catch-up' ? ticks : ticks.filter((t) => now.getTime() - t.getTime() <= s.graceSeconds * 1000);
    const ready = await this.ready(s);
    const entries =
      typeof ready === 'string'
        ? []
        : onTime
            .slice()
            .reverse()
            .map((tick) => ({
              operation: ready.op.name,
              params: ready.params,
              userId: ready.userId,
              submittedAt: now,
              dueAt: tick,
              queue: s.queue,
              priority: s.priority,
            }));
    const done = await advanceSchedule(db, s.name, state, ticks[0]!, entries, now);
    if (!done) return 0; // another executor queued this tick
    done.announce();
    if (typeof ready === 'string') log.error({ schedule: s.name, tick: ticks[0] }, `schedule tick not queued: ${ready}`);
    else if (entries.length === 0)
      log.warn(
        { schedule: s.name, missedUpTo: ticks[0], graceSeconds: s.graceSeconds },
        'schedule ticks missed while no executor ran were skipped (missed: skip)',
      );
    else log.info({ schedule: s.name, operation: s.operation, ticks: entries.length, operationTrackingIDs: done.ids }, 'schedule queued its operation');
    return entries.length;
  }

  /** What the schedule's entries need, or why it cannot be queued now (its user or operation is gone). */
  private async ready(s: ScheduleEntry): Promise<{ op: OperationDefinition; userId: number; params: Params } | string> {
    const op = this.deps.registry.get(s.operation);
    if (!op) return `operation ${s.operation} is not registered`;
    if (!op.queueable) return `operation ${s.operation} cannot be queued`;
    const user = await userByName(this.deps.db.raw, s.user);
    if (!user) return `user ${s.user} does not exist`;
    if (user.disabled) return `user ${s.user} is disabled`;
    try {
      return { op, userId: user.id, params: this.deps.prepare(op, s.params) };
    } catch (error) {
      return `its params are refused: ${(error as Error).message}`;
    }
  }
}
