// What operations need besides their parameters, built from the configuration: the same in the main
// thread and in the executor's worker threads (which share the main thread's clock).
import { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Logger } from 'pino';
import { loadSecret, PasswordChecker } from './auth/secret.js';
import { LoginThrottle } from './auth/throttle.js';
import { SessionCache } from './auth/session-cache.js';
import type { Services } from './operations/types.js';
import { loadModules, ModuleRegistry, type ModuleDefinition } from './records/modules.js';
import { parseDatabaseUrl } from './db/url.js';
import { dialectOf } from './db/dialect.js';
import { EventHooks } from './operations/own/events-hooks.js';
import { compileAllowList } from './outbound/allow.js';
import { liveStoreOf } from './queue/live.js';

/**
 * `clock`: the main thread's, shared (a worker thread's); `modules`: the definitions the main thread loaded
 * and checked (a worker thread's): the same as its, even should the file change meanwhile, and not checked
 * again; `log`: the thread's logger.
 */
export function servicesOf(config: Config, parts: { clock?: Clock | SharedArrayBuffer; modules?: ModuleDefinition[]; log: Logger }): Services {
  const { clock = new Clock(config.clockOffsetMs), modules, log } = parts;
  const theClock = clock instanceof Clock ? clock : new Clock(clock);
  return {
    modules: modules ? new ModuleRegistry(modules) : loadModules(config.modulesFile),
    secret: loadSecret(config.secret, config.dataDir),
    clock: theClock,
    sessionPolicy: {
      challengeTtlSeconds: config.challengeTtlSeconds,
      sessionLifetimeSeconds: config.sessionLifetimeSeconds,
      sessionIdleSeconds: config.sessionIdleSeconds,
    },
    sessions: new SessionCache(),
    resultTtlSeconds: config.resultTtlSeconds,
    requestIdTtlSeconds: Math.round(config.idempotencyHours * 3600),
    dialect: dialectOf(parseDatabaseUrl(config.databaseUrl).provider),
    queryLimits: {
      defaultLimit: config.queryDefaultLimit,
      maxLimit: config.queryMaxLimit,
      maxLength: config.queryMaxLength,
      maxTerms: config.queryMaxTerms,
      maxValues: config.queryMaxValues,
      maxPatternLength: config.queryMaxPatternLength,
    },
    massMaxElements: config.massMaxElements,
    loginDefences: {
      throttle: new LoginThrottle({
        maxFailuresPerUser: config.loginMaxFailures,
        maxFailuresPerAddress: config.loginMaxFailuresPerAddress,
        backoffMaxSeconds: config.loginBackoffMaxSeconds,
      }),
      passwords: new PasswordChecker({ concurrency: config.scryptConcurrency, queue: config.scryptQueue }),
    },
    quota: {
      queued: config.quotaQueued,
      queuedBytes: config.quotaQueuedBytes,
      maxDelaySeconds: config.quotaMaxDelaySeconds,
      priorityCeiling: config.priorityCeiling,
    },
    events: new EventHooks(config, theClock, log),
    jobs: {
      httpAllow: compileAllowList(config.httpAllow),
      httpMaxBodyBytes: config.httpMaxBodyBytes,
      execAllowFile: config.execAllow,
      execMaxOutputBytes: config.execMaxOutputBytes,
      callbacks: config.callbackSecret !== undefined,
    },
    liveReports: liveStoreOf(config.databaseUrl),
  };
}
