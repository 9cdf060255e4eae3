// How long a failed deferred operation waits before its next attempt (--backoff, WSGATE_BACKOFF).

export interface BackoffPolicy {
  /** Seconds before the n-th retry: delays[n-1], the last one repeating. */
  delays: number[];
  /** Exponential: delays[0] * 2^(n-1), at most maxSeconds. */
  exponential: boolean;
}

export const MAX_BACKOFF_SECONDS = 3600;

/**
 * `10` (fixed), `10,60,300` (one per retry, the last repeating), `exponential` (1 s doubling) or
 * `exponential:5` (5 s doubling), capped at one hour.
 */
export function parseBackoff(text: string): BackoffPolicy {
  const exp = /^exponential(?::(\d+(?:\.\d+)?))?$/.exec(text.trim());
  if (exp) return { delays: [exp[1] ? Number(exp[1]) : 1], exponential: true };
  const delays = text.split(',').map((s) => s.trim());
  if (delays.some((d) => !/^\d+(\.\d+)?$/.test(d))) {
    throw new Error(`backoff must be seconds ("10"), a list ("10,60,300") or "exponential[:SECONDS]", got "${text}"`);
  }
  return { delays: delays.map(Number), exponential: false };
}

/** Seconds to wait before retry number `retry` (1 for the first retry). */
export function backoffSeconds(policy: BackoffPolicy, retry: number): number {
  const base = policy.delays[Math.min(retry, policy.delays.length) - 1] ?? 0;
  return Math.min(policy.exponential ? base * 2 ** (retry - 1) : base, MAX_BACKOFF_SECONDS);
}
