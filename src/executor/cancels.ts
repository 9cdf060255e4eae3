// Cancels of the entries an engine holds: one asked for in this process reaches the worker holding the
// entry at once; those asked for elsewhere are looked for every second while operations run. A cancel a
// worker took has no mark yet when it was taken in this process: markTaken writes it before the entries
// leave their run any other way, so that however they leave it, they end cancelled.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../db/client.js';
import type { DatabaseHealth } from '../db/health.js';
import { cancelEvents, cancelsRequested, markCancelRequested, type CancelRequest } from '../queue/cancel.js';
import type { ClaimedOperation } from '../queue/store.js';
import type { HeldBatches } from './held.js';
import type { WorkerPool } from './pool.js';

/** While operations run, how often the engine looks for cancels asked for in other processes. */
const CANCELS_EVERY_MS = 1_000;

export interface CancelsParts {
  db: Database;
  clock: Clock;
  log: Logger;
  health: DatabaseHealth;
  pool: WorkerPool;
  held: HeldBatches;
}

export class HeldCancels {
  /** Entries whose cancel the pool took (until their batch settles, or an orphan is handed back). */
  private readonly taken = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private checking = false;
  /** A cancel asked for in this process (its owner checked): the worker holding the entry is told at once. */
  private readonly onCancel = (request: CancelRequest) => {
    if (this.o.held.holds(request.operationTrackingID)) request.answers.push(this.tellPool(request.operationTrackingID));
  };

  constructor(private readonly o: CancelsParts) {
    cancelEvents.on('requested', this.onCancel);
    this.timer = setInterval(() => {
      if (o.held.size > 0) void this.check();
    }, CANCELS_EVERY_MS);
    this.timer.unref();
  }

  /** Writes the marks of the cancels taken in this process for these entries (cancelEntry wrote none). */
  async markTaken(batch: ClaimedOperation[]): Promise<void> {
    const taken = batch.filter((e) => this.taken.has(e.operationTrackingID));
    const now = this.o.clock.now();
    for (const token of new Set(taken.map((e) => e.leaseToken))) {
      await markCancelRequested(
        this.o.db,
        token,
        taken.filter((e) => e.leaseToken === token).map((e) => e.operationTrackingID),
        now,
      );
    }
  }

  /** The entries left the engine: their taken cancels are done with. */
  forget(entries: ClaimedOperation[]): void {
    for (const e of entries) this.taken.delete(e.operationTrackingID);
  }

  close(): void {
    cancelEvents.off('requested', this.onCancel);
    clearInterval(this.timer);
  }

  /** Tells the worker holding the entry of its cancel; true when it took it (the entry ends as cancelled). */
  private async tellPool(operationTrackingID: string): Promise<boolean> {
    if (this.taken.has(operationTrackingID)) return true;
    const accepted = await this.o.pool.cancel(operationTrackingID);
    if (accepted) this.taken.add(operationTrackingID);
    return accepted;
  }

  /** Tells the workers of the entries they hold whose cancel was asked for (once each); one look at a time. */
  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const id of await cancelsRequested(this.o.db, this.o.held.leaseTokens())) await this.tellPool(id);
    } catch (error) {
      if (!this.o.health.failed(error)) this.o.log.warn({ err: error }, 'executor could not look for cancelled operations; it looks again in a second');
    } finally {
      this.checking = false;
    }
  }
}
