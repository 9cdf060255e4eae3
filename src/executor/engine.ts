// The executor: claims due entries for free workers (beyond that, work waits in the database), hands each
// claimed batch to the worker pool, keeps the leases of everything it holds alive (heartbeat), records what
// the workers report (retries with backoff, the failed store), and wakes on enqueues (PostgreSQL NOTIFY,
// or an enqueue in this process), on the next due time, or on its poll interval. One engine serves the
// OS-cron pass (`drain`), the listener (`listen`) and the in-process executor of `wsgate serve`.
import { nanoid } from 'nanoid';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { QUEUE_CHANNEL } from '../db/dialect.js';
import { failure } from '../envelope.js';
import { WsError, type ErrorCode } from '../errors.js';
import type { Clock } from '../clock.js';
import { handBack, nextDue, recordFailedAttempt, rescueExpiredLeases } from '../queue/attempts.js';
import { queueEvents, type Enqueued } from '../queue/events.js';
import { heartbeatEveryMs, removeExecutor, reportExecutor } from '../queue/executors.js';
import { claim, renewLeases, type ClaimedOperation } from '../queue/store.js';
import { cancelEvents, cancelsRequested, finishCancelled, markCancelRequested, type CancelRequest } from '../queue/cancel.js';
import { ControlsCache } from '../queue/controls.js';
import type { EntryOutcome, RunFacts, RunTiming } from './messages.js';
import { formatUserId } from '../auth/users.js';
import { WorkerPool, type BatchReport } from './pool.js';
import { backoffSeconds, type BackoffPolicy } from '../backoff.js';
import { DatabaseHealth } from '../db/health.js';
import { compileAllowList } from '../outbound/allow.js';
import { CallbackDeliverer } from './callbacks.js';
import { LiveBoard } from './live-board.js';
import { liveStoreOf } from '../queue/live.js';
import type { Metrics } from '../observe/metrics.js';
import { observeOutcome, observeWait } from './observe.js';

export interface EngineOptions {
  /** Named queues in priority order. */
  queues: string[];
  concurrency: number;
  /** Entries one claim reserves per free worker (a claim serves every free worker at once). */
  claimBatch: number;
  leaseSeconds: number;
  timeoutSeconds: number;
  memoryMb: number;
  tries: number;
  backoff: BackoffPolicy;
  /** Idle poll interval (s) when nothing wakes the engine sooner. */
  sleepSeconds: number;
  /** Stop after this many operations (claimed entries). */
  maxJobs?: number;
  /** Stop after this many seconds. */
  maxTimeSeconds?: number;
  /** How long a stop waits for running operations before handing them back. */
  graceSeconds: number;
  resultTtlSeconds: number;
  /** A transaction takes no further operation once open this long (ms). */
  groupCommitMs: number;
}

export interface PassSummary {
  /** Operations run to a stored result: done + errors + failed. */
  run: number;
  /** Of those, the ones that succeeded. */
  done: number;
  /** Of those, the ones that answered a protocol error (VALIDATION_FAILED, RECORD_NOT_FOUND, ...): their final result. */
  errors: number;
  /** Of those, the ones whose tries were used up by infrastructure failures: moved to the failed store. */
  failed: number;
  /** Attempts that failed and were queued again for a retry. */
  retried: number;
  /** Operations whose lease was taken over before they finished: their result was not stored here. */
  lost: number;
  /** Operations handed back unfinished (shutdown, or a database failure): they run again later. */
  handedBack: number;
  /** Operations stopped (or skipped) because their owner cancelled them while they were claimed: stored as cancelled. */
  cancelled: number;
  tookMs: number;
}

export { heartbeatEveryMs } from '../queue/executors.js';

/** Claims of one entry after which it is given up (its runs keep ending without a result: executors die). */
export const MAX_CLAIMS = 5;

export interface EngineDeps {
  db: Database;
  config: Config;
  clock: Clock;
  log: Logger;
  /** Shared with the process's requests (runtime.ts); the engine makes its own when not given. */
  health?: DatabaseHealth;
  /** Housekeeping (purging expired results, old failed entries, dead sessions), run every minute while listening. */
  maintain?: () => Promise<void>;
  /** Queues the recurring operations now due (src/schedule): at the start of a pass, and every second while listening. */
  schedules?: { fire(): Promise<number> };
  /** The own operations' files in force, which a worker thread loads as it starts (registry.ts). */
  operationFiles?: () => string[];
  /** The process's metrics (runs, failures, durations, worker threads); none: not counted. */
  metrics?: Metrics;
}

const MAINTENANCE_EVERY_MS = 60_000;
/** While operations run, how often the engine looks for cancels asked for in other processes. */
const CANCELS_EVERY_MS = 1_000;
const SCHEDULES_EVERY_MS = 1_000;

/** While the database is unavailable the engine tries again after 1 s, doubling up to 30 s. */
export const RETRY_FIRST_MS = 1_000;
export const RETRY_MAX_MS = 30_000;

export class Engine {
  readonly id = nanoid();
  private readonly pool: WorkerPool;
  private readonly inFlight = new Map<Promise<void>, ClaimedOperation[]>();
  private readonly startedAt: Date;
  private summary = emptySummary();
  private claimed = 0;
  private stopping = false;
  private signal: (() => void) | null = null;
  private signalled = false;
  private timers: NodeJS.Timeout[] = [];
  private intervals: NodeJS.Timeout[] = [];
  /** The earliest due time heard of (an enqueue with a delay), and the timer that wakes the engine then. */
  private dueWake: { at: number; timer: NodeJS.Timeout } | null = null;
  private listening: { stop(): Promise<void> } | null = null;
  private readonly onEnqueued = (e: Enqueued) => this.heard(e.queue, e.dueAt.getTime());
  private loopRunning: Promise<PassSummary> | null = null;
  private readonly health: DatabaseHealth;
  /** Listening engines ride out a database outage (retrying with backoff); a drain (one pass) fails. */
  private rideOut = false;
  /** Failures in a row of the claim loop (for its backoff). */
  private failures = 0;
  /** Ends the backoff pause early: on stop, or when the database is seen serving again. */
  private endPause: (() => void) | null = null;
  /**
   * Entries of batches whose outcome could not be recorded (the database went away meanwhile): handed back
   * as soon as it serves again, rather than waiting for their leases to run out.
   */
  private orphans: ClaimedOperation[] = [];
  private readonly controls: ControlsCache;
  /** Sends callback deliveries beside the operations (only where WSGATE_CALLBACK_SECRET is set). */
  private readonly deliverer: CallbackDeliverer | null;
  /** What running own operations report (ctx.progress, ctx.log), written out for getQueuedOperationStatus. */
  private readonly live: LiveBoard;
  /** When the last heartbeat succeeded (performance.now()), for readiness. */
  private lastHeartbeat: number | null = null;
  /** Runs and failures per queue and minute, written with the heartbeat (`wsgate top`). */
  private readonly uncountThreads: () => void;
  /** Entries whose cancel the pool was told of (until their batch settles). */
  private readonly cancelsSent = new Set<string>();
  /** A cancel asked for in this process (its owner checked): the worker holding the entry is told at once. */
  private readonly onCancel = (request: CancelRequest) => {
    if (this.holds(request.operationTrackingID)) request.answers.push(this.tellPool(request.operationTrackingID));
  };
  private readonly cancelsTimer: NodeJS.Timeout;
  private checkingCancels = false;

  constructor(
    private readonly deps: EngineDeps,
    readonly options: EngineOptions,
  ) {
    const { config, clock, log } = deps;
    this.controls = new ControlsCache(deps.db);
    this.health = deps.health ?? new DatabaseHealth(log);
    this.startedAt = clock.now();
    this.live = new LiveBoard(liveStoreOf(config.databaseUrl, deps.db), log);
    this.pool = new WorkerPool({
      onReport: (id, delta) => this.live.report(id, delta),
      size: options.concurrency,
      timeoutMs: options.timeoutSeconds * 1000,
      memoryMb: options.memoryMb,
      log,
      operationFiles: deps.operationFiles,
      workerData: {
        config,
        clock: clock.shared,
        resultTtlSeconds: options.resultTtlSeconds,
        groupCommitMs: options.groupCommitMs,
      },
    });
    this.deliverer = config.callbackSecret
      ? new CallbackDeliverer({
          db: deps.db,
          clock,
          log,
          secret: config.callbackSecret,
          allow: compileAllowList(config.httpAllow),
          tries: config.callbackTries,
          backoff: config.callbackBackoff,
        })
      : null;
    cancelEvents.on('requested', this.onCancel);
    this.cancelsTimer = setInterval(() => {
      if (this.inFlight.size > 0) void this.checkCancels();
    }, CANCELS_EVERY_MS);
    this.cancelsTimer.unref();
    this.uncountThreads = deps.metrics?.countThreads(() => ({ pool: 'executor', busy: this.pool.busy, size: this.pool.size })) ?? (() => undefined);
  }

  /** Its heartbeat period (ms). */
  get heartbeatEveryMs(): number {
    return heartbeatEveryMs(this.options.leaseSeconds);
  }

  /** Milliseconds since the last successful heartbeat; null before the first (readiness). */
  heartbeatAgeMs(): number | null {
    return this.lastHeartbeat === null ? null : performance.now() - this.lastHeartbeat;
  }

  /** Workers running a batch, and the pool's size (for status). */
  get workers() {
    return { busy: this.pool.busy, max: this.pool.size };
  }

  /** Runs every due operation, then sends the callback deliveries due, then returns (the OS-cron pass). */
  async drain(): Promise<PassSummary> {
    const summary = await this.runLoop(true);
    await this.deliverer?.deliverDue();
    return summary;
  }

  /** Runs until stop() is called or a limit (maxJobs, maxTimeSeconds) is reached; `stopWhenEmpty` ends it when nothing is due. */
  listen(stopWhenEmpty = false): Promise<PassSummary> {
    this.rideOut = true;
    this.startWaking();
    this.deliverer?.start(this.options.sleepSeconds * 1000);
    const maintain = this.deps.maintain;
    if (maintain) {
      const every = setInterval(() => {
        const started = DatabaseHealth.now();
        maintain().then(
          () => this.backAgain(started),
          (error) => this.health.failed(error) ?? this.deps.log.error({ err: error }, 'queue maintenance failed'),
        );
      }, MAINTENANCE_EVERY_MS);
      every.unref();
      this.intervals.push(every);
    }
    if (this.deps.schedules) {
      const every = setInterval(() => void this.fireSchedules(), SCHEDULES_EVERY_MS);
      every.unref();
      this.intervals.push(every);
    }
    if (this.options.maxTimeSeconds !== undefined) this.timer(() => void this.stop(), this.options.maxTimeSeconds * 1000);
    // A listener is ready (and reports in) once its workers are: its first operations do not wait for them.
    return this.warm().then(() => this.runLoop(stopWhenEmpty));
  }

  /**
   * Runs entries claimed elsewhere (`wsgate run ID` claims one by its id) in this engine's workers, with its
   * heartbeat, retries and failed store, and returns when their outcomes are recorded.
   */
  async runClaimed(batch: ClaimedOperation[]): Promise<PassSummary> {
    if (this.loopRunning) throw new Error('the executor is running already');
    this.summary = emptySummary();
    const started = performance.now();
    const heartbeat = setInterval(() => void this.heartbeat(), heartbeatEveryMs(this.options.leaseSeconds));
    heartbeat.unref();
    try {
      this.dispatch(batch);
      await Promise.all(this.inFlight.keys());
    } finally {
      clearInterval(heartbeat);
    }
    this.summary.tookMs = Math.round(performance.now() - started);
    return this.summary;
  }

  /** Starts the worker threads now rather than at the first claim (a listener's first operation starts sooner). */
  warm(): Promise<void> {
    return this.pool.warm();
  }

  /** After a reload of the operations: the worker threads are replaced (busy ones once their batch is done). */
  recycleWorkers(): void {
    this.pool.recycle();
  }

  /** Wakes an idle engine (the in-process schedule's tick). */
  poke(): void {
    this.wake();
  }

  /**
   * Stops claiming, lets running operations finish within the grace period, hands back the leases of the
   * rest, and closes the workers. Nothing is lost: what did not finish is queued again at once.
   */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.pool.windDown();
      this.wake();
      this.endPause?.();
    }
    const grace = new Promise<'late'>((resolve) => this.timer(() => resolve('late'), this.options.graceSeconds * 1000));
    const settled = Promise.all(this.inFlight.keys()).then(() => 'settled' as const);
    if ((await Promise.race([settled, grace])) === 'late') {
      this.deps.log.warn({ running: this.inFlight.size }, 'grace period over: handing back the operations still running');
      await this.pool.terminate('the executor stopped before the operation finished');
      await settled;
    }
    await this.loopRunning?.catch(() => undefined);
  }

  /** Closes the workers and the executor's own resources (after drain/listen ended). */
  async close(): Promise<void> {
    await this.stop();
    await this.deliverer?.stop();
    for (const t of this.timers) clearTimeout(t);
    for (const t of this.intervals) clearInterval(t);
    if (this.dueWake) clearTimeout(this.dueWake.timer);
    await this.pool.close();
    this.live.close();
    this.uncountThreads();
    queueEvents.off('enqueued', this.onEnqueued);
    cancelEvents.off('requested', this.onCancel);
    clearInterval(this.cancelsTimer);
    await this.listening?.stop();
    await removeExecutor(this.deps.db, this.id).catch(() => undefined);
  }

  private runLoop(stopWhenEmpty: boolean): Promise<PassSummary> {
    if (this.loopRunning) throw new Error('the executor is running already');
    this.summary = emptySummary();
    const started = performance.now();
    const heartbeat = setInterval(() => void this.heartbeat(), heartbeatEveryMs(this.options.leaseSeconds));
    heartbeat.unref();
    this.loopRunning = (async () => {
      try {
        await this.heartbeat();
        await this.fireSchedules();
        await this.loop(stopWhenEmpty);
      } finally {
        clearInterval(heartbeat);
        await Promise.all(this.inFlight.keys());
        this.summary.tookMs = Math.round(performance.now() - started);
        this.loopRunning = null;
      }
      return this.summary;
    })();
    return this.loopRunning;
  }

  /** Recurring operations' failures are logged, never fatal to the pass: the queue's own work goes on. */
  private async fireSchedules(): Promise<void> {
    try {
      await this.deps.schedules?.fire();
    } catch (error) {
      if (!this.health.failed(error)) this.deps.log.error({ err: error }, 'recurring operations could not be queued');
    }
  }

  private budget(): number {
    return this.options.maxJobs === undefined ? Infinity : this.options.maxJobs - this.claimed;
  }

  private async loop(stopWhenEmpty: boolean): Promise<void> {
    for (;;) {
      if (this.stopping) return;
      try {
        if (await this.step(stopWhenEmpty)) return;
        this.failures = 0;
      } catch (error) {
        // The database is down (or cannot write): a drain fails (`execute` exits non-zero); a listener keeps
        // running, tries again after a backoff, and logs the outage once (health), not each attempt.
        if (this.stopping) return;
        if (!this.rideOut) throw error;
        this.failures++;
        if (!this.health.failed(error)) this.deps.log.error({ err: error }, 'executor could not claim operations; trying again after a backoff');
        await this.pause(Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (this.failures - 1)));
      }
    }
  }

  /** One round of the loop: claims for the free workers, then waits to be woken. True when the loop is done. */
  private async step(stopWhenEmpty: boolean): Promise<boolean> {
    const { db, clock } = this.deps;
    if (this.orphans.length > 0) {
      await this.markTaken(this.orphans);
      this.summary.handedBack += await handBack(db, this.orphans, true, clock.now(), this.options.resultTtlSeconds);
      for (const e of this.orphans) this.cancelsSent.delete(e.operationTrackingID);
      this.orphans = [];
    }
    let empty = false;
    // Queues paused or at a cap: their due entries wait for the poll, not for a tight loop of claims.
    const held = new Set<string>();
    while (this.pool.free > 0 && !this.stopping && this.budget() > 0) {
      // One claim for every free worker: fewer statements, and what it finds is spread evenly over them.
      const free = this.pool.free;
      const limit = Math.min(this.options.claimBatch * free, this.budget());
      const started = DatabaseHealth.now();
      const controls = await this.controls.current();
      const claimed = await claim(db, { queues: this.options.queues, now: clock.now(), leaseSeconds: this.options.leaseSeconds, limit, controls, held });
      this.backAgain(started);
      this.claimed += claimed.length;
      const size = Math.ceil(claimed.length / Math.min(free, claimed.length || 1));
      for (let i = 0; i < claimed.length; i += size) this.dispatch(claimed.slice(i, i + size));
      const batch = claimed;
      // A claim that found fewer than it asked for took everything due: the next claim waits for a wake-up
      // (an enqueue, a worker that finished, the poll), rather than asking the database again at once.
      if (batch.length < limit) {
        empty = true;
        break;
      }
    }
    const idle = this.inFlight.size === 0;
    if (idle && (this.budget() <= 0 || (empty && stopWhenEmpty && !this.signalled))) return true;
    if (empty && idle) {
      // Nothing due and nothing running: sleep until the next due time or the poll interval, unless woken.
      const open = this.options.queues.filter((q) => !held.has(q));
      const next = open.length > 0 ? await nextDue(db, open) : null;
      const sleepMs = this.options.sleepSeconds * 1000;
      const untilDue = next ? Math.max(0, next.getTime() - clock.now().getTime()) : Infinity;
      await this.waitForWake(Math.min(sleepMs, untilDue));
    } else if (empty) {
      await this.waitForWake(this.options.sleepSeconds * 1000);
    } else {
      await this.waitForWake(Infinity);
    }
    return false;
  }

  /** The backoff's wait: not cut short by wake-ups (a poke every second would defeat it), only by endPause. */
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

  /** A statement succeeded: the database serves. After an outage, the loop stops its backoff at once. */
  private backAgain(startedAt?: number) {
    if (this.health.ok(startedAt) || this.failures > 0) this.endPause?.();
  }

  private dispatch(batch: ClaimedOperation[]) {
    if (this.deps.metrics) observeWait(this.deps.metrics, batch, this.deps.clock.now());
    const givenUp = batch.filter((e) => e.attempts > MAX_CLAIMS);
    const runnable = batch.filter((e) => e.attempts <= MAX_CLAIMS);
    // The pool reserves its worker now, before anything is awaited: the loop may claim again at once.
    this.live.hold(runnable);
    const report = runnable.length > 0 ? this.pool.run(runnable) : null;
    const done: Promise<void> = (async () => {
      for (const e of givenUp) {
        await this.recordFailure(
          e,
          'INTERNAL_SERVER_ERROR',
          `The operation was started ${MAX_CLAIMS} times without finishing (its executor stopped each time); it is given up`,
          true,
        );
      }
      if (!report) return;
      const settled = await report;
      await this.settle(runnable, settled);
      // A worker that died with no operation running (it could not start, say) is not retried at once: a
      // failure that persists would otherwise spin through claims and worker starts.
      if (settled.death && settled.runningIndex === undefined && !this.stopping) await new Promise((r) => setTimeout(r, 1_000));
    })()
      .catch((error) => {
        if (this.health.failed(error)) {
          // Whatever of the batch is still leased to us is handed back once the database serves again (the
          // hand-back is fenced: what its worker committed stays done), or by lease expiry if we die first.
          this.orphans.push(...batch);
          return;
        }
        this.deps.log.error({ err: error }, 'executor could not record the outcome of a batch; its leases will run out and it will run again');
      })
      .finally(() => {
        this.live.forget(batch.map((e) => e.operationTrackingID));
        // An orphan keeps its taken cancel until it is handed back (markTaken).
        for (const e of batch) if (!this.orphans.includes(e)) this.cancelsSent.delete(e.operationTrackingID);
        this.inFlight.delete(done);
        this.wake();
        this.deliverer?.wake();
      });
    this.inFlight.set(done, batch);
  }

  private async settle(batch: ClaimedOperation[], report: BatchReport): Promise<void> {
    await this.markTaken(batch);
    const byId = new Map(batch.map((e) => [e.operationTrackingID, e]));
    const settled = new Set<string>();
    const unstarted: ClaimedOperation[] = [];
    const interrupted: ClaimedOperation[] = [];
    for (const o of report.outcomes) {
      settled.add(o.id);
      await this.record(byId.get(o.id)!, o, unstarted, interrupted);
    }
    if (report.death) {
      const culprit = report.runningIndex === undefined ? undefined : batch[report.runningIndex];
      const { reason, detail } = report.death;
      for (const e of batch) {
        if (settled.has(e.operationTrackingID)) continue;
        if (e === culprit) {
          if (reason === 'cancelled') await this.recordCancelled(e);
          else if (this.stopping && reason === 'exit') interrupted.push(e);
          else
            await this.recordFailure(
              e,
              reason === 'timeout' ? 'TIMEOUT' : 'INTERNAL_SERVER_ERROR',
              reason === 'timeout' ? detail : `The operation failed: ${detail}`,
              false,
              reason === 'timeout' ? { ms: this.options.timeoutSeconds * 1000 } : {},
            );
        } else unstarted.push(e);
      }
      if (!(this.stopping && reason === 'exit') && reason !== 'cancelled')
        this.deps.log.warn({ reason, detail, operation: culprit?.operation, operationTrackingID: culprit?.operationTrackingID }, 'executor worker stopped');
    }
    const now = this.deps.clock.now();
    const ttl = this.options.resultTtlSeconds;
    if (unstarted.length) this.summary.handedBack += await handBack(this.deps.db, unstarted, false, now, ttl);
    if (interrupted.length) this.summary.handedBack += await handBack(this.deps.db, interrupted, true, now, ttl);
  }

  /** Its worker was stopped because it did not end on its cancel: stored as cancelled here. */
  private async recordCancelled(entry: ClaimedOperation) {
    const stored = await finishCancelled(this.deps.db, entry.leaseToken, [entry.operationTrackingID], this.deps.clock.now(), this.options.resultTtlSeconds);
    await this.record(entry, stored.size > 0 ? { id: entry.operationTrackingID, kind: 'cancelled' } : { id: entry.operationTrackingID, kind: 'lost' }, [], []);
  }

  /** True when a batch of this engine holds the entry. */
  private holds(operationTrackingID: string): boolean {
    for (const batch of this.inFlight.values()) if (batch.some((e) => e.operationTrackingID === operationTrackingID)) return true;
    return false;
  }

  /** Tells the worker holding the entry of its cancel; true when it took it (the entry ends as cancelled). */
  private async tellPool(operationTrackingID: string): Promise<boolean> {
    if (this.cancelsSent.has(operationTrackingID)) return true;
    const accepted = await this.pool.cancel(operationTrackingID);
    if (accepted) this.cancelsSent.add(operationTrackingID);
    return accepted;
  }

  /**
   * Cancels its workers took in this process have no mark yet (cancelEntry wrote none): written before the
   * entries are recorded or handed back, so that whatever way they leave their run, they end cancelled.
   */
  private async markTaken(batch: ClaimedOperation[]): Promise<void> {
    const taken = batch.filter((e) => this.cancelsSent.has(e.operationTrackingID));
    const now = this.deps.clock.now();
    for (const token of new Set(taken.map((e) => e.leaseToken))) {
      await markCancelRequested(
        this.deps.db,
        token,
        taken.filter((e) => e.leaseToken === token).map((e) => e.operationTrackingID),
        now,
      );
    }
  }

  /** Tells the workers of the entries they hold whose cancel was asked for (once each); one look at a time. */
  private async checkCancels(): Promise<void> {
    if (this.checkingCancels) return;
    this.checkingCancels = true;
    const tokens = new Set<string>();
    for (const batch of this.inFlight.values()) for (const e of batch) tokens.add(e.leaseToken);
    try {
      for (const id of await cancelsRequested(this.deps.db, [...tokens])) await this.tellPool(id);
    } catch (error) {
      if (!this.health.failed(error)) this.deps.log.warn({ err: error }, 'executor could not look for cancelled operations; it looks again in a second');
    } finally {
      this.checkingCancels = false;
    }
  }

  private async record(entry: ClaimedOperation, o: EntryOutcome, unstarted: ClaimedOperation[], interrupted: ClaimedOperation[]) {
    if (o.kind === 'done' || o.kind === 'protocolError') {
      observeOutcome(this.deps, entry, {
        outcome: o.kind,
        code: o.kind === 'protocolError' ? o.code : undefined,
        startedAt: o.startedAt,
        ms: o.ms,
        final: true,
      });
    }
    switch (o.kind) {
      case 'done':
        this.summary.run++;
        this.summary.done++;
        this.logRun(entry, 'done', o);
        return;
      case 'protocolError':
        this.summary.run++;
        this.summary.errors++;
        this.logRun(entry, 'error', { ...o, error: o.code });
        return;
      case 'cancelled':
        observeOutcome(this.deps, entry, { outcome: 'cancelled', code: 'OPERATION_CANCELLED', startedAt: o.startedAt, ms: o.ms, final: true });
        this.summary.cancelled++;
        this.logRun(entry, 'cancelled', o);
        return;
      case 'lost':
        this.summary.lost++;
        this.logRun(entry, 'lost-lease', {});
        return;
      case 'infraFailure':
        return this.recordFailure(entry, o.code as ErrorCode, o.message, false, o);
      case 'unfinished':
        if (o.started) this.deps.log.warn({ why: o.why, operationTrackingID: entry.operationTrackingID }, 'operation handed back unfinished');
        (o.started ? interrupted : unstarted).push(entry);
        return;
    }
  }

  /**
   * One line per operation run, at info: what ran, for whom, which attempt, how long, and how it ended;
   * never its parameters or result.
   */
  private logRun(entry: ClaimedOperation, outcome: string, facts: RunFacts & { error?: string; retryAt?: Date }) {
    this.deps.log.info(
      {
        operationTrackingID: entry.operationTrackingID,
        operation: entry.operation,
        queue: entry.queue,
        user: facts.user ?? formatUserId(entry.userId),
        attempt: entry.attempts,
        ms: facts.ms,
        outcome,
        ...(facts.error ? { error: facts.error } : {}),
        ...(facts.retryAt ? { retryAt: facts.retryAt.toISOString() } : {}),
      },
      `operation ${outcome}`,
    );
  }

  /** One attempt failed: retried after the backoff while tries remain, else moved to the failed store. */
  private async recordFailure(entry: ClaimedOperation, code: ErrorCode, message: string, final: boolean, facts: RunFacts & RunTiming = {}) {
    const now = this.deps.clock.now();
    // An operation's own tries and backoff (own operations may declare them) win over the executor's.
    const policy = this.pool.policyOf(entry.operation);
    const retry = !final && entry.failures + 1 < (policy.tries ?? this.options.tries);
    const retryAt = retry ? new Date(now.getTime() + backoffSeconds(policy.backoff ?? this.options.backoff, entry.failures + 1) * 1000) : null;
    const envelope = JSON.stringify(failure(new WsError(code, message)));
    const report = this.live.of(entry.operationTrackingID);
    const recorded = await recordFailedAttempt(this.deps.db, {
      entry,
      error: { code, message },
      now,
      retryAt,
      envelope,
      report,
      resultTtlSeconds: this.options.resultTtlSeconds,
    });
    if (recorded) observeOutcome(this.deps, entry, { outcome: retry ? 'retried' : 'failed', code, startedAt: facts.startedAt, ms: facts.ms, final: !retry });
    if (!recorded) this.summary.lost++;
    else if (retry) this.summary.retried++;
    else {
      this.summary.run++;
      this.summary.failed++;
    }
    this.logRun(entry, !recorded ? 'lost-lease' : retry ? 'retry' : 'failed', { ...facts, error: code, retryAt: retryAt ?? undefined });
  }

  private async heartbeat(): Promise<void> {
    const { db, clock, log } = this.deps;
    const started = DatabaseHealth.now();
    try {
      const tokens = new Set<string>();
      for (const batch of this.inFlight.values()) for (const e of batch) tokens.add(e.leaseToken);
      const now = clock.now();
      await renewLeases(db, [...tokens], now, this.options.leaseSeconds);
      if ((await rescueExpiredLeases(db, now, this.options.resultTtlSeconds)) > 0) this.wake();
      await reportExecutor(
        db,
        { id: this.id, queues: this.options.queues, maxWorkers: this.pool.size, busyWorkers: this.pool.busy, startedAt: this.startedAt },
        now,
      );
      this.lastHeartbeat = performance.now();
      this.backAgain(started);
    } catch (error) {
      if (!this.health.failed(error)) log.error({ err: error }, 'executor heartbeat failed; leases are renewed at the next one');
    }
  }

  private startWaking() {
    queueEvents.on('enqueued', this.onEnqueued);
    this.listening = this.deps.db.listen(
      QUEUE_CHANNEL,
      (payload) => {
        const [queue, due] = payload.split(' ');
        this.heard(queue ?? '', Number(due));
      },
      (error) => this.health.failed(error) ?? this.deps.log.warn({ err: error }, 'LISTEN connection lost; polling until it is back'),
      // Notifications sent while it was away are lost: look for due work now.
      () => {
        this.backAgain();
        this.wake();
      },
    );
  }

  private heard(queue: string, dueMs: number) {
    if (!this.options.queues.includes(queue)) return;
    const inMs = dueMs - this.deps.clock.now().getTime();
    // An enqueue was heard: the database serves, so a backoff pause ends too.
    this.endPause?.();
    if (!(inMs > 0)) this.wake();
    else if (this.dueWake === null || dueMs < this.dueWake.at) {
      if (this.dueWake) clearTimeout(this.dueWake.timer);
      const timer = setTimeout(
        () => {
          this.dueWake = null;
          this.wake();
        },
        Math.min(inMs, 2 ** 31 - 1),
      );
      timer.unref();
      this.dueWake = { at: dueMs, timer };
    }
  }

  private timer(fn: () => void, ms: number) {
    const t = setTimeout(
      () => {
        this.timers = this.timers.filter((x) => x !== t);
        fn();
      },
      Math.min(ms, 2 ** 31 - 1),
    );
    t.unref();
    this.timers.push(t);
  }

  private wake() {
    this.signalled = true;
    this.signal?.();
  }

  private async waitForWake(ms: number): Promise<void> {
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
}

const emptySummary = (): PassSummary => ({ run: 0, done: 0, errors: 0, failed: 0, retried: 0, lost: 0, handedBack: 0, cancelled: 0, tookMs: 0 });

/** The summary line, led by `name` (the cron pass: executeOperationsFromQueue, coreBOS's script; `work`). */
export const formatSummary = (s: PassSummary, name = 'executeOperationsFromQueue') =>
  `${name}: done=${s.done} errors=${s.errors} retried=${s.retried} failed=${s.failed}` +
  `${s.cancelled ? ` cancelled=${s.cancelled}` : ''}${s.lost ? ` lost-lease=${s.lost}` : ''}${s.handedBack ? ` handed-back=${s.handedBack}` : ''} took=${s.tookMs}ms`;
