// What wakes an idle engine: an enqueue in this process, a NOTIFY from another (PostgreSQL), the due time of
// a delayed entry heard of, a batch that settled, a poke; else its poll interval ends its sleep. A database
// outage's backoff pause is not cut short by these: only by the database seen serving again, or a stop.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../db/client.js';
import { QUEUE_CHANNEL } from '../db/dialect.js';
import type { DatabaseHealth } from '../db/health.js';
import { queueEvents, type Enqueued } from '../queue/events.js';

export interface WakingDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  health: DatabaseHealth;
  /** The queues the engine serves: enqueues in others do not wake it. */
  queues: string[];
  /** A sign that the database serves (an enqueue heard, LISTEN back): the engine decides whether a pause ends. */
  serving(): void;
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export class Waking {
  private signal: (() => void) | null = null;
  /** A wake-up came while the engine was not sleeping: its next sleep returns at once. */
  private signalled = false;
  /** The earliest due time heard of (an enqueue with a delay), and the timer that wakes the engine then. */
  private dueWake: { at: number; timer: NodeJS.Timeout } | null = null;
  private timers: NodeJS.Timeout[] = [];
  private listening: { stop(): Promise<void> } | null = null;
  /** Ends the backoff pause early. */
  private endPause: (() => void) | null = null;
  private readonly onEnqueued = (e: Enqueued) => this.heard(e.queue, e.dueAt.getTime());

  constructor(private readonly deps: WakingDeps) {}

  /** True when a wake-up came since the engine last slept. */
  get woken(): boolean {
    return this.signalled;
  }

  /** Hears enqueues: in this process, and on PostgreSQL those of other processes (NOTIFY). */
  listen(): void {
    queueEvents.on('enqueued', this.onEnqueued);
    this.listening = this.deps.db.listen(
      QUEUE_CHANNEL,
      (payload) => {
        const [queue, due] = payload.split(' ');
        this.heard(queue ?? '', Number(due));
      },
      (error) => this.deps.health.failed(error) ?? this.deps.log.warn({ err: error }, 'LISTEN connection lost; polling until it is back'),
      // Notifications sent while it was away are lost: look for due work now.
      () => {
        this.deps.serving();
        this.wake();
      },
    );
  }

  wake(): void {
    this.signalled = true;
    this.signal?.();
  }

  /** Sleeps until woken, or `ms` (Infinity: until woken). */
  async sleep(ms: number): Promise<void> {
    if (this.signalled) {
      this.signalled = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const t = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined;
      this.signal = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.signal = null;
    this.signalled = false;
  }

  /** The backoff's wait: not cut short by wake-ups (a poke every second would defeat it), only by endPauses(). */
  pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.endPause = () => {
        this.endPause = null;
        done();
      };
    });
  }

  /** Ends the backoff pause now, if one runs. */
  endPauses(): void {
    this.endPause?.();
  }

  /** Runs `fn` after `ms`, unless the engine is closed first. */
  after(fn: () => void, ms: number): void {
    const t = setTimeout(
      () => {
        this.timers = this.timers.filter((x) => x !== t);
        fn();
      },
      Math.min(ms, MAX_TIMEOUT_MS),
    );
    t.unref();
    this.timers.push(t);
  }

  /** Stops hearing enqueues and clears every timer. */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    if (this.dueWake) clearTimeout(this.dueWake.timer);
    queueEvents.off('enqueued', this.onEnqueued);
    await this.listening?.stop();
  }

  private heard(queue: string, dueMs: number) {
    if (!this.deps.queues.includes(queue)) return;
    const inMs = dueMs - this.deps.clock.now().getTime();
    // An enqueue was heard: the database serves, so a backoff pause ends too.
    this.endPauses();
    if (!(inMs > 0)) this.wake();
    else if (this.dueWake === null || dueMs < this.dueWake.at) {
      if (this.dueWake) clearTimeout(this.dueWake.timer);
      const timer = setTimeout(
        () => {
          this.dueWake = null;
          this.wake();
        },
        Math.min(inMs, MAX_TIMEOUT_MS),
      );
      timer.unref();
      this.dueWake = { at: dueMs, timer };
    }
  }
}
