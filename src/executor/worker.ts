// A worker thread of the executor's pool: its own database client, the operation registry, and a loop
// that runs the batches the main thread hands it. The main thread may terminate it at any moment (timeout,
// memory): its open transaction then dies with its connection, and nothing of the batch is half-written.
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { packageRoot, type Config } from '../config.js';
import { createLogger } from '../log.js';
import { openDatabase } from '../db/client.js';
import { loadRegistry } from '../operations/registry.js';
import { servicesOf } from '../services.js';
import type { ClaimedOperation } from '../queue/store.js';
import { runBatch } from './batch.js';
import { findUser } from '../auth/users.js';
import { RUNNING_INDEX, RUNNING_SINCE, type FromWorker, type ToWorker } from './messages.js';

export interface WorkerData {
  config: Config;
  clock: SharedArrayBuffer;
  running: SharedArrayBuffer;
  resultTtlSeconds: number;
  groupCommitMs: number;
  /** The own operations' files the main thread accepted (all of the folder when absent). */
  files?: string[];
}

const data = workerData as WorkerData;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);
const running = new Float64Array(data.running);
const log = createLogger(data.config.logLevel).child({ worker: true });

let windingDown = false;
const batches: ClaimedOperation[][] = [];
let wake: (() => void) | null = null;
let closing = false;

port.on('message', (m: ToWorker) => {
  if (m.type === 'run') batches.push(m.batch);
  else if (m.type === 'wind-down') windingDown = true;
  else closing = true;
  wake?.();
});

try {
  const db = await openDatabase(data.config.databaseUrl, {
    migrationsDir: path.join(packageRoot, 'prisma'),
    sqliteBusyTimeoutMs: data.config.sqliteBusyTimeoutMs,
    // A deferred operation exists to run long work: its statements may take as long as it may.
    statementTimeoutMs: Math.max(data.config.statementTimeoutMs, data.config.timeoutSeconds * 1000),
    migrate: false,
    poolSize: 2,
    dedicated: true,
  });
  const services = servicesOf(data.config, data.clock);
  const registry = await loadRegistry({ operationsDir: data.config.operationsDir, files: data.files });
  // Connects and warms Prisma's query compiler before the first batch, which would otherwise wait for both.
  await findUser(db.prisma, 0);
  send({ type: 'ready' });
  for (;;) {
    const batch = batches.shift();
    if (!batch) {
      if (closing) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      continue;
    }
    await runBatch(
      {
        db,
        registry,
        services,
        resultTtlSeconds: data.resultTtlSeconds,
        groupCommitMs: data.groupCommitMs,
        running(index) {
          running[RUNNING_INDEX] = index;
          running[RUNNING_SINCE] = index >= 0 ? Date.now() : 0;
        },
        settled: (outcomes) => send({ type: 'outcomes', outcomes }),
        windingDown: () => windingDown,
      },
      batch,
      (err, entry) => log.error({ err, operation: entry.operation, operationTrackingID: entry.operationTrackingID }, 'queued operation failed unexpectedly'),
    );
    send({ type: 'batch-done', heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20 });
  }
  await db.close();
  send({ type: 'closed' });
  port.close();
} catch (error) {
  send({ type: 'fatal', message: (error as Error).stack ?? String(error) });
}
