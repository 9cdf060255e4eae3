// A worker thread of the executor's pool: its own database client, the operation registry, and a loop
// that runs the batches the main thread hands it. The main thread may terminate it at any moment (timeout,
// memory): its open transaction then dies with its connection, and nothing of the batch is half-written.
import path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { packageRoot, type Config } from '../config.js';
import { threadLogger } from '../thread-log.js';
import { openDatabase } from '../db/client.js';
import { loadRegistry } from '../operations/registry.js';
import { servicesOf } from '../services.js';
import { runBatch } from './batch.js';
import { rehearse } from './rehearsal.js';
import { findUserRaw } from '../auth/users.js';
import { loadEvents } from '../operations/own/events-load.js';
import { RUNNING_INDEX, RUNNING_PGID, RUNNING_SINCE, type FromWorker, type RunEntry, type ToWorker } from './messages.js';
import { RunReport } from './report.js';
import type { ExecutionPolicy } from '../operations/types.js';
import type { ModuleDefinition } from '../records/modules.js';

export interface WorkerData {
  config: Config;
  clock: SharedArrayBuffer;
  /** The modules' definitions the main thread loaded. */
  modules: ModuleDefinition[];
  running: SharedArrayBuffer;
  resultTtlSeconds: number;
  groupCommitMs: number;
  /** The own operations' files the main thread accepted (all of the folder when absent). */
  files?: string[];
  /** The executor's timeout (ms), for operations that declare none. */
  timeoutMs: number;
}

const data = workerData as WorkerData;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);
const running = new Float64Array(data.running);
const log = threadLogger(data.config.logLevel, (line) => send({ type: 'log', line }), { worker: true });

let windingDown = false;
const batches: RunEntry[][] = [];
let wake: (() => void) | null = null;
let closing = false;
/** The own operation running now, whose ctx.signal a wind-down or its cancel aborts. */
let current: RunReport | null = null;
/** The entry running now (any operation), and the entries of this worker's batches whose cancel was asked for. */
let runningId: string | null = null;
const cancelled = new Set<string>();
/** Entries whose outcome is being committed or was settled here: a cancel of one comes too late. */
const closed = new Set<string>();
/** The running external operation's signal (httpRequest), aborted by its cancel. */
let external: AbortController | null = null;

port.on('message', (m: ToWorker) => {
  if (m.type === 'run') batches.push(m.batch);
  else if (m.type === 'cancel') return cancel(m.id);
  else if (m.type === 'wind-down') {
    windingDown = true;
    current?.abort('shutdown');
  } else closing = true;
  wake?.();
});

/**
 * Stops the entry if it runs (its ctx.signal, the command it started); one not started yet is skipped by
 * runBatch. Answers whether it was in time: messages are handled between the batch's steps, so a cancel
 * either precedes the seal of the entry's completion (and rolls it back) or is refused.
 */
function cancel(id: string) {
  const accepted = !closed.has(id);
  send({ type: 'cancel-answer', id, accepted });
  if (!accepted) return;
  cancelled.add(id);
  if (runningId !== id) return;
  current?.abort('cancelled');
  external?.abort();
  const pgid = running[RUNNING_PGID]!;
  if (pgid > 0) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

try {
  const registry = await loadRegistry({ operationsDir: data.config.operationsDir, files: data.files, inWorker: true });
  const policies: Record<string, ExecutionPolicy> = {};
  for (const op of registry.list) if (op.policy && Object.keys(op.policy).length > 0) policies[op.name.toLowerCase()] = op.policy;
  const timeoutMsOf = (operation: string) => (policies[operation.toLowerCase()]?.timeoutSeconds ?? data.timeoutMs / 1000) * 1000;
  const longest = Math.max(data.timeoutMs, ...Object.values(policies).map((p) => (p.timeoutSeconds ?? 0) * 1000));
  const db = await openDatabase(data.config.databaseUrl, {
    migrationsDir: path.join(packageRoot, 'prisma'),
    sqliteBusyTimeoutMs: data.config.sqliteBusyTimeoutMs,
    // A deferred operation exists to run long work: its statements may take as long as it may.
    statementTimeoutMs: Math.max(data.config.statementTimeoutMs, longest),
    migrate: false,
    poolSize: 2,
    dedicated: true,
    models: false,
  });
  const services = servicesOf(data.config, { clock: data.clock, modules: data.modules, log });
  // Which event scripts exist (checked at start by the process that runs this executor).
  services.events.use(await loadEvents(data.config.eventsDir, registry, services.modules, false));
  // Connects before the first batch, which would otherwise wait for it.
  await findUserRaw(db.raw, 0);
  await rehearse(db, services.clock.now());
  send({ type: 'ready', policies });
  for (;;) {
    const batch = batches.shift();
    if (!batch) {
      if (closing) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      continue;
    }
    const outcomes = runBatch(
      {
        db,
        registry,
        services,
        resultTtlSeconds: data.resultTtlSeconds,
        groupCommitMs: data.groupCommitMs,
        running(index) {
          running[RUNNING_INDEX] = index;
          running[RUNNING_SINCE] = index >= 0 ? Date.now() : 0;
          runningId = index >= 0 ? batch[index]!.operationTrackingID : null;
          if (index < 0) current = external = null;
        },
        isCancelled: (id) => cancelled.has(id),
        seal(ids) {
          const late = ids.filter((id) => cancelled.has(id));
          if (late.length === 0) for (const id of ids) closed.add(id);
          return late;
        },
        unseal(ids) {
          for (const id of ids) closed.delete(id);
        },
        externalSignal(id) {
          external = new AbortController();
          if (cancelled.has(id)) external.abort();
          return external.signal;
        },
        holdProcessGroup(pgid) {
          running[RUNNING_PGID] = pgid;
        },
        windingDown: () => windingDown,
        startRun(entry, op) {
          const id = entry.operationTrackingID;
          const report = new RunReport((delta) => send({ type: 'report', id, delta }), timeoutMsOf(op.name));
          current = report;
          if (windingDown) report.abort('shutdown');
          if (cancelled.has(id)) report.abort('cancelled');
          return report;
        },
      },
      batch,
      (err, entry) => log.error({ err, operation: entry.operation, operationTrackingID: entry.operationTrackingID }, 'queued operation failed unexpectedly'),
    );
    // Each step's outcomes are sent as it ends: a cancel of one of them comes too late from then on.
    for await (const settled of outcomes) {
      for (const o of settled) closed.add(o.id);
      send({ type: 'outcomes', outcomes: settled });
    }
    for (const e of batch) {
      cancelled.delete(e.operationTrackingID);
      closed.delete(e.operationTrackingID);
    }
    // process.memoryUsage() also reads the process's RSS from /proc: ~0.5 ms, 2-3% of a busy worker's time.
    send({ type: 'batch-done', heapUsedMb: getHeapStatistics().used_heap_size / 2 ** 20 });
  }
  await services.events.close();
  await db.close();
  send({ type: 'closed' });
  port.close();
} catch (error) {
  send({ type: 'fatal', message: (error as Error).stack ?? String(error) });
}
