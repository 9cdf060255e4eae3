// Sessions this process checked, so that a client's calls do not each read ws_session (issue 13). An entry
// is used only while the database's change mark (RawSql.changeMark) is what it was when the entry was read:
// - SQLite: data_version, which any commit by another connection or process changes, so a session ended or
//   a user disabled anywhere is refused by the checks that start after it, at most 1 ms late (raw.ts shares
//   one read among the checks of one turn of the event loop);
// - PostgreSQL: a count of the notices that a session ended or a user changed (src/db/session-notices.ts),
//   so such a change made through another gateway is refused once its notice arrives (about a millisecond
//   after its commit); while the notices' connection is down there is no mark and nothing is kept.
// Sessions this process ends are forgotten as they end.
import type { WsUser } from './users.js';

export interface CheckedSession {
  createdAt: Date;
  lastSeenAt: Date;
  user: WsUser;
}

interface Entry extends CheckedSession {
  mark: number;
  storedAt: number;
}

/** Sessions kept at most (the oldest go first), and how long an entry lives even when nothing changed. */
const MAX_ENTRIES = 10_000;
const MAX_AGE_MS = 60_000;

export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  /**
   * Bumped by every forget: a check that read its session before a logout of this process must not put it
   * back after (the logout's own commit leaves the change mark as it was).
   */
  epoch = 0;

  /** The session stored under `key` when the database's change mark is still `mark`. */
  get(key: string, mark: number, nowMs: number): CheckedSession | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.mark === mark && nowMs - entry.storedAt <= MAX_AGE_MS && nowMs >= entry.storedAt) return entry;
    this.entries.delete(key);
    return undefined;
  }

  /** Keeps the session, unless something was forgotten since `epoch` was read (then nothing is kept). */
  set(key: string, session: CheckedSession, mark: number, nowMs: number, epoch: number): void {
    if (epoch !== this.epoch) return;
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { ...session, mark, storedAt: nowMs });
  }

  forget(key: string): void {
    this.epoch++;
    this.entries.delete(key);
  }
}
