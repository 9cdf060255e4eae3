// Failed logins slow the next ones, per user name and per client address: after a number of failures each
// further one doubles the wait (1 s, 2 s, 4 s, ... up to a cap). A login tried during the wait is refused at
// once with TOO_MANY_LOGIN_ATTEMPTS and the time to retry; it is not held open, and does not count as a
// failure. The tables live in memory, per process, and are bounded: attackers rotating names or addresses
// push out the oldest entries rather than growing the process.
import { createHash } from 'node:crypto';
import { WsError } from '../errors.js';

export interface ThrottlePolicy {
  /** Consecutive failures for one user name before the waits start. */
  maxFailuresPerUser: number;
  /** Failures from one client address (any user names) before the waits start; 0: no limit per address. */
  maxFailuresPerAddress: number;
  /** The longest wait (s). */
  backoffMaxSeconds: number;
}

/** Entries per table (user names, addresses); the least recently failed go first. */
export const THROTTLE_TABLE_SIZE = 10_000;
/** Failures are forgotten after this long without another one (or twice the longest wait, when longer). */
const FORGET_AFTER_MS = 15 * 60_000;

interface Failures {
  count: number;
  last: number;
  /** No login before this time (ms since the epoch). */
  until: number;
}

class FailureTable {
  private readonly entries = new Map<string, Failures>();
  /** Attempts being checked now, per key: they count as failures until they are settled. */
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly threshold: number,
    private readonly maxWaitMs: number,
  ) {}

  private forgetAfter() {
    return Math.max(FORGET_AFTER_MS, 2 * this.maxWaitMs);
  }

  blockedUntil(key: string, now: number): number {
    const entry = this.entries.get(key);
    if (entry && now - entry.last > this.forgetAfter()) this.entries.delete(key);
    const live = this.entries.get(key);
    // Concurrent attempts must not multiply the guesses a wait allows: those being checked count as
    // failures, so that at most the attempts left before the threshold (one, past it) run at once.
    const inFlight = this.pending.get(key) ?? 0;
    if (inFlight > 0 && (live?.count ?? 0) + inFlight >= this.threshold) return Math.max(live?.until ?? 0, now + 1000);
    return live?.until ?? 0;
  }

  begin(key: string): void {
    if (this.pending.size >= THROTTLE_TABLE_SIZE && !this.pending.has(key)) return; // bounded like the rest
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
  }

  end(key: string): void {
    const n = this.pending.get(key);
    if (n === undefined) return;
    if (n <= 1) this.pending.delete(key);
    else this.pending.set(key, n - 1);
  }

  fail(key: string, now: number): void {
    const old = this.entries.get(key);
    const count = old && now - old.last <= this.forgetAfter() ? old.count + 1 : 1;
    const wait = count < this.threshold ? 0 : Math.min(1000 * 2 ** Math.min(count - this.threshold, 40), this.maxWaitMs);
    // Delete first: a Map iterates in insertion order, so the first key is the least recently failed.
    this.entries.delete(key);
    this.entries.set(key, { count, last: now, until: now + wait });
    if (this.entries.size > THROTTLE_TABLE_SIZE) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** User names are kept as digests: a long name costs a table no more than a short one. */
const nameKey = (userName: string) => createHash('sha256').update(userName).digest('base64url');

export class LoginThrottle {
  private readonly users: FailureTable;
  private readonly addresses: FailureTable | null;

  constructor(policy: ThrottlePolicy) {
    const maxWaitMs = policy.backoffMaxSeconds * 1000;
    this.users = new FailureTable(policy.maxFailuresPerUser, maxWaitMs);
    this.addresses = policy.maxFailuresPerAddress > 0 ? new FailureTable(policy.maxFailuresPerAddress, maxWaitMs) : null;
  }

  /**
   * Throws TOO_MANY_LOGIN_ATTEMPTS while the user name or the address has to wait; otherwise the attempt is
   * being checked until `done` (call it whatever the outcome).
   */
  check(userName: string, address: string | undefined, now: Date): void {
    const t = now.getTime();
    const until = Math.max(this.users.blockedUntil(nameKey(userName), t), address && this.addresses ? this.addresses.blockedUntil(address, t) : 0);
    if (until > t) {
      const seconds = Math.ceil((until - t) / 1000);
      throw new WsError(
        'TOO_MANY_LOGIN_ATTEMPTS',
        `Too many failed logins for this user name or from this address: retry in ${seconds} s (at ${new Date(until).toISOString()})`,
      );
    }
    this.users.begin(nameKey(userName));
    if (address && this.addresses) this.addresses.begin(address);
  }

  /** The attempt that `check` let through is settled (after `failed` or `succeeded`, or an error). */
  done(userName: string, address: string | undefined): void {
    this.users.end(nameKey(userName));
    if (address && this.addresses) this.addresses.end(address);
  }

  failed(userName: string, address: string | undefined, now: Date): void {
    this.users.fail(nameKey(userName), now.getTime());
    if (address && this.addresses) this.addresses.fail(address, now.getTime());
  }

  /** A successful login clears the user name's failures (not the address's: one good account must not unlock guessing others). */
  succeeded(userName: string): void {
    this.users.clear(nameKey(userName));
  }

  /** Entries held (for tests: the tables stay bounded). */
  get tracked(): { users: number; addresses: number } {
    return { users: this.users.size, addresses: this.addresses?.size ?? 0 };
  }
}
