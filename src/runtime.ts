// Builds what the server, the executor and the CLI share from a Config: the database (migrated), the
// server secret, the modules, the operation registry, the clock and the logger.
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { Clock } from './clock.js';
import { packageRoot, type Config } from './config.js';
import { openDatabase, type Database } from './db/client.js';
import { loadSecret } from './auth/secret.js';
import { addUser } from './auth/users.js';
import { createRegistry, type OperationRegistry } from './operations/registry.js';
import type { Services } from './operations/types.js';
import { loadModules } from './records/modules.js';
import type { Executor } from './executor/pass.js';

export interface Runtime {
  config: Config;
  db: Database;
  registry: OperationRegistry;
  services: Services;
  log: Logger;
  close(): Promise<void>;
}

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    // Defence in depth: wsgate never logs parameters, but should anything carry these, they are hidden.
    redact: { paths: ['accessKey', '*.accessKey', 'sessionName', '*.sessionName', 'params', '*.params'], censor: '[hidden]' },
  });
}

export async function openRuntime(config: Config, log = createLogger(config.logLevel)): Promise<Runtime> {
  const modules = loadModules(config.modulesFile);
  const secret = loadSecret(config.secret, config.dataDir);
  const db = await openDatabase(config.databaseUrl, {
    migrationsDir: path.join(packageRoot, 'prisma'),
    sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs,
  });
  const services: Services = {
    modules,
    secret,
    clock: new Clock(config.clockOffsetMs),
    sessionPolicy: {
      challengeTtlSeconds: config.challengeTtlSeconds,
      sessionLifetimeSeconds: config.sessionLifetimeSeconds,
      sessionIdleSeconds: config.sessionIdleSeconds,
    },
  };
  return {
    config,
    db,
    registry: createRegistry({ testOperations: config.testOperations }),
    services,
    log,
    close: () => db.close(),
  };
}

export function executorOf(rt: Runtime): Executor {
  return {
    db: rt.db,
    registry: rt.registry,
    services: rt.services,
    log: rt.log,
    options: {
      leaseSeconds: rt.config.leaseSeconds,
      claimBatch: rt.config.claimBatch,
      resultTtlSeconds: rt.config.resultTtlSeconds,
      // SQLite's wait for another process's lock happens inside the transaction's start; PostgreSQL's pool wait too.
      transactionMaxWaitMs: rt.config.sqliteBusyTimeoutMs + 2_000,
    },
  };
}

/**
 * Creates the `admin` user on first start. Returns its access key when it was generated here (the caller
 * prints it once); undefined when admin existed or the key came from WSGATE_ADMIN_ACCESSKEY.
 */
export async function ensureAdmin(rt: Runtime): Promise<string | undefined> {
  if (await rt.db.prisma.user.findUnique({ where: { userName: 'admin' }, select: { id: true } })) return undefined;
  try {
    const { accessKey } = await addUser(
      rt.db.prisma,
      rt.services.secret,
      { userName: 'admin', isAdmin: true, accessKey: rt.config.adminAccessKey },
      rt.services.clock.now(),
    );
    return rt.config.adminAccessKey ? undefined : accessKey;
  } catch (error) {
    if ((error as { code?: string }).code === 'P2002') return undefined; // another process created it first
    throw error;
  }
}
