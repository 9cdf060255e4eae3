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
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** While the database is unavailable the engine tries again after 1 s, doubling up to 30 s. */
export const RETRY_FIRST_MS = 1_000;
export const RETRY_MAX_MS = 30_000;

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
  /** Failures in a row of the engine's loop (for its backoff). */
  private failures = 0;
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
        this.served();
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

  /** The engine's loop failed (the database is away): waits 1 s, doubling with each failure in a row up to 30 s. */
  backOff(): Promise<void> {
    this.failures++;
    return this.pause(Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (this.failures - 1)));
  }

  /** The engine's loop went round without failing: the next failure backs off from the start. */
  recovered(): void {
    this.failures = 0;
  }

  /**
   * A statement that began at `startedAt` (DatabaseHealth.now()) succeeded, or LISTEN is back: the database
   * serves. After an outage, a backoff pause ends at once.
   */
  served(startedAt?: number): void {
    if (this.deps.health.ok(startedAt) || this.failures > 0) this.endPauses();
  }

  /** Ends the backoff pause now, if one runs (a stop). */
  endPauses(): void {
    this.endPause?.();
  }

  /** The backoff's wait: not cut short by wake-ups (a poke every second would defeat it), only by endPauses(). */
  private pause(ms: number): Promise<void> {
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
