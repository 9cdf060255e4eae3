// pg-boss 12 peer runner. Run with the Node 22 binary (see node22.mjs):
//   node pgboss.mjs --url postgres://.../fresh_db --mode throughput --jobs 20000 --concurrency 4
//   node pgboss.mjs --url postgres://.../fresh_db --mode latency --adds 500 --rate 200 --concurrency 4
// Prints one JSON line on stdout (README.md). The database must be fresh: the schema is installed here.
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { cpuWindow, latencyRun, now, packageVersion, parseCli, Recorder, finish, runMain, sleep } from './common.mjs';

const QUEUE = 'noop';
const SCHEMA = 'pgboss';

async function main() {
  const opts = parseCli();
  const version = await packageVersion('pg-boss');
  const admin = new pg.Client({ connectionString: opts.url });
  await admin.connect();
  let boss;
  let producer;
  const errors = [];
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [SCHEMA]);
    if (rowCount) throw new Error(`database is not fresh: schema ${SCHEMA} exists`);

    // Constructor: the pool as graphile-worker's (max(10, concurrency + 2)); LISTEN/NOTIFY on, so
    // an idle worker wakes on insert instead of at its next poll (pgboss.io/api/constructor).
    const constructorOptions = {
      schema: SCHEMA,
      max: Math.max(10, opts.concurrency + 2),
      useListenNotify: true,
    };
    const queueOptions = { notify: true };
    // work(): batched fetch (batchSize jobs per round trip, one completion statement per batch),
    // localConcurrency fetch loops in this process, and burst mode so a loop that got a full batch
    // fetches again at once instead of sleeping the polling interval (pgboss.io/api/workers).
    const workOptions = {
      batchSize: opts.batch,
      localConcurrency: opts.concurrency,
      burstWhenBatchFull: true,
      pollingIntervalSeconds: 0.5,
    };
    const n = opts.mode === 'throughput' ? opts.jobs : opts.adds;
    const recorder = new Recorder(n);
    const warm = new Recorder(opts.mode === 'latency' ? opts.warmup : 0);
    const handler = async (jobs) => {
      for (const job of jobs) {
        if (job.data.w !== undefined) warm.seen(job.data.w);
        else recorder.seen(job.data.i, job.data.t);
      }
    };

    boss = new PgBoss({ connectionString: opts.url, ...constructorOptions });
    boss.on('error', (err) => {
      errors.push(err);
      process.stderr.write(`[pg-boss error] ${err?.message ?? err}\n`);
    });
    boss.on('warning', (w) => process.stderr.write(`[pg-boss warning] ${w?.message ?? JSON.stringify(w)}\n`));
    await boss.start();
    await boss.createQueue(QUEUE, queueOptions);

    let ms;
    let complete;
    let cpu = null;
    const settings = {
      constructor: { ...constructorOptions },
      queue: { ...queueOptions },
      work: { ...workOptions },
      handler: 'batch handler, no-op per job; records payload id at start',
    };
    if (opts.mode === 'throughput') {
      for (let from = 0; from < n; from += opts.chunk) {
        const jobs = [];
        for (let i = from; i < Math.min(n, from + opts.chunk); i += 1) jobs.push({ data: { i } });
        await boss.insert(QUEUE, jobs);
      }
      await admin.query('ANALYZE');
      Object.assign(settings, { enqueue: `insert() in chunks of ${opts.chunk}`, analyzeAfterEnqueue: true });
      const t0 = now();
      const cpuUsed = cpuWindow();
      await boss.work(QUEUE, workOptions, handler);
      complete = await recorder.waitAll(opts.timeoutMs);
      ms = (complete ? recorder.lastSeenAt : now()) - t0;
      cpu = cpuUsed();
    } else {
      // The producer is a second instance with its own pool, as graphile.mjs adds through
      // makeWorkerUtils: no maintenance, cron or migration there, it only sends.
      producer = new PgBoss({
        connectionString: opts.url,
        schema: SCHEMA,
        max: 10,
        supervise: false,
        schedule: false,
        migrate: false,
      });
      producer.on('error', (err) => {
        errors.push(err);
        process.stderr.write(`[pg-boss producer error] ${err?.message ?? err}\n`);
      });
      await producer.start();
      await boss.work(QUEUE, workOptions, handler);
      await sleep(1000); // let the idle workers settle on LISTEN
      const start = await latencyRun({
        warmup: opts.warmup,
        count: n,
        rate: opts.rate,
        timeoutMs: opts.timeoutMs,
        warm,
        add: (payload) => producer.send(QUEUE, payload),
      });
      complete = await recorder.waitAll(opts.timeoutMs);
      ms = (complete ? recorder.lastSeenAt : now()) - start;
      Object.assign(settings, {
        producer: `send() one job per ${1000 / opts.rate} ms from a second instance ` + '(own pool, max 10, supervise/schedule/migrate off)',
        idleBeforeAddsMs: 1000,
        warmupAdds: opts.warmup,
      });
    }

    if (producer) await producer.stop({ graceful: true, close: true });
    producer = undefined;
    await boss.stop({ graceful: true, close: true, timeout: 30000 });
    boss = undefined;
    if (complete) {
      const { rows } = await admin.query(`SELECT count(*)::int AS left FROM ${SCHEMA}.job WHERE name = $1 AND state <> 'completed'`, [QUEUE]);
      if (rows[0].left !== 0) throw new Error(`${rows[0].left} jobs not completed in ${SCHEMA}.job after stop`);
    }
    if (errors.length) throw new Error(`pg-boss emitted ${errors.length} error(s); first: ${errors[0]?.message}`);
    if (warm.bad) throw new Error(`${warm.bad} warm-up jobs with an unexpected payload id`);
    return finish(
      { system: 'pg-boss', version, mode: opts.mode, concurrency: opts.concurrency, jobs: n, ms, recorder, settings, cpu },
      complete,
      opts.timeoutMs,
    );
  } finally {
    if (producer) await producer.stop({ graceful: false, close: true }).catch(() => {});
    if (boss) await boss.stop({ graceful: false, close: true }).catch(() => {});
    await admin.end().catch(() => {});
  }
}

runMain(main);
