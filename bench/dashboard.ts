// The dashboard at 1,000,000 stored entries (`npm run build && node dist/bench/dashboard.js`; not part of
// `npm run bench`): fills a fresh database of each system with 1,000,000 entries in a realistic mix (most
// done and unread, some failed, queued, delayed, cancelled; 5 operations, 3 queues, 10 users; submitted
// over 30 days), starts a real gateway, signs in, and times page loads over HTTP: the overview, the
// operations list (first page, each filter, a page 20 pages deep), an entry's page, the failed store, and
// the live stream's shared read (the overview's statements, once a second while a page is open).
// WSGATE_BENCH_PG_URL (or WSGATE_TEST_PG_URL): a PostgreSQL admin URL; WSGATE_BENCH_ENTRIES: the count.
import { performance } from 'node:perf_hooks';
import { Prisma } from '../src/db/generated/sqlite/client.js';
import { loadConfig } from '../src/config.js';
import { createLogger, ensureAdmin, openRuntime, type Runtime } from '../src/runtime.js';
import { startServer } from '../src/server.js';
import { Databases, type System } from './databases.js';
import { queueOverview, minuteCounts, executors } from '../src/dashboard/queries.js';

const ENTRIES = Number(process.env.WSGATE_BENCH_ENTRIES ?? 1_000_000);
const ROUNDS = 25;
const MIDDLE = `bench${String(ENTRIES / 2).padStart(9, '0')}`;
const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

/** One statement: ENTRIES rows, the n-th derived from n. */
async function fill(rt: Runtime, system: System) {
  const now = Date.now();
  const users = await rt.db.raw.query<{ id: unknown }>(Prisma.sql`SELECT id FROM ws_user`);
  const admin = Number(users[0]!.id);
  for (let i = 0; i < 9; i++) {
    await rt.db.raw.execute(
      Prisma.sql`INSERT INTO ws_user (user_name, access_key_enc, is_admin, created_at) VALUES (${`user${i}`}, ${rt.services.secret.encrypt(KEY)}, ${false}, ${new Date()})`,
    );
  }
  const firstUser = admin;
  // state by n % 100: 0-1 failed, 2-4 queued (2: due, 3-4: delayed), 5 cancelled, 6 running, else done.
  if (system === 'sqlite') {
    await rt.db.raw.execute(Prisma.sql`
      WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${ENTRIES})
      INSERT INTO ws_queue_entry (id, operation, params, params_bytes, user_id, state, available_at, due_at, submitted_at, queue, priority,
        attempts, failures, errors, started_at, finished_at, result, result_expires_at)
      SELECT printf('bench%09d', n), 'op' || (n % 5), '{"element":{"lastname":"x"},"accessKey":"k"}', 44, ${firstUser} + (n % 10),
        CASE WHEN n % 100 < 2 THEN 'failed' WHEN n % 100 < 5 THEN 'queued' WHEN n % 100 = 5 THEN 'cancelled' WHEN n % 100 = 6 THEN 'running' ELSE 'done' END,
        CASE WHEN n % 100 IN (3, 4) THEN ${now} + n * 10 ELSE ${now} - (${ENTRIES} - n) * 2592 END,
        ${now} - (${ENTRIES} - n) * 2592, ${now} - (${ENTRIES} - n) * 2592,
        CASE n % 3 WHEN 0 THEN 'default' WHEN 1 THEN 'high' ELSE 'low' END, 500, 1, 0,
        CASE WHEN n % 100 < 2 THEN '[{"attempt":1,"at":"2026-12-01T00:00:00.000Z","code":"TIMEOUT","message":"took too long"}]' END,
        ${now} - (${ENTRIES} - n) * 2592 + 100, ${now} - (${ENTRIES} - n) * 2592 + 200, '{"success":true,"result":{}}', ${now} + 86400000
      FROM s`);
  } else {
    await rt.db.raw.execute(Prisma.sql`
      INSERT INTO ws_queue_entry (id, operation, params, params_bytes, user_id, state, available_at, due_at, submitted_at, queue, priority,
        attempts, failures, errors, started_at, finished_at, result, result_expires_at)
      SELECT 'bench' || lpad(n::text, 9, '0'), 'op' || (n % 5), '{"element":{"lastname":"x"},"accessKey":"k"}', 44, ${firstUser} + (n % 10),
        CASE WHEN n % 100 < 2 THEN 'failed' WHEN n % 100 < 5 THEN 'queued' WHEN n % 100 = 5 THEN 'cancelled' WHEN n % 100 = 6 THEN 'running' ELSE 'done' END,
        CASE WHEN n % 100 IN (3, 4) THEN ${new Date(now)}::timestamp + n * interval '10 ms' ELSE ${new Date(now)}::timestamp - (${ENTRIES} - n) * interval '2592 ms' END,
        ${new Date(now)}::timestamp - (${ENTRIES} - n) * interval '2592 ms', ${new Date(now)}::timestamp - (${ENTRIES} - n) * interval '2592 ms',
        CASE n % 3 WHEN 0 THEN 'default' WHEN 1 THEN 'high' ELSE 'low' END, 500, 1, 0,
        CASE WHEN n % 100 < 2 THEN '[{"attempt":1,"at":"2026-12-01T00:00:00.000Z","code":"TIMEOUT","message":"took too long"}]' END,
        ${new Date(now)}::timestamp - (${ENTRIES} - n) * interval '2592 ms' + interval '100 ms',
        ${new Date(now)}::timestamp - (${ENTRIES} - n) * interval '2592 ms' + interval '200 ms', '{"success":true,"result":{}}',
        ${new Date(now)}::timestamp + interval '1 day'
      FROM generate_series(1, ${ENTRIES}) AS n`);
    // The done entries where their completions put them (migration 20261208000000_results_apart), moved as that
    // migration moves them: keys and counts stay as the INSERT above made them.
    for (const step of [
      'ALTER TABLE ws_queue_entry DISABLE TRIGGER USER',
      'ALTER TABLE ws_queue_result DISABLE TRIGGER USER',
      "INSERT INTO ws_queue_result SELECT * FROM ws_queue_entry WHERE state = 'done'",
      "DELETE FROM ws_queue_entry WHERE state = 'done'",
      'ALTER TABLE ws_queue_entry ENABLE TRIGGER USER',
      'ALTER TABLE ws_queue_result ENABLE TRIGGER USER',
    ])
      await rt.db.raw.execute(Prisma.raw(step));
    // As autovacuum leaves a table at rest: statistics, and the visibility map that index-only scans need.
    await rt.db.raw.execute(Prisma.sql`VACUUM ANALYZE ws_queue_entry, ws_queue_result`);
  }
}

const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, p95: s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]!, max: s[s.length - 1]! };
};

async function timeIt(fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm
  const out: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

async function measure(system: System, dbs: Databases) {
  const env = {
    DATABASE_URL: await dbs.fresh(system, 'dashboard'),
    WSGATE_DATA_DIR: dbs.dataDir(),
    WSGATE_SECRET: 'bench-secret-bench-secret',
    WSGATE_ADMIN_ACCESSKEY: KEY,
    WSGATE_EXECUTOR_SCHEDULE: 'off',
    // The fill is one statement of a million rows; the pages are far below the default either way.
    WSGATE_STATEMENT_TIMEOUT_MS: '900000',
    WSGATE_LOG_LEVEL: 'silent',
    PORT: '0',
    WSGATE_HOST: '127.0.0.1',
  };
  const rt = await openRuntime(loadConfig(env), createLogger('silent'));
  await ensureAdmin(rt);
  let t = performance.now();
  await fill(rt, system);
  console.error(`${system}: ${ENTRIES.toLocaleString('en')} entries stored in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const server = await startServer(rt);
  try {
    const signin = await fetch(`${server.url}/dashboard/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `username=admin&accesskey=${KEY}`,
    });
    const cookie = /wsgate_dashboard=[0-9a-f]+/.exec(signin.headers.get('set-cookie') ?? '')![0];
    const get = async (p: string) => {
      const res = await fetch(`${server.url}${p}`, { headers: { cookie } });
      if (res.status !== 200) throw new Error(`${p}: HTTP ${res.status}`);
      return res.text();
    };
    // The key 20 pages deep, followed the way a user pages.
    let deep = '/dashboard/operations';
    for (let i = 0; i < 20; i++) deep = /href="([^"]+)" rel="next"/.exec(await get(deep))![1]!.replace(/&amp;/g, '&');
    const rows: [string, () => Promise<unknown>][] = [
      ['overview (`/dashboard`)', () => get('/dashboard')],
      [
        "live stream's shared read (once a second)",
        () => Promise.all([queueOverview(rt.db, new Date()), minuteCounts(rt.db, new Date(Date.now() - 3_600_000)), executors(rt.db)]),
      ],
      ['operations, first page', () => get('/dashboard/operations')],
      ['operations, 21st page (keyset)', () => get(deep)],
      ['operations, state=failed', () => get('/dashboard/operations?state=failed')],
      ['operations, state=waiting', () => get('/dashboard/operations?state=waiting')],
      ['operations, queue=low', () => get('/dashboard/operations?queue=low')],
      ['operations, operation=op3', () => get('/dashboard/operations?operation=op3')],
      ['operations, user=user4', () => get('/dashboard/operations?user=user4')],
      ['operations, state=failed&queue=high&operation=op1', () => get('/dashboard/operations?state=failed&queue=high&operation=op1')],
      ['operations, tracking id', () => get(`/dashboard/operations?id=${MIDDLE}`)],
      ["an entry's page", () => get(`/dashboard/operations/${MIDDLE}`)],
      ['failed store', () => get('/dashboard/failed')],
    ];
    for (const [, fn] of rows) await fn(); // every page once, so that none is timed cold
    if (system === 'postgresql') {
      const now = new Date();
      for (const q of [
        Prisma.sql`EXPLAIN ANALYZE SELECT count(*) AS n FROM ws_queued_operation WHERE state = 'queued' AND queue = 'low' AND available_at > ${now}`,
        Prisma.sql`EXPLAIN ANALYZE SELECT min(available_at) AS at FROM ws_queued_operation WHERE state = 'queued' AND queue = 'low'`,
        Prisma.sql`EXPLAIN ANALYZE SELECT queue, state, sum(n) AS n FROM ws_queue_count GROUP BY queue, state`,
      ]) {
        const plan = await rt.db.raw.query<Record<string, string>>(q);
        console.error(plan.map((r) => Object.values(r)[0]).join('\n'));
      }
    }
    const out: string[] = [];
    for (const [label, fn] of rows) {
      t = performance.now();
      const s = stats(await timeIt(fn));
      out.push(`| ${system === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${label} | ${s.min.toFixed(1)} | ${s.median.toFixed(1)} | ${s.p95.toFixed(1)} |`);
      console.error(out[out.length - 1]);
    }
    return out;
  } finally {
    await server.close();
    await rt.close();
  }
}

const dbs = new Databases(process.env.WSGATE_BENCH_PG_URL ?? process.env.WSGATE_TEST_PG_URL);
try {
  const lines = ['| system | page | min ms | median ms | p95 ms |', '| --- | --- | ---: | ---: | ---: |'];
  const systems = (process.env.WSGATE_BENCH_SYSTEMS ?? 'sqlite,postgresql').split(',') as System[];
  for (const system of systems) {
    if (system === 'postgresql' && !dbs.pgAdminUrl) continue;
    lines.push(...(await measure(system, dbs)));
  }
  console.log(lines.join('\n'));
} finally {
  await dbs.cleanup();
}
