// What one pass of the executor did, counted by how its operations ended, and the line that reports it.

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

export const emptySummary = (): PassSummary => ({ run: 0, done: 0, errors: 0, failed: 0, retried: 0, lost: 0, handedBack: 0, cancelled: 0, tookMs: 0 });

/** The summary line, led by `name` (the cron pass: executeOperationsFromQueue, coreBOS's script; `work`). */
export const formatSummary = (s: PassSummary, name = 'executeOperationsFromQueue') =>
  `${name}: done=${s.done} errors=${s.errors} retried=${s.retried} failed=${s.failed}` +
  `${s.cancelled ? ` cancelled=${s.cancelled}` : ''}${s.lost ? ` lost-lease=${s.lost}` : ''}${s.handedBack ? ` handed-back=${s.handedBack}` : ''} took=${s.tookMs}ms`;
