// What an engine runs beside its operations: the recurring operations now due (at the start of a pass, and
// every second while listening) and the queue's maintenance (every minute while listening). Their
// failures are logged, never fatal: the queue's own work goes on.
import { DatabaseHealth } from '../db/health.js';
import type { EngineDeps } from './options.js';

const MAINTENANCE_EVERY_MS = 60_000;
const SCHEDULES_EVERY_MS = 1_000;

export class Housekeeping {
  private intervals: NodeJS.Timeout[] = [];

  constructor(
    private readonly deps: EngineDeps,
    private readonly health: DatabaseHealth,
    /** A statement that began at `startedAt` succeeded. */
    private readonly served: (startedAt: number) => void,
  ) {}

  /** Runs both on their periods until close(). */
  start(): void {
    const maintain = this.deps.maintain;
    if (maintain) {
      this.every(MAINTENANCE_EVERY_MS, () => {
        const started = DatabaseHealth.now();
        maintain().then(
          () => this.served(started),
          (error) => this.health.failed(error) ?? this.deps.log.error({ err: error }, 'queue maintenance failed'),
        );
      });
    }
    if (this.deps.schedules) this.every(SCHEDULES_EVERY_MS, () => void this.fireSchedules());
  }

  /** Queues the recurring operations now due. */
  async fireSchedules(): Promise<void> {
    try {
      await this.deps.schedules?.fire();
    } catch (error) {
      if (!this.health.failed(error)) this.deps.log.error({ err: error }, 'recurring operations could not be queued');
    }
  }

  close(): void {
    for (const t of this.intervals) clearInterval(t);
  }

  private every(ms: number, fn: () => void) {
    const t = setInterval(fn, ms);
    t.unref();
    this.intervals.push(t);
  }
}
