// The executor: claims due entries for free workers (beyond that, work waits in the database), hands each
// claimed batch to the worker pool, keeps the leases of everything it holds alive (heartbeat), records what
// the workers report (retries with backoff, the failed store), and wakes on enqueues (PostgreSQL NOTIFY,
// or an enqueue in this process), on the next due time, or on its poll interval. One engine serves the
// OS-cron pass (`drain`), the listener (`listen`) and the in-process executor of `wsgate serve`.
// This class composes its parts (claiming.ts, waking.ts, outcomes.ts, cancels.ts, housekeeping.ts) and runs
// the loop that steers them.
import { nanoid } from 'nanoid';
import { DatabaseHealth } from '../db/health.js';
import { removeExecutor, heartbeatEveryMs } from '../queue/executors.js';
import type { ClaimedOperation } from '../queue/store.js';
import { liveStoreOf } from '../queue/live.js';
import { compileAllowList } from '../outbound/allow.js';
import { CallbackDeliverer } from './callbacks.js';
import { HeldCancels } from './cancels.js';
import { Claiming } from './claiming.js';
import { ClaimPacing } from './pacing.js';
import { HeldBatches } from './held.js';
import { Housekeeping } from './housekeeping.js';
import { LiveBoard } from './live-board.js';
import { observeWait } from './observe.js';
import type { EngineDeps, EngineOptions } from './options.js';
import { MAX_CLAIMS, Outcomes } from './outcomes.js';
import { WorkerPool } from './pool.js';
import type { PassSummary } from './summary.js';
import { Waking } from './waking.js';
import { RunTimes } from './sharing.js';

export type { EngineDeps, EngineOptions } from './options.js';
export { formatSummary, type PassSummary } from './summary.js';
export { MAX_CLAIMS } from './outcomes.js';
export { heartbeatEveryMs } from '../queue/executors.js';
export { RETRY_FIRST_MS, RETRY_MAX_MS } from './waking.js';

export class Engine {
  readonly id = nanoid();
  private readonly pool: WorkerPool;
  private readonly held = new HeldBatches();
  private readonly health: DatabaseHealth;
  private readonly waking: Waking;
  private readonly claiming: Claiming;
  private readonly outcomes: Outcomes;
  private readonly cancels: HeldCancels;
  private readonly housekeeping: Housekeeping;
  /** What running own operations report (ctx.progress, ctx.log), written out for getQueuedOperationStatus. */
  private readonly live: LiveBoard;
  /** Sends callback deliveries beside the operations (only where WSGATE_CALLBACK_SECRET is set). */
  private readonly deliverer: CallbackDeliverer | null;
  private readonly uncountThreads: () => void;
  private stopping = false;
  private readonly pacing: ClaimPacing;
  private loopRunning: Promise<PassSummary> | null = null;
  /** Listening engines ride out a database outage (retrying with backoff); a drain (one pass) fails. */
  private rideOut = false;

  constructor(
    private readonly deps: EngineDeps,
    readonly options: EngineOptions,
  ) {
    const { config, clock, log, db } = deps;
    const health = (this.health = deps.health ?? new DatabaseHealth(log));
    this.live = new LiveBoard(liveStoreOf(config.databaseUrl, db), log);
    const pool = (this.pool = new WorkerPool({
      onReport: (id, delta) => this.live.report(id, delta),
      size: options.concurrency,
      timeoutMs: options.timeoutSeconds * 1000,
      memoryMb: options.memoryMb,
      idleMs: options.idleWorkerSeconds * 1000,
      now: () => clock.now().getTime(),
      log,
      operationFiles: deps.operationFiles,
      workerData: { config, clock: clock.shared, modules: deps.modules, resultTtlSeconds: options.resultTtlSeconds, groupCommitMs: options.groupCommitMs },
    }));
    this.deliverer = config.callbackSecret
      ? new CallbackDeliverer({
          db,
          clock,
          log,
          secret: config.callbackSecret,
          allow: compileAllowList(config.httpAllow),
          tries: config.callbackTries,
          backoff: config.callbackBackoff,
        })
      : null;
    const waking = (this.waking = new Waking({ db, clock, log, health, queues: options.queues }));
    const served = (startedAt?: number) => waking.served(startedAt);
    const wake = () => waking.wake();
    const runTimes = new RunTimes();
    this.pacing = deps.pacing ?? new ClaimPacing(options.claimGatherMs);
    this.claiming = new Claiming({ id: this.id, deps, options, pool, held: this.held, health, served, wake, runTimes });
    this.cancels = new HeldCancels({ db, clock, log, health, pool, held: this.held });
    this.outcomes = new Outcomes({ deps, options, pool, live: this.live, cancels: this.cancels, stopping: () => this.stopping, runTimes });
    this.housekeeping = new Housekeeping(deps, health, served);
    this.uncountThreads = deps.metrics?.countThreads(() => ({ pool: 'executor', busy: pool.busy, size: pool.size })) ?? (() => undefined);
  }

  /** Its heartbeat period (ms). */
  get heartbeatEveryMs(): number {
    return heartbeatEveryMs(this.options.leaseSeconds);
  }

  /** Milliseconds since the last successful heartbeat; null before the first (readiness). */
  heartbeatAgeMs(): number | null {
    return this.claiming.heartbeatAgeMs();
  }

  /** Workers running a batch, threads started, and the pool's size (for status). */
  get workers() {
    return { busy: this.pool.busy, started: this.pool.started, max: this.pool.size };
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
    this.waking.listen();
    this.deliverer?.start(this.options.sleepSeconds * 1000);
    this.housekeeping.start();
    if (this.options.maxTimeSeconds !== undefined) this.waking.after(() => void this.stop(), this.options.maxTimeSeconds * 1000);
    // A listener is ready (and reports in) once its workers are: its first operations do not wait for them
    // (starting workers as work came made add-to-start 9 -> 25 ms p50 at 4 workers, 15 -> 238 ms at 16).
    return this.warm().then(() => this.runLoop(stopWhenEmpty));
  }

  /**
   * Runs entries claimed elsewhere (`wsgate run ID` claims one by its id) in this engine's workers, with its
   * heartbeat, retries and failed store, and returns when their outcomes are recorded.
   */
  async runClaimed(batch: ClaimedOperation[]): Promise<PassSummary> {
    if (this.loopRunning) throw new Error('the executor is running already');
    this.outcomes.restart();
    const started = performance.now();
    const heartbeat = this.heartbeating();
    try {
      this.dispatch(batch);
      await this.held.settled();
    } finally {
      clearInterval(heartbeat);
    }
    this.outcomes.summary.tookMs = Math.round(performance.now() - started);
    return this.outcomes.summary;
  }

  /** Starts every worker thread now rather than at the first claim (a listener's first operation starts sooner). */
  warm(): Promise<void> {
    return this.pool.warm();
  }

  /** After a reload of the operations: the worker threads are replaced (busy ones once their batch is done). */
  recycleWorkers(): void {
    this.pool.recycle();
  }

  /** Wakes an idle engine (the in-process schedule's tick). */
  poke(): void {
    this.waking.wake();
  }

  /**
   * Stops claiming, lets running operations finish within the grace period, hands back the leases of the
   * rest, and closes the workers. Nothing is lost: what did not finish is queued again at once.
   */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.pool.windDown();
      this.waking.wake();
      this.waking.endPauses();
    }
    const grace = new Promise<'late'>((resolve) => this.waking.after(() => resolve('late'), this.options.graceSeconds * 1000));
    const settled = this.held.settled().then(() => 'settled' as const);
    if ((await Promise.race([settled, grace])) === 'late') {
      this.deps.log.warn({ running: this.held.size }, 'grace period over: handing back the operations still running');
      await this.pool.terminate('the executor stopped before the operation finished');
      await settled;
    }
    await this.loopRunning?.catch(() => undefined);
  }

  /** Closes the workers and the executor's own resources (after drain/listen ended). */
  async close(): Promise<void> {
    await this.stop();
    await this.deliverer?.stop();
    this.housekeeping.close();
    await this.waking.close();
    await this.pool.close();
    this.live.close();
    this.uncountThreads();
    this.cancels.close();
    await removeExecutor(this.deps.db, this.id).catch(() => undefined);
  }

  private heartbeating(): NodeJS.Timeout {
    const every = setInterval(() => void this.claiming.heartbeat(), this.heartbeatEveryMs);
    every.unref();
    return every;
  }

  private runLoop(stopWhenEmpty: boolean): Promise<PassSummary> {
    if (this.loopRunning) throw new Error('the executor is running already');
    this.outcomes.restart();
    const started = performance.now();
    const heartbeat = this.heartbeating();
    this.loopRunning = (async () => {
      try {
        await this.claiming.heartbeat();
        await this.housekeeping.fireSchedules();
        await this.loop(stopWhenEmpty);
      } finally {
        clearInterval(heartbeat);
        await this.held.settled();
        this.outcomes.summary.tookMs = Math.round(performance.now() - started);
        this.loopRunning = null;
      }
      return this.outcomes.summary;
    })();
    return this.loopRunning;
  }

  private async loop(stopWhenEmpty: boolean): Promise<void> {
    for (;;) {
      if (this.stopping) return;
      try {
        if (await this.step(stopWhenEmpty)) return;
        this.waking.recovered();
      } catch (error) {
        // The database is down (or cannot write): a drain fails (`execute` exits non-zero); a listener keeps
        // running, tries again after a backoff, and logs the outage once (health), not each attempt.
        if (this.stopping) return;
        if (!this.rideOut) throw error;
        if (!this.health.failed(error)) this.deps.log.error({ err: error }, 'executor could not claim operations; trying again after a backoff');
        await this.waking.backOff();
      }
    }
  }

  /** One round of the loop: claims for the free workers, then waits to be woken. True when the loop is done. */
  private async step(stopWhenEmpty: boolean): Promise<boolean> {
    await this.outcomes.handBackOrphans();
    const gather = this.pacing.waitMs();
    if (gather > 0) await new Promise((r) => setTimeout(r, gather));
    const { empty, held, claims, entries } = await this.claiming.forFreeWorkers(
      () => this.stopping,
      (batch) => this.dispatch(batch),
    );
    if (claims > 0) this.pacing.claimed(entries, !empty);
    const idle = this.held.size === 0;
    if (idle && (this.claiming.budget() <= 0 || (empty && stopWhenEmpty && !this.waking.woken))) return true;
    // Nothing due and nothing running: sleep until the next due time or the poll interval, unless woken.
    if (empty && idle) await this.waking.sleep(await this.claiming.idleSleepMs(held));
    else if (empty) await this.waking.sleep(this.options.sleepSeconds * 1000);
    else await this.waking.sleep(Infinity);
    return false;
  }

  /** Hands a batch to a worker (reserved now, before anything is awaited: the loop may claim again at once). */
  private dispatch(batch: ClaimedOperation[]) {
    if (this.deps.metrics) observeWait(this.deps.metrics, batch, this.deps.clock.now());
    const givenUp = batch.filter((e) => e.attempts > MAX_CLAIMS);
    const runnable = batch.filter((e) => e.attempts <= MAX_CLAIMS);
    this.live.hold(runnable);
    const report = runnable.length > 0 ? this.pool.run(runnable) : null;
    const done: Promise<void> = (async () => {
      await this.outcomes.giveUp(givenUp);
      if (!report) return;
      const settled = await report;
      await this.outcomes.settle(runnable, settled);
      // A worker that died with no operation running (it could not start, say) is not retried at once: a
      // failure that persists would otherwise spin through claims and worker starts.
      if (settled.death && settled.runningIndex === undefined && !this.stopping) await new Promise((r) => setTimeout(r, 1_000));
    })()
      .catch((error) => {
        if (this.health.failed(error)) {
          // Whatever of the batch is still leased to us is handed back once the database serves again (the
          // hand-back is fenced: what its worker committed stays done), or by lease expiry if we die first.
          this.outcomes.orphan(batch);
          return;
        }
        this.deps.log.error({ err: error }, 'executor could not record the outcome of a batch; its leases will run out and it will run again');
      })
      .finally(() => {
        this.live.forget(batch.map((e) => e.operationTrackingID));
        // An orphan keeps its taken cancel until it is handed back.
        this.cancels.forget(batch.filter((e) => !this.outcomes.isOrphan(e)));
        this.held.remove(done);
        this.waking.wake();
        this.deliverer?.wake();
      });
    this.held.add(done, batch);
  }
}
