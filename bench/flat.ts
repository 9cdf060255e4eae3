// Cost flat as the work grows (WSGATE_BENCH_PARTS=flat; issue 13 item 3): the executor's drain of N due
// creates (as the executor part measures it) and queued submits over HTTP (as the submits part does), on a
// table already holding WSGATE_BENCH_FLAT_ROWS (1,000,000) entries against one holding
// WSGATE_BENCH_FLAT_BASE_ROWS (10,000), of two kinds:
// - waiting: half queued in the served queue but not due for a day, half due in a queue nobody serves;
// - finished: done with a result nobody has read yet (its TTL a week away).
// The rows belong to another user than the one who submits (a user's quota counts only their own entries)
// and are written in one INSERT ... SELECT (generate_series / a recursive CTE), not through the API, then
// analyzed. The claim statement itself (the executor's, from the database handle's dialect) is shown as
// the database plans it at each size (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE) and timed, in a transaction
// rolled back, with due entries waiting and with none due (the claim that finds nothing).
import { claimDue } from '../src/queue/sql/claim.js';
import Database from 'better-sqlite3';
import pg from 'pg';
import os from 'node:os';
import { Prisma } from '../src/db/generated/sqlite/client.js';
import type { Engine } from '../src/executor/engine.js';
import { engineOf, type Runtime } from '../src/runtime.js';
import { startServer, type RunningServer } from '../src/server.js';
import { sqliteFile, type Databases, type System } from './databases.js';
import type { ExecutorSettings } from './executor-common.js';
import { runLoad, settle, submitBody } from './load.js';
import type { SubmitSettings } from './submit.js';
import { fill } from './wsgate-executor.js';
import { login, openBenchRuntime } from './wsgate.js';

export interface FlatSettings {
  rows: number;
  baseRows: number;
  rounds: number;
}

export type Kind = 'waiting' | 'finished';

export interface ClaimProbe {
  /** Median of 5 claims, each rolled back. */
  ms: number;
  plan: string[];
}

export interface FlatPoint {
  kind: Kind;
  rows: number;
  fillSeconds: number;
  executorOpsPerSecond: number;
  submitsPerSecond: number;
  submitP99Ms: number;
  /** Each round's figures (the point's are their medians). */
  rounds: { executor: number[]; submits: number[] };
  claimDue: ClaimProbe;
  claimNoneDue: ClaimProbe;
  problems: string[];
}

/** Never a user of the bench: the filled rows are not the submitting user's. */
const OTHER_USER = 999_999;
const COLUMNS =
  'INSERT INTO ws_queue_entry (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue, finished_at, result, result_expires_at)';
const PARAMS = `'{"elementType":"Contacts","element":{"lastname":"Bench"}}'`;
const DAY = 86_400_000;

/** The SELECT of `n` rows of a kind; `at(x)` is now plus x milliseconds in the database's own time values. */
const fillSelect = (kind: Kind, n: number, from: string, at: (x: string) => string) =>
  kind === 'waiting'
    ? `SELECT 'flat' || i, 'create', ${PARAMS}, ${OTHER_USER}, 'queued',
         CASE WHEN i % 2 = 0 THEN ${at(`${DAY} + i`)} ELSE ${at('-60000 - i')} END,
         CASE WHEN i % 2 = 0 THEN ${at(`${DAY} + i`)} ELSE ${at('-60000 - i')} END,
         ${at('-60000 - i')}, CASE WHEN i % 2 = 0 THEN 'default' ELSE 'other' END, NULL, NULL, NULL
       FROM ${from} WHERE i <= ${n}`
    : `SELECT 'flat' || i, 'create', '{}', ${OTHER_USER}, 'done', ${at('-60000 - i')}, ${at('-60000 - i')}, ${at('-60000 - i')},
         'default', ${at('-i')}, '{"success":true,"result":{"id":"12x' || i || '"}}', ${at(`${7 * DAY} - i`)}
       FROM ${from} WHERE i <= ${n}`;

async function fillTable(system: System, url: string, kind: Kind, n: number): Promise<void> {
  if (system === 'sqlite') {
    const db = new Database(sqliteFile(url), { timeout: 10_000 });
    try {
      const now = Date.now();
      db.exec(`${COLUMNS} WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n})
        ${fillSelect(kind, n, 's', (x) => `(${now} + (${x}))`)}`);
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
      `${COLUMNS} ${fillSelect(kind, n, `generate_series(1, ${n}) AS s(i)`, (x) => `((now() AT TIME ZONE 'UTC') + (${x}) * interval '1 millisecond')`)}`,
    );
    await client.query('VACUUM ANALYZE ws_queue_entry, ws_queue_result');
  } finally {
    await client.end();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The executor's claim statement, planned and timed on its own connection, each run rolled back. */
async function probeClaim(system: System, url: string, claim: Prisma.Sql): Promise<ClaimProbe> {
  const took: number[] = [];
  if (system === 'sqlite') {
    const db = new Database(sqliteFile(url), { timeout: 10_000 });
    try {
      const values = claim.values.map((v) => (v instanceof Date ? v.getTime() : v));
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${claim.sql}`).all(...values) as { detail: string }[]).map((r) => r.detail);
      const stmt = db.prepare(claim.sql);
      for (let i = 0; i < 5; i++) {
        db.exec('BEGIN IMMEDIATE');
        const t = performance.now();
        stmt.all(...values);
        took.push(performance.now() - t);
        db.exec('ROLLBACK');
      }
      return { ms: Math.round(median(took) * 100) / 100, plan };
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const values = claim.values.map((v) => (v instanceof Date ? v.toISOString() : v));
    await client.query('BEGIN');
    const plan = (await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${claim.text}`, values)).rows.map((r) => r['QUERY PLAN'] as string);
    await client.query('ROLLBACK');
    for (let i = 0; i < 5; i++) {
      await client.query('BEGIN');
      const t = performance.now();
      await client.query(claim.text, values);
      took.push(performance.now() - t);
      await client.query('ROLLBACK');
    }
    return { ms: Math.round(median(took) * 100) / 100, plan };
  } finally {
    await client.end();
  }
}

const claimOf = (rt: Runtime) => {
  const now = rt.services.clock.now();
  return claimDue(rt.db.dialect, {
    queue: 'default',
    now,
    leaseUntil: new Date(now.getTime() + 30_000),
    leaseToken: 'bench-explain',
    limit: rt.config.claimBatch,
  });
};

/** One filled database, its runtime, executor and gateway, measured in rounds alternating with the other size's. */
interface Table {
  kind: Kind;
  rows: number;
  fillSeconds: number;
  url: string;
  rt: Runtime;
  ex: Engine;
  server: RunningServer;
  endpoint: string;
  body: string;
  adminId: number;
  claimDue: ClaimProbe;
  claimNoneDue?: ClaimProbe;
  executor: number[];
  submits: number[];
  p99: number[];
  problems: string[];
}

async function openTable(system: System, dbs: Databases, kind: Kind, rows: number, e: ExecutorSettings, log: (m: string) => void): Promise<Table> {
  const url = await dbs.fresh(system, `flat_${kind}_${rows}`);
  const dataDir = dbs.dataDir();
  const extra = { WSGATE_CLAIM_BATCH: String(e.claimBatch) };
  await (await openBenchRuntime(url, dataDir, extra)).close(); // migrated, with its admin
  const filling = performance.now();
  await fillTable(system, url, kind, rows);
  const fillSeconds = Math.round((performance.now() - filling) / 100) / 10;
  log(`${system}:   ${rows} ${kind} entries stored in ${fillSeconds} s`);
  const rt = await openBenchRuntime(url, dataDir, extra);
  const ex = engineOf(rt);
  const problems: string[] = [];
  const admin = await rt.db.prisma.user.findUniqueOrThrow({ where: { userName: 'admin' }, select: { id: true } });
  await ex.warm();
  await fill(rt, admin.id, Math.max(e.warmup, rt.config.claimBatch));
  const claimDue = await probeClaim(system, url, claimOf(rt));
  const w = await ex.drain();
  if (w.failed || w.errors || w.lost) problems.push(`warm-up pass: ${JSON.stringify(w)}`);
  const server = await startServer(rt);
  const endpoint = `${server.url}/webservice.php`;
  const body = submitBody(await login(endpoint));
  return { kind, rows, fillSeconds, url, rt, ex, server, endpoint, body, adminId: admin.id, claimDue, executor: [], submits: [], p99: [], problems };
}

/** One drain of N due creates, then one submit load; the bench's own entries are deleted afterwards (the table keeps its size). */
async function measureRound(system: System, t: Table, e: ExecutorSettings, s: SubmitSettings, log: (m: string) => void): Promise<void> {
  await fill(t.rt, t.adminId, e.n);
  const started = performance.now();
  const summary = await t.ex.drain();
  const ms = performance.now() - started;
  if (summary.run !== e.n || summary.failed || summary.errors || summary.lost) t.problems.push(`pass summary ${JSON.stringify(summary)}, expected run=${e.n}`);
  t.claimNoneDue ??= await probeClaim(system, t.url, claimOf(t.rt));
  if (s.warmupSeconds > 0) {
    await runLoad({ url: t.endpoint, body: t.body, connections: s.connections, durationSeconds: s.warmupSeconds });
    await settle();
  }
  const load = await runLoad({ url: t.endpoint, body: t.body, connections: s.connections, durationSeconds: s.durationSeconds });
  if (load.ok === 0 || load.envelopeErrors || load.non2xx || load.socketErrors || load.timeouts) {
    t.problems.push(
      `submits: ${load.ok} ok, ${load.envelopeErrors} error envelopes ${JSON.stringify(load.errorCodes)}, ${load.non2xx} non-2xx, ${load.socketErrors} socket errors`,
    );
  }
  await settle();
  await t.rt.db.raw.execute(Prisma.sql`DELETE FROM ws_queue_entry WHERE user_id = ${t.adminId}`);
  await t.rt.db.raw.execute(Prisma.sql`DELETE FROM ws_queue_result WHERE user_id = ${t.adminId}`);
  t.executor.push((e.n / ms) * 1000);
  t.submits.push(load.okPerSecond);
  t.p99.push(load.latencyP99Ms);
  log(
    `${system}:   ${t.rows} ${t.kind}: executor ${Math.round(t.executor.at(-1)!)} ops/s, submits ${Math.round(load.okPerSecond)}/s (p99 ${load.latencyP99Ms} ms), ` +
      `load ${os.loadavg()[0]!.toFixed(1)}`,
  );
}

async function closeTable(t: Table): Promise<void> {
  await t.server.close();
  await t.ex.close();
  await t.rt.close();
}

const pointOf = (t: Table): FlatPoint => ({
  kind: t.kind,
  rows: t.rows,
  fillSeconds: t.fillSeconds,
  executorOpsPerSecond: median(t.executor),
  submitsPerSecond: median(t.submits),
  submitP99Ms: median(t.p99),
  rounds: { executor: t.executor.map(Math.round), submits: t.submits.map(Math.round) },
  claimDue: t.claimDue,
  claimNoneDue: t.claimNoneDue!,
  problems: t.problems,
});

/**
 * Per kind: both sizes filled, then `rounds` rounds alternating which size goes first (medians reported),
 * so that the machine's load drifting during the run weighs on both alike.
 */
export async function measureFlat(
  system: System,
  dbs: Databases,
  f: FlatSettings,
  e: ExecutorSettings,
  s: SubmitSettings,
  log: (m: string) => void,
): Promise<{ base: FlatPoint; large: FlatPoint }[]> {
  const out: { base: FlatPoint; large: FlatPoint }[] = [];
  for (const kind of ['waiting', 'finished'] as const) {
    log(`${system}: flatness, ${kind} entries: ${f.baseRows} vs ${f.rows}, ${f.rounds} rounds`);
    const tables: Table[] = [];
    try {
      tables.push(await openTable(system, dbs, kind, f.baseRows, e, log));
      tables.push(await openTable(system, dbs, kind, f.rows, e, log));
      for (let round = 0; round < f.rounds; round++) {
        for (const t of round % 2 === 0 ? tables : [...tables].reverse()) await measureRound(system, t, e, s, log);
      }
    } finally {
      for (const t of tables) await closeTable(t);
    }
    const [base, large] = tables.map(pointOf) as [FlatPoint, FlatPoint];
    for (const p of [base, large]) {
      log(`${system}:   claim at ${p.rows} ${kind}: ${p.claimDue.ms} ms with due entries, ${p.claimNoneDue.ms} ms with none due (median of 5, rolled back)`);
    }
    console.log(`${system}: claim plan at ${large.rows} ${kind}, due entries waiting:\n    ${large.claimDue.plan.join('\n    ')}`);
    console.log(`${system}: claim plan at ${large.rows} ${kind}, none due:\n    ${large.claimNoneDue.plan.join('\n    ')}`);
    out.push({ base, large });
  }
  return out;
}
