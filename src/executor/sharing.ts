// How a claim is shared among the free workers. Spread evenly, the batches run side by side; but each batch
// costs its worker a transaction and the main thread a message each way, whatever its size, so entries spread
// one or two a worker under a steady trickle of submits (a claim finds what came since the last one) cost
// far more than the operations themselves: on SQLite, where workers' transactions take turns anyway,
// sustained deferred creates went from 1,900-2,200 to 2,100-2,500 runs/s (BENCHMARKS.md). So a claim goes
// to as few workers as can run it within the group-commit window (the time a worker's transaction already
// keeps taking operations), by the recent run times of its operations; never fewer than its size needs at
// `claimBatch` a worker. An operation not seen to run yet counts as slow: its entries are spread.
import type { ClaimedOperation } from '../queue/store.js';

/** Weight of the newest run in an operation's running average: a slow run (a timeout, say) shows at once. */
const NEWEST = 0.2;
/** Operations remembered; beyond, the oldest is forgotten (and counts as slow again). */
const REMEMBERED = 1_000;

/** Recent run times (ms) of operations, as their workers reported them (an exponential moving average). */
export class RunTimes {
  private readonly ms = new Map<string, number>();

  note(operation: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const known = this.ms.get(operation);
    if (known === undefined && this.ms.size >= REMEMBERED) this.ms.delete(this.ms.keys().next().value!);
    this.ms.set(operation, known === undefined ? ms : known + NEWEST * (ms - known));
  }

  /** The operation's expected run time, or undefined when it has not run here yet. */
  expectedMs(operation: string): number | undefined {
    return this.ms.get(operation);
  }
}

/**
 * The claim's batches: as many as its expected run time needs within `windowMs` a worker, or its size at
 * `claimBatch` a worker, at most one per free worker (and per entry), each of an equal share, in claim order.
 */
export function share(
  claimed: ClaimedOperation[],
  free: number,
  claimBatch: number,
  windowMs: number,
  expectedMs: (operation: string) => number | undefined,
): ClaimedOperation[][] {
  if (claimed.length === 0) return [];
  let totalMs = 0;
  for (const e of claimed) totalMs += expectedMs(e.operation) ?? Number.POSITIVE_INFINITY;
  const needed = Math.max(1, Math.ceil(claimed.length / claimBatch), Math.ceil(totalMs / windowMs));
  const workers = Math.min(free, claimed.length, needed);
  const size = Math.ceil(claimed.length / workers);
  const batches: ClaimedOperation[][] = [];
  for (let i = 0; i < claimed.length; i += size) batches.push(claimed.slice(i, i + size));
  return batches;
}
