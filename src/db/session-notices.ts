// PostgreSQL's change mark for the session cache (src/auth/session-cache.ts): a number bumped by every
// notice that a session ended or a user changed (the triggers of migration 20261204000000_session_notices),
// heard on a LISTEN connection of its own, opened at the first check. While that connection is not
// listening (before it is up, after a loss until it is back) there is no mark, and every call reads its
// session. A session ended through another gateway is refused here once its notice arrives: the time of one
// notification after that gateway's commit (about a millisecond on one network).
import type { Listening } from './listen.js';

export const SESSIONS_CHANNEL = 'wsgate_sessions';

type Listen = (channel: string, onPayload: () => void, onError: () => void, onBack: () => void, onListening: () => void) => Listening;

export interface SessionNotices {
  mark(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export function sessionNotices(listen: Listen): SessionNotices {
  let mark = 0;
  let listening = false;
  let started: Listening | null = null;
  let stopped = false;
  const bump = () => void mark++;
  const up = () => {
    mark++;
    listening = true;
  };
  const down = () => {
    mark++;
    listening = false;
  };
  return {
    async mark() {
      if (stopped) return undefined;
      started ??= listen(SESSIONS_CHANNEL, bump, down, up, up);
      return listening ? mark : undefined;
    },
    async stop() {
      stopped = true;
      listening = false;
      await started?.stop();
    },
  };
}
