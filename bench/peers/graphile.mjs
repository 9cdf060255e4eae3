// graphile-worker 0.18 peer runner. Run with the Node 22 binary (see node22.mjs):
//   node graphile.mjs --url postgres://.../fresh_db --mode throughput --jobs 20000 --concurrency 4
//   node graphile.mjs --url postgres://.../fresh_db --mode latency --adds 500 --rate 200 --concurrency 4
// Prints one JSON line on stdout (README.md). The database must be fresh: the schema is installed here.
import pg from 'pg';
import { Logger, makeWorkerUtils, run, runMigrations } from 'graphile-worker';
import { cpuWindow, latencyRun, now, packageVersion, parseCli, Recorder, finish, runMain, sleep } from './common.mjs';

const TASK = 'noop';

// Warnings and errors go to stderr; graphile-worker logs one info line per completed job otherwise.
const logger = new Logger((scope) => (level, message) => {
  if (level === 'error' || level === 'warning') {
    process.stderr.write(`[graphile-worker ${level}${scope.label ? ` ${scope.label}` : ''}] ${message}\n`);
  }
});

async function main() {
  const opts = parseCli();
  const version = await packageVersion('graphile-worker');
  const admin = new pg.Client({ connectionString: opts.url });
  await admin.connect();
  let workerUtils;
  let runner;
  try {
    const { rowCount } = await admin.query("SELECT 1 FROM pg_namespace WHERE nspname = 'graphile_worker'");
    if (rowCount) throw new Error('database is not fresh: schema graphile_worker exists');

    // The documented high-throughput configuration (worker.graphile.org/docs/performance):
    // batched fetch through the local queue, batched completion and failure, prepared statements.
    const workerPreset = {
      connectionString: opts.url,
      concurrentJobs: opts.concurrency,
      maxPoolSize: Math.max(10, opts.concurrency + 2),
      pollInterval: 2000,
      preparedStatements: true,
      localQueue: { size: opts.batch },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
    };
    const n = opts.mode === 'throughput' ? opts.jobs : opts.adds;
    const recorder = new Recorder(n);
    const warm = new Recorder(opts.mode === 'latency' ? opts.warmup : 0);
    const taskList = {
      [TASK]: async (payload) => {
        if (payload.w !== undefined) warm.seen(payload.w);
        else recorder.seen(payload.i, payload.t);
      },
    };

    await runMigrations({ connectionString: opts.url, logger });
    workerUtils = await makeWorkerUtils({ connectionString: opts.url, logger });
    const startRunner = () => run({ logger, noHandleSignals: true, taskList, preset: { worker: workerPreset } });

    let ms;
    let complete;
    let cpu = null;
    const settings = {
      ...workerPreset,
      connectionString: undefined,
      runner: 'run() in-process, one worker pool',
      handler: 'no-op; records payload id at start',
    };
    if (opts.mode === 'throughput') {
      for (let from = 0; from < n; from += opts.chunk) {
        const specs = [];
        for (let i = from; i < Math.min(n, from + opts.chunk); i += 1) specs.push({ identifier: TASK, payload: { i } });
        await workerUtils.addJobs(specs);
      }
      await admin.query('ANALYZE');
      Object.assign(settings, { enqueue: `addJobs() in chunks of ${opts.chunk}`, analyzeAfterEnqueue: true });
      const t0 = now();
      const cpuUsed = cpuWindow();
      runner = await startRunner();
      complete = await recorder.waitAll(opts.timeoutMs);
      ms = (complete ? recorder.lastSeenAt : now()) - t0;
      cpu = cpuUsed();
    } else {
      runner = await startRunner();
      await sleep(1000); // let the idle pool settle on LISTEN "jobs:insert"
      const start = await latencyRun({
        warmup: opts.warmup,
        count: n,
        rate: opts.rate,
        timeoutMs: opts.timeoutMs,
        warm,
        add: (payload) => workerUtils.addJob(TASK, payload),
      });
      complete = await recorder.waitAll(opts.timeoutMs);
      ms = (complete ? recorder.lastSeenAt : now()) - start;
      Object.assign(settings, {
        producer: `addJob() one job per ${1000 / opts.rate} ms from a second pool (makeWorkerUtils)`,
        idleBeforeAddsMs: 1000,
        warmupAdds: opts.warmup,
      });
    }

    await runner.stop();
    runner = undefined;
    if (complete) {
      const { rows } = await admin.query('SELECT count(*)::int AS left FROM graphile_worker.jobs');
      if (rows[0].left !== 0) throw new Error(`${rows[0].left} jobs still in graphile_worker.jobs after stop`);
    }
    if (warm.bad) throw new Error(`${warm.bad} warm-up jobs with an unexpected payload id`);
    return finish(
      { system: 'graphile-worker', version, mode: opts.mode, concurrency: opts.concurrency, jobs: n, ms, recorder, settings, cpu },
      complete,
      opts.timeoutMs,
    );
  } finally {
    if (runner) await runner.stop().catch(() => {});
    if (workerUtils) await workerUtils.release().catch(() => {});
    await admin.end().catch(() => {});
  }
}

runMain(main);
