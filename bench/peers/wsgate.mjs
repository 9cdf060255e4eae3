// wsgate's side of the peer comparison, with the same CLI and the same JSON line as graphile.mjs and
// pgboss.mjs, run by the same Node 22 binary on the same PostgreSQL server.
//   throughput: N no-op operations (wsgatetest_noop) bulk-enqueued, ANALYZE, then one executor (a worker
//     pool of --concurrency threads, claims of --batch) drains them in this process; ms runs from the
//     executor's start (worker threads included) until the last result is stored.
//   latency: a `wsgate work` listener process, idle, woken by NOTIFY; 500 single enqueues at --rate/s from
//     this process; latency = when the operation started (its result says) minus when it was added.
// A handler run is seen through its stored result (one per entry: a second run of an entry could not
// store another), so duplicates are entries claimed more than once (attempts > 1: possibly run twice) and
// missing ones are entries without a success result.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { cpuWindow, now, parseCli, Recorder, resultLine, sleep } from './common.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const dist = (p) => path.join(root, 'dist', p);
const { loadConfig } = await import(dist('src/config.js'));
const { openRuntime, ensureAdmin, engineOf } = await import(dist('src/runtime.js'));
const { enqueue, enqueueMany } = await import(dist('src/queue/store.js'));

const cli = parseCli();
const env = {
  DATABASE_URL: cli.url,
  WSGATE_SECRET: 'bench-secret-bench-secret',
  WSGATE_ADMIN_ACCESSKEY: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
  // wsgatetest_noop is one of the suite's own operations, loaded as a deployment's are.
  WSGATE_OPERATIONS_DIR: path.join(root, 'test', 'fixtures', 'operations'),
  WSGATE_LOG_LEVEL: 'warn',
  WSGATE_DATA_DIR: path.join(root, 'dist', 'bench-data'),
  WSGATE_MAX_WORKERS: String(cli.concurrency),
  WSGATE_CLAIM_BATCH: String(cli.batch),
  WSGATE_EXECUTOR_SCHEDULE: 'off',
};
const settings = { concurrency: cli.concurrency, claimBatch: cli.batch, groupCommitMs: 20, leaseSeconds: 30, notify: true, operation: 'wsgatetest_noop' };
const rt = await openRuntime(loadConfig(env));
await ensureAdmin(rt);
const admin = await rt.db.prisma.user.findUniqueOrThrow({ where: { userName: 'admin' } });
const op = (tag, at) => ({ operation: 'wsgatetest_noop', params: { tag }, userId: admin.id, submittedAt: at, dueAt: at });

async function tallyResults(recorder, withLatency) {
  const rows = await rt.db.raw.query({
    sql: 'SELECT result, attempts FROM ws_queued_operation',
    text: 'SELECT result, attempts FROM ws_queued_operation',
    values: [],
  });
  let reclaimed = 0;
  for (const r of rows) {
    if (Number(r.attempts) > 1) reclaimed++;
    if (!r.result) continue;
    const env = JSON.parse(r.result);
    if (!env.success) continue;
    const [i, addedAt] = String(env.result.tag).split(':').map(Number);
    if (i < 0) continue; // warm-up
    recorder.seen(i);
    if (withLatency) recorder.latencies.push(env.result.startedAt - addedAt);
  }
  return reclaimed;
}

let line;
if (cli.mode === 'throughput') {
  const at = new Date(Date.now() - 1000);
  for (let i = 0; i < cli.jobs; i += cli.chunk) {
    await enqueueMany(
      rt.db,
      Array.from({ length: Math.min(cli.chunk, cli.jobs - i) }, (_, j) => op(`${i + j}:0`, at)),
    );
  }
  await rt.db.raw.execute({ sql: 'ANALYZE', text: 'ANALYZE', values: [] });
  const engine = engineOf(rt, { concurrency: cli.concurrency, claimBatch: cli.batch });
  // A listener starts its worker threads once, at its start: that is not throughput, and it is reported apart.
  const warming = now();
  await engine.warm();
  settings.workerStartMs = Math.round(now() - warming);
  const started = now();
  const cpuUsed = cpuWindow();
  const summary = await engine.drain();
  const ms = now() - started;
  const cpu = cpuUsed();
  await engine.close();
  const recorder = new Recorder(cli.jobs);
  const reclaimed = await tallyResults(recorder, false);
  if (summary.run !== cli.jobs) throw new Error(`drain ran ${summary.run} of ${cli.jobs}: ${JSON.stringify(summary)}`);
  line = JSON.parse(
    resultLine({ system: 'wsgate', version: '0.1.0', mode: 'throughput', concurrency: cli.concurrency, jobs: cli.jobs, ms, recorder, settings, cpu }),
  );
  line.duplicates += reclaimed;
} else {
  const child = spawn(process.execPath, [dist('src/cli.js'), 'work', '--concurrency', String(cli.concurrency), '--sleep', '2'], {
    env: { ...env, PATH: process.env.PATH },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let t = Date.now(); (await rt.db.prisma.executor.count()) === 0; await sleep(20)) {
      if (Date.now() - t > 30_000) throw new Error('the listener did not start');
    }
    const paced = async (count, base) => {
      const every = 1000 / cli.rate;
      const start = now();
      const adds = [];
      for (let i = 0; i < count; i++) {
        const due = start + i * every;
        const wait = due - now();
        if (wait > 0) await sleep(wait);
        const addedAt = now();
        adds.push(enqueue(rt.db, op(`${base < 0 ? -1 : i}:${addedAt}`, new Date())));
      }
      await Promise.all(adds);
    };
    await paced(cli.warmup, -1);
    await paced(cli.adds, 0);
    const recorder = new Recorder(cli.adds);
    const deadline = Date.now() + cli.timeoutMs;
    for (;;) {
      const left = await rt.db.raw.query({
        sql: "SELECT count(*) AS n FROM ws_queued_operation WHERE state <> 'done'",
        text: "SELECT count(*) AS n FROM ws_queued_operation WHERE state <> 'done'",
        values: [],
      });
      if (Number(left[0].n) === 0 || Date.now() > deadline) break;
      await sleep(20);
    }
    const reclaimed = await tallyResults(recorder, true);
    line = JSON.parse(
      resultLine({ system: 'wsgate', version: '0.1.0', mode: 'latency', concurrency: cli.concurrency, jobs: cli.adds, ms: 0, recorder, settings }),
    );
    line.duplicates += reclaimed;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
await rt.close();
process.stdout.write(JSON.stringify(line) + '\n');
process.exit(line.missing || line.duplicates ? 2 : 0);
