// PostgreSQL: tells listening executors that entries of a queue are due, coalesced. A NOTIFY in the
// statement that queues makes its commit take PostgreSQL's notify lock, which serializes those commits (and
// their WAL flushes) across all sessions: at 10 concurrent submits every commit waited for the previous one.
// Instead the gateway notifies after its commit, on a statement of its own: the first notice of a queue at
// once, then at most one per WINDOW_MS carrying the earliest due time asked for meanwhile. A listener that
// hears a due time looks for work then and computes its next wake-up from the table, so later entries of
// the same window are found too. A process that dies between its commit and its notice leaves the entry to
// the executors' poll (WSGATE_SLEEP_SECONDS), as a lost notification always did.
export const WINDOW_MS = 5;

export interface QueueNotices {
  /** Entries of `queue` committed, the earliest due at `dueAt`. */
  notice(queue: string, dueAt: Date): void;
  /** Sends what is pending and waits for the notices in flight. */
  flush(): Promise<void>;
}

interface Window {
  timer: NodeJS.Timeout;
  pending: number | null;
}

export function queueNotices(send: (queue: string, dueAtMs: number) => Promise<unknown>): QueueNotices {
  const windows = new Map<string, Window>();
  const inFlight = new Set<Promise<unknown>>();
  const post = (queue: string, dueAtMs: number) => {
    // A notice that cannot be sent (the database away) is left to the poll, like a lost notification.
    const p = send(queue, dueAtMs).catch(() => undefined);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const open = (queue: string): Window => {
    const w: Window = {
      pending: null,
      timer: setTimeout(() => {
        windows.delete(queue);
        if (w.pending !== null) {
          post(queue, w.pending);
          windows.set(queue, open(queue));
        }
      }, WINDOW_MS),
    };
    w.timer.unref();
    return w;
  };
  return {
    notice(queue, dueAt) {
      const w = windows.get(queue);
      if (w) {
        w.pending = w.pending === null ? dueAt.getTime() : Math.min(w.pending, dueAt.getTime());
        return;
      }
      post(queue, dueAt.getTime());
      windows.set(queue, open(queue));
    },
    async flush() {
      for (const [queue, w] of windows) {
        clearTimeout(w.timer);
        if (w.pending !== null) post(queue, w.pending);
      }
      windows.clear();
      await Promise.all([...inFlight]);
    },
  };
}
