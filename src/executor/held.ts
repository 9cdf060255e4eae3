// The batches an engine holds (claimed, not yet settled): whose leases its heartbeat renews, where a cancel
// looks for its entry, and what a stop waits for.
import type { ClaimedOperation } from '../queue/store.js';

export class HeldBatches {
  /** Each batch by the promise that settles once its outcomes are recorded. */
  private readonly batches = new Map<Promise<void>, ClaimedOperation[]>();

  get size(): number {
    return this.batches.size;
  }

  add(settled: Promise<void>, batch: ClaimedOperation[]): void {
    this.batches.set(settled, batch);
  }

  remove(settled: Promise<void>): void {
    this.batches.delete(settled);
  }

  /** True when a batch held here holds the entry. */
  holds(operationTrackingID: string): boolean {
    for (const batch of this.batches.values()) if (batch.some((e) => e.operationTrackingID === operationTrackingID)) return true;
    return false;
  }

  /** The lease tokens of every entry held. */
  leaseTokens(): string[] {
    const tokens = new Set<string>();
    for (const batch of this.batches.values()) for (const e of batch) tokens.add(e.leaseToken);
    return [...tokens];
  }

  /** Resolves once every batch held now is settled. */
  settled(): Promise<unknown> {
    return Promise.all(this.batches.keys());
  }
}
