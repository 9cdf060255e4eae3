// `wsgate serve`: the HTTP gateway and, unless switched off, the in-process executor schedule.
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { createApp } from './http/app.js';
import { createDispatcher } from './ws/dispatch.js';
import { engineOf, type Runtime } from './runtime.js';
import { scheduleExecutor, type ScheduledExecutor } from './executor/schedule.js';

/** How long a stopping server waits for requests in flight before it cuts their connections. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningServer {
  url: string;
  server: http.Server;
  executor: ScheduledExecutor | null;
  close(): Promise<void>;
}

export async function startServer(rt: Runtime): Promise<RunningServer> {
  const dispatcher = createDispatcher(rt.db, rt.registry, rt.services, rt.log, rt.health);
  const app = createApp(dispatcher, { bodyLimit: rt.config.bodyLimit, log: rt.log });
  const executor = rt.config.executorSchedule === 'off' ? null : scheduleExecutor(engineOf(rt), rt.config.executorSchedule);
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(rt.config.port, rt.config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = rt.config.host === '0.0.0.0' || rt.config.host === '::' ? '127.0.0.1' : rt.config.host;
  return {
    url: `http://${host}:${port}`,
    server,
    executor,
    async close() {
      await executor?.stop();
      // Requests in flight are answered; idle keep-alive connections are closed now, the rest after a grace.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await closed;
      clearTimeout(grace);
    },
  };
}
