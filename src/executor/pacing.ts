// When the executor keeps up with a fast, steady stream of submits, each claim finds only what came since the
// one before (a few entries), and each claim, each batch's transaction and each completion costs the same
// whatever its size: on PostgreSQL the sustained bench ran ~5 entries a claim, and the statements' fixed
// costs (protocol, parse, commit) were a large part of both sides' time per operation. While entries come fast
// (PACED_RATE a second or more) and the last claim took everything due, the next claim waits until
// GATHER_TARGET entries may have come since the last one, at most `gatherMs`. A claim that filled its limit
// (the executor is behind) is followed at once; a stream slower than PACED_RATE (one entry at a time, the
// latency of a listener) never waits, and neither does the first claim after a pause of `gatherMs`.
// Measured (BENCHMARKS.md, thirteenth stop): PostgreSQL's sustained runs/s +19-24% and the serve process's
// CPU per operation -20%; SQLite's within noise (-4%, +7%).

/** Entries a second from which claims are paced. */
export const PACED_RATE = 500;
/** Entries a paced claim waits for (about one worker's claim batch). */
export const GATHER_TARGET = 20;
/**
 * The rate is measured over windows of at least this long: claims come in bursts (an enqueue and a batch's
 * end can each wake one, a millisecond apart), and a rate from two claims alone would pace a slow stream.
 */
const RATE_WINDOW_MS = 100;

export class ClaimPacing {
  /** Entries claimed a second, over the last full window. */
  private rate = 0;
  private windowStart: number | undefined;
  private windowEntries = 0;
  private lastAt = Number.NEGATIVE_INFINITY;
  private lastFull = true;

  constructor(
    private readonly gatherMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A round of claims took `count` entries; `full`: its last claim found as many as it asked for. */
  claimed(count: number, full: boolean): void {
    const at = this.now();
    this.windowStart ??= at;
    this.windowEntries += count;
    const elapsed = at - this.windowStart;
    if (elapsed >= RATE_WINDOW_MS) {
      // A window that spans a pause gives a low rate: the stream starts again unpaced.
      this.rate = (this.windowEntries * 1000) / elapsed;
      this.windowStart = at;
      this.windowEntries = 0;
    }
    this.lastAt = at;
    this.lastFull = full;
  }

  /** Entries a second, as the recent claims found them. */
  get entriesPerSecond(): number {
    return this.rate;
  }

  /**
   * How long the next claim should wait (ms): 0 unless the stream is fast and the last claim emptied the
   * queue; never after a pause of a gather window (the wait counts from the last claim).
   */
  waitMs(): number {
    if (this.gatherMs <= 0 || this.lastFull || this.rate < PACED_RATE) return 0;
    const window = Math.min(this.gatherMs, (GATHER_TARGET * 1000) / this.rate);
    return Math.max(0, this.lastAt + window - this.now());
  }
}
