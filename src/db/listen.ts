// PostgreSQL LISTEN on a connection of its own, reconnecting after a loss with backoff (1 s doubling to
// 30 s) for as long as it takes. Notifications sent meanwhile are missed: `onBack` tells the listener to
// look for work (its polling makes up for them too). `onError` is called once per loss, not per attempt;
// `onListening` each time LISTEN is in force, the first time included.
import type pg from 'pg';
import { nodePostgres } from './pg.js';

export interface Listening {
  stop(): Promise<void>;
}

const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export function listenPostgres(
  url: string,
  channel: string,
  onPayload: (payload: string) => void,
  onError: (error: Error) => void,
  onBack: () => void = () => undefined,
  onListening: () => void = () => undefined,
): Listening {
  let client: pg.Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  /** Failed attempts since the connection was last up (0 while it is up). */
  let failures = 0;
  const connect = async () => {
    if (stopped) return;
    // Keep-alive: a connection whose peer vanished without a word is found out (the session cache's probes,
    // session-notices.ts, do not wait for it).
    const c = new nodePostgres.Client({ connectionString: url, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    client = c;
    c.on('notification', (n) => n.channel === channel && onPayload(n.payload ?? ''));
    // Every client error is handled (an 'error' event nobody listens to would end the process).
    c.on('error', (error) => lost(c, error));
    try {
      await c.connect();
      await c.query(`LISTEN ${nodePostgres.escapeIdentifier(channel)}`);
      if (stopped) {
        await c.end();
        return;
      }
      if (client !== c) return;
      const wasDown = failures > 0;
      failures = 0;
      onListening();
      if (wasDown) onBack();
    } catch (error) {
      lost(c, error as Error);
    }
  };
  const lost = (c: pg.Client, error: Error) => {
    if (stopped || client !== c) return;
    client = null;
    c.end().catch(() => undefined);
    if (failures === 0) onError(error);
    const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** failures);
    failures++;
    retry = setTimeout(() => void connect(), wait);
    retry.unref();
  };
  void connect();
  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
