// The cost of a scrape of GET /metrics over a queue of N stored entries (WSGATE_BENCH_SCRAPE_ENTRIES,
// 100,000; goal: under 50 ms): a gateway with its queue-gauge cache off (WSGATE_METRICS_CACHE_SECONDS=0),
// so that every scrape reads the database, beside the baseline of the one statement the gauges need run by
// hand on the driver. Entries spread over 3 queues and every state (60% queued, a third of them delayed).
// The scraped process holds the counters and histograms of 40 operations (WSGATE_BENCH_SCRAPE_OPERATIONS),
// and the exposition alone (the queue's reading cached) is timed too. `node dist/bench/scrape.js [N]` runs
// this part alone and prints the medians, p95s and the statement's plan (how README's figures at 1,000,000
// were measured).
import os from 'node:os';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openRuntime, createLogger } from '../src/runtime.js';
import { startServer } from '../src/server.js';
import { depthSql, queueDepth } from '../src/queue/depth.js';
import { Databases, sqliteFile, type System } from './databases.js';

export interface ScrapeSettings {
  entries: number;
  scrapes: number;
  /** Operations whose counters and histograms the scraped process holds (in 3 queues). */
  operations: number;
}

export interface ScrapeRow {
  metric: string;
  unit: string;
  wsgate: number;
  baseline: number;
  problems: { wsgate: string[]; baseline: string[] };
  details: { wsgate: unknown; baseline: unknown };
}

const GOAL_MS = 50;
/** Scrapes before the timed ones: a long-running process scrapes with its code compiled (a cold one is 2-4 times slower). */
const WARM = 20;

const FILL_SELECT = (n: number, seq: string, now: string, ms: (x: string) => string) => `
  SELECT 'bench' || i, 'create', '{}', 1,
    CASE i % 10 WHEN 0 THEN 'running' WHEN 1 THEN 'failed' WHEN 2 THEN 'done' WHEN 3 THEN 'done' ELSE 'queued' END,
    ${now} + ${ms('(i % 3 - 1) * 3600000')}, ${now} - ${ms('i % 1000')}, ${now} - ${ms('i % 1000')},
    CASE i % 3 WHEN 0 THEN 'default' WHEN 1 THEN 'high' ELSE 'low' END
  FROM ${seq} WHERE i <= ${n}`;

const COLUMNS = 'INSERT INTO ws_queue_entry (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue)';

/** Stores `n` entries in the (migrated) database in one statement. */
export async function fillQueue(system: System, url: string, n: number): Promise<void> {
  if (system === 'sqlite') {
    const db = new Database(sqliteFile(url));
    try {
      db.exec(`${COLUMNS} WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n})
        ${FILL_SELECT(n, 's', `${Date.now()}`, (x) => `(${x})`)}`);
      db.exec('ANALYZE');
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `${COLUMNS} ${FILL_SELECT(n, 'generate_series(1, ' + n + ') AS s(i)', "(now() AT TIME ZONE 'UTC')", (x) => `((${x}) * interval '1 millisecond')`)}`,
    );
    await client.query('VACUUM ANALYZE ws_queue_entry, ws_queue_result');
  } finally {
    await client.end();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)]!;

/** The baseline: the statement of src/queue/depth.ts alone on the driver, `times` times; the median and p95 in ms. */
async function rawMs(system: System, url: string, times: number): Promise<{ median: number; p95: number; cpuMedian: number | null; plan: string[] }> {
  const took: number[] = [];
  const cpu: number[] = [];
  let plan: string[] = [];
  if (system === 'sqlite') {
    const db = new Database(sqliteFile(url), { readonly: true });
    try {
      const stmt = db.prepare(depthSql(new Date()).sql);
      const explain = db.prepare(`EXPLAIN QUERY PLAN ${depthSql(new Date()).sql}`).all(Date.now()) as { detail: string }[];
      plan = explain.map((r) => r.detail);
      for (let i = 0; i < times; i++) {
        const t = performance.now();
        const c = process.cpuUsage();
        stmt.all(...depthSql(new Date()).values.map((v) => (v as Date).getTime()));
        took.push(performance.now() - t);
        cpu.push(((u) => (u.user + u.system) / 1000)(process.cpuUsage(c)));
      }
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: url, options: '-c jit=off' }); // as wsgate's pool
    await client.connect();
    try {
      for (let i = 0; i < times; i++) {
        const t = performance.now();
        const q = depthSql(new Date());
        await client.query({ name: 'depth', text: q.text, values: q.values.map((v) => (v as Date).toISOString()) });
        took.push(performance.now() - t);
      }
    } finally {
      await client.end();
    }
  }
  if (system === 'postgresql') {
    const client = new pg.Client({ connectionString: url, options: '-c jit=off' }); // as wsgate's pool
    await client.connect();
    try {
      const q = depthSql(new Date());
      const explain = await client.query(
        `EXPLAIN (ANALYZE, BUFFERS) ${q.text}`,
        q.values.map((v) => (v as Date).toISOString()),
      );
      plan = explain.rows.map((r: Record<string, string>) => r['QUERY PLAN']!);
    } finally {
      await client.end();
    }
  }
  return { median: median(took), p95: p95(took), cpuMedian: cpu.length ? median(cpu) : null, plan };
}

export async function measureScrape(system: System, dbs: Databases, s: ScrapeSettings, log: (m: string) => void): Promise<ScrapeRow[]> {
  const url = await dbs.fresh(system, 'scrape');
  const config = loadConfig({
    DATABASE_URL: url,
    WSGATE_DATA_DIR: dbs.dataDir(),
    WSGATE_SECRET: 'bench-secret-bench-secret',
    WSGATE_EXECUTOR_SCHEDULE: 'off',
    WSGATE_CALL_WORKERS: '0',
    WSGATE_METRICS_CACHE_SECONDS: '0',
    WSGATE_LOG_LEVEL: 'silent',
    WSGATE_QUEUES: 'default,high,low',
    PORT: '0',
    WSGATE_HOST: '127.0.0.1',
  });
  const rt = await openRuntime(config, createLogger('silent'));
  log(`${system}: storing ${s.entries.toLocaleString('en-US')} queue entries`);
  await fillQueue(system, url, s.entries);
  // A process that has served and run a deployment's worth of operations (40 by default, in 3 queues), so the
  // exposition carries their counters and histograms (about 8,000 lines) as a busy gateway's does.
  for (let i = 0; i < s.operations; i++) {
    const operation = `operation${i}`;
    for (const queue of ['default', 'high', 'low']) {
      rt.metrics.runSeconds.observe({ operation, queue }, 0.001 * i);
      rt.metrics.waitSeconds.observe({ operation, queue }, 0.01 * i);
    }
    rt.metrics.runs.inc({ operation });
    rt.metrics.failures.inc({ operation });
    rt.metrics.retries.inc({ operation });
    rt.metrics.timeouts.inc({ operation });
    for (const code of ['OK', 'INVALID_PARAMETER', 'ACCESS_DENIED']) rt.metrics.calls.inc({ operation, code });
    rt.metrics.callSeconds.observe({ operation }, 0.002 * i);
  }
  const server = await startServer(rt);
  const problems: string[] = [];
  const took: number[] = [];
  const cpu: number[] = [];
  const textTook: number[] = [];
  let bytes = 0;
  try {
    for (let i = 0; i < s.scrapes + WARM; i++) {
      const t = performance.now();
      const c = process.cpuUsage();
      const res = await fetch(`${server.url}/metrics`);
      const text = await res.text();
      // The first ones warm the statement, the connection and the JIT. CPU: this process's, server and client.
      if (i >= WARM) took.push(performance.now() - t);
      if (i >= WARM) cpu.push(((u) => (u.user + u.system) / 1000)(process.cpuUsage(c)));
      bytes = text.length;
      if (res.status !== 200) problems.push(`scrape answered ${res.status}`);
      const waiting = /^wsgate_queue_entries\{queue="default",state="waiting"\} (\d+)$/m.exec(text);
      if (!waiting || Number(waiting[1]) === 0) problems.push('the scrape has no waiting entries of queue default');
      const total = [...text.matchAll(/^wsgate_queue_entries\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      if (total !== s.entries) problems.push(`the queue gauges sum to ${total}, not the ${s.entries} entries stored`);
      if (problems.length) break;
    }
    // The exposition alone, the queue's reading cached: what a scrape costs beside the statement.
    const reading = await queueDepth(rt.db, rt.services.clock.now(), config.queues);
    rt.metrics.readQueuesFrom(
      async () => reading,
      3_600_000,
      () => rt.services.clock.now().getTime(),
    );
    for (let i = 0; i < s.scrapes + WARM; i++) {
      const t = performance.now();
      await rt.metrics.text();
      if (i >= WARM) textTook.push(performance.now() - t);
    }
  } finally {
    await server.close();
    await rt.close();
  }
  const scrapeMs = median(took);
  const scrapeP95 = p95(took);
  const raw = await rawMs(system, url, s.scrapes);
  if (scrapeMs >= GOAL_MS) problems.push(`the median scrape took ${scrapeMs.toFixed(1)} ms, the goal is under ${GOAL_MS} ms`);
  log(
    `${system}:   scrape median ${scrapeMs.toFixed(1)} ms, p95 ${scrapeP95.toFixed(1)} ms (${bytes} bytes, CPU median ${median(cpu).toFixed(1)} ms); the exposition alone median ${median(textTook).toFixed(1)} ms; the statement alone median ${raw.median.toFixed(1)} ms, p95 ${raw.p95.toFixed(1)} ms${raw.cpuMedian === null ? '' : `, CPU median ${raw.cpuMedian.toFixed(1)} ms`}`,
  );
  return [
    {
      metric: `scrape /metrics, ${s.entries.toLocaleString('en-US')} entries, ${s.operations} operations' series, uncached`,
      unit: 'scrapes/s',
      wsgate: 1000 / scrapeMs,
      baseline: 1000 / raw.median,
      problems: { wsgate: problems, baseline: [] },
      details: {
        wsgate: {
          medianMs: scrapeMs,
          p95Ms: scrapeP95,
          cpuMedianMs: median(cpu),
          expositionMedianMs: median(textTook),
          operations: s.operations,
          bytes,
          scrapes: took.length,
          loadAverage: os
            .loadavg()
            .map((x) => x.toFixed(2))
            .join(' '),
        },
        baseline: {
          medianMs: raw.median,
          p95Ms: raw.p95,
          cpuMedianMs: raw.cpuMedian,
          statement: 'the statement of src/queue/depth.ts on the driver',
          plan: raw.plan,
        },
      },
    },
  ];
}

// Alone: `node dist/bench/scrape.js [N] [sqlite,postgresql] [operations]` (PostgreSQL from WSGATE_BENCH_PG_URL).
if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 100_000);
  const systems = (process.argv[3] ?? 'sqlite,postgresql').split(',') as System[];
  const dbs = new Databases(process.env.WSGATE_BENCH_PG_URL);
  try {
    for (const system of systems) {
      if (system === 'postgresql' && !process.env.WSGATE_BENCH_PG_URL) continue;
      const [row] = await measureScrape(system, dbs, { entries: n, scrapes: 20, operations: Number(process.argv[4] ?? 40) }, (m) => console.log(m));
      const { plan, ...baseline } = row!.details.baseline as { plan: string[] };
      console.log(JSON.stringify({ system, wsgate: row!.details.wsgate, baseline, problems: row!.problems.wsgate }));
      console.log(plan.join('\n'));
    }
  } finally {
    await dbs.cleanup();
  }
}
