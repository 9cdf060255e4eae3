// A call worker: its own database connection (on SQLite a reader beside the gateway's, in parallel under
// WAL), the operation registry, and the same run path as the event loop's (protocol/run.ts). One call at a time;
// the gateway terminates it when a call outlives its time, and its open transaction dies with it.
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { packageRoot, type Config } from '../../config.js';
import { threadLogger } from '../../thread-log.js';
import { openDatabase } from '../../db/client.js';
import { loadRegistry } from '../../operations/registry.js';
import { servicesOf } from '../../services.js';
import { findUserRaw } from '../../auth/users.js';
import { envelopeOfError } from '../../envelope.js';
import { WsError } from '../../errors.js';
import { databaseUnavailability, knownDatabaseFailure } from '../../db/errors.js';
import { createRunner } from '../run.js';
import { loadEvents } from '../../operations/own/events-load.js';
import type { FromCallWorker, ToCallWorker } from './messages.js';
import type { ModuleDefinition } from '../../records/modules.js';

export interface CallWorkerData {
  config: Config;
  clock: SharedArrayBuffer;
  /** The modules' definitions the main thread loaded. */
  modules: ModuleDefinition[];
  /** The own operations' files the main thread accepted (all of the folder when absent). */
  files?: string[];
}

const data = workerData as CallWorkerData;
const port = parentPort!;
const send = (m: FromCallWorker) => port.postMessage(m);
const log = threadLogger(data.config.logLevel, (line) => send({ type: 'log', line }), { callWorker: true });

try {
  const db = await openDatabase(data.config.databaseUrl, {
    migrationsDir: path.join(packageRoot, 'prisma'),
    sqliteBusyTimeoutMs: data.config.sqliteBusyTimeoutMs,
    statementTimeoutMs: data.config.statementTimeoutMs,
    migrate: false,
    poolSize: 2,
    models: false,
  });
  const services = servicesOf(data.config, { clock: data.clock, modules: data.modules, log });
  let registry = await loadRegistry({ operationsDir: data.config.operationsDir, files: data.files, inWorker: true });
  // Which event scripts exist (the gateway checked the files at start); post scripts run in event workers.
  services.events.use(await loadEvents(data.config.eventsDir, registry, services.modules, false));
  const runner = createRunner(db, services, log, data.config.callTimeoutSeconds * 1000);
  // Connects before the first call.
  await findUserRaw(db.raw, 0);
  // One message at a time, in the order sent: a call sent ahead (pool.ts) starts when the one before it ends.
  let turn = Promise.resolve();
  port.on('message', (m: ToCallWorker) => {
    turn = turn
      .then(() => handle(m))
      .catch((error: unknown) => {
        // An answer that could not be sent (say, a result JSON cannot hold): the gateway answers the call
        // as the worker exits and starts another; the messages after it are not left waiting on this one.
        log.error({ err: error }, 'call worker could not answer: it exits');
        process.exit(1);
      });
  });
  async function handle(m: ToCallWorker): Promise<void> {
    if (m.type === 'close') {
      await services.events.close();
      await db.close();
      port.close();
      return;
    }
    if (m.type === 'reload') {
      // A call running now keeps the operation it looked up; the next call gets the new set.
      try {
        registry = await loadRegistry({ operationsDir: data.config.operationsDir, files: m.files, inWorker: true });
      } catch (error) {
        log.error({ reason: (error as Error).message }, 'call worker kept its operations: the reload failed');
      }
      send({ type: 'reloaded' });
      return;
    }
    const { call } = m;
    let envelope;
    try {
      const op = registry.get(call.operation);
      if (!op) throw new WsError('UNKNOWN_OPERATION', `Unknown operation requested: ${call.operation}`);
      envelope = await runner.runNow(op, call.user, call.sessionName, call.params, call.options);
    } catch (error) {
      if (!(error instanceof WsError) && !knownDatabaseFailure(error)) log.error({ err: error, operation: call.operation }, 'operation failed unexpectedly');
      envelope = envelopeOfError(error);
    }
    send({
      type: 'answer',
      id: m.id,
      body: JSON.stringify(envelope),
      error: envelope.success ? null : envelope.error,
      heapUsedMb: getHeapStatistics().used_heap_size / 2 ** 20,
    });
  }
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'fatal', message: (error as Error).stack ?? String(error), unavailable: databaseUnavailability(error) });
}
