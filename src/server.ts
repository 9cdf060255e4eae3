// `wsgate serve`: the HTTP gateway and, unless switched off, the in-process executor schedule.
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { createApp } from './http/app.js';
import { clientErrorHandler } from './http/connection-errors.js';
import { createDispatcher } from './protocol/dispatch.js';
import { engineOf, reloadOperations, type Runtime } from './runtime.js';
import type { ReloadOutcome } from './operations/live.js';
import { scheduleExecutor, type ScheduledExecutor } from './executor/schedule.js';
import { CallPool } from './protocol/calls/pool.js';
import { doors } from './http/doors.js';
import { createDashboard } from './dashboard/routes.js';
import path from 'node:path';
import { packageRoot } from './config.js';
import { observedDispatcher } from './protocol/observe.js';
import { readinessCheck, type Heartbeating } from './http/health.js';
import type { ObservabilityRoutes } from './http/observability.js';

/** How long a stopping server waits for requests in flight before it cuts their connections. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Calls that may wait for a call worker; beyond, SERVER_BUSY at once. Enough for bursts of many clients,
 * few enough that a flood answers quickly rather than piling up in memory.
 */
const CALLS_WAITING_AT_MOST = 1_000;

export interface RunningServer {
  url: string;
  server: http.Server;
  executor: ScheduledExecutor | null;
  /** Null when WSGATE_CALL_WORKERS=0 (isolated operations then run on the event loop). */
  calls: CallPool | null;
  /** SIGHUP: the operations loaded afresh (a failure keeps the set in force); the worker threads follow. */
  reload(): Promise<ReloadOutcome>;
  close(): Promise<void>;
}

export async function startServer(rt: Runtime): Promise<RunningServer> {
  const calls =
    rt.config.callWorkers === 0
      ? null
      : new CallPool({
          size: rt.config.callWorkers,
          timeoutMs: rt.config.callTimeoutSeconds * 1000,
          aheadMs: rt.config.callAheadMs,
          memoryMb: rt.config.workerMemoryMb,
          maxWaiting: CALLS_WAITING_AT_MOST,
          config: rt.config,
          clock: rt.services.clock.shared,
          modules: rt.services.modules.modules,
          log: rt.log,
          operationFiles: () => rt.registry.files,
        });
  // Call workers start with the first call that needs one (that call waits for the start, untimed, ~0.3 s):
  // a gateway whose clients make no such call does not hold ~19 MB a worker for nothing.
  const dispatcher = observedDispatcher(createDispatcher(rt.db, rt.registry, rt.services, rt.log, calls ?? undefined, rt.health), rt.metrics, rt.registry);
  const uncountCalls = calls ? rt.metrics.countThreads(() => ({ pool: 'calls', busy: calls.load.busy, size: calls.load.size })) : () => undefined;
  const { db, registry, services, log } = rt;
  const doorsOf = doors({ db, registry, services, log, dispatcher, leaseSeconds: rt.config.leaseSeconds, bodyLimit: rt.config.bodyLimit });
  const dashboard = createDashboard({
    db: rt.db,
    services: rt.services,
    log: rt.log,
    leaseSeconds: rt.config.leaseSeconds,
    queues: rt.config.queues,
    trustProxy: rt.config.trustProxy,
  });
  const executor = rt.config.executorSchedule === 'off' ? null : scheduleExecutor(engineOf(rt), rt.config.executorSchedule);
  const app = createApp(dispatcher, {
    bodyLimit: rt.config.bodyLimit,
    log: rt.log,
    corsOrigins: rt.config.corsOrigins,
    doors: doorsOf,
    operations: () => rt.registry.list,
    dashboard: dashboard.middleware,
    observability: observabilityOf(rt, () => executor?.engine ?? null),
  });
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  // Malformed requests and connections reset mid-request: a JSON log line, not Node's silent 400.
  server.on('clientError', clientErrorHandler(rt.log));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(rt.config.port, rt.config.host, () => resolve());
    });
  } catch (error) {
    // The port is taken, say: what started must stop, or its threads would keep the process alive.
    await executor?.stop();
    await calls?.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = rt.config.host === '0.0.0.0' || rt.config.host === '::' ? '127.0.0.1' : rt.config.host;
  return {
    url: `http://${host}:${port}`,
    server,
    executor,
    calls,
    reload: () =>
      reloadOperations(rt, () => {
        calls?.reload();
        executor?.recycleWorkers();
      }),
    async close() {
      dashboard.close();
      await executor?.stop();
      // Requests in flight are answered; idle keep-alive connections are closed now, the rest after a grace.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await closed;
      clearTimeout(grace);
      uncountCalls();
      await calls?.close();
    },
  };
}

/** GET /metrics, /healthz and /readyz of this process; `executor`: the one it runs, whose heartbeat readiness checks. */
export function observabilityOf(rt: Runtime, executor: () => Heartbeating | null): ObservabilityRoutes {
  return {
    metrics: rt.metrics,
    token: rt.config.metricsToken,
    ready: readinessCheck({ db: rt.db, databaseUrl: rt.config.databaseUrl, migrationsDir: path.join(packageRoot, 'prisma'), executor }),
  };
}
