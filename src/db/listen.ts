// PostgreSQL LISTEN on a connection of its own, reconnecting after a loss (notifications sent meanwhile are
// missed, which the listener's polling makes up for).
import pg from 'pg';

export interface Listening {
  stop(): Promise<void>;
}

export function listenPostgres(url: string, channel: string, onPayload: (payload: string) => void, onError: (error: Error) => void): Listening {
  let client: pg.Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    client = c;
    c.on('notification', (n) => n.channel === channel && onPayload(n.payload ?? ''));
    c.on('error', (error) => {
      onError(error);
      reconnect(c);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      if (stopped) await c.end();
    } catch (error) {
      onError(error as Error);
      reconnect(c);
    }
  };
  const reconnect = (c: pg.Client) => {
    if (stopped || client !== c) return;
    client = null;
    c.end().catch(() => undefined);
    retry = setTimeout(() => void connect(), 1_000);
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
