// The own-operations part (WSGATE_BENCH_PARTS=own): a no-op own operation (bench/operations/noop.mjs)
// beside a cheap built-in one in the same run and process, both ways it can be called:
// - deferred: N due entries of each, drained by the real executor (its worker pool started beforehand);
// - synchronous over HTTP (autocannon): the own operation runs in a call worker, as every own operation does.
// The built-in side is `describe Contacts` (its answer comes from memory, no statement): wsgate has no
// built-in no-op outside the test fixtures. Every entry must end done with a success envelope, every
// response be a success.
import path from 'node:path';
import { packageRoot } from '../src/config.js';
import { enqueueMany } from '../src/queue/store.js';
import { engineOf, type Runtime } from '../src/runtime.js';
import type { Databases, System } from './databases.js';
import { measurement, type ExecutorMeasurement, type ExecutorSettings } from './executor-common.js';
import { runLoad, settle, type LoadResult } from './load.js';
import type { SubmitSettings } from './submit.js';
import { login, openBenchRuntime, startGateway } from './wsgate.js';

const OPERATIONS = { WSGATE_OPERATIONS_DIR: path.join(packageRoot, 'bench', 'operations') };
const OWN = { operation: 'benchNoop', params: { n: 1 } };
const BUILT_IN = { operation: 'describe', params: { elementType: 'Contacts' } };
type Side = typeof OWN | typeof BUILT_IN;

export interface OwnExecutorMeasurement {
  own: ExecutorMeasurement;
  builtIn: ExecutorMeasurement;
}

async function fill(rt: Runtime, userId: number, side: Side, count: number): Promise<void> {
  const base = rt.services.clock.now().getTime() - 60_000;
  for (let i = 0; i < count; i += 500) {
    const chunk = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
      ...side,
      userId,
      submittedAt: new Date(base + i + j),
      dueAt: new Date(base),
    }));
    await enqueueMany(rt.db, chunk);
  }
}

async function drainOne(rt: Runtime, userId: number, side: Side, s: ExecutorSettings): Promise<ExecutorMeasurement> {
  const ex = engineOf(rt);
  const problems: string[] = [];
  try {
    await ex.warm();
    if (s.warmup > 0) {
      await fill(rt, userId, side, s.warmup);
      const w = await ex.drain();
      if (w.run !== s.warmup || w.failed || w.lost) problems.push(`${side.operation} warm-up pass: ${JSON.stringify(w)}`);
    }
    await fill(rt, userId, side, s.n);
    const started = performance.now();
    const summary = await ex.drain();
    const ms = performance.now() - started;
    if (summary.run !== s.n || summary.failed || summary.lost) problems.push(`${side.operation} pass summary ${JSON.stringify(summary)}, expected run=${s.n}`);
    const q = rt.db.prisma.queuedOperation;
    const where = { operation: side.operation };
    const [entries, succeeded] = await Promise.all([
      q.count({ where }),
      q.count({ where: { ...where, state: 'done', result: { startsWith: '{"success":true' } } }),
    ]);
    if (entries !== s.warmup + s.n || succeeded !== entries) problems.push(`${side.operation}: ${succeeded} of ${entries} entries done with a success`);
    return measurement(s.n, ms, problems);
  } finally {
    await ex.close();
  }
}

export async function measureOwnExecutor(system: System, dbs: Databases, s: ExecutorSettings): Promise<OwnExecutorMeasurement> {
  const rt = await openBenchRuntime(await dbs.fresh(system, 'own_exec'), dbs.dataDir(), { ...OPERATIONS, WSGATE_CLAIM_BATCH: String(s.claimBatch) });
  try {
    const admin = await rt.db.prisma.user.findUniqueOrThrow({ where: { userName: 'admin' }, select: { id: true } });
    const builtIn = await drainOne(rt, admin.id, BUILT_IN, s);
    const own = await drainOne(rt, admin.id, OWN, s);
    return { own, builtIn };
  } finally {
    await rt.close();
  }
}

export interface OwnSyncMeasurement {
  /** The round whose rate is the median of each side's rounds. */
  own: LoadResult;
  builtIn: LoadResult;
  /** Each round's ok/s, own and built-in, in the order run. */
  rounds: { own: number; builtIn: number; ownFirst: boolean }[];
  problems: { own: string[]; builtIn: string[] };
}

/** The result whose rate is the median (the upper one of an even count). */
const median = (results: LoadResult[]) => [...results].sort((a, b) => a.okPerSecond - b.okPerSecond)[Math.floor(results.length / 2)]!;

const form = (params: Record<string, string>) =>
  Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');

const checked = (load: LoadResult) => {
  const problems: string[] = [];
  if (load.ok === 0) problems.push('no successful response');
  if (load.envelopeErrors) problems.push(`${load.envelopeErrors} error envelopes ${JSON.stringify(load.errorCodes)}`);
  if (load.non2xx || load.socketErrors || load.timeouts) problems.push(`${load.non2xx} non-2xx, ${load.socketErrors} socket errors, ${load.timeouts} timeouts`);
  return problems;
};

/**
 * `rounds` rounds of both sides on one gateway, alternating which goes first (a 2-core machine's rate
 * drifts by a quarter from one 6 s window to the next): each side's median round is reported.
 */
export async function measureOwnSync(system: System, dbs: Databases, s: SubmitSettings, rounds = 3): Promise<OwnSyncMeasurement> {
  const gw = await startGateway(await dbs.fresh(system, 'own_sync'), dbs.dataDir(), OPERATIONS);
  try {
    const sessionName = await login(gw.url);
    const run = async (params: Record<string, string>) => {
      const body = form({ sessionName, ...params });
      if (s.warmupSeconds > 0) {
        await runLoad({ url: gw.url, body, connections: s.connections, durationSeconds: s.warmupSeconds });
        await settle();
      }
      return runLoad({ url: gw.url, body, connections: s.connections, durationSeconds: s.durationSeconds });
    };
    const builtInRuns: LoadResult[] = [];
    const ownRuns: LoadResult[] = [];
    const order: { own: number; builtIn: number; ownFirst: boolean }[] = [];
    for (let round = 0; round < Math.max(1, rounds); round++) {
      const ownFirst = round % 2 === 1;
      const sides = ownFirst ? (['own', 'builtIn'] as const) : (['builtIn', 'own'] as const);
      const got = { own: 0, builtIn: 0 };
      for (const side of sides) {
        const result = side === 'own' ? await run({ operation: 'benchNoop', n: '1' }) : await run({ operation: 'describe', elementType: 'Contacts' });
        (side === 'own' ? ownRuns : builtInRuns).push(result);
        got[side] = Math.round(result.okPerSecond);
      }
      order.push({ ...got, ownFirst });
    }
    return {
      own: median(ownRuns),
      builtIn: median(builtInRuns),
      rounds: order,
      problems: { own: ownRuns.flatMap(checked), builtIn: builtInRuns.flatMap(checked) },
    };
  } finally {
    await gw.close();
  }
}
