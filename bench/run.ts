// `npm run bench`: wsgate beside a baseline measured in the same run, on SQLite and on PostgreSQL.
//   1. queued submits/s over HTTP (autocannon) - wsgate gateway vs a bare Koa app doing one raw INSERT;
//   2. executor ops/s draining N due creates   - the engine's drain vs a raw claim+complete loop;
//   3. query over 100,000 records (equality and like 'x%' on an indexed field) and MassCreate of 1,000
//      elements - wsgate over HTTP vs the same statements written by hand on the driver;
//   4. stall: getchallenge/retrieve latency while one client repeats a heavy call, with call workers vs on
//      the event loop (WSGATE_CALL_WORKERS=0), and sequential query calls/s both ways (bench/stall.ts);
//   5. own operations (bench/own.ts): a no-op own operation beside the built-in describe, deferred through
//      the executor and called synchronously over HTTP (the "wsgate" column is the own operation, the
//      "baseline" column the built-in one);
//   6. scrape: GET /metrics over 100,000 stored queue entries, uncached (goal: under 50 ms), vs the statement
//      its queue gauges need, run alone on the driver (bench/scrape.ts);
//   8. sustained (bench/sustained.ts): one real `wsgate serve` process, clients submitting deferred creates
//      for WSGATE_BENCH_SUSTAINED_SECONDS (120) while its executor runs them: submits/s, runs/s, backlog,
//      p99 submit latency, RSS over time (the row: runs/s beside submits/s);
//   9. flat (bench/flat.ts): executor ops/s and submits/s with WSGATE_BENCH_FLAT_ROWS (1,000,000) waiting or
//      finished-unread entries in the table beside WSGATE_BENCH_FLAT_BASE_ROWS (10,000) (the rows: the large
//      table's rate beside the small one's), and the claim's plan at each size;
//  10. retention (bench/retention.ts; not in the default set: WSGATE_BENCH_PARTS=retention): a `wsgate serve`
//      with WSGATE_BENCH_RETENTION_TTL (30 s) as its result TTL under WSGATE_BENCH_RETENTION_RATE (2,000)
//      deferred creates/s for WSGATE_BENCH_RETENTION_SECONDS (600): rows, size and dead tuples over time.
//   7. PostgreSQL only: the peer comparison (bench/peers/compare.mjs) - wsgate vs graphile-worker and pg-boss.
// PostgreSQL comes from WSGATE_BENCH_PG_URL (an admin URL: fresh databases are created there and dropped
// afterwards) or else from scripts/pg-start; without it the PostgreSQL half is skipped with a note.
// Prints a table (and the machine) and writes it as JSON to dist/bench-results.json.
// Knobs (environment): WSGATE_BENCH_CONNECTIONS (10), WSGATE_BENCH_DURATION (6 s), WSGATE_BENCH_WARMUP (2 s),
// WSGATE_BENCH_OPS (2000), WSGATE_BENCH_WARMUP_OPS (200), WSGATE_BENCH_SYSTEMS (sqlite,postgresql),
// WSGATE_CLAIM_BATCH (wsgate's default, 20), WSGATE_BENCH_RECORDS (100000), WSGATE_BENCH_QUERIES (2000),
// WSGATE_BENCH_MASS_CALLS (10), WSGATE_BENCH_STALL_SECONDS (5), WSGATE_BENCH_PARTS (submits,executor,records,
// stall,own,scrape,peers: the parts to run), WSGATE_BENCH_SCRAPE_ENTRIES (100000),
// WSGATE_BENCH_SCRAPE_OPERATIONS (40: operations whose counters and histograms the scraped process holds),
// WSGATE_BENCH_OWN_ROUNDS (3: rounds of the own part's synchronous calls, alternating the sides, medians),
// WSGATE_BENCH_SUSTAINED_SECONDS (120), WSGATE_BENCH_SAMPLE_SECONDS (5: RSS and state counts of the sustained
// run), WSGATE_BENCH_FLAT_ROWS (1000000), WSGATE_BENCH_FLAT_BASE_ROWS (10000),
// WSGATE_BENCH_FLAT_ROUNDS (3: rounds alternating the two sizes, medians), WSGATE_BENCH_RETENTION_SECONDS
// (600), WSGATE_BENCH_RETENTION_RATE (2000 submits/s), WSGATE_BENCH_RETENTION_TTL (30 s),
// WSGATE_BENCH_RETENTION_SAMPLE (30 s), WSGATE_BENCH_RETENTION_INJECT (on: finished entries written straight
// into the table at the rate instead of HTTP submits run by the executor). The default parts leave out retention.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, packageRoot } from '../src/config.js';
import { measureBaselineExecutor } from './baseline-executor.js';
import { Databases, type System } from './databases.js';
import type { ExecutorSettings } from './executor-common.js';
import { measureBaselineSubmits, measureWsgateSubmits, type SubmitSettings } from './submit.js';
import { measureWsgateExecutor } from './wsgate-executor.js';
import { measureRecords, type RecordsSettings } from './records.js';
import { measureStall, type StallSettings } from './stall.js';
import { measureOwnExecutor, measureOwnSync } from './own.js';
import { measureScrape, type ScrapeSettings } from './scrape.js';
import { measureSustained, type SustainedSettings } from './sustained.js';
import { measureFlat, type FlatSettings } from './flat.js';
import { measureRetention, type RetentionSettings } from './retention.js';

interface Row {
  system: System;
  metric: string;
  unit: string;
  wsgate: number;
  baseline: number;
  /** wsgate / baseline (both are rates: higher is better). */
  ratio: number;
  /** Checks that failed, per side: a row with problems is not a valid measurement. */
  problems: { wsgate: string[]; baseline: string[] };
  details: { wsgate: unknown; baseline: unknown; rounds?: unknown };
}

const num = (name: string, fallback: number) => {
  const v = process.env[name];
  const n = v === undefined || v === '' ? fallback : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${v}"`);
  return n;
};

const submitSettings: SubmitSettings = {
  connections: num('WSGATE_BENCH_CONNECTIONS', 10),
  durationSeconds: num('WSGATE_BENCH_DURATION', 6),
  warmupSeconds: num('WSGATE_BENCH_WARMUP', 2),
};
const executorSettings: ExecutorSettings = {
  n: num('WSGATE_BENCH_OPS', 2000),
  warmup: num('WSGATE_BENCH_WARMUP_OPS', 200),
  // wsgate's setting (default 20), for both sides.
  claimBatch: loadConfig({ WSGATE_CLAIM_BATCH: process.env.WSGATE_CLAIM_BATCH }).claimBatch,
};

const recordsSettings: RecordsSettings = {
  records: num('WSGATE_BENCH_RECORDS', 100_000),
  queries: num('WSGATE_BENCH_QUERIES', 2000),
  massCalls: num('WSGATE_BENCH_MASS_CALLS', 10),
  load: submitSettings,
};
const stallSettings: StallSettings = {
  seconds: num('WSGATE_BENCH_STALL_SECONDS', 5),
  massElements: loadConfig({}).massMaxElements,
};
const scrapeSettings: ScrapeSettings = {
  entries: num('WSGATE_BENCH_SCRAPE_ENTRIES', 100_000),
  scrapes: 20,
  operations: num('WSGATE_BENCH_SCRAPE_OPERATIONS', 40),
};
const sustainedSettings: SustainedSettings = {
  connections: num('WSGATE_BENCH_CONNECTIONS', 10),
  seconds: num('WSGATE_BENCH_SUSTAINED_SECONDS', 120),
  sampleSeconds: num('WSGATE_BENCH_SAMPLE_SECONDS', 5),
};
const flatSettings: FlatSettings = {
  rows: num('WSGATE_BENCH_FLAT_ROWS', 1_000_000),
  baseRows: num('WSGATE_BENCH_FLAT_BASE_ROWS', 10_000),
  rounds: num('WSGATE_BENCH_FLAT_ROUNDS', 3),
};
const retentionSettings: RetentionSettings = {
  connections: num('WSGATE_BENCH_CONNECTIONS', 10),
  seconds: num('WSGATE_BENCH_RETENTION_SECONDS', 600),
  rate: num('WSGATE_BENCH_RETENTION_RATE', 2000),
  ttlSeconds: num('WSGATE_BENCH_RETENTION_TTL', 30),
  sampleSeconds: num('WSGATE_BENCH_RETENTION_SAMPLE', 30),
  inject: process.env.WSGATE_BENCH_RETENTION_INJECT === 'on',
};
/** What the sustained and retention parts found beyond their rows (printed at the end, kept in the JSON). */
const reports: { system: System; part: string; lines: string[]; details: unknown }[] = [];
const parts = new Set((process.env.WSGATE_BENCH_PARTS || 'submits,executor,records,stall,own,scrape,sustained,flat,peers').split(',').map((p) => p.trim()));

/** The folder of the server scripts/pg-start started for this run (stopped and deleted at the end). */
let pgFolder: string | undefined;

async function pgAdminUrl(): Promise<{ url?: string; note?: string }> {
  let url = process.env.WSGATE_BENCH_PG_URL;
  if (!url) {
    const started = spawnSync(path.join(packageRoot, 'scripts', 'pg-start'), { encoding: 'utf8' });
    if (started.status !== 0 || !started.stdout.trim()) {
      return { note: (started.stderr || started.error?.message || `scripts/pg-start exited with ${started.status}`).trim() };
    }
    [url, pgFolder] = started.stdout.trim().split('\n');
  }
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await probe.connect();
    await probe.query('SELECT 1');
    return { url };
  } catch (error) {
    return { note: `cannot connect to ${new URL(url).host}: ${(error as Error).message}` };
  } finally {
    await probe.end().catch(() => undefined);
  }
}

const machine = () => ({
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  node: process.version,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
});

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

function printTable(rows: Row[]) {
  const header = ['system', 'metric', 'wsgate', 'baseline', 'ratio wsgate/baseline'];
  const body = rows.map((r) => [
    r.system,
    `${r.metric} (${r.unit})`,
    fmt(r.wsgate),
    fmt(r.baseline),
    `${r.ratio.toFixed(2)}${r.problems.wsgate.length || r.problems.baseline.length ? '  INVALID' : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

const log = (msg: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function benchSystem(system: System, dbs: Databases): Promise<Row[]> {
  const rows: Row[] = [];
  const report = (what: string, problems: string[]) => {
    for (const problem of problems) console.error(`${system}: ${what}: CHECK FAILED: ${problem}`);
  };
  if (parts.has('submits')) {
    const s = submitSettings;
    log(`${system}: wsgate queued submits (${s.connections} connections, ${s.warmupSeconds}s warm-up + ${s.durationSeconds}s)`);
    const ws = await measureWsgateSubmits(system, dbs, s);
    log(`${system}:   ${fmt(ws.load.okPerSecond)} ok/s, p50 ${ws.load.latencyP50Ms} ms, p99 ${ws.load.latencyP99Ms} ms, ${ws.rowsAdded} rows`);
    log(`${system}: baseline queued submits`);
    const bs = await measureBaselineSubmits(system, dbs, s);
    log(`${system}:   ${fmt(bs.load.okPerSecond)} ok/s, p50 ${bs.load.latencyP50Ms} ms, p99 ${bs.load.latencyP99Ms} ms, ${bs.rowsAdded} rows`);
    report('wsgate submits', ws.problems);
    report('baseline submits', bs.problems);
    rows.push({
      system,
      metric: `queued submits over HTTP, ${s.connections} conn`,
      unit: 'ok req/s',
      wsgate: ws.load.okPerSecond,
      baseline: bs.load.okPerSecond,
      ratio: ws.load.okPerSecond / bs.load.okPerSecond,
      problems: { wsgate: ws.problems, baseline: bs.problems },
      details: { wsgate: ws, baseline: bs },
    });
  }
  if (parts.has('executor')) {
    const e = executorSettings;
    log(`${system}: wsgate executor (${e.n} due creates, claim batch ${e.claimBatch})`);
    const we = await measureWsgateExecutor(system, dbs, e);
    log(`${system}:   ${fmt(we.opsPerSecond)} ops/s (${we.ms} ms)`);
    log(`${system}: baseline executor`);
    const be = await measureBaselineExecutor(system, dbs, e);
    log(`${system}:   ${fmt(be.opsPerSecond)} ops/s (${be.ms} ms)`);
    report('wsgate executor', we.problems);
    report('baseline executor', be.problems);
    rows.push({
      system,
      metric: `executor, ${e.n} due creates`,
      unit: 'ops/s',
      wsgate: we.opsPerSecond,
      baseline: be.opsPerSecond,
      ratio: we.opsPerSecond / be.opsPerSecond,
      problems: { wsgate: we.problems, baseline: be.problems },
      details: { wsgate: we, baseline: be },
    });
  }
  if (parts.has('records')) {
    for (const r of await measureRecords(system, dbs, recordsSettings, log)) {
      report(`wsgate ${r.metric}`, r.problems.wsgate);
      report(`baseline ${r.metric}`, r.problems.baseline);
      rows.push({ system, ...r, ratio: r.wsgate / r.baseline });
    }
  }
  if (parts.has('own')) {
    const e = executorSettings;
    log(`${system}: executor, ${e.n} due own no-ops vs ${e.n} due describe`);
    const oe = await measureOwnExecutor(system, dbs, e);
    log(`${system}:   own ${fmt(oe.own.opsPerSecond)} ops/s, built-in ${fmt(oe.builtIn.opsPerSecond)} ops/s`);
    report('own executor', oe.own.problems);
    report('built-in executor', oe.builtIn.problems);
    rows.push({
      system,
      metric: `executor, ${e.n} due: own no-op vs built-in describe`,
      unit: 'ops/s',
      wsgate: oe.own.opsPerSecond,
      baseline: oe.builtIn.opsPerSecond,
      ratio: oe.own.opsPerSecond / oe.builtIn.opsPerSecond,
      problems: { wsgate: oe.own.problems, baseline: oe.builtIn.problems },
      details: { wsgate: oe.own, baseline: oe.builtIn },
    });
    const s = submitSettings;
    log(`${system}: synchronous calls over HTTP, own no-op vs describe (${s.connections} connections, ${s.durationSeconds}s)`);
    const os_ = await measureOwnSync(system, dbs, s, num('WSGATE_BENCH_OWN_ROUNDS', 3));
    const each = os_.rounds.map((r) => `${fmt(r.own)}/${fmt(r.builtIn)}${r.ownFirst ? ' (own first)' : ''}`).join(', ');
    log(
      `${system}:   medians: own ${fmt(os_.own.okPerSecond)} ok/s (p50 ${os_.own.latencyP50Ms} ms), built-in ${fmt(os_.builtIn.okPerSecond)} ok/s (p50 ${os_.builtIn.latencyP50Ms} ms); rounds own/built-in: ${each}`,
    );
    report('own sync', os_.problems.own);
    report('built-in sync', os_.problems.builtIn);
    rows.push({
      system,
      metric: `sync calls over HTTP, ${s.connections} conn: own no-op vs built-in describe`,
      unit: 'ok req/s',
      wsgate: os_.own.okPerSecond,
      baseline: os_.builtIn.okPerSecond,
      ratio: os_.own.okPerSecond / os_.builtIn.okPerSecond,
      problems: { wsgate: os_.problems.own, baseline: os_.problems.builtIn },
      details: { wsgate: os_.own, baseline: os_.builtIn, rounds: os_.rounds },
    });
  }
  if (parts.has('stall')) {
    for (const r of await measureStall(system, dbs, stallSettings, log)) {
      report(`wsgate ${r.metric}`, r.problems.wsgate);
      report(`baseline ${r.metric}`, r.problems.baseline);
      rows.push({ system, ...r });
    }
  }
  if (parts.has('scrape')) {
    for (const r of await measureScrape(system, dbs, scrapeSettings, log)) {
      report(`wsgate ${r.metric}`, r.problems.wsgate);
      rows.push({ system, ...r, ratio: r.wsgate / r.baseline });
    }
  }
  if (parts.has('sustained')) {
    const s = sustainedSettings;
    log(`${system}: end to end, sustained: wsgate serve, ${s.connections} connections submitting deferred creates for ${s.seconds}s`);
    const m = await measureSustained(system, dbs, s, log);
    report('sustained', m.problems);
    const rss = m.samples.map((x) => x.rssMb).join(' ');
    const lines = [
      `${fmt(m.submitsPerSecond)} submits/s (p50 ${m.latencyP50Ms} ms, p99 ${m.latencyP99Ms} ms), ${fmt(m.runsPerSecond)} runs/s, backlog at the end ${m.backlog}`,
      `serve process CPU: ${m.cpuUsPerOperation} µs per submit and run, ${m.cpuCores} cores busy on average; load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
      `RSS ${m.rssIdleMb} MB idle, ${m.rssMaxMb} MB at most, ${m.rssEndMb} MB at the end; every ${s.sampleSeconds}s: ${rss}`,
      `stopped in ${m.stopSeconds} s; ${m.problems.length ? `CHECK FAILED: ${m.problems.join('; ')}` : 'every accepted submit has its entry, every done entry a success envelope and a record'}`,
    ];
    for (const l of lines) log(`${system}:   ${l}`);
    reports.push({ system, part: 'sustained', lines, details: m });
    rows.push({
      system,
      metric: `end to end ${s.seconds}s, ${s.connections} conn: runs/s beside submits/s`,
      unit: 'per s',
      wsgate: m.runsPerSecond,
      baseline: m.submitsPerSecond,
      ratio: m.runsPerSecond / m.submitsPerSecond,
      problems: { wsgate: m.problems, baseline: [] },
      details: { wsgate: m, baseline: null },
    });
  }
  if (parts.has('flat')) {
    const f = flatSettings;
    for (const { base, large } of await measureFlat(system, dbs, f, executorSettings, submitSettings, log)) {
      report(`flat ${base.kind} ${base.rows}`, base.problems);
      report(`flat ${large.kind} ${large.rows}`, large.problems);
      const problems = { wsgate: large.problems, baseline: base.problems };
      rows.push({
        system,
        metric: `executor, ${large.rows} ${large.kind} entries vs ${base.rows}`,
        unit: 'ops/s',
        wsgate: large.executorOpsPerSecond,
        baseline: base.executorOpsPerSecond,
        ratio: large.executorOpsPerSecond / base.executorOpsPerSecond,
        problems,
        details: { wsgate: large, baseline: base },
      });
      rows.push({
        system,
        metric: `queued submits, ${large.rows} ${large.kind} entries vs ${base.rows}`,
        unit: 'ok req/s',
        wsgate: large.submitsPerSecond,
        baseline: base.submitsPerSecond,
        ratio: large.submitsPerSecond / base.submitsPerSecond,
        problems,
        details: { wsgate: null, baseline: null },
      });
    }
  }
  if (parts.has('retention')) {
    const r = retentionSettings;
    log(
      `${system}: retention: wsgate serve, result TTL ${r.ttlSeconds}s, ${r.rate} ${r.inject ? 'finished entries written straight into the table' : 'deferred creates'}/s asked for ${r.seconds}s`,
    );
    const m = await measureRetention(system, dbs, r, log);
    report('retention', m.problems);
    const last = m.samples.at(-1);
    const peak = (f: (x: (typeof m.samples)[number]) => number) => Math.max(0, ...m.samples.map(f));
    const lines = [
      `${fmt(m.submitsPerSecond)} ${r.inject ? 'entries written' : 'submits'}/s reached of ${r.rate} asked, ${fmt(m.runsPerSecond)} runs/s; load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
      `rows at most ${peak((x) => x.rows)} (done ${peak((x) => x.done)}), at the end ${last?.rows} (queued ${last?.queued}, done ${last?.done}); table at most ${peak((x) => x.tableMb)} MB, at the end ${last?.tableMb} MB` +
        (last?.deadTuples !== null ? `; n_dead_tup at most ${peak((x) => x.deadTuples ?? 0)}, at the end ${last?.deadTuples}` : ''),
      `bounded: finished entries ${m.bounded.done ? 'yes' : 'NO'}, size ${m.bounded.size ? 'yes' : 'NO'} (second half's peak within 1.25x of the first's)`,
    ];
    for (const l of lines) log(`${system}:   ${l}`);
    reports.push({ system, part: 'retention', lines, details: m });
  }
  return rows;
}

async function main(): Promise<number> {
  const started = Date.now();
  const wanted = (process.env.WSGATE_BENCH_SYSTEMS || 'sqlite,postgresql').split(',').map((x) => x.trim()) as System[];
  const notes: string[] = [];
  let pgUrl: string | undefined;
  if (wanted.includes('postgresql')) {
    const pgFound = await pgAdminUrl();
    pgUrl = pgFound.url;
    if (!pgUrl) notes.push(`PostgreSQL skipped: no server (${pgFound.note}). Set WSGATE_BENCH_PG_URL to an admin URL.`);
  }
  const systems = wanted.filter((s) => s === 'sqlite' || (s === 'postgresql' && pgUrl));
  for (const n of notes) log(n);
  log(
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );

  const dbs = new Databases(pgUrl);
  const rows: Row[] = [];
  let failed = false;
  try {
    for (const system of systems) rows.push(...(await benchSystem(system, dbs)));
  } catch (error) {
    failed = true;
    console.error('benchmark failed:', error);
  } finally {
    await dbs.cleanup();
  }

  const m = machine();
  console.log('');
  printTable(rows);
  for (const n of notes) console.log(`note: ${n}`);
  for (const r of reports) for (const l of r.lines) console.log(`${r.system} ${r.part}: ${l}`);
  console.log(
    `\nmachine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}, ${m.platform}` +
      `\nsubmits: autocannon ${submitSettings.connections} connections, ${submitSettings.durationSeconds}s measured after ${submitSettings.warmupSeconds}s warm-up, in a worker thread` +
      `\nexecutor: ${executorSettings.n} operations in one pass after a ${executorSettings.warmup}-operation warm-up pass, claim batch ${executorSettings.claimBatch}` +
      `\nrecords: ${recordsSettings.records} Contacts; ${recordsSettings.queries} sequential queries per side (one client, keep-alive HTTP for wsgate, the driver for raw SQL), and the same queries in turn from autocannon as the submits (the baseline: the sequential driver's); ${recordsSettings.massCalls} MassCreate calls of 1,000 vs the same rows in multi-row INSERTs, one transaction per call` +
      `\nload average at the end: ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}` +
      `\nratio < 1: wsgate is slower than the baseline. Run took ${Math.round((Date.now() - started) / 1000)} s.`,
  );
  const invalid = rows.filter((r) => r.problems.wsgate.length || r.problems.baseline.length);
  if (invalid.length) console.log(`${invalid.length} row(s) marked INVALID: a check failed (see the CHECK FAILED lines above).`);

  // 3. The peers: wsgate beside graphile-worker and pg-boss on one PostgreSQL server and one Node 22 binary
  // (bench/peers, installed on first use with `npm ci --prefix bench/peers`). WSGATE_BENCH_PEERS=off skips it.
  if (pgUrl && process.env.WSGATE_BENCH_PEERS !== 'off' && parts.has('peers')) {
    console.log('\npeers (bench/peers/compare.mjs): wsgate vs graphile-worker 0.18 and pg-boss 12.35, no-op jobs, claim/fetch batch 100');
    const peers = spawnSync(
      process.execPath,
      [path.join(packageRoot, 'bench', 'peers', 'compare.mjs'), '--admin-url', pgUrl, '--jobs', String(num('WSGATE_BENCH_PEER_JOBS', 20_000))],
      { stdio: 'inherit' },
    );
    if (peers.status !== 0) failed = true;
  }

  const out = path.join(packageRoot, 'dist', 'bench-results.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: m,
        loadAverage: os.loadavg(),
        settings: { submit: submitSettings, executor: executorSettings, sustained: sustainedSettings, flat: flatSettings, retention: retentionSettings },
        notes,
        results: rows,
        reports,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`results written to ${path.relative(process.cwd(), out) || out}`);
  return failed || invalid.length ? 1 : 0;
}

const code = await main().finally(() => {
  if (pgFolder) spawnSync(path.join(packageRoot, 'scripts', 'pg-stop'), [pgFolder], { stdio: 'inherit' });
});
process.exitCode = code;
// Everything is closed by now; if some handle still keeps the process alive, say so and leave anyway.
setTimeout(() => {
  console.error('warning: open handles kept the process alive after the benchmark; exiting');
  process.exit(code);
}, 5_000).unref();
