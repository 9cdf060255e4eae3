// Recording what became of the entries the workers ran: a failed attempt is retried after its backoff or
// moved to the failed store, what did not finish is handed back (fenced: what a worker committed stays
// done), a worker stopped on its cancel leaves its entry cancelled; each outcome is counted, observed and
// logged once.
import { failure } from '../envelope.js';
import { WsError, type ErrorCode } from '../errors.js';
import { backoffSeconds } from '../backoff.js';
import { formatUserId } from '../auth/users.js';
import { handBack, recordFailedAttempt } from '../queue/attempts.js';
import { finishCancelled } from '../queue/cancel.js';
import type { ClaimedOperation } from '../queue/store.js';
import type { HeldCancels } from './cancels.js';
import type { LiveBoard } from './live-board.js';
import type { EntryOutcome, RunFacts, RunTiming } from './messages.js';
import { observeOutcome } from './observe.js';
import type { EngineDeps, EngineOptions } from './options.js';
import type { BatchReport, WorkerPool } from './pool.js';
import type { RunTimes } from './sharing.js';
import { emptySummary, type PassSummary } from './summary.js';

/** Claims of one entry after which it is given up (its runs keep ending without a result: executors die). */
export const MAX_CLAIMS = 5;

export interface OutcomesParts {
  deps: EngineDeps;
  options: EngineOptions;
  pool: WorkerPool;
  live: LiveBoard;
  cancels: HeldCancels;
  /** True once the engine stops: a worker that exits then was stopped with it, and its entry is handed back. */
  stopping(): boolean;
  /** Where each run's time is noted (how the next claims are shared among workers). */
  runTimes: RunTimes;
}

export class Outcomes {
  summary: PassSummary = emptySummary();
  /**
   * Entries of batches whose outcome could not be recorded (the database went away meanwhile): handed back
   * as soon as it serves again, rather than waiting for their leases to run out.
   */
  private orphans: ClaimedOperation[] = [];

  constructor(private readonly o: OutcomesParts) {}

  /** A new pass counts from zero. */
  restart(): void {
    this.summary = emptySummary();
  }

  /** Entries claimed too often: given up, into the failed store. */
  async giveUp(entries: ClaimedOperation[]): Promise<void> {
    for (const e of entries) {
      await this.recordFailure(
        e,
        'INTERNAL_SERVER_ERROR',
        `The operation was started ${MAX_CLAIMS} times without finishing (its executor stopped each time); it is given up`,
        true,
      );
    }
  }

  /** Records what a worker reported of its batch, and what its death (if it died) left. */
  async settle(batch: ClaimedOperation[], report: BatchReport): Promise<void> {
    await this.o.cancels.markTaken(batch);
    const byId = new Map(batch.map((e) => [e.operationTrackingID, e]));
    const settled = new Set<string>();
    const unstarted: ClaimedOperation[] = [];
    const interrupted: ClaimedOperation[] = [];
    for (const o of report.outcomes) {
      settled.add(o.id);
      const entry = byId.get(o.id)!;
      if ('ms' in o && o.ms !== undefined) this.o.runTimes.note(entry.operation, o.ms);
      await this.record(entry, o, unstarted, interrupted);
    }
    if (report.death) {
      const culprit = report.runningIndex === undefined ? undefined : batch[report.runningIndex];
      const { reason, detail } = report.death;
      // It ran out of time: its next entries are spread, not queued behind one another.
      if (culprit && reason === 'timeout') this.o.runTimes.note(culprit.operation, this.o.options.timeoutSeconds * 1000);
      for (const e of batch) {
        if (settled.has(e.operationTrackingID)) continue;
        if (e === culprit) {
          if (reason === 'cancelled') await this.recordCancelled(e);
          else if (this.o.stopping() && reason === 'exit') interrupted.push(e);
          else
            await this.recordFailure(
              e,
              reason === 'timeout' ? 'TIMEOUT' : 'INTERNAL_SERVER_ERROR',
              reason === 'timeout' ? detail : `The operation failed: ${detail}`,
              false,
              reason === 'timeout' ? { ms: this.o.options.timeoutSeconds * 1000 } : {},
            );
        } else unstarted.push(e);
      }
      if (!(this.o.stopping() && reason === 'exit') && reason !== 'cancelled')
        this.o.deps.log.warn({ reason, detail, operation: culprit?.operation, operationTrackingID: culprit?.operationTrackingID }, 'executor worker stopped');
    }
    const now = this.o.deps.clock.now();
    const ttl = this.o.options.resultTtlSeconds;
    if (unstarted.length) this.summary.handedBack += await handBack(this.o.deps.db, unstarted, false, now, ttl);
    if (interrupted.length) this.summary.handedBack += await handBack(this.o.deps.db, interrupted, true, now, ttl);
  }

  /** The batch's outcome could not be recorded (the database is away): what is still leased to us is handed back later. */
  orphan(batch: ClaimedOperation[]): void {
    this.orphans.push(...batch);
  }

  /** An orphan keeps its taken cancel until it is handed back. */
  isOrphan(entry: ClaimedOperation): boolean {
    return this.orphans.includes(entry);
  }

  /** Hands back the orphans, once the database serves again (the engine's next round). */
  async handBackOrphans(): Promise<void> {
    if (this.orphans.length === 0) return;
    const { db, clock } = this.o.deps;
    await this.o.cancels.markTaken(this.orphans);
    this.summary.handedBack += await handBack(db, this.orphans, true, clock.now(), this.o.options.resultTtlSeconds);
    this.o.cancels.forget(this.orphans);
    this.orphans = [];
  }

  /** Its worker was stopped because it did not end on its cancel: stored as cancelled here. */
  private async recordCancelled(entry: ClaimedOperation) {
    const { db, clock } = this.o.deps;
    const stored = await finishCancelled(db, entry.leaseToken, [entry.operationTrackingID], clock.now(), this.o.options.resultTtlSeconds);
    await this.record(entry, stored.size > 0 ? { id: entry.operationTrackingID, kind: 'cancelled' } : { id: entry.operationTrackingID, kind: 'lost' }, [], []);
  }

  private async record(entry: ClaimedOperation, o: EntryOutcome, unstarted: ClaimedOperation[], interrupted: ClaimedOperation[]) {
    const deps = this.o.deps;
    if (o.kind === 'done' || o.kind === 'protocolError') {
      observeOutcome(deps, entry, {
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
        observeOutcome(deps, entry, { outcome: 'cancelled', code: 'OPERATION_CANCELLED', startedAt: o.startedAt, ms: o.ms, final: true });
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
        if (o.started) deps.log.warn({ why: o.why, operationTrackingID: entry.operationTrackingID }, 'operation handed back unfinished');
        (o.started ? interrupted : unstarted).push(entry);
        return;
    }
  }

  /**
   * One line per operation run, at info: what ran, for whom, which attempt, how long, and how it ended;
   * never its parameters or result.
   */
  private logRun(entry: ClaimedOperation, outcome: string, facts: RunFacts & { error?: string; retryAt?: Date }) {
    this.o.deps.log.info(
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
    const { deps, options } = this.o;
    const now = deps.clock.now();
    // An operation's own tries and backoff (own operations may declare them) win over the executor's.
    const policy = this.o.pool.policyOf(entry.operation);
    const retry = !final && entry.failures + 1 < (policy.tries ?? options.tries);
    const retryAt = retry ? new Date(now.getTime() + backoffSeconds(policy.backoff ?? options.backoff, entry.failures + 1) * 1000) : null;
    const envelope = JSON.stringify(failure(new WsError(code, message)));
    const report = this.o.live.of(entry.operationTrackingID);
    const recorded = await recordFailedAttempt(deps.db, {
      entry,
      error: { code, message },
      now,
      retryAt,
      envelope,
      report,
      resultTtlSeconds: options.resultTtlSeconds,
    });
    if (recorded) observeOutcome(deps, entry, { outcome: retry ? 'retried' : 'failed', code, startedAt: facts.startedAt, ms: facts.ms, final: !retry });
    if (!recorded) this.summary.lost++;
    else if (retry) this.summary.retried++;
    else {
      this.summary.run++;
      this.summary.failed++;
    }
    this.logRun(entry, !recorded ? 'lost-lease' : retry ? 'retry' : 'failed', { ...facts, error: code, retryAt: retryAt ?? undefined });
  }
}
