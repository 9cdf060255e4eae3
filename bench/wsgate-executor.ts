// Metric 2, wsgate side: N due `create` operations enqueued with the queue's own enqueue(), then one
// drain of the real executor (engineOf(openRuntime(...)), its worker pool started beforehand) runs them;
// ops/s is N over that drain.
// Afterwards every entry must be done with a success envelope, with one record per operation.
import type { Databases, System } from './databases.js';
import { enqueueMany } from '../src/queue/store.js';
import { engineOf, type Runtime } from '../src/runtime.js';
import type { Engine } from '../src/executor/engine.js';
import { CREATE_PARAMS, measurement, type ExecutorMeasurement, type ExecutorSettings } from './executor-common.js';
import { openBenchRuntime } from './wsgate.js';

/** Queues `count` due creates of the user (enqueueMany, 500 a statement). */
export async function fill(rt: Runtime, userId: number, count: number): Promise<void> {
  const base = rt.services.clock.now().getTime() - 60_000;
  for (let i = 0; i < count; i += 500) {
    const chunk = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
      operation: 'create',
      params: CREATE_PARAMS,
      userId,
      submittedAt: new Date(base + i + j),
      dueAt: new Date(base),
    }));
    await enqueueMany(rt.db, chunk);
  }
}

export async function measureWsgateExecutor(system: System, dbs: Databases, s: ExecutorSettings): Promise<ExecutorMeasurement> {
  const rt = await openBenchRuntime(await dbs.fresh(system, 'exec'), dbs.dataDir(), { WSGATE_CLAIM_BATCH: String(s.claimBatch) });
  let ex: Engine | undefined;
  try {
    if (rt.config.claimBatch !== s.claimBatch) throw new Error(`claimBatch ${rt.config.claimBatch}, expected ${s.claimBatch}`);
    const admin = await rt.db.prisma.user.findUniqueOrThrow({ where: { userName: 'admin' }, select: { id: true } });
    ex = engineOf(rt);
    const problems: string[] = [];
    if (s.warmup > 0) {
      await fill(rt, admin.id, s.warmup);
      const w = await ex.drain();
      if (w.run !== s.warmup || w.failed || w.errors || w.lost) problems.push(`warm-up pass: ${JSON.stringify(w)}`);
    }
    await fill(rt, admin.id, s.n);
    const started = performance.now();
    const summary = await ex.drain();
    const ms = performance.now() - started;

    const total = s.warmup + s.n;
    if (summary.run !== s.n || summary.failed || summary.errors || summary.lost) problems.push(`pass summary ${JSON.stringify(summary)}, expected run=${s.n}`);
    const q = rt.db.prisma.queuedOperation;
    const [entries, done, succeeded, records] = await Promise.all([
      q.count(),
      q.count({ where: { state: 'done' } }),
      q.count({ where: { state: 'done', result: { startsWith: '{"success":true' } } }),
      rt.db.prisma.record.count(),
    ]);
    if (entries !== total || done !== total) problems.push(`${done} of ${entries} entries done, expected ${total}`);
    if (succeeded !== total) problems.push(`${succeeded} success envelopes stored, expected ${total}`);
    if (records !== total) problems.push(`${records} records created, expected ${total}`);
    return measurement(s.n, ms, problems);
  } finally {
    await ex?.close();
    await rt.close();
  }
}
