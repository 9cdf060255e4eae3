// PostgreSQL's change mark for the session cache (src/auth/session-cache.ts): a number bumped by every
// notice that a session ended or a user changed (the triggers of migration 20261204000000_session_notices),
// heard on a LISTEN connection of its own, opened at the first check. While that connection is not
// listening (before it is up, after a loss until it is back) there is no mark, and every call reads its
// session. A session ended through another gateway is refused here once its notice arrives: the time of one
// notification after that gateway's commit (about a millisecond on one network).
// A connection can die without a word (a half-open socket after a network fault, a pooler that accepts
// LISTEN and never delivers): so the gateway sends a probe of its own on the channel every PROBE_EVERY_MS
// while it checks sessions, and when none was heard for PROBE_EVERY_MS + HEARD_WITHIN_MS there is no mark
// either. A silent loss thus lets a session ended elsewhere be taken for at most that long (4 s).
import { randomUUID } from 'node:crypto';
import type { Listening } from './listen.js';

export const SESSIONS_CHANNEL = 'wsgate_sessions';
export const PROBE_EVERY_MS = 3_000;
export const HEARD_WITHIN_MS = 1_000;

type Listen = (channel: string, onPayload: (payload: string) => void, onError: () => void, onBack: () => void, onListening: () => void) => Listening;

export interface SessionNotices {
  mark(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** `probe(channel, payload)` sends a notification through another connection than the listener's. */
export function sessionNotices(listen: Listen, probe: (channel: string, payload: string) => Promise<unknown>, clock: () => number = Date.now): SessionNotices {
  let mark = 0;
  let listening = false;
  let started: Listening | null = null;
  let stopped = false;
  /** When the connection last showed it delivers: LISTEN in force, or a probe of ours heard. */
  let lastHeard = 0;
  let probeSent = Number.NEGATIVE_INFINITY;
  let probePayload = '';
  const onPayload = (payload: string) => {
    if (payload === '') mark++;
    else if (payload === probePayload) lastHeard = clock();
  };
  const up = () => {
    mark++;
    listening = true;
    lastHeard = clock();
  };
  const down = () => {
    mark++;
    listening = false;
  };
  return {
    async mark() {
      if (stopped) return undefined;
      started ??= listen(SESSIONS_CHANNEL, onPayload, down, up, up);
      if (!listening) return undefined;
      const now = clock();
      if (now - probeSent >= PROBE_EVERY_MS) {
        probeSent = now;
        probePayload = `probe ${randomUUID()}`;
        // Unsent (the database away): unheard, so no mark once the last one heard is too old.
        probe(SESSIONS_CHANNEL, probePayload).catch(() => undefined);
      }
      return now - lastHeard <= PROBE_EVERY_MS + HEARD_WITHIN_MS ? mark : undefined;
    },
    async stop() {
      stopped = true;
      listening = false;
      await started?.stop();
    },
  };
}
