// Claiming: one claim for every free worker at once (what it finds is shared among them: sharing.ts), the
// heartbeat that keeps the leases of what the engine holds alive and rescues the expired leases of executors
// that died, and the time an idle engine may sleep until the next entry is due.
import { DatabaseHealth } from '../db/health.js';
import { nextDue, rescueExpiredLeases } from '../queue/attempts.js';
import { ControlsCache } from '../queue/controls.js';
import { reportExecutor } from '../queue/executors.js';
import { claim, renewLeases, type ClaimedOperation } from '../queue/store.js';
import type { HeldBatches } from './held.js';
import type { EngineDeps, EngineOptions } from './options.js';
import type { WorkerPool } from './pool.js';
import { share, type RunTimes } from './sharing.js';

export interface ClaimingParts {
  id: string;
  deps: EngineDeps;
  options: EngineOptions;
  pool: WorkerPool;
  held: HeldBatches;
  health: DatabaseHealth;
  /** A statement that began at `startedAt` (DatabaseHealth.now()) succeeded. */
  served(startedAt: number): void;
  /** Expired leases were rescued: their entries are due again. */
  wake(): void;
  /** The operations' recent run times, by which a claim is shared among the free workers. */
  runTimes: RunTimes;
}

/** What a round of claims found. */
export interface Claimed {
  /** A claim found fewer entries than it asked for: it took everything due. */
  empty: boolean;
  /** Queues paused or at a cap: their due entries wait for the poll, not for a tight loop of claims. */
  held: Set<string>;
  /** Claims made (none when no worker was free) and the entries they took. */
  claims: number;
  entries: number;
}

export class Claiming {
  /** Entries claimed in this engine's life (for maxJobs). */
  private claimed = 0;
  private readonly startedAt: Date;
  /** When the last heartbeat succeeded (performance.now()), for readiness. */
  private lastHeartbeat: number | null = null;
  private readonly controls: ControlsCache;

  constructor(private readonly o: ClaimingParts) {
    this.controls = new ControlsCache(o.deps.db);
    this.startedAt = o.deps.clock.now();
  }

  /** Entries the engine may still claim (maxJobs). */
  budget(): number {
    return this.o.options.maxJobs === undefined ? Infinity : this.o.options.maxJobs - this.claimed;
  }

  /**
   * Claims for the free workers, handing each batch to `dispatch` (which reserves its worker at once), until
   * no worker is free, the budget is spent, `stopping()`, or a claim takes everything due.
   */
  async forFreeWorkers(stopping: () => boolean, dispatch: (batch: ClaimedOperation[]) => void): Promise<Claimed> {
    const { db, clock } = this.o.deps;
    const { pool, options } = this.o;
    const held = new Set<string>();
    let claims = 0;
    let entries = 0;
    while (pool.free > 0 && !stopping() && this.budget() > 0) {
      // One claim for every free worker: fewer statements, and what it finds is shared among them.
      const free = pool.free;
      const limit = Math.min(options.claimBatch * free, this.budget());
      const started = DatabaseHealth.now();
      const controls = await this.controls.current();
      const claimed = await claim(db, { queues: options.queues, now: clock.now(), leaseSeconds: options.leaseSeconds, limit, controls, held });
      this.o.served(started);
      this.claimed += claimed.length;
      claims++;
      entries += claimed.length;
      for (const batch of share(claimed, free, options.claimBatch, options.groupCommitMs, (op) => this.o.runTimes.expectedMs(op))) dispatch(batch);
      // A claim that found fewer than it asked for took everything due: the next claim waits for a wake-up
      // (an enqueue, a worker that finished, the poll), rather than asking the database again at once.
      if (claimed.length < limit) return { empty: true, held, claims, entries };
    }
    return { empty: false, held, claims, entries };
  }

  /** How long an idle engine may sleep: until the next entry due in its open queues, at most its poll interval. */
  async idleSleepMs(held: Set<string>): Promise<number> {
    const { db, clock } = this.o.deps;
    const open = this.o.options.queues.filter((q) => !held.has(q));
    const next = open.length > 0 ? await nextDue(db, open) : null;
    const untilDue = next ? Math.max(0, next.getTime() - clock.now().getTime()) : Infinity;
    return Math.min(this.o.options.sleepSeconds * 1000, untilDue);
  }

  /** Renews the leases held, rescues expired ones, and reports the executor in (`wsgate top`, readiness). */
  async heartbeat(): Promise<void> {
    const { db, clock, log } = this.o.deps;
    const { options, pool } = this.o;
    const started = DatabaseHealth.now();
    try {
      const now = clock.now();
      await renewLeases(db, this.o.held.leaseTokens(), now, options.leaseSeconds);
      if ((await rescueExpiredLeases(db, now, options.resultTtlSeconds)) > 0) this.o.wake();
      await reportExecutor(db, { id: this.o.id, queues: options.queues, maxWorkers: pool.size, busyWorkers: pool.busy, startedAt: this.startedAt }, now);
      this.lastHeartbeat = performance.now();
      this.o.served(started);
    } catch (error) {
      if (!this.o.health.failed(error)) log.error({ err: error }, 'executor heartbeat failed; leases are renewed at the next one');
    }
  }

  /** Milliseconds since the last successful heartbeat; null before the first. */
  heartbeatAgeMs(): number | null {
    return this.lastHeartbeat === null ? null : performance.now() - this.lastHeartbeat;
  }
}
