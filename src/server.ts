// `wsgate serve`: the HTTP gateway and, unless switched off, the in-process executor schedule.
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { createApp } from './http/app.js';
import { createDispatcher } from './ws/dispatch.js';
import { executorOf, type Runtime } from './runtime.js';
import { scheduleExecutor, type ScheduledExecutor } from './executor/schedule.js';

export interface RunningServer {
  url: string;
  server: http.Server;
  executor: ScheduledExecutor | null;
  close(): Promise<void>;
}

export async function startServer(rt: Runtime): Promise<RunningServer> {
  const dispatcher = createDispatcher(rt.db, rt.registry, rt.services, rt.log);
  const app = createApp(dispatcher, { bodyLimit: rt.config.bodyLimit, log: rt.log });
  // The executor shares the gateway's database client. On SQLite that matters: a second connection in
  // this process would wait for the executor's write lock synchronously (better-sqlite3 blocks), stalling
  // the event loop that the executor's own transaction needs to finish. On one connection, requests wait
  // for an open transaction asynchronously instead (src/db/sqlite-connection.ts).
  const executor = rt.config.executorSchedule === 'off' ? null : scheduleExecutor(executorOf(rt), rt.config.executorSchedule);
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
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
