// Builds what the server, the executor and the CLI share from a Config: the database (migrated), the
// server secret, the modules, the operation registry, the clock and the logger.
import path from 'node:path';
import type { Logger } from 'pino';
import { createLogger } from './log.js';
import { packageRoot, type Config } from './config.js';
import { openDatabase, type Database } from './db/client.js';
import { addUser, userByName } from './auth/users.js';
import { isUniqueViolation } from './db/errors.js';
import { loadRegistry } from './operations/registry.js';
import { LiveRegistry, type ReloadOutcome } from './operations/live.js';
import type { Services } from './operations/types.js';
import { Engine, type EngineDeps, type EngineOptions } from './executor/engine.js';
import { purgeExpired, type Retention } from './executor/maintenance.js';
import { servicesOf } from './services.js';
import { syncFieldIndexes } from './vtql/indexes.js';
import { DatabaseHealth } from './db/health.js';
import { Scheduler } from './schedule/scheduler.js';
import { sanitize } from './protocol/sanitize.js';
import { loadEvents } from './operations/own/events-load.js';
import { Metrics } from './observe/metrics.js';
import { queueDepth } from './queue/depth.js';
import { submitGathering } from './queue/quota.js';

export { createLogger };

export interface Runtime {
  config: Config;
  db: Database;
  /** The operations in force; SIGHUP reloads the deployment's own ones (reloadOperations). */
  registry: LiveRegistry;
  services: Services;
  log: Logger;
  /** Whether the database serves, as this process's requests and executor last saw it (logged once per change). */
  health: DatabaseHealth;
  /** The recurring operations of WSGATE_SCHEDULE_FILE, queued by this process's executors. */
  scheduler: Scheduler;
  /** The process's metrics (GET /metrics). */
  metrics: Metrics;
  close(): Promise<void>;
}

/**
 * `models: false` (serve, work, execute): Prisma's client is not loaded (~33 MB); every statement of those
 * processes is raw. The CLI's user commands still use its models.
 */
export async function openRuntime(config: Config, log = createLogger(config.logLevel), options: { models?: boolean } = {}): Promise<Runtime> {
  // The operations first: a broken file stops the start before anything is opened.
  const load = () => loadRegistry({ operationsDir: config.operationsDir });
  const registry = new LiveRegistry(await load(), load);
  const db = await openDatabase(config.databaseUrl, {
    migrationsDir: path.join(packageRoot, 'prisma'),
    sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs,
    statementTimeoutMs: config.statementTimeoutMs,
    models: options.models,
  });
  const services: Services = servicesOf(config, { log });
  const metrics = new Metrics();
  metrics.readQueuesFrom(
    () => queueDepth(db, services.clock.now(), config.queues),
    config.metricsCacheSeconds * 1000,
    () => services.clock.now().getTime(),
  );
  metrics.countPool(() => db.poolUse());
  metrics.countGathering(() => submitGathering(db, services.quota)?.counts ?? null);
  let scheduler: Scheduler;
  try {
    scheduler = new Scheduler({ db, registry, clock: services.clock, log, file: config.scheduleFile, prepare: sanitize });
    services.events.use(await loadEvents(config.eventsDir, registry, services.modules));
  } catch (error) {
    await db.close();
    throw error;
  }
  return {
    config,
    db,
    registry,
    services,
    log,
    metrics,
    health: new DatabaseHealth(log),
    scheduler,
    async close() {
      await services.events.close();
      await db.close();
    },
  };
}

/**
 * SIGHUP: loads the operations folder afresh. When it loads, the new set serves new calls at once and
 * `loaded` replaces the worker threads (which load it on their start; calls in flight finish on the old
 * set); when it does not, the set in force stays and the log says why.
 */
export async function reloadOperations(rt: Runtime, loaded: () => void): Promise<ReloadOutcome> {
  const outcome = await rt.registry.reload();
  if (outcome.ok) {
    loaded();
    rt.log.info({ operations: outcome.operations }, 'operations reloaded');
  } else {
    rt.log.error({ reason: outcome.reason }, 'operations not reloaded: the set in force stays');
  }
  return outcome;
}

/**
 * Brings the field indexes in line with the modules file (`wsgate serve` at start): only the server does it,
 * so that a CLI command run with another modules file cannot drop the indexes the gateways rely on.
 */
export async function syncIndexes(rt: Runtime): Promise<void> {
  const indexes = await syncFieldIndexes(rt.db.raw, rt.services.modules, rt.db.dialect);
  if (indexes.created.length || indexes.dropped.length) rt.log.info(indexes, 'field indexes brought in line with the modules file');
}

/** The executor's settings from the configuration; the CLI's options override them. */
export function engineOptionsOf(config: Config, overrides: Partial<EngineOptions> = {}): EngineOptions {
  return {
    queues: config.queues,
    concurrency: config.maxWorkers,
    claimBatch: config.claimBatch,
    claimGatherMs: config.claimGatherMs,
    leaseSeconds: config.leaseSeconds,
    timeoutSeconds: config.timeoutSeconds,
    memoryMb: config.workerMemoryMb,
    idleWorkerSeconds: config.workerIdleSeconds,
    tries: config.tries,
    backoff: config.backoff,
    sleepSeconds: config.sleepSeconds,
    graceSeconds: config.graceSeconds,
    resultTtlSeconds: config.resultTtlSeconds,
    groupCommitMs: GROUP_COMMIT_MS,
    ...overrides,
  };
}

/**
 * How long one transaction of a worker keeps taking operations: long enough to share a commit among
 * many short operations, short enough that their callers barely wait for it.
 */
const GROUP_COMMIT_MS = 20;

/** What the executors' housekeeping keeps and for how long. */
export const retentionOf = (rt: Runtime): Retention => ({ sessionPolicy: rt.services.sessionPolicy, failedRetentionHours: rt.config.failedRetentionHours });

export function engineOf(rt: Runtime, overrides: Partial<EngineOptions> = {}, parts: Partial<EngineDeps> = {}): Engine {
  const retention = retentionOf(rt);
  return new Engine(
    {
      db: rt.db,
      config: rt.config,
      clock: rt.services.clock,
      modules: rt.services.modules.modules,
      log: rt.log,
      health: rt.health,
      metrics: rt.metrics,
      maintain: async () => void (await purgeExpired(rt.db, rt.services.clock.now(), retention)),
      schedules: rt.scheduler,
      operationFiles: () => rt.registry.files,
      ...parts,
    },
    engineOptionsOf(rt.config, overrides),
  );
}

/**
 * Creates the `admin` user on first start. Returns its access key when it was generated here (the caller
 * prints it once); undefined when admin existed or the key came from WSGATE_ADMIN_ACCESSKEY.
 */
export async function ensureAdmin(rt: Runtime): Promise<string | undefined> {
  if (await userByName(rt.db.raw, 'admin')) return undefined;
  try {
    const { accessKey } = await addUser(
      rt.db.raw,
      rt.services.secret,
      { userName: 'admin', isAdmin: true, accessKey: rt.config.adminAccessKey },
      rt.services.clock.now(),
    );
    return rt.config.adminAccessKey ? undefined : accessKey;
  } catch (error) {
    if (isUniqueViolation(error)) return undefined; // another process created it first
    throw error;
  }
}

/**
 * The last resort of the long-running processes (`serve`, `work`): a promise rejected with nobody to catch
 * it is a bug, but it is logged as JSON and the process keeps serving rather than exiting. The known sources
 * (the executor's loop, the LISTEN connection, idle pool clients) handle their errors themselves.
 */
export function keepServingOnUnhandledRejection(log: Logger): void {
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection (a bug): logged, the process keeps serving'));
}
