// `wsgate serve`: the HTTP gateway and, unless switched off, the in-process executor schedule.
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { openDatabase } from './db/client.js';
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
  const dispatcher = createDispatcher(rt.db.prisma, rt.registry, rt.services, rt.log);
  const app = createApp(dispatcher, { bodyLimit: rt.config.bodyLimit, log: rt.log });
  let executor: ScheduledExecutor | null = null;
  let executorDb: Awaited<ReturnType<typeof openDatabase>> | null = null;
  if (rt.config.executorSchedule !== 'off') {
    // Its own connection: on SQLite an operation's transaction must not hold up, or take in, HTTP requests.
    executorDb = await openDatabase(rt.config.databaseUrl, { migrate: false, poolSize: 2 });
    executor = scheduleExecutor(executorOf(rt, executorDb), rt.config.executorSchedule);
  }
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
      await executorDb?.close();
    },
  };
}
