// Retention under steady load (WSGATE_BENCH_PARTS=retention; issue 13 item 3): one real `wsgate serve`
// (the CLI, its executor on) with the result TTL it ships set short (WSGATE_RESULT_TTL_SECONDS, here
// WSGATE_BENCH_RETENTION_TTL, 30 s), and deferred creates (queuedelay 0) submitted at a fixed rate
// (WSGATE_BENCH_RETENTION_RATE, 2,000/s, across the connections; the machine may reach less: the rate
// reached is reported) for WSGATE_BENCH_RETENTION_SECONDS (600). Nobody reads the results: the executor's
// maintenance (once a minute) purges them past their TTL. Every WSGATE_BENCH_RETENTION_SAMPLE seconds (30):
// the table's rows per state, its size with its indexes and (PostgreSQL) n_dead_tup. The table is bounded
// when its finished entries and its size in the second half stay within 1.25x of the first half's peak.
import os from 'node:os';
import Database from 'better-sqlite3';
import pg from 'pg';
import { sqliteFile, type Databases, type System } from './databases.js';
import { runLoad, submitBody, type LoadResult } from './load.js';
import { openQueueProbe, type QueueSize } from './queue-probe.js';
import { startServe } from './serve-process.js';
import { login } from './wsgate.js';

export interface RetentionSettings {
  connections: number;
  seconds: number;
  rate: number;
  ttlSeconds: number;
  sampleSeconds: number;
  /**
   * Instead of HTTP submits run by the executor, finished entries (as the executor stores them, with their
   * result and its expiry) written straight into the table at `rate` per second: the purge's own limit,
   * beyond what this machine's HTTP path and executor reach.
   */
  inject: boolean;
}

export interface RetentionSample extends QueueSize {
  t: number;
  queued: number;
  done: number;
  records: number;
  rssMb: number | null;
}

export interface RetentionMeasurement {
  submitsPerSecond: number;
  /** Operations run per second: records created (entries are purged, records stay). */
  runsPerSecond: number;
  samples: RetentionSample[];
  bounded: { done: boolean; size: boolean };
  load?: LoadResult;
  problems: string[];
}

const INJECT_COLUMNS =
  'INSERT INTO ws_queue_entry (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue, finished_at, result, result_expires_at)';
const injectSelect = (tick: number, at: (x: string) => string) =>
  `SELECT 'inject' || ${tick} || '_' || i, 'create', '{}', 1, 'done', ${at('0')}, ${at('0')}, ${at('0')}, 'default', ${at('0')},
     '{"success":true,"result":{"id":"12x' || i || '"}}', ${at('ttl')}`;

/** Writes finished entries at `s.rate` per second for `s.seconds` (a statement every 100 ms); returns how many. */
async function inject(system: System, url: string, s: RetentionSettings): Promise<number> {
  const started = performance.now();
  let written = 0;
  let tick = 0;
  const pgClient = system === 'postgresql' ? new pg.Client({ connectionString: url }) : null;
  const sqlite = system === 'sqlite' ? new Database(sqliteFile(url), { timeout: 10_000 }) : null;
  await pgClient?.connect();
  try {
    for (;;) {
      const elapsed = (performance.now() - started) / 1000;
      if (elapsed >= s.seconds) return written;
      const n = Math.min(Math.floor(s.rate * elapsed) - written, s.rate);
      if (n > 0) {
        tick++;
        if (sqlite) {
          const now = Date.now();
          sqlite.exec(`${INJECT_COLUMNS} WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n})
            ${injectSelect(tick, (x) => (x === 'ttl' ? `${now + s.ttlSeconds * 1000}` : `${now}`))} FROM s`);
        } else {
          await pgClient!.query(
            `${INJECT_COLUMNS} ${injectSelect(tick, (x) => (x === 'ttl' ? `(now() AT TIME ZONE 'UTC') + interval '${s.ttlSeconds} seconds'` : `(now() AT TIME ZONE 'UTC')`))}
             FROM generate_series(1, ${n}) AS s(i)`,
          );
        }
        written += n;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    sqlite?.close();
    await pgClient?.end();
  }
}

export async function measureRetention(system: System, dbs: Databases, s: RetentionSettings, log: (m: string) => void): Promise<RetentionMeasurement> {
  const url = await dbs.fresh(system, 'retention');
  const serve = await startServe(url, dbs.dataDir(), { WSGATE_RESULT_TTL_SECONDS: String(s.ttlSeconds) });
  const probe = await openQueueProbe(system, url);
  const problems: string[] = [];
  try {
    const session = await login(serve.url);
    const samples: RetentionSample[] = [];
    const started = Date.now();
    const sample = async () => {
      // One after the other: the PostgreSQL probe is one client.
      const counts = await probe.byState();
      const size = await probe.size();
      const records = await probe.records();
      const x = { t: Math.round((Date.now() - started) / 1000), ...size, queued: counts.queued ?? 0, done: counts.done ?? 0, records, rssMb: serve.rssMb() };
      samples.push(x);
      log(
        `${system}:   t=${x.t}s rows ${x.rows} (queued ${x.queued}, done ${x.done}), table ${x.tableMb} MB` +
          (x.deadTuples !== null ? `, n_dead_tup ${x.deadTuples}, vacuums ${x.autovacuums}` : `, free pages ${x.freePages}, file ${x.fileMb} MB`) +
          `, records ${x.records}, rss ${x.rssMb} MB, load ${os.loadavg()[0]!.toFixed(1)}`,
      );
    };
    let sampling = Promise.resolve();
    const every = setInterval(() => (sampling = sampling.then(sample, () => undefined)), s.sampleSeconds * 1000);
    let load: LoadResult | undefined;
    let injected = 0;
    try {
      if (s.inject) injected = await inject(system, url, s);
      else load = await runLoad({ url: serve.url, body: submitBody(session, 0), connections: s.connections, durationSeconds: s.seconds, rate: s.rate });
    } finally {
      clearInterval(every);
    }
    await sampling;
    await sample();
    const seconds = (Date.now() - started) / 1000;
    if (load && load.ok === 0) problems.push('no successful submit');
    if (load?.envelopeErrors) problems.push(`${load.envelopeErrors} error envelopes ${JSON.stringify(load.errorCodes)}`);
    if (load && (load.non2xx || load.socketErrors || load.timeouts))
      problems.push(`${load.non2xx} non-2xx, ${load.socketErrors} socket errors, ${load.timeouts} timeouts`);

    const half = s.seconds / 2;
    const first = samples.filter((x) => x.t <= half);
    const second = samples.filter((x) => x.t > half);
    const peak = (xs: RetentionSample[], f: (x: RetentionSample) => number) => Math.max(0, ...xs.map(f));
    const within = (f: (x: RetentionSample) => number) => first.length > 0 && second.length > 0 && peak(second, f) <= 1.25 * peak(first, f);
    const bounded = { done: within((x) => x.done), size: within((x) => x.tableMb) };
    if (!bounded.done) problems.push('finished entries grew in the second half');
    return {
      submitsPerSecond: load ? load.okPerSecond : injected / seconds,
      runsPerSecond: load ? (samples.at(-1)?.records ?? 0) / seconds : injected / seconds,
      samples,
      bounded,
      load,
      problems,
    };
  } finally {
    const code = await serve.stop();
    if (code !== 0) log(`${system}: wsgate serve exited with ${code}`);
    await probe.close();
  }
}
